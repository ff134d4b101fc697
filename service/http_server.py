"""The daemon's HTTP server: uvicorn on one socket, with limits a slow or idle client meets.

uvicorn (0.54, h11) closes a keep-alive connection after a few idle seconds
once a response is sent, but nothing bounds the time a client may take to
*send* a request: fault trials held 300 clients that sent a byte a second for
40 s, and a socket that never sent anything stayed open past 90 s.  On a
small home server that is a way to take the status page (and the OAuth
callback, and the container's health check) away.  So:

* every request, from its connection or its first byte to its last, must
  arrive within :attr:`HttpLimits.read_timeout_s`, else the connection is
  closed (slow headers, a slow body, a socket that never speaks);
* an idle keep-alive connection is closed after :attr:`HttpLimits.keep_alive_s`
  (uvicorn's own timer);
* at most :attr:`HttpLimits.max_connections` connections at once.  One more
  makes room by closing the connection that has waited longest without a
  whole request (sending one slowly, or idle between requests), so slow
  clients holding every slot cannot keep out a health check whose request
  takes a millisecond; only when every connection is busy being answered is
  the newcomer answered ``503`` and closed, before a byte of it is read.

Limits are plain values passed by the daemon (tests make them small), not
settings: a user has no reason to change them.  A port that is taken ends
``bachbot run`` with one line (:class:`~service.errors.HttpPortBusy`, exit 1).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import HttpPortBusy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpLimits:
    read_timeout_s: float = 10.0
    """A request (head and body) must arrive within this, counted from its first byte or
    from the connection when nothing came yet."""
    keep_alive_s: int = 5
    """An idle connection between requests is closed after this."""
    max_connections: int = 64
    """Connections served at once; more are answered 503 and closed."""


BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 43\r\n\r\n"
    b"bachbot: too many connections; try again\r\n\r\n"
)


class _LimitedH11(H11Protocol):
    """uvicorn's h11 protocol with a per-request read deadline and a connection cap."""

    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None
        """When it last began to wait for a request (None: a request is being answered)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.server_state.connections) >= self.limits.max_connections and not self._evict():
            self._refused = True
            transport.write(BUSY)
            transport.close()
            return
        super().connection_made(transport)
        self._follow()

    def _evict(self) -> bool:
        """Close the connection that has waited longest for a request; False if none waits."""
        waiting = [
            c
            for c in self.server_state.connections
            if isinstance(c, _LimitedH11)
            and c._waiting_since is not None
            and not c.transport.is_closing()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._waiting_since or 0.0)
        oldest.transport.close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Arm the deadline while a request is being received, drop it otherwise.

        Armed once per request and never pushed back by a byte arriving, so
        a byte a second does not keep a connection.  Between requests
        uvicorn's keep-alive timer is the one running.
        """
        waiting = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
        receiving = (
            waiting and self.timeout_keep_alive_task is None and not self.transport.is_closing()
        )
        if not waiting:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = self.loop.time()
        if not receiving:
            self._disarm()
        elif self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.read_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or :class:`HttpPortBusy` in one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise HttpPortBusy(
            f"cannot listen on {host}:{port} for the status page and /healthz "
            f"({err.strerror or err}); stop what uses that port (another `bachbot run`?) or "
            "set BACHBOT_HTTP_PORT to a free one"
        ) from err
    sock.listen(128)  # connections wait in the backlog until uvicorn's thread accepts them
    return sock


class HttpServer:
    """uvicorn serving ``app`` on its own thread, within :class:`HttpLimits`."""

    def __init__(self, app: Any, *, host: str, port: int, limits: HttpLimits) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.limits = limits
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Bind (or raise :class:`HttpPortBusy`), start serving; the port bound."""
        sock = bind(self.host, self.requested_port)
        self.port = int(sock.getsockname()[1])
        protocol = type("LimitedH11", (_LimitedH11,), {"limits": self.limits})
        config = uvicorn.Config(
            self.app,
            http=protocol,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=self.limits.keep_alive_s,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="http", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
