"""Indexes for 500,000 known tracks: the queries each cycle asks at that scale.

- ``ix_predictions_model_score`` (model_version_id, score): publish reads a
  model's predictions best first, a block at a time, and stops when the
  playlist is full; without it every block sorts all predictions.
- ``ix_features_fetched_at``: the score job looks for feature rows fetched
  after the model's latest prediction (re-described tracks) among millions.
- ``ix_albums_unread_release`` (tracks_read_at, release_date): the catalogue
  walk reads found albums newest release first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_predictions_model_score", "predictions", ["model_version_id", "score"])
    op.create_index("ix_features_fetched_at", "features", ["fetched_at"])
    op.create_index("ix_albums_unread_release", "albums", ["tracks_read_at", "release_date"])


def downgrade() -> None:
    op.drop_index("ix_albums_unread_release", table_name="albums")
    op.drop_index("ix_features_fetched_at", table_name="features")
    op.drop_index("ix_predictions_model_score", table_name="predictions")
