"""The daemon's HTTP server against slow, idle and too many clients, a busy port, and an
address reachable from elsewhere without a token.

The server is the daemon's real one (uvicorn on a loopback port chosen by the
OS) with small limits, so a test that would take minutes with the defaults
takes seconds; what is asserted is what a client meets (the server hangs up
before a slow request is complete; a 503 past the cap), never a duration.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from service.daemon import Daemon
from service.http_server import HttpLimits
from service.settings import Settings
from tests.conftest import TEST_CLIENT_SECRET

SLOW_CLIENTS = 30
"""The fault trials used 300; a few dozen show the same thing in seconds."""
LIMITS = HttpLimits(read_timeout_s=1.0, keep_alive_s=1, max_connections=64)
REQUEST = (
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n"
    + b"X-Pad: "
    + (b"a" * 120)
    + b"\r\n\r\n"
)
BYTE_EVERY_S = 0.1
"""A byte every 0.1 s: sending REQUEST whole would take ~19 s, far past the 1 s limit."""
HANG_S = 60.0


@pytest.fixture
def serve(settings: Settings, engine: Engine) -> Iterator[Callable[..., int]]:
    """Start the daemon's HTTP server with ``limits`` (and setting overrides); its port."""
    started: list[Daemon] = []

    def start(limits: HttpLimits = LIMITS, **overrides: object) -> int:
        daemon = Daemon(
            settings.model_copy(update={"http_port": 0, **overrides}),
            engine=engine,
            http_limits=limits,
        )
        started.append(daemon)
        return daemon.start_http()

    yield start
    for daemon in started:
        daemon.stop()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=HANG_S)
    return sock


def _dribble(port: int, sent: list[int], index: int) -> None:
    """Send REQUEST a byte at a time until the server hangs up; count what got through."""
    with _connect(port) as sock:
        for byte in REQUEST:
            if _hung_up(sock):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            sent[index] += 1
            time.sleep(BYTE_EVERY_S)


def _hung_up(sock: socket.socket) -> bool:
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@pytest.mark.timeout(120)
def test_slow_clients_are_hung_up_on_at_the_read_timeout(serve: Callable[..., int]) -> None:
    port = serve()
    sent = [0] * SLOW_CLIENTS
    clients = [
        threading.Thread(target=_dribble, args=(port, sent, i), daemon=True)
        for i in range(SLOW_CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(0.3)
    # while they dribble, an ordinary client is still served
    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=HANG_S)
    for client in clients:
        client.join(HANG_S)

    assert health.status_code == 503 and health.json()["database"] is True  # no scheduler here
    assert not any(c.is_alive() for c in clients), "a slow client was never hung up on"
    complete = [n for n in sent if n >= len(REQUEST)]
    assert complete == [], f"{len(complete)} slow request(s) were read to the end"
    assert min(sent) >= 1, sent


@pytest.mark.timeout(60)
def test_an_idle_socket_and_an_idle_keep_alive_connection_are_closed(
    serve: Callable[..., int],
) -> None:
    port = serve()
    with _connect(port) as silent:
        assert silent.recv(1024) == b"", "a socket that never spoke was kept open"
    with _connect(port) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = kept.recv(4096)
            assert chunk, "closed before the answer"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 503")
        assert kept.recv(1024) == b"", "an idle keep-alive connection was kept open"


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes or goes quiet for a moment."""
    sock.settimeout(5)
    answer = b""
    try:
        while chunk := sock.recv(4096):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith((b"}", b"again")):
                break
    except TimeoutError:
        pass
    return answer


@pytest.mark.timeout(60)
def test_at_the_cap_the_connection_waiting_longest_makes_room(serve: Callable[..., int]) -> None:
    """Slow clients holding every slot do not keep a quick request out."""
    port = serve(HttpLimits(read_timeout_s=30.0, keep_alive_s=30, max_connections=4))
    held = [_connect(port) for _ in range(4)]
    try:
        time.sleep(0.3)  # all four accepted, none has sent a byte
        with _connect(port) as newcomer:
            newcomer.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = _answer(newcomer)
        assert answer.startswith(b"HTTP/1.1 503") and b'"database":true' in answer, answer
        assert held[0].recv(1024) == b"", "the connection waiting longest was not closed"
    finally:
        for sock in held:
            sock.close()


@pytest.mark.timeout(60)
def test_past_the_cap_with_every_connection_busy_a_newcomer_gets_a_503_at_once(
    settings: Settings, engine: Engine
) -> None:
    release = threading.Event()
    inside: list[str] = []

    def slow_callback(url: str) -> str:
        inside.append(url)
        release.wait(30)
        return "done"

    daemon = Daemon(
        settings.model_copy(update={"http_port": 0}),
        engine=engine,
        on_callback=slow_callback,
        http_limits=HttpLimits(read_timeout_s=30.0, keep_alive_s=30, max_connections=2),
    )
    port = daemon.start_http()
    busy = [_connect(port) for _ in range(2)]
    try:
        for n, sock in enumerate(busy):
            sock.sendall(f"GET /callback?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        deadline = time.monotonic() + HANG_S
        while len(inside) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(inside) == 2, "the two requests never reached the handler"
        with _connect(port) as extra:
            answer = _answer(extra)
        assert answer.startswith(b"HTTP/1.1 503") and b"too many connections" in answer, answer
    finally:
        release.set()
        for sock in busy:
            sock.close()
        daemon.stop()


@pytest.mark.timeout(60)
def test_on_a_public_address_without_a_token_only_healthz_is_served(
    serve: Callable[..., int],
) -> None:
    port = serve(http_host="0.0.0.0")
    base = f"http://127.0.0.1:{port}"
    for path in ("/", "/metrics"):
        closed = httpx.get(base + path, timeout=HANG_S)
        assert closed.status_code == 403, path
        assert "BACHBOT_HTTP_TOKEN" in closed.text and closed.text.count("\n") == 1
    assert httpx.get(base + "/healthz", timeout=HANG_S).json()["database"] is True
    tokened = serve(http_host="0.0.0.0", http_token=SecretStr("t0ken-for-the-page"))
    page = httpx.get(f"http://127.0.0.1:{tokened}/", params={"token": "t0ken-for-the-page"})
    assert page.status_code == 200


@pytest.mark.timeout(120)
def test_a_busy_port_ends_bachbot_run_with_one_line(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
        env |= {
            "BACHBOT_DATA_DIR": str(settings.data_dir),
            "BACHBOT_DATABASE_URL": settings.resolved_database_url,
            "BACHBOT_SPOTIFY_CLIENT_ID": "test-client-id",
            "BACHBOT_SPOTIFY_CLIENT_SECRET": TEST_CLIENT_SECRET,
            "BACHBOT_HTTP_PORT": str(port),
            "BACHBOT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        script = "import sys; from service.cli import main; sys.exit(main(['run']))"
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True,
            timeout=100, cwd=tmp_path,
        )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines and lines[-1].startswith(f"bachbot: cannot listen on 127.0.0.1:{port}"), lines
    assert "BACHBOT_HTTP_PORT" in lines[-1]
