"""Reaching PostgreSQL at start: what to wait out, what to report at once, and for how long.

A refused connection or a timeout may pass (the server is starting, the
container is not up yet), so it is retried on a bounded schedule, one log
line per attempt.  A server that *answers* with "no such database", "no such
user" or "wrong password", a host name that does not resolve, or a URL libpq
cannot parse will answer the same way every time: that fails at once with
one line naming the cause and the fix (:class:`~service.errors.DatabaseRefused`,
exit code 2).

Host names that do not resolve count as permanent: a typo is far more likely
than a name that appears later, and compose starts the bot only once the
database is healthy.  "Temporary failure in name resolution" (the resolver
itself is unreachable) is the exception and is waited out.

Two schedules: :data:`ONE_SHOT` for commands a person is waiting on (a few
seconds in all) and :data:`DAEMON` for ``bachbot run``, which may start
before its database does (two minutes).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import InterfaceError, OperationalError

from service.errors import DatabaseError, DatabaseRefused

log = logging.getLogger(__name__)

URL_SETTING = "BACHBOT_DATABASE_URL"


@dataclass(frozen=True)
class WaitPolicy:
    """How long to keep trying a database that does not answer yet."""

    budget_s: float
    """No new attempt starts after this many seconds."""
    first_delay_s: float
    max_delay_s: float
    connect_timeout_s: int
    """libpq's ``connect_timeout`` per attempt and address (libpq's minimum is 2)."""

    def delays(self) -> Iterator[float]:
        """The pauses between attempts: doubling from ``first_delay_s`` up to ``max_delay_s``."""
        delay = self.first_delay_s
        while True:
            yield delay
            delay = min(delay * 2, self.max_delay_s)


UNREACHABLE = (OperationalError, InterfaceError)
"""What a dropped or refused database connection raises (SQLAlchemy wraps the driver's);
other database errors (a constraint, a bad statement) are bugs, not outages."""

ONE_SHOT = WaitPolicy(budget_s=4.0, first_delay_s=0.5, max_delay_s=2.0, connect_timeout_s=2)
DAEMON = WaitPolicy(budget_s=120.0, first_delay_s=1.0, max_delay_s=15.0, connect_timeout_s=5)


@dataclass(frozen=True)
class Refusal:
    """A permanent answer: what the server (or libpq) said, and what the user should do."""

    cause: str
    fix: str


_PERMANENT: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), fix)
    for pattern, fix in (
        (
            r'database "(?P<name>[^"]+)" does not exist',
            "create it (e.g. `createdb {name}` on the server) or correct the database name "
            f"at the end of {URL_SETTING}",
        ),
        (
            r'role "(?P<name>[^"]+)" does not exist',
            f"create that user on the server or correct the user name in {URL_SETTING}",
        ),
        (
            r"password authentication failed|authentication failed for user",
            f"correct the user name and password in {URL_SETTING} "
            "(postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE)",
        ),
        (
            r"no password supplied|password is required",
            f"the server asks for a password: add it to {URL_SETTING} "
            "(postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE)",
        ),
        (
            r"no pg_hba\.conf entry",
            "the server's pg_hba.conf does not let this user connect from here; allow it "
            f"there or use another user in {URL_SETTING}",
        ),
        (
            r"is not permitted to log in|permission denied for database",
            f"grant the user LOGIN and CONNECT on the server, or use another user in {URL_SETTING}",
        ),
        (
            r"failed to resolve host|could not translate host name|name or service not known"
            r"|no address associated with hostname|nodename nor servname",
            f"correct the host name in {URL_SETTING} (in docker compose it is the service "
            "name, `db`)",
        ),
        (
            r"connection is bad: invalid|invalid connection option|invalid dsn"
            r"|invalid (integer|port|sslmode)",
            f"correct {URL_SETTING} (e.g. postgresql+psycopg://bachbot:secret@db:5432/bachbot)",
        ),
    )
)
_TRANSIENT_DNS = re.compile(r"temporary failure in name resolution", re.IGNORECASE)


def cause_of(err: BaseException) -> str:
    """libpq's own words for a failed connection, without its ``connection ... failed:``
    prefix and its ``FATAL:`` tag: ``database "x" does not exist``."""
    raw = err.orig if isinstance(err, OperationalError) and err.orig is not None else err
    first = (str(raw).strip().splitlines() or [type(raw).__name__])[0]
    tail = re.split(r"\bfailed: ", first)[-1]
    for prefix in ("connection failed: ", "connection is bad: "):
        tail = tail.removeprefix(prefix)
    return re.sub(r"^(FATAL|ERROR):\s+", "", tail).strip()


def refusal(err: BaseException) -> Refusal | None:
    """The :class:`Refusal` when ``err`` will not go away by waiting, else None."""
    message = str(err.orig if isinstance(err, OperationalError) and err.orig else err)
    if _TRANSIENT_DNS.search(message):
        return None
    for pattern, fix in _PERMANENT:
        match = pattern.search(message)
        if match:
            name = match.groupdict().get("name") or ""
            return Refusal(cause_of(err), fix.format(name=name))
    return None


def wait_for_database(
    engine: Engine,
    *,
    shown_url: str,
    policy: WaitPolicy = ONE_SHOT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once the database answers ``SELECT 1``.

    Raises :class:`DatabaseRefused` at the first permanent refusal and
    :class:`DatabaseError` ("database unreachable") once ``policy`` is spent;
    each failed attempt is one warning line.  ``shown_url`` is the URL with its
    password hidden.
    """
    started = clock()
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as err:
            found = refusal(err)
            if found is not None:
                raise DatabaseRefused(
                    f"cannot connect to the database {shown_url}: {found.cause}; {found.fix}"
                ) from err
            cause = cause_of(err)
            delay = next(delays)
            elapsed = clock() - started
            if elapsed + delay > policy.budget_s:
                raise DatabaseError(
                    f"database unreachable: {shown_url} ({cause}; {attempt} attempts in "
                    f"{elapsed:.1f} s); check that PostgreSQL is running and accepts connections "
                    f"at that address, and check {URL_SETTING}"
                ) from err
            log.warning(
                "database %s not reachable (attempt %d): %s; next try in %.1f s",
                shown_url,
                attempt,
                cause,
                delay,
            )
            sleep(delay)
            continue
        if attempt > 1:
            log.info("database %s reachable after %d attempts", shown_url, attempt)
        return
