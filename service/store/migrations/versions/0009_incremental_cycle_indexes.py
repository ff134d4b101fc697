"""Indexes that let a cycle at 500,000 known tracks touch only what changed.

- ``ix_tracks_bach_updated`` (is_bach, updated_at): the features and score
  jobs look only at Bach tracks added or changed since their last complete
  pass (a stored mark), not at every Bach track.  ``is_bach`` leads: with
  ``ix_tracks_is_bach`` alone SQLite's planner takes the equality over the
  range and walks every Bach track.
- ``ix_features_provider_misses`` (provider, fetched_at) where a reason is
  stored: the few stored misses due for a second look, without walking every
  row of the provider.
- ``ix_predictions_model_upside`` (model_version_id, upside desc, score desc,
  track_id): publish's exploration slots read predictions by upside
  (``score + 2 * uncertainty``) a block at a time; without it every block
  sorts all of the model's predictions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPSIDE_SQL = "score + 2.0 * coalesce(uncertainty, 0.0)"
"""As ``service.store.tables.UPSIDE_SQL`` at this revision (a migration keeps its own copy)."""


def upgrade() -> None:
    op.create_index("ix_tracks_bach_updated", "tracks", ["is_bach", "updated_at"])
    op.create_index(
        "ix_features_provider_misses",
        "features",
        ["provider", "fetched_at"],
        sqlite_where=sa.text("reason IS NOT NULL"),
        postgresql_where=sa.text("reason IS NOT NULL"),
    )
    op.create_index(
        "ix_predictions_model_upside",
        "predictions",
        ["model_version_id", sa.text(f"({UPSIDE_SQL}) DESC"), sa.text("score DESC"), "track_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_predictions_model_upside", table_name="predictions")
    op.drop_index("ix_features_provider_misses", table_name="features")
    op.drop_index("ix_tracks_bach_updated", table_name="tracks")
