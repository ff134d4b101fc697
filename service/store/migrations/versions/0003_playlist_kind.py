"""Publications say which bachbot playlist they are of: "Predicted favourites" or "Bach to rate".

bachbot 0.3 keeps a second playlist of tracks to ask the listener about.
Every existing publication is of "Predicted favourites".

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.add_column(
            sa.Column("playlist_kind", sa.String(16), nullable=False, server_default="favourites")
        )


def downgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.drop_column("playlist_kind")
