"""Deezer's public API, the part the preview provider needs: the one Deezer boundary.

    GET {base}track/isrc:{ISRC}      a track object (``preview``, ``bpm``, ``gain``, ...)
    GET {base}track/{id}             the same object by Deezer's id
    GET {base}search/track?q=...     ``{"data": [short track objects], "total": n}``
    GET {preview}                    the 30-second MP3, at a signed CDN URL that expires

No key and no login.  Deezer answers most refusals with HTTP **200** and
``{"error": {"type": ..., "message": ..., "code": ...}}`` (its error table,
developers.deezer.com/api/errors, mirrored in several client libraries):
800 ``DataException`` "no data" for an unknown ISRC or id, 4 "Quota limit
exceeded" (about 50 requests per 5 seconds), 700 "service busy", 500/501/600
for bad or missing parameters.  So the status code alone says little; this
module reads the body.

Why not the ``deezer-python`` client: it is maintained and built on httpx, but
it turns every error body into one ``DeezerErrorResponse(json_data)`` and
HTTP errors into ``DeezerHTTPError`` without the ``Retry-After`` header
(browniebroke/deezer-python, ``src/deezer/exceptions.py``), its resources are
untyped attribute bags, and it does not download previews; the three calls
above are shorter to write than to adapt.  Errors here are the provider
errors of :mod:`models.features.errors`, raised ``from`` the httpx error:

* :class:`ProviderRateLimited`: HTTP 429 (``Retry-After`` honoured) or code 4;
* :class:`ProviderUnavailable`: network errors, 5xx, code 700, unreadable JSON;
* :class:`CallBudgetSpent`: this cycle's call budget is used up (not an error
  of Deezer's: the provider leaves the remaining tracks for the next cycle).

A track Deezer does not know is ``None``, a preview that is gone is ``None``:
those are answers, not failures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.features.errors import ProviderRateLimited, ProviderUnavailable

if TYPE_CHECKING:
    import httpx

PROVIDER = "preview_audio"
NO_DATA = 800
QUOTA = 4
BUSY = 700
QUOTA_WAIT_S = 5.0
"""Deezer's quota window; its code-4 answers carry no Retry-After."""
DEFAULT_RETRY_AFTER_S = 60.0
MAX_PREVIEW_BYTES = 4_000_000
"""A 30-second 128 kbit/s preview is ~0.5 MB; anything far larger is not a preview."""


class CallBudgetSpent(Exception):
    """This cycle's Deezer call budget is used up."""


@dataclass
class CallBudget:
    """Calls left for this cycle; every request to Deezer (API or preview) spends one."""

    left: int

    def spend(self) -> None:
        if self.left <= 0:
            raise CallBudgetSpent
        self.left -= 1


@dataclass(frozen=True, slots=True)
class DeezerTrack:
    """The fields of Deezer's track object bachbot reads."""

    id: int
    title: str
    artist: str
    duration_s: int
    preview: str | None
    """The MP3's signed URL (empty on Deezer when the label allows no preview)."""
    isrc: str | None = None
    bpm: float | None = None
    """Deezer's tempo estimate; 0 on Deezer means unknown and is read as None."""
    gain: float | None = None
    """Deezer's replay gain in dB (negative: a loud master is turned down)."""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DeezerTrack:
        artist = data.get("artist")
        bpm = _number(data.get("bpm"))
        return cls(
            id=int(data["id"]),
            title=str(data.get("title") or ""),
            artist=str(artist.get("name") or "") if isinstance(artist, Mapping) else "",
            duration_s=int(data.get("duration") or 0),
            preview=str(data.get("preview") or "") or None,
            isrc=str(data["isrc"]) if data.get("isrc") else None,
            bpm=bpm if bpm else None,
            gain=_number(data.get("gain")),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


class DeezerClient:
    """Deezer's API and preview CDN through an injected httpx client (tests: the local Deezer)."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        budget: CallBudget,
        min_interval_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/") + "/"
        self.budget = budget
        self._min_interval = min_interval_s
        self._clock, self._sleep = clock, sleep
        self._last_call = -math.inf

    def _pace(self) -> None:
        """Space API calls ``min_interval_s`` apart: Deezer's quota (50 calls in 5 s) is
        answered with an error, not a Retry-After, so staying under it is bachbot's job."""
        wait = self._last_call + self._min_interval - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._last_call = self._clock()

    def track_by_isrc(self, isrc: str) -> DeezerTrack | None:
        """The track with this ISRC, or None when Deezer has none."""
        body = self._json(f"track/isrc:{isrc.strip().upper()}", {}, what=f"ISRC {isrc}")
        return None if body is None else DeezerTrack.parse(body)

    def track(self, track_id: int) -> DeezerTrack | None:
        """The full track object (a search hit lacks ``bpm``, ``gain`` and ``isrc``)."""
        body = self._json(f"track/{track_id}", {}, what=f"Deezer track {track_id}")
        return None if body is None else DeezerTrack.parse(body)

    def search(self, query: str, *, limit: int = 10) -> list[DeezerTrack]:
        """Tracks matching ``query`` (Deezer's search syntax: ``artist:"..." track:"..."``)."""
        body = self._json("search/track", {"q": query, "limit": str(limit)}, what="a search")
        items = body.get("data") if body is not None else None
        if not isinstance(items, list):
            return []
        return [DeezerTrack.parse(i) for i in items if isinstance(i, Mapping) and "id" in i]

    def preview(self, url: str) -> bytes | None:
        """The preview's bytes (kept in memory only), or None when the CDN no longer has it."""
        import httpx

        self.budget.spend()
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code in {403, 404, 410}:
                    return None  # gone, or the signed URL expired: answered, not failed
                self._raise_for_status(response, what="a preview")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_PREVIEW_BYTES:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as err:
            raise self._unreachable(err, what="a preview") from err

    # --- the API's conventions --------------------------------------------------------
    def _json(self, path: str, params: dict[str, str], *, what: str) -> dict[str, Any] | None:
        """The answer's JSON object; None for Deezer's "no data" (800) error."""
        import httpx

        self.budget.spend()
        self._pace()
        try:
            response = self._client.get(self._base + path, params=params)
        except httpx.HTTPError as err:
            raise self._unreachable(err, what=what) from err
        if response.status_code == 404:
            return None
        self._raise_for_status(response, what=what)
        try:
            body = response.json()
            if not isinstance(body, dict):
                raise TypeError("not a JSON object")
        except (ValueError, TypeError) as err:
            raise ProviderUnavailable(
                f"Deezer sent an answer bachbot cannot read for {what} ({err}); "
                "bachbot will try again next cycle",
                provider=PROVIDER,
                status=response.status_code,
            ) from err
        error = body.get("error")
        if isinstance(error, Mapping):
            if error.get("code") == NO_DATA:
                return None
            self._raise_error(error, what=what)
        return body

    def _raise_error(self, error: Mapping[str, Any], *, what: str) -> None:
        code = error.get("code")
        message = f"{error.get('type', 'Exception')} {code}: {error.get('message', '')}"
        if code == QUOTA:
            raise ProviderRateLimited(
                f"Deezer's quota is exhausted ({message}); the preview provider stops for "
                "this cycle and resumes on the next",
                provider=PROVIDER,
                retry_after_s=QUOTA_WAIT_S,
                hold=True,
            )
        raise ProviderUnavailable(
            f"Deezer refused {what} ({message}); bachbot will try again next cycle",
            provider=PROVIDER,
            status=200,
        )

    def _raise_for_status(self, response: httpx.Response, *, what: str) -> None:
        if response.status_code == 429:
            wait = _retry_after(response)
            raise ProviderRateLimited(
                f"Deezer asked bachbot to slow down (429, Retry-After {wait:g}s) on {what}; "
                "the preview provider waits that long, the rest of the cycle goes on",
                provider=PROVIDER,
                retry_after_s=wait,
                hold=True,
            )
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"Deezer answered {response.status_code} for {what}; "
                "bachbot will try again next cycle",
                provider=PROVIDER,
                status=response.status_code,
            )

    def _unreachable(self, err: Exception, *, what: str) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"Deezer could not be reached for {what} ({err}); bachbot will try again next "
            "cycle (or set BACHBOT_PREVIEW_AUDIO_ENABLED=false)",
            provider=PROVIDER,
        )
