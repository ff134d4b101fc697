"""A TCP proxy between bachbot and PostgreSQL that a test can cut, freeze and restore.

The database "blinks" the way a network or a restarting server makes it blink,
without touching the server or bachbot's code: bachbot is pointed at the
proxy's port (``url_through``), and the test calls

* :meth:`TcpProxy.cut`: every open connection is reset and new ones are refused
  (the server restarted, or the host went away);
* :meth:`TcpProxy.freeze`: connections stay open and new ones are accepted, but
  nothing is forwarded either way (a hung network path);
* :meth:`TcpProxy.restore`: forwarding resumes for new connections.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Iterator

from sqlalchemy.engine import make_url


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._frozen = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._open_listener()
        return self

    def close(self) -> None:
        self._stop.set()
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def url_through(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    # --- faults --------------------------------------------------------------------------
    def cut(self) -> None:
        """Reset every connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            listener.close()
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def freeze(self) -> None:
        """Keep connections open but forward nothing, in either direction."""
        self._frozen.set()

    def restore(self) -> None:
        self._frozen.clear()
        if self._listener is None and not self._stop.is_set():
            self._open_listener()

    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    # --- plumbing --------------------------------------------------------------------------
    def _open_listener(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _reset(client)
                    _reset(upstream)
                    return
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                if self._frozen.is_set():
                    self._stop.wait(0.05)
                    continue
                readable, _, _ = select.select([a, b], [], [], 0.05)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                if (a, b) in self._pairs:
                    self._pairs.remove((a, b))
            _reset(a)
            _reset(b)


def _reset(sock: socket.socket) -> None:
    """Close with RST (linger 0), as a dying host or server does, not a polite FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def proxy_to(url: str) -> Iterator[TcpProxy]:
    """A started proxy in front of the PostgreSQL server ``url`` names."""
    parsed = make_url(url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        yield proxy
