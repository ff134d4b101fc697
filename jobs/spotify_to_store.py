"""The gateway's Spotify objects turned into the store's plain values.

The store holds tables and queries and imports no gateway code (the layer
rule in DESIGN.md), so the sync jobs hand it values of its own.  The
translation lives here once, so every source stores a track, an album and a
playlist the same way.
"""

from __future__ import annotations

from service.spotify.types import AlbumRef, PlaylistInfo, TrackInfo
from service.store.playlists import ListedPlaylist
from service.store.tracks import AlbumFacts, Credit, TrackFacts


def album_facts(ref: AlbumRef) -> AlbumFacts:
    return AlbumFacts(
        id=ref.id,
        name=ref.name,
        album_type=ref.album_type,
        release_date=ref.release_date,
        total_tracks=ref.total_tracks,
    )


def track_facts(info: TrackInfo) -> TrackFacts:
    return TrackFacts(
        id=info.id,
        name=info.name,
        artists=tuple(Credit(id=a.id, name=a.name) for a in info.artists),
        album=None if info.album is None else album_facts(info.album),
        duration_ms=info.duration_ms,
        isrc=info.isrc,
        track_number=info.track_number,
    )


def listed_playlist(info: PlaylistInfo) -> ListedPlaylist:
    return ListedPlaylist(
        id=info.id,
        name=info.name,
        owner_id=info.owner_id,
        owner_name=info.owner_name,
        snapshot_id=info.snapshot_id,
        collaborative=info.collaborative,
    )
