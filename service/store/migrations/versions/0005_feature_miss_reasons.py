"""Feature rows keep why a provider had nothing (``features.reason``).

The preview provider stores misses with a reason ("not on Deezer", "preview is
not audio", ...) so ``bachbot features --show`` can say why a track has no
preview descriptors, and asks about them again after some days (its misses are
found by a non-null reason; rows from before this migration have none and are
not re-checked).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("features", sa.Column("reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("features") as batch:
        batch.drop_column("reason")
