"""Scores become probabilities of love: retire the 1-10 regressors and their predictions.

bachbot 0.2 learns how likely the listener loves a track instead of regressing
on 1-10 ratings, so a prediction's ``score`` is now in 0-1.  Predictions of the
old models are on the rating scale and would all pass a 0.5 threshold, so
they are removed; old model versions stay in the history but none is in use,
which makes the next cycle train the new model (the playlist is left as it
is until then).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOTE = "; retired by the upgrade to probability scores (bachbot 0.2)"


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM predictions"))
    versions = sa.table(
        "model_versions",
        sa.column("promoted", sa.Boolean()),
        sa.column("decision", sa.Text()),
    )
    op.execute(
        versions.update()
        .where(versions.c.promoted.is_(True))
        .values(
            promoted=False,
            decision=sa.func.coalesce(versions.c.decision, "") + NOTE,
        )
    )


def downgrade() -> None:
    """Nothing to restore: the old predictions are gone; retraining rebuilds them."""
