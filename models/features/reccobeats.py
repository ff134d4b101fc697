"""Spotify-style audio descriptors from ReccoBeats, a free third-party API.

``GET {base}v1/audio-features?ids=a,b,c`` with at most 40 Spotify track ids;
the answer is ``{"content": [{"href": ".../track/<spotify id>", "energy": ...}]}``.
Unknown ids are dropped silently and the order is not kept, so each item is
matched by the Spotify id at the end of its ``href``; an id with no item is
cached as "nothing here".  Using it sends Spotify track ids (nothing else) to
ReccoBeats; ``settings.reccobeats_enabled`` switches it off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from models.features.base import ProviderResult, TrackForFeatures
from models.features.context import ProviderContext, ProviderSettings, Skipped
from models.features.errors import ProviderRateLimited, ProviderUnavailable

if TYPE_CHECKING:
    import httpx

RECCOBEATS_COLUMNS: tuple[str, ...] = (
    "acousticness", "danceability", "energy", "instrumentalness", "key", "liveness",
    "loudness", "mode", "speechiness", "tempo", "valence",
)  # fmt: skip
BATCH = 40
"""ReccoBeats' maximum ids per call."""
DEFAULT_RETRY_AFTER_S = 60.0


def spotify_id_from_href(href: str) -> str | None:
    """``"https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"`` -> the id (None if absent)."""
    tail = href.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return tail or None


def match_items(ids: Sequence[str], content: Sequence[Mapping[str, Any]]) -> ProviderResult:
    """Pair answer items with the ids asked for by ``href``; unanswered ids map to None."""
    wanted = set(ids)
    result: ProviderResult = dict.fromkeys(ids)
    for item in content:
        track_id = spotify_id_from_href(str(item.get("href") or ""))
        if track_id not in wanted:
            continue
        result[track_id] = {
            column: float(v) if isinstance(v := item.get(column), int | float) else None
            for column in RECCOBEATS_COLUMNS
        }
    return result


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


class ReccoBeatsProvider:
    """Batches of 40 ids to ``{base}v1/audio-features`` through an injected httpx client."""

    name = "reccobeats"
    title = "ReccoBeats audio descriptors"
    status_note = "sends Spotify track ids to ReccoBeats"
    schema_version = 1
    columns = RECCOBEATS_COLUMNS
    block = "audio"
    priority = 1
    """Fills the audio columns Spotify's own analysis left missing."""
    order = 1
    chunk = 200
    per_cycle = 4000
    """100 calls of 40 ids: a first run over a big library spreads over a few cycles."""

    def __init__(self, client: httpx.Client, *, base_url: str) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/v1/audio-features"

    @classmethod
    def recheck_misses_days(cls, settings: ProviderSettings) -> float | None:
        return None

    @classmethod
    def enabled(cls, settings: ProviderSettings) -> bool:
        return settings.reccobeats_enabled

    @classmethod
    def from_context(cls, context: ProviderContext) -> ReccoBeatsProvider | Skipped:
        if not cls.enabled(context.settings):
            return Skipped("disabled (BACHBOT_RECCOBEATS_ENABLED=false)")
        if context.http_client is None:
            return Skipped("no HTTP client to reach ReccoBeats with")
        return cls(context.http_client, base_url=context.settings.reccobeats_base)

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        ids = [t.id for t in tracks]
        result: ProviderResult = {}
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            result.update(match_items(batch, self._get(batch)))
        return result

    def _get(self, ids: Sequence[str]) -> list[Mapping[str, Any]]:
        import httpx  # here, not at the top: `bachbot status` imports this module, not httpx

        try:
            response = self._client.get(self._url, params={"ids": ",".join(ids)})
        except httpx.HTTPError as err:
            raise ProviderUnavailable(
                f"ReccoBeats at {self._url} could not be reached ({err}); "
                "bachbot will try again next cycle (or set BACHBOT_RECCOBEATS_ENABLED=false)",
                provider=self.name,
            ) from err
        if response.status_code == 429:
            wait = _retry_after(response)
            raise ProviderRateLimited(
                f"ReccoBeats asked bachbot to slow down (429, Retry-After {wait:g}s); "
                "the features job stops for this cycle and resumes on the next",
                provider=self.name,
                retry_after_s=wait,
            )
        if response.status_code == 404:
            return []  # asked only for unknown ids
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"ReccoBeats answered {response.status_code} for {len(ids)} track ids at "
                f"{self._url}; bachbot will try again next cycle",
                provider=self.name,
                status=response.status_code,
            )
        try:
            body = response.json()
            content = body.get("content", [])
            if not isinstance(content, list):
                raise TypeError("'content' is not a list")
        except (ValueError, TypeError, AttributeError) as err:
            raise ProviderUnavailable(
                f"ReccoBeats sent an answer bachbot cannot read ({err}); "
                "bachbot will try again next cycle",
                provider=self.name,
                status=response.status_code,
            ) from err
        return [item for item in content if isinstance(item, Mapping)]
