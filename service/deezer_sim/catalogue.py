"""The demo catalogue's tracks as the local Deezer knows them."""

from __future__ import annotations

from models.catalogue_demo import DemoCatalogue
from service.deezer_sim.server import DeezerSimTrack
from service.deezer_sim.signal import SECONDS, PreviewSignal


def deezer_tracks(catalogue: DemoCatalogue, *, seconds: float = SECONDS) -> list[DeezerSimTrack]:
    """Every demo track with a simulated preview, under its ISRC, title and first performer
    (``seconds``: the previews' length; Deezer's are 30 s, the demo shortens them)."""
    names = {a.id: a.name for a in catalogue.artists}
    albums = {a.id: a.name for a in catalogue.albums}
    tracks = []
    for number, t in enumerate(catalogue.tracks, start=1):
        if t.preview is None:
            continue
        p = t.preview
        tracks.append(
            DeezerSimTrack(
                id=3_000_000 + number,
                isrc=t.isrc,
                title=t.name,
                artist=names.get(t.artist_ids[1] if len(t.artist_ids) > 1 else "", ""),
                duration_s=round(t.duration_ms / 1000),
                signal=PreviewSignal(
                    int(p["key"]), int(p["mode"]), p["tempo"], p["rms_db"], seconds
                ),
                bpm=p["bpm"],
                gain=p["gain"],
                album=albums.get(t.album_id, ""),
            )
        )
    return tracks
