"""What every benchmark needs: a throw-away database, settings pointed at the local Spotify.

Databases: a SQLite file in a temporary folder, or a fresh PostgreSQL
database on the local server (``BACHBOT_BENCH_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` as the admin
connection), created for one measurement and dropped after it.  Nothing is
ever written to the admin database itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from models.catalogue_demo import BACH_ID
from service.settings import Settings
from service.spotify_sim import SpotifySim

BACKENDS = ("sqlite", "postgres")
PG_ADMIN_URL = os.environ.get(
    "BACHBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def base_settings(data_dir: Path) -> Settings:
    """Product defaults, read from nowhere (no ``.env``): the benchmark sets what it needs."""
    return Settings(_env_file=None, data_dir=data_dir)


@contextmanager
def database(backend: str, folder: Path, label: str) -> Iterator[str]:
    """A URL to an empty database of its own; dropped (PostgreSQL) when the block ends."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{folder / f'{label}.db'}"
        return
    if backend != "postgres":
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    name = f"bachbot_bench_{os.getpid()}_{label}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


def sim_settings(
    base: Settings, sim: SpotifySim, *, data_dir: Path, database_url: str, **overrides: Any
) -> Settings:
    """``base`` pointed at the local Spotify (and its ReccoBeats), Bach's artist id as composer."""
    defaults: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "composer_artist_ids": [BACH_ID],
        "backoff_base_s": 0.0,
    }
    return sim.settings_for(base, **{**defaults, **overrides})


def settings_to_json(settings: Settings) -> dict[str, Any]:
    """What a child process needs to rebuild ``settings`` (secret included, for loopback only)."""
    data = settings.model_dump(mode="json")
    secret = settings.spotify_client_secret
    data["spotify_client_secret"] = secret.get_secret_value() if secret else None
    data.pop("http_token", None)
    return data


def settings_from_json(data: dict[str, Any]) -> Settings:
    return Settings(_env_file=None, **data)
