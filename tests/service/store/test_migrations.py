from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, inspect, text

from service.store.app_state import BOT_PLAYLIST, TASTE
from service.store.db import current_revision, downgrade, upgrade
from service.store.tables import ALL_TABLES


def test_upgrade_from_empty_creates_every_table(engine: Engine) -> None:
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.__tablename__ for t in ALL_TABLES} <= tables
    assert current_revision(engine) is not None


def test_downgrade_upgrade_round_trip_keeps_schema(engine: Engine) -> None:
    def columns() -> dict[str, set[str]]:
        insp = inspect(engine)
        return {
            t.__tablename__: {c["name"] for c in insp.get_columns(t.__tablename__)}
            for t in ALL_TABLES
        }

    before = columns()
    downgrade(engine, "base")
    upgrade(engine)
    assert columns() == before


def test_models_match_migrations(engine: Engine) -> None:
    """Every ORM column exists in the migrated schema (a forgotten migration fails here)."""
    insp = inspect(engine)
    for table in ALL_TABLES:
        migrated = {c["name"] for c in insp.get_columns(table.__tablename__)}
        declared = {c.name for c in table.__table__.columns}
        assert declared == migrated, table.__tablename__


def test_upgrade_to_probability_scores_retires_rating_scale_models(engine: Engine) -> None:
    """Predictions on the 1-10 scale would all pass a 0.5 probability threshold."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    downgrade(engine, "0001")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        _track_and_promoted_model(conn, now)
        conn.execute(
            text(
                "INSERT INTO predictions (track_id, model_version_id, score, created_at) "
                "VALUES ('t1', 1, 8.5, :now)"
            ),
            {"now": now},
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM predictions")).scalar() == 0
        promoted, decision = conn.execute(
            text("SELECT promoted, decision FROM model_versions WHERE version = 'v1'")
        ).one()
    assert not promoted and decision.startswith("promoted: better; retired by the upgrade")


def test_upgrade_to_shapley_explanations_clears_occlusion_ones_and_keeps_scores(
    engine: Engine,
) -> None:
    """Old explanations go, so the next score run explains those tracks again."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    downgrade(engine, "0007")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    with engine.begin() as conn:
        _track_and_promoted_model(conn, now)
        conn.execute(
            text(
                "INSERT INTO predictions (track_id, model_version_id, score, created_at, "
                "explanation) VALUES ('t1', 1, 0.81, :now, :old)"
            ),
            {"now": now, "old": '{"method": "occlusion", "reasons": []}'},
        )
        conn.execute(
            text("INSERT INTO app_state (key, value, updated_at) VALUES "
                 "(:taste_key, :taste, :now), (:kept_key, '\"pl1\"', :now)"),
            {"now": now, "taste": '{"model_version": "v1", "features": []}',
             "taste_key": TASTE.key, "kept_key": BOT_PLAYLIST.key},
        )  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        score, explanation = conn.execute(
            text("SELECT score, explanation FROM predictions WHERE track_id = 't1'")
        ).one()
        keys = set(conn.execute(text("SELECT key FROM app_state")).scalars())
    assert score == 0.81
    assert explanation is None
    assert TASTE.key not in keys and BOT_PLAYLIST.key in keys


def test_incremental_cycle_indexes_come_and_go_with_their_migration(engine: Engine) -> None:
    wanted = {
        ("tracks", "ix_tracks_bach_updated"),
        ("features", "ix_features_provider_misses"),
        ("predictions", "ix_predictions_model_upside"),
    }

    def present() -> set[tuple[str, str]]:
        # the catalogue rather than inspect(): SQLAlchemy does not reflect expression indexes
        sql = (
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
            if engine.dialect.name == "sqlite"
            else "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
        with engine.connect() as conn:
            return {(str(table), str(name)) for table, name in conn.execute(text(sql))}

    assert wanted <= present()
    downgrade(engine, "0008")
    assert not wanted & present()
    upgrade(engine)
    assert wanted <= present()


def _track_and_promoted_model(conn: Connection, now: datetime) -> None:
    """Track 't1' and promoted model version 1 ('v1'), as raw rows of an older schema."""
    conn.execute(
        text("INSERT INTO tracks (id, name, artists, is_bach, meta, first_seen_at, updated_at)"
             " VALUES ('t1', 'Prelude', '[]', true, '{}', :now, :now)"),
        {"now": now},
    )  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO model_versions (id, version, kind, created_at, params, metrics, "
            "feature_schema, n_ratings, promoted, decision) VALUES (1, 'v1', 'mlp', :now, "
            "'{}', '{}', '{}', 30, true, 'promoted: better')"
        ),
        {"now": now},
    )
