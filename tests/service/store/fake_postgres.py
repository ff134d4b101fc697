"""A loopback TCP server that speaks just enough of PostgreSQL's protocol to refuse.

Real refusals bachbot must tell apart without touching the shared server's
configuration: a wrong password (SQLSTATE 28P01) or a server that accepts the
connection and then never answers (so libpq's ``connect_timeout`` has to end
it).  libpq sees a real server: it sends its SSL and start-up requests and
reads a real ``ErrorResponse``.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def error_response(code: str, message: str) -> bytes:
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _read_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class FakePostgres:
    """``FakePostgres(refuse=("28P01", "password ..."))`` refuses every start-up with that
    error; ``FakePostgres(silent=True)`` accepts and never says a word."""

    def __init__(self, *, refuse: tuple[str, str] | None = None, silent: bool = False) -> None:
        self.refuse = refuse
        self.silent = silent
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = int(self._sock.getsockname()[1])
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            if self.silent:
                continue
            try:
                self._refuse(conn)
            except (ConnectionError, OSError):
                pass
            finally:
                conn.close()

    def _refuse(self, conn: socket.socket) -> None:
        while True:
            (length,) = struct.unpack("!I", _read_exact(conn, 4))
            body = _read_exact(conn, length - 4)
            (code,) = struct.unpack("!I", body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.sendall(b"N")
                continue
            break  # the start-up message: answer it with the refusal
        sqlstate, message = self.refuse or ("XX000", "refused")
        conn.sendall(error_response(sqlstate, message))

    def __enter__(self) -> FakePostgres:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._open:
            conn.close()
        self._thread.join(timeout=5)
