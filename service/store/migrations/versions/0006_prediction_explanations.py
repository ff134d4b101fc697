"""Predictions carry their explanation: the reasons and the nearest rated tracks.

bachbot 0.4 explains each prediction when it scores it ("slow tempo", "performer
you liked: X", the rated recordings it is closest to).  Existing predictions
have none (NULL) until they are scored again; `bachbot explain` says so.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("explanation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("explanation")
