"""Reaching PostgreSQL at start: a permanent refusal fails at once with its cause and fix;
an outage is waited out on a short schedule (one-shot commands) or a longer one (the daemon).

The schedules are checked on a fake clock (no test waits for them); the refusals come
from a real libpq talking to a local fake server, or to the real one on the postgres pass.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from service.errors import DatabaseError, DatabaseRefused
from service.settings import Settings
from service.store.connect import DAEMON, ONE_SHOT, WaitPolicy, refusal, wait_for_database
from service.store.db import open_database
from tests.conftest import BACKEND, PG_ADMIN_URL
from tests.service.store.fake_postgres import FakePostgres

REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
    "\tIs the server running on that host and accepting TCP/IP connections?"
)


@pytest.mark.parametrize(
    ("message", "permanent", "fix"),
    [
        ('failed: FATAL:  database "bachbot" does not exist', True, "createdb bachbot"),
        ('failed: FATAL:  role "bot" does not exist', True, "create that user"),
        ('failed: FATAL:  password authentication failed for user "bot"', True, "password"),
        ("failed: fe_sendauth: no password supplied", True, "add it"),
        ('failed: FATAL:  no pg_hba.conf entry for host "10.0.0.2", user "bot"', True, "pg_hba"),
        ("failed to resolve host 'dbb': [Errno -2] Name or service not known", True, "host name"),
        ('connection is bad: invalid sslmode value: "bogus"', True, "correct"),
        ("failed to resolve host 'db': [Errno -3] Temporary failure in name resolution", False, ""),
        (REFUSED, False, ""),
        ('connection to server at "10.1.1.1", port 5432 failed: timeout expired', False, ""),
        ("failed: FATAL:  the database system is starting up", False, ""),
        ("failed: FATAL:  sorry, too many clients already", False, ""),
        ("server closed the connection unexpectedly", False, ""),
    ],
)
def test_refusals_that_waiting_cannot_fix_are_told_apart_from_outages(
    message: str, permanent: bool, fix: str
) -> None:
    found = refusal(Exception(message))
    assert (found is not None) == permanent
    if found is not None:
        assert fix in found.fix and "FATAL" not in found.cause


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class TimingOut:
    """An engine whose every connection attempt takes ``seconds`` and then times out."""

    def __init__(self, time: FakeTime, seconds: float) -> None:
        self.time, self.seconds, self.attempts = time, seconds, 0

    def connect(self) -> Any:
        self.attempts += 1
        self.time.now += self.seconds
        raise OperationalError("SELECT 1", {}, Exception("failed: timeout expired"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("policy", [ONE_SHOT, DAEMON], ids=["one-shot", "daemon"])
def test_an_outage_is_retried_within_the_budget_one_line_per_attempt(
    policy: WaitPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    time = FakeTime()
    engine = create_engine(f"postgresql+psycopg://bot:pw@127.0.0.1:{_closed_port()}/bachbot")
    caplog.set_level(logging.WARNING, logger="service.store.connect")
    with pytest.raises(DatabaseError, match="database unreachable") as failed:
        wait_for_database(engine, shown_url="db", policy=policy, sleep=time.sleep, clock=time.clock)
    engine.dispose()
    assert not isinstance(failed.value, DatabaseRefused) and failed.value.exit_code == 1
    assert "Connection refused" in str(failed.value) and "BACHBOT_DATABASE_URL" in str(failed.value)
    attempts = len(time.sleeps) + 1
    assert attempts >= 3, "an outage deserves more than one try"
    assert (
        sum(time.sleeps)
        <= policy.budget_s
        < sum(time.sleeps) + min(policy.max_delay_s, time.sleeps[-1] * 2)
    )
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == attempts - 1
    assert all("not reachable (attempt" in w and "next try in" in w for w in warnings)


def test_the_daemon_waits_longer_than_a_one_shot_command() -> None:
    assert DAEMON.budget_s >= 10 * ONE_SHOT.budget_s
    assert ONE_SHOT.connect_timeout_s >= 2  # libpq's minimum


@pytest.mark.parametrize("addresses", [1, 2], ids=["one address", "localhost: two"])
def test_a_one_shot_command_gives_up_within_fifteen_seconds_even_if_every_attempt_hangs(
    addresses: int,
) -> None:
    """The worst case of the schedule: every attempt runs into libpq's connect timeout,
    once per address of the host name (``localhost`` has two)."""
    time = FakeTime()
    engine = TimingOut(time, seconds=addresses * ONE_SHOT.connect_timeout_s)
    with pytest.raises(DatabaseError, match=r"database unreachable.*timeout expired"):
        wait_for_database(cast(Engine, engine), shown_url="db", sleep=time.sleep, clock=time.clock)
    assert engine.attempts >= 1
    assert time.now < 15


def test_a_wrong_password_fails_at_the_first_attempt_naming_the_fix() -> None:
    time = FakeTime()
    refusal_ = ("28P01", 'password authentication failed for user "bot"')
    with FakePostgres(refuse=refusal_) as server:
        engine = create_engine(f"postgresql+psycopg://bot:wrong@127.0.0.1:{server.port}/bachbot")
        with pytest.raises(DatabaseRefused) as refused:
            wait_for_database(engine, shown_url="db", sleep=time.sleep, clock=time.clock)
        engine.dispose()
    message = str(refused.value)
    assert server.connections >= 1 and time.sleeps == []
    assert 'password authentication failed for user "bot"' in message
    assert "BACHBOT_DATABASE_URL" in message and "wrong" not in message
    assert refused.value.exit_code == 2


@pytest.mark.timeout(30)
def test_a_server_that_never_answers_is_ended_by_the_connect_timeout() -> None:
    one_try = WaitPolicy(budget_s=0.0, first_delay_s=1.0, max_delay_s=1.0, connect_timeout_s=2)
    with FakePostgres(silent=True) as server:
        engine = create_engine(
            f"postgresql+psycopg://bot@127.0.0.1:{server.port}/bachbot",
            connect_args={"connect_timeout": one_try.connect_timeout_s},
        )
        with pytest.raises(DatabaseError, match=r"database unreachable.*timeout"):
            wait_for_database(engine, shown_url="db", policy=one_try)
        engine.dispose()


@pytest.mark.postgres
def test_a_missing_database_fails_at_once_with_one_line(tmp_path: Path) -> None:
    if BACKEND != "postgres":
        pytest.skip("needs the PostgreSQL server (the postgres pass)")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/bachbot_no_such_database"
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url)  # type: ignore[call-arg]
    with pytest.raises(DatabaseRefused) as refused:
        open_database(settings)
    message = str(refused.value)
    assert '"bachbot_no_such_database" does not exist' in message
    assert "createdb bachbot_no_such_database" in message and "\n" not in message
    assert not (tmp_path / "data").exists()
