"""The container's command, run the way the container runs it, against PostgreSQL.

No Docker engine is needed: the test takes the image's ``CMD``, its ``ENV``
and compose's environment for the bot, points the database at a fresh
PostgreSQL database and the data and cache directories at temporary ones, and
runs the command as a subprocess.  It then asks ``/healthz`` with the image's
own ``HEALTHCHECK`` command, stops the process with SIGTERM as ``docker stop``
does, and expects a clean exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import PG_ADMIN_URL
from tests.deploy.files import environment_of, exec_form, interpolate, load_compose, read_stages

TEST_TOKEN = "deploy-test-token-5be1d0"
TEST_CLIENT_SECRET = "deploy-test-client-secret-91c4e2"
TEST_DB_PASSWORD = "deploy-test-db-password-3d7a08"  # the local server trusts; it is not checked
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing may leave this machine
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 45.0


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"bachbot_deploy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as err:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {err.orig}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _container_env(tmp_path: Path, database_url: str, port: int) -> dict[str, str]:
    """The bot's environment in the container, with its paths moved under tmp_path."""
    container = dict(read_stages()[1][-1].env())
    bot = load_compose()["services"]["bot"]
    for key, value in environment_of(bot).items():
        container[key] = interpolate(value, {"BACHBOT_HTTP_TOKEN": TEST_TOKEN})
    for key, value in container.items():
        if value == "/data" or value.startswith("/data/"):
            container[key] = str(tmp_path / "data") + value.removeprefix("/data")
        elif value.startswith("/tmp/"):
            container[key] = str(tmp_path / "tmp") + value.removeprefix("/tmp")
    # The password secret, where compose mounts it, moved under tmp_path like /data.
    secret = tmp_path / "run-secrets" / "db_password"
    secret.parent.mkdir()
    secret.write_text(TEST_DB_PASSWORD + "\n", encoding="utf-8")
    assert container.pop("BACHBOT_DATABASE_PASSWORD_FILE") == "/run/secrets/db_password"
    container["BACHBOT_DATABASE_PASSWORD_FILE"] = str(secret)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    env.update(container)
    env.update(
        BACHBOT_DATABASE_URL=database_url,
        BACHBOT_HTTP_PORT=str(port),
        BACHBOT_HTTP_TOKEN=TEST_TOKEN,
        BACHBOT_SPOTIFY_CLIENT_ID="deploy-test-client-id",
        BACHBOT_SPOTIFY_CLIENT_SECRET=TEST_CLIENT_SECRET,
        BACHBOT_SPOTIFY_API_BASE=UNREACHABLE,
        BACHBOT_SPOTIFY_ACCOUNTS_BASE=UNREACHABLE,
        BACHBOT_RECCOBEATS_BASE=UNREACHABLE,
        BACHBOT_RECCOBEATS_ENABLED="false",
        BACHBOT_PREVIEW_AUDIO_ENABLED="false",
        BACHBOT_DEEZER_BASE=UNREACHABLE,
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def _healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (check,) = read_stages()[1][-1].all("HEALTHCHECK")
    argv = exec_form(check, prefix="CMD")
    assert argv[0] == "python"
    return subprocess.run(
        [sys.executable, *argv[1:]], env=env, capture_output=True, text=True, timeout=30
    )


def _wait_until_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`bachbot run` exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"/healthz did not answer 200 within {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")


def test_container_command_serves_health_and_stops_cleanly_on_sigterm(
    tmp_path: Path, fresh_postgres: str
) -> None:
    pytest.importorskip("service.daemon", reason="`bachbot run` (service.daemon) is not written")
    (cmd,) = read_stages()[1][-1].all("CMD")
    port = _free_port()
    env = _container_env(tmp_path, fresh_postgres, port)
    workdir = tmp_path / "app"  # stands for the image's read-only WORKDIR
    (tmp_path / "tmp").mkdir()
    workdir.mkdir()
    log = tmp_path / "bachbot.log"

    assert _healthcheck(env).returncode != 0, "the health check passes with nothing running"
    with log.open("wb") as out:
        proc = subprocess.Popen(exec_form(cmd), env=env, cwd=workdir, stdout=out, stderr=out)
        try:
            _wait_until_healthy(proc, port, log)
            check = _healthcheck(env)
            assert check.returncode == 0, check.stderr
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=STOP_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    output = log.read_text(errors="replace")
    assert code == 0, output
    assert _healthcheck(env).returncode != 0, "the daemon still answers after SIGTERM"
    assert list(workdir.iterdir()) == [], "the daemon wrote outside /data and /tmp"
    assert TEST_TOKEN not in output and TEST_CLIENT_SECRET not in output
    assert TEST_DB_PASSWORD not in output
    assert "Traceback" not in output, output
