"""Shared fixtures: settings in a temporary data dir and a migrated database.

``BACHBOT_TEST_DB=sqlite`` (default) or ``postgres`` chooses the back-end.
PostgreSQL runs use their own fresh database on the local server (created at
session start, dropped at the end) so parallel or aborted runs never collide;
tables are emptied between tests.  SQLite tests each get a copy of a file
migrated once per session.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.store.db import make_engine, session_factory, upgrade
from service.store.tables import ALL_TABLES

pytest_plugins = [
    f"tests.plugins.{p.stem}"
    for p in sorted((Path(__file__).parent / "plugins").glob("*.py"))
    if p.stem != "__init__"
]

# numba compiles librosa's kernels on the first preview analysis (seconds); one cache for
# every test run on this machine keeps that to the first run (the provider would put it
# in each test's data dir otherwise).
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "bachbot-test-numba"))

BACKEND = os.environ.get("BACHBOT_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "BACHBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_CLIENT_SECRET = "test-client-secret-7f3a9c"


def pytest_report_header() -> str:
    return f"bachbot database back-end: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs only the tests that reach the database under test.

    The test command runs the suite twice, once per back-end.  A test that asks
    for no database (the models, the local services, the bench harness, the
    Dockerfile checks) does the same thing in both passes, so the second pass
    would only repeat it: about half of CI's hour.  A test reaches the database
    through ``database_url`` (every fixture that opens one depends on it) or says
    so with ``@pytest.mark.postgres``.  ``BACHBOT_TEST_EVERY_PASS=1`` runs them
    all again.
    """
    if BACKEND != "postgres" or os.environ.get("BACHBOT_TEST_EVERY_PASS") == "1":
        return
    keep, repeated = [], []
    for item in items:
        reaches = "database_url" in getattr(item, "fixturenames", ())
        (keep if reaches or item.get_closest_marker("postgres") else repeated).append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = keep


def _base_settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=database_url,
        spotify_client_id="test-client-id",
        spotify_client_secret=TEST_CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri="http://127.0.0.1:8888/callback",
        reccobeats_enabled=False,
        preview_audio_enabled=False,
    )


@pytest.fixture(autouse=True)
def _restore_log_handlers() -> Iterator[None]:
    """``bachbot ...`` run in-process adds a stderr handler bound to pytest's capture;
    left on the root logger it would write to a closed stream in later tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | Path]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL URL."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(_base_settings(path.parent, f"sqlite:///{path}"))
        upgrade(engine)
        engine.dispose()
        yield path
        return
    if BACKEND != "postgres":
        raise pytest.UsageError(f"BACHBOT_TEST_DB must be sqlite or postgres, not {BACKEND!r}")
    from sqlalchemy import create_engine

    name = f"bachbot_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(_base_settings(Path("/tmp"), url))
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(database_template: str | Path, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty, migrated database of its own for this test."""
    if isinstance(database_template, Path):
        path = tmp_path / "bachbot.db"
        shutil.copy(database_template, path)
        yield f"sqlite:///{path}"
        return
    yield database_template
    from sqlalchemy import create_engine

    engine = create_engine(database_template)
    with engine.begin() as conn:
        names = ", ".join(t.__tablename__ for t in ALL_TABLES)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return _base_settings(tmp_path / "data", database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``bachbot ARGS`` in-process with the test's settings; returns (code, out, err)."""
    from service.cli import main

    monkeypatch.chdir(settings.data_dir.parent)
    for key in list(os.environ):
        if key.startswith(("BACHBOT_", "SPOTIPY_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BACHBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BACHBOT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BACHBOT_SPOTIFY_CLIENT_ID", settings.spotify_client_id or "")
    monkeypatch.setenv("BACHBOT_SPOTIFY_CLIENT_SECRET", TEST_CLIENT_SECRET)
    monkeypatch.setenv("BACHBOT_RECCOBEATS_ENABLED", "false")
    monkeypatch.setenv("BACHBOT_PREVIEW_AUDIO_ENABLED", "false")
    monkeypatch.setenv("BACHBOT_SPOTIFY_API_BASE", settings.spotify_api_base)
    monkeypatch.setenv("BACHBOT_SPOTIFY_ACCOUNTS_BASE", settings.spotify_accounts_base)

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
