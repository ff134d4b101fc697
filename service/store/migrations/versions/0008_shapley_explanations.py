"""Explanations and taste summaries measured by one-group occlusion are dropped.

bachbot 0.4 first worded its reasons from occlusion (one feature group set to
the average candidate's value at a time).  On a saturated model - the
study's MLP at its ceiling - that found no reason for the very tracks at the
top of the playlist.  Explanations are now Shapley values of the groups
(``models.explain``).  Clearing the stored ones makes the next score run
explain every prediction of the model in use again (the score job rescores
predictions without an explanation), so no listener keeps reading the old,
empty reasons until the next retrain.  The stored taste summary
(``TASTE``), empty on such a model for the same reason, is deleted
and written again by that score run.  Scores are untouched.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.app_state import TASTE

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE predictions SET explanation = NULL WHERE explanation IS NOT NULL")
    op.execute(sa.text("DELETE FROM app_state WHERE key = :key").bindparams(key=TASTE.key))


def downgrade() -> None:
    """Nothing to restore: an explanation is recomputed whenever its track is scored."""
