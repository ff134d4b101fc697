"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the
daemon, the HTTP thread and a one-shot CLI command can share the file.  The
data directory and the database file are created private to the user.
Migrations are Alembic's, applied at start (``upgrade``) and by
``bachbot db upgrade``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.errors import DatabaseError
from service.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def make_engine(settings: Settings) -> Engine:
    """The engine for the configured database; creates the SQLite file privately."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        ensure_private_dir(settings.data_dir)
        database = make_url(url).database
        if database and database != ":memory:":
            db_path = Path(database)
            if not db_path.exists():
                db_path.touch(mode=0o600)
            os.chmod(db_path, 0o600)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def hide_password(url: str) -> str:
    """The URL with its password replaced by ``***`` (for status and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without anything after the scheme
        return url.split("://", 1)[0] + "://***"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; a failure names the database and the cause."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as err:
        raise DatabaseError(
            f"could not migrate the database {hide_password(str(engine.url))}: "
            f"{err.__class__.__name__}: {str(err).splitlines()[0]}"
        ) from err


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError:
            return None
    return None if row is None else str(row[0])


def wait_for_database(
    engine: Engine,
    *,
    attempts: int = 10,
    delay_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait for the database to answer, backing off; one log line per failed try.

    The container's database may still be starting; a user's typo in the URL
    must still end with a message rather than a crash loop.
    """
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            if attempt > 1:
                log.info("database reachable after %d attempts", attempt)
            return
        except OperationalError as err:
            last = err
            log.warning(
                "database %s not reachable (attempt %d of %d): %s",
                hide_password(str(engine.url)),
                attempt,
                attempts,
                str(err.orig).strip().splitlines()[0] if err.orig else err,
            )
            if attempt < attempts:
                sleep(min(delay_s * 2 ** (attempt - 1), 30.0))
    raise DatabaseError(
        f"database {hide_password(str(engine.url))} is not reachable after {attempts} attempts "
        f"({last.__class__.__name__ if last else 'unknown'}); check BACHBOT_DATABASE_URL and that "
        "the server is running"
    ) from last


def open_database(settings: Settings, *, migrate: bool = True) -> Engine:
    """Engine for the settings' database, reachable and migrated to head."""
    engine = make_engine(settings)
    if not settings.resolved_database_url.startswith("sqlite"):
        wait_for_database(engine)
    if migrate:
        upgrade(engine)
    return engine
