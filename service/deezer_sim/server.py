"""The local Deezer: Deezer's public API and preview CDN as a real HTTP server on loopback.

    with DeezerSim([DeezerSimTrack(1, "FRX1", "Prélude", "Anna", 150, PreviewSignal(...))]) as dz:
        settings = settings.model_copy(update=dz.settings_update())
        ...
        assert dz.calls["track/isrc"] == 1

It answers as the real API does (developers.deezer.com/api; error table at
/api/errors): HTTP **200** with ``{"error": {"type", "message", "code"}}`` for
an unknown ISRC or id (800 "no data"), a missing search query (501), and an
exhausted quota (4: more than :data:`QUOTA_CALLS` API calls in
:data:`QUOTA_WINDOW_S` seconds); only GET is served.  Search results are the
short track objects Deezer's search returns (no ``isrc``, ``bpm``, ``gain``).
Preview URLs are signed and expire (``hdnea=exp=...~hmac=...``, as Deezer's CDN
signs them); an expired or forged one gets the CDN's 403.  Previews are made on
the fly from each track's :class:`~service.deezer_sim.signal.PreviewSignal`,
or are deliberately broken (``preview="not_audio" | "truncated" | "silent" |
"gone"``) for the bad-input tests.  ``fail_next`` queues raw HTTP failures
(a 429 with a Retry-After, a 503) for the next API requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from service.deezer_sim.signal import PreviewSignal, mp3

QUOTA_CALLS = 50
QUOTA_WINDOW_S = 5.0
PREVIEW_TTL_S = 900
PREVIEW_CACHE = 128
"""Encoded clips kept, by signal (tracks sharing a signal share the clip)."""
Preview = Literal["mp3", "not_audio", "truncated", "silent", "gone", "none"]


@dataclass(frozen=True, slots=True)
class DeezerSimTrack:
    """One recording the local Deezer knows."""

    id: int
    isrc: str | None
    title: str
    artist: str
    duration_s: int
    signal: PreviewSignal | None = None
    """What its preview sounds like (None: no preview, as for some labels)."""
    bpm: float = 0.0
    gain: float = 0.0
    album: str = ""
    preview: Preview = "mp3"
    """How the preview is served: ``mp3`` from the signal, or broken on purpose."""


@dataclass
class _Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def _error(kind: str, message: str, code: int) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code}}


NO_DATA = _error("DataException", "no data", 800)


class DeezerSim:
    """A ThreadingHTTPServer on 127.0.0.1 and a random port; use as a context manager."""

    def __init__(self, tracks: list[DeezerSimTrack], *, quota: int = QUOTA_CALLS) -> None:
        self.tracks = {t.id: t for t in tracks}
        self.by_isrc = {t.isrc.upper(): t for t in tracks if t.isrc}
        self.quota = quota
        self.calls: Counter[str] = Counter()
        self.unknown_paths: list[str] = []
        self._recent: deque[float] = deque()
        self._failures: deque[_Failure] = deque()
        self._mp3: dict[PreviewSignal, bytes] = {}
        self._secret = b"local-deezer"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------
    def __enter__(self) -> DeezerSim:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root(self) -> str:
        if self._server is None:
            raise RuntimeError("the local Deezer is not running; use `with DeezerSim(...)`")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def settings_update(self) -> dict[str, Any]:
        """The settings that point bachbot's preview provider here."""
        return {"preview_audio_enabled": True, "deezer_base": self.root}

    # --- test controls ----------------------------------------------------------------
    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` API requests answer ``status`` (with a Retry-After if given)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        with self._lock:
            self._failures.extend(_Failure(status, headers) for _ in range(times))

    # --- answers ----------------------------------------------------------------------
    def take_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def over_quota(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] > QUOTA_WINDOW_S:
                self._recent.popleft()
            self._recent.append(now)
            return len(self._recent) > self.quota

    def count(self, route: str) -> None:
        with self._lock:
            self.calls[route] += 1

    def track_json(self, track: DeezerSimTrack, *, full: bool) -> dict[str, Any]:
        """Deezer's track object (``full``: as /track answers; else the search's short one)."""
        data: dict[str, Any] = {
            "id": track.id,
            "readable": True,
            "title": track.title,
            "title_short": track.title.split(":")[0],
            "link": f"https://www.deezer.com/track/{track.id}",
            "duration": track.duration_s,
            "rank": 100_000,
            "explicit_lyrics": False,
            "preview": self.preview_url(track) if track.preview != "none" else "",
            "artist": {"id": _artist_id(track.artist), "name": track.artist, "type": "artist"},
            "album": {"id": _artist_id(track.album), "title": track.album, "type": "album"},
            "type": "track",
        }
        if full:
            data |= {"isrc": track.isrc or "", "bpm": track.bpm, "gain": track.gain}
        return data

    def preview_url(self, track: DeezerSimTrack, *, expires: int | None = None) -> str:
        exp = int(time.time()) + PREVIEW_TTL_S if expires is None else expires
        return f"{self.root}preview/{track.id}.mp3?hdnea=exp={exp}~hmac={self._sign(track.id, exp)}"

    def _sign(self, track_id: int, exp: int) -> str:
        return hmac.new(self._secret, f"{track_id}:{exp}".encode(), hashlib.sha256).hexdigest()

    def signed(self, track_id: int, token: str) -> bool:
        match = re.fullmatch(r"exp=(\d+)~hmac=([0-9a-f]+)", token)
        if match is None or int(match[1]) < time.time():
            return False
        return hmac.compare_digest(match[2], self._sign(track_id, int(match[1])))

    def preview_bytes(self, track: DeezerSimTrack) -> bytes | None:
        if track.preview == "gone" or track.signal is None:
            return None
        if track.preview == "not_audio":
            return b"<html><body>Service temporarily unavailable</body></html>"
        if track.preview == "silent":
            return mp3(PreviewSignal(track.signal.key, track.signal.mode, 60.0, -200.0))
        with self._lock:
            cached = self._mp3.get(track.signal)
        if cached is None:
            cached = mp3(track.signal)
            with self._lock:
                if len(self._mp3) >= PREVIEW_CACHE:  # clips are cheap to remake; keep some
                    self._mp3.clear()
                self._mp3[track.signal] = cached
        return cached[:2048] if track.preview == "truncated" else cached

    def search(self, query: str, limit: int) -> list[DeezerSimTrack]:
        """Deezer's advanced syntax (``artist:"..." track:"..."``), else words in title/artist."""
        fields = dict(re.findall(r'(artist|track|album):"([^"]*)"', query))
        rest = re.sub(r'(artist|track|album):"[^"]*"', " ", query)
        words = _words(rest)
        hits = []
        for t in self.tracks.values():
            if "artist" in fields and not _words(fields["artist"]) <= _words(t.artist):
                continue
            if "track" in fields and not _words(fields["track"]) <= _words(t.title):
                continue
            if "album" in fields and not _words(fields["album"]) <= _words(t.album):
                continue
            if words and not words <= _words(f"{t.title} {t.artist} {t.album}"):
                continue
            hits.append(t)
        return hits[:limit]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _artist_id(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


class _Handler(BaseHTTPRequestHandler):
    sim: DeezerSim
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is its own."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if path.startswith("/preview/"):
            self._preview(path, query)
            return
        failure = self.sim.take_failure()
        if failure is not None:
            self._send(failure.status, b"", "text/plain", failure.headers)
            return
        if self.sim.over_quota():
            self._json(_error("Exception", "Quota limit exceeded", 4))
            return
        if (match := re.fullmatch(r"/track/isrc:([A-Za-z0-9-]+)", path)) is not None:
            self.sim.count("track/isrc")
            track = self.sim.by_isrc.get(match[1].upper())
            self._json(NO_DATA if track is None else self.sim.track_json(track, full=True))
        elif (match := re.fullmatch(r"/track/(\d+)", path)) is not None:
            self.sim.count("track")
            track = self.sim.tracks.get(int(match[1]))
            self._json(NO_DATA if track is None else self.sim.track_json(track, full=True))
        elif path == "/search/track" or path == "/search":
            self.sim.count("search")
            self._search(query)
        else:
            self.sim.unknown_paths.append(path)
            self._json(NO_DATA)

    def _refuse_method(self) -> None:
        # Writing needs an OAuth token on Deezer; bachbot never writes there.
        self._json(_error("OAuthException", "An active access token must be used", 300))

    do_POST = do_PUT = do_DELETE = _refuse_method

    def _search(self, query: dict[str, str]) -> None:
        q = query.get("q", "").strip()
        if not q:
            self._json(_error("MissingParameterException", "Missing parameters: q", 501))
            return
        try:
            limit = max(1, min(100, int(query.get("limit", "25"))))
        except ValueError:
            self._json(_error("ParameterException", "Wrong parameter type: limit", 500))
            return
        hits = self.sim.search(q, limit)
        data = [self.sim.track_json(t, full=False) for t in hits]
        self._json(
            {"data": data, "total": len(data), "next": None} if data else {"data": [], "total": 0}
        )

    def _preview(self, path: str, query: dict[str, str]) -> None:
        self.sim.count("preview")
        match = re.fullmatch(r"/preview/(\d+)\.mp3", path)
        track = self.sim.tracks.get(int(match[1])) if match else None
        if track is None or not self.sim.signed(track.id, query.get("hdnea", "")):
            self._send(403, b"Forbidden", "text/plain")  # the CDN's answer to a stale URL
            return
        body = self.sim.preview_bytes(track)
        if body is None:
            self._send(404, b"Not Found", "text/plain")
            return
        self._send(200, body, "audio/mpeg")

    def _json(self, data: dict[str, Any]) -> None:
        self._send(200, json.dumps(data).encode(), "application/json; charset=utf-8")

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)
