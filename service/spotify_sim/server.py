"""The local Spotify as a real HTTP server on loopback.

    with SpotifySim(state, mode="new") as sim:
        settings = Settings(spotify_api_base=sim.api_base,
                            spotify_accounts_base=sim.accounts_base, ...)
        ...
        assert sim.calls["GET /me/tracks"] == 2

One ``ThreadingHTTPServer`` on 127.0.0.1 and a random port serves three
bases: ``/v1/`` (Web API), ``/accounts/`` (authorize and token) and
``/reccobeats/`` (the ReccoBeats-compatible features API).  Every request is
counted under its route name, then checked against the fault table, then
authenticated, then refused as Spotify refuses it (:mod:`request_rules`) or
answered.  With ``validate`` (the default wherever the development extras are
installed) each Web API answer is checked against the spec; any mismatch, and
any request to a path no route serves, is kept in ``sim.violations``
(:meth:`SpotifySim.assert_valid` fails a test on them).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

from service.settings import Settings
from service.spotify_sim import answer_checks, api, render, request_rules
from service.spotify_sim.accounts import Accounts
from service.spotify_sim.faults import Fault, Faults
from service.spotify_sim.state import SimState

MODES = (api.NEW, api.EXTENDED)


@dataclass(frozen=True)
class Violation:
    """One response that broke the spec: which route, which status, what was wrong."""

    route: str
    status: int
    message: str


def spec_checks_available() -> bool:
    """Whether answers can be checked against the spec: jsonschema and PyYAML are
    development extras, absent from the container image (where ``bachbot demo``
    and ``bachbot sim`` still run, unchecked)."""
    try:
        import jsonschema  # type: ignore[import-untyped]  # noqa: F401
        import yaml  # noqa: F401
    except ImportError:
        return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test, reset fault) is normal here, not an error."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SpotifySim:
    """A running local Spotify (start with ``with`` or :meth:`start`)."""

    def __init__(
        self,
        state: SimState | None = None,
        *,
        mode: str = api.NEW,
        validate: bool | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        on_violation: Callable[[Violation], None] | None = None,
    ) -> None:
        """``on_violation`` hears of each violation as it happens (``bachbot sim
        --validate`` prints them); they are kept in ``violations`` either way."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.state = state or SimState()
        self.mode = mode
        self.validate = spec_checks_available() if validate is None else validate
        self.faults = Faults()
        self.accounts = Accounts()
        self.calls: Counter[str] = Counter()
        self.violations: list[Violation] = []
        self.on_violation = on_violation
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._root: str | None = None

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> SpotifySim:
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = _Server((self._host, self._port), handler)
        host, port = self._server.server_address[:2]
        self._root = f"http://{host!s}:{port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown: tests start one per test
            name="spotify-sim",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> SpotifySim:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        if self._root is None:
            raise RuntimeError("the local Spotify is not running; use `with SpotifySim(...)`")
        return self._root

    @property
    def api_base(self) -> str:
        return self.root + "v1/"

    @property
    def accounts_base(self) -> str:
        return self.root + "accounts/"

    @property
    def reccobeats_base(self) -> str:
        return self.root + "reccobeats/"

    # --- helpers for tests, the demo and the benchmarks -----------------------------
    def settings_for(self, base: Settings, **overrides: Any) -> Settings:
        """``base`` talking to this local Spotify: its accounts service, Web API and
        ReccoBeats-compatible endpoint, with the client it accepts."""
        update: dict[str, Any] = {
            "spotify_client_id": self.accounts.client_id,
            "spotify_client_secret": SecretStr(self.accounts.client_secret),
            "spotify_api_base": self.api_base,
            "spotify_accounts_base": self.accounts_base,
            "reccobeats_enabled": True,
            "reccobeats_base": self.reccobeats_base,
            # Deezer is another service: the local Deezer (service.deezer_sim) serves it.
            "preview_audio_enabled": False,
        }
        return base.model_copy(update={**update, **overrides})

    def issue_token(self, user_id: str | None = None, scope: str | None = None) -> dict[str, Any]:
        """A valid token_info for ``user_id`` (default user), with spotipy's extra fields.

        ``scope`` None grants every scope; bachbot's tests pass its ``SCOPE``."""
        user = user_id or self.state.default_user
        if user is None:
            raise ValueError("the local Spotify has no users; add one with state.add_user()")
        info = self.accounts.issue(user, scope)
        info["expires_at"] = int(time.time()) + info["expires_in"]
        return info

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def assert_valid(self) -> None:
        """Fail when any response sent so far broke the spec."""
        if self.violations:
            lines = [f"{v.route} -> {v.status}: {v.message}" for v in self.violations[:20]]
            from service.spotify_sim.spec import SpecViolation

            raise SpecViolation("local Spotify answered off-spec:\n" + "\n".join(lines))

    def violated(self, violation: Violation) -> None:
        """Keep a violation (and tell ``on_violation``)."""
        with self._lock:
            self.violations.append(violation)
        if self.on_violation is not None:
            self.on_violation(violation)

    def _count(self, route: str) -> int:
        with self._lock:
            self.calls[route] += 1
            return self.calls[route]


class _Handler(BaseHTTPRequestHandler):
    sim: SpotifySim
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive
    # client's delayed ACK stalls every answer by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging: URLs carry codes in the OAuth flow."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the connection was reset on purpose by a fault
            super().finish()

    # --- dispatch ------------------------------------------------------------------
    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw = self._read_body()
        path = parts.path
        if path.startswith("/accounts/"):
            self._accounts(path.removeprefix("/accounts"), query, raw)
        elif path.startswith("/reccobeats/"):
            self._api(path.removeprefix("/reccobeats"), query, raw, api.RECCOBEATS_ROUTES, False)
        elif path.startswith("/v1/"):
            self._api(path.removeprefix("/v1"), query, raw, api.API_ROUTES, True)
        else:
            self._unknown(path)

    def _unknown(self, path: str) -> None:
        """A path no route serves: Spotify's 404, and a violation that fails the test.

        The gateway reads a 404 as "deleted"; a mistyped path in bachbot would
        otherwise pass as a vanished playlist or album.  Always recorded,
        whatever ``validate`` says: it is a bug in the caller, not in the sim.
        """
        name = f"{self.command} <unknown>"
        self.sim._count(name)
        self.sim.violated(Violation(name, 404, f"no such endpoint: {self.command} {path}"))
        self._send(404, render.error(404, "Service not found"))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _accounts(self, path: str, query: dict[str, str], raw: bytes) -> None:
        sim = self.sim
        if self.command == "GET" and path == "/authorize":
            sim._count("GET /authorize")
            status, text = sim.accounts.authorize(query, sim.state.default_user)
            if status == 302:
                self.send_response(302)
                self.send_header("Location", text)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send_text(status, text)
        elif self.command == "POST" and path == "/api/token":
            number = sim._count("POST /api/token")
            fault = sim.faults.pick("POST /api/token", number)
            if fault is not None and self._apply_fault(fault, "POST /api/token", None):
                return
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            status, body = sim.accounts.token(form, self.headers.get("Authorization"))
            self._send(status, body)
        else:
            self._send(404, {"error": "not_found", "error_description": path})

    def _api(
        self,
        path: str,
        query: dict[str, str],
        raw: bytes,
        routes: tuple[api.Route, ...],
        authenticated: bool,
    ) -> None:
        sim = self.sim
        found = next(
            (
                (route, match)
                for route in routes
                if route.method == self.command and (match := route.pattern.match(path))
            ),
            None,
        )
        if found is None:
            self._unknown(self.path.split("?", 1)[0])
            return
        route, match = found
        name = route.name if authenticated else f"reccobeats {route.name}"
        number = sim._count(name)
        fault = sim.faults.pick(name, number)
        spec_path = route.spec_path if sim.validate else None
        if fault is not None and self._apply_fault(fault, name, spec_path):
            return
        with sim.state.lock:
            playlist = sim.state.playlists.get(match.groupdict().get("id", ""))
            before = None if playlist is None else playlist.snapshot_id
            reply = self._answer(route, match.groupdict(), query, raw, authenticated)
        if (
            spec_path is not None
            and route.method != "GET"
            and route.spec_path is not None
            and route.spec_path.startswith("/playlists/")
            and reply.status < 300
            and playlist is not None
            and playlist.snapshot_id == before
        ):
            # Every accepted playlist write makes a new snapshot: bachbot skips
            # reading a playlist whose snapshot id it has seen.
            sim.violated(Violation(name, reply.status, "a write left snapshot_id unchanged"))
        self._send(reply.status, reply.body, reply.headers, name=name, spec_path=spec_path)

    def _answer(
        self,
        route: api.Route,
        params: dict[str, str],
        query: dict[str, str],
        raw: bytes,
        authenticated: bool,
    ) -> api.Reply:
        sim = self.sim
        user_id = sim.state.default_user
        granted: frozenset[str] | None = None
        if authenticated:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            user_id, why = sim.accounts.user_for(token)
            if user_id is None:
                return api.Reply(401, render.error(401, why))
            granted = sim.accounts.scopes_for(token)
        user = sim.state.users.get(user_id or "")
        if user is None:
            return api.Reply(401, render.error(401, "No user behind this token"))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return api.Reply(400, render.error(400, "Error parsing JSON"))
        if route.spec_path is not None:
            refused = request_rules.check(f"{route.method} {route.spec_path}", query, body, granted)
            if refused is not None:
                return api.Reply(refused[0], render.error(*refused))
        call = api.Call(self.command, params, query, body, user, sim.state, sim.api_base, sim.mode)
        try:
            return route.handler(call)
        except api.ApiError as err:
            return api.Reply(err.status, render.error(err.status, err.message))

    def _apply_fault(self, fault: Fault, name: str, spec_path: str | None) -> bool:
        """Act out a fault; True when the request is fully handled by it."""
        if fault.kind == "slow":
            time.sleep(fault.delay_s)
            return False
        if fault.kind == "http":
            headers = {}
            if fault.retry_after_s is not None:
                headers["Retry-After"] = str(fault.retry_after_s)
            body = render.error(fault.status, fault.message)
            self._send(fault.status, body, headers, name=name, spec_path=spec_path)
        elif fault.kind == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif fault.kind == "malformed":
            self._send_raw(200, b"<html>upstream error</html>", "application/json")
        elif fault.kind == "truncated":
            self._send_raw(200, b'{"items": [{"id": "abc", "na', "application/json")
        return True

    # --- output --------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        *,
        name: str = "",
        spec_path: str | None = None,
    ) -> None:
        if spec_path is not None:
            # Imported here: jsonschema and PyYAML are test-time dependencies.
            from service.spotify_sim.spec import validate_body

            for message in validate_body(spec_path, self.command, status, body):
                self.sim.violated(Violation(name, status, message))
            for message in answer_checks.problems(status, body):
                self.sim.violated(Violation(name, status, message))
        data = b"" if body is None else json.dumps(body).encode()
        self._send_raw(status, data, "application/json", headers)

    def _send_text(self, status: int, text: str) -> None:
        self._send_raw(status, text.encode(), "text/plain; charset=utf-8")

    def _send_raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
