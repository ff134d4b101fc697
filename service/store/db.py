"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the
daemon, the HTTP thread and a one-shot CLI command can share the file.  The
data directory (:mod:`service.datadir`) and the database file are created
private to the user.  Reaching PostgreSQL at start (what is retried, what
fails at once) is :mod:`service.store.connect`.  Migrations are Alembic's,
applied at start (``upgrade``) and by ``bachbot db upgrade``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.datadir import check_data_dir, prepare_data_dir
from service.errors import DatabaseError, DatabaseRefused, DataDirUnusable
from service.settings import Settings
from service.store.connect import ONE_SHOT, URL_SETTING, WaitPolicy, wait_for_database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
PRIVATE_FILE = 0o600
TCP_LIVENESS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}
"""libpq options for every PostgreSQL connection: a server that vanished without a word
(a host gone, a network cut) ends a waiting query within ~25-40 s instead of the kernel's
15 minutes of retransmissions; a long query that is merely slow is not affected."""


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file the settings point at (None for PostgreSQL or ``:memory:``)."""
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def database_exists(settings: Settings) -> bool:
    """False only when the SQLite file is not there yet (so opening would create it).

    Commands that would fail on an empty database anyway (no token, no track)
    ask first, so a failing command leaves no new ``bachbot.db`` behind.
    PostgreSQL databases always "exist" here: bachbot never creates those.
    """
    path = sqlite_file(settings)
    return path is None or path.exists()


def _prepare_sqlite_file(settings: Settings, path: Path) -> None:
    """The data dir prepared, the database's folder checked (one named in the URL outside
    the data dir must exist: a typo should not create folders), the file created ``0600``."""
    folder = path.parent
    inside = folder.resolve().is_relative_to(settings.data_dir.resolve())
    if not inside:
        if not folder.exists():
            raise DataDirUnusable(
                f"the folder {folder} of the SQLite database in {URL_SETTING} does not "
                "exist; create it or correct the path"
            )
        check_data_dir(folder, source=URL_SETTING)
    prepare_data_dir(settings.data_dir)
    if inside:
        prepare_data_dir(folder, source=URL_SETTING)
    if path.exists():
        if path.is_dir():
            raise DataDirUnusable(
                f"the SQLite database {path} is a directory; move it away or point "
                f"{URL_SETTING} at a file"
            )
        if not os.access(path, os.R_OK | os.W_OK):
            raise DataDirUnusable(
                f"the SQLite database {path} is not readable and writable for this user; "
                "run bachbot as the user that owns it, or fix its permissions"
            )
        if path.stat().st_uid == os.geteuid():
            os.chmod(path, PRIVATE_FILE)
        return
    try:
        path.touch(mode=PRIVATE_FILE)
    except OSError as err:
        raise DataDirUnusable(
            f"cannot create the SQLite database {path}: {err.strerror or err}; "
            "check the folder's permissions"
        ) from err


def make_engine(settings: Settings, *, connect_timeout_s: int = 10) -> Engine:
    """The engine for the configured database; creates the SQLite file privately.

    A URL SQLAlchemy cannot use (an unknown driver, a port that is no number)
    is :class:`DatabaseRefused`, one line, instead of a traceback.
    """
    url = settings.resolved_database_url
    try:
        if url.startswith("sqlite"):
            path = sqlite_file(settings)
            if path is not None:
                _prepare_sqlite_file(settings, path)
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": connect_timeout_s, **TCP_LIVENESS},
        )
    except (ArgumentError, ValueError, ImportError) as err:
        raise DatabaseRefused(
            f"{URL_SETTING} {hide_password(url)} cannot be used: {_url_problem(err)}; write it "
            "like postgresql+psycopg://bachbot:secret@db:5432/bachbot or "
            "sqlite:////path/bachbot.db"
        ) from err


def _url_problem(err: Exception) -> str:
    """What is wrong with a URL SQLAlchemy refused, in our words: the parser's own may
    quote a piece of the password."""
    if isinstance(err, ImportError):
        return f"it names the driver {err.name}, which is not installed"
    if "int()" in str(err):
        return "its port is not a number"
    return "it cannot be parsed"


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


def checkpoint(session: Session) -> None:
    """Commit a job's work so far, because something outside the database already happened.

    A job runs in one transaction (:mod:`service.jobrunner`), except where
    it calls this: after a playlist was created on Spotify, after a chunk of
    features was fetched from a provider, after the user's removals were read.
    Everything before the checkpoint survives a crash after it, so the next
    run neither repeats the outside action nor loses the user's signal; each
    job's docstring lists its checkpoints and why a crash there is safe.
    """
    session.commit()


def discard_since_checkpoint(session: Session) -> None:
    """Undo a job's work since its last checkpoint (a provider failed mid-chunk)."""
    session.rollback()


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


def open_database(
    settings: Settings, *, migrate: bool = True, wait: WaitPolicy = ONE_SHOT
) -> Engine:
    """Engine for the settings' database, reachable and migrated to head.

    ``wait`` is how long an unreachable PostgreSQL is waited for
    (:data:`~service.store.connect.ONE_SHOT` for commands a person waits on,
    :data:`~service.store.connect.DAEMON` for ``bachbot run``).
    """
    engine = make_engine(settings, connect_timeout_s=wait.connect_timeout_s)
    if engine.dialect.name != "sqlite":
        try:
            wait_for_database(
                engine, shown_url=hide_password(settings.resolved_database_url), policy=wait
            )
        except DatabaseError:
            engine.dispose()
            raise
    if migrate:
        upgrade(engine)
    return engine
