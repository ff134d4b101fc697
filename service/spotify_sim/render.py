"""The local Spotify's JSON shapes, built from its state as the 2026 Web API sends them.

Pure functions of (state object, API base URL).  The shapes carry every
documented, non-deprecated property of the spec's schema and nothing else;
the validator in :mod:`service.spotify_sim.spec` checks that on every response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from service.spotify_sim.state import (
    SimAlbum,
    SimArtist,
    SimPlaylist,
    SimState,
    SimTrack,
    SimUser,
    format_time,
)

Json = dict[str, Any]
OPEN = "https://open.spotify.com/"


def _links(base: str, kind: str, id: str) -> Json:
    return {
        "external_urls": {"spotify": f"{OPEN}{kind}/{id}"},
        "href": f"{base}{kind}s/{id}",
        "id": id,
        "uri": f"spotify:{kind}:{id}",
    }


def artist(base: str, a: SimArtist) -> Json:
    return {**_links(base, "artist", a.id), "name": a.name, "type": "artist"}


def _precision(release_date: str) -> str:
    return {4: "year", 7: "month"}.get(len(release_date), "day")


def simplified_album(base: str, state: SimState, al: SimAlbum) -> Json:
    return {
        **_links(base, "album", al.id),
        "album_type": al.album_type,
        "total_tracks": len(al.track_ids),
        "images": [],
        "name": al.name,
        "release_date": al.release_date,
        "release_date_precision": _precision(al.release_date),
        "type": "album",
        "artists": [artist(base, state.artists[i]) for i in al.artist_ids],
    }


def album(base: str, state: SimState, al: SimAlbum) -> Json:
    tracks = [simplified_track(base, state, state.tracks[i]) for i in al.track_ids]
    return {
        **simplified_album(base, state, al),
        "tracks": page(base, f"albums/{al.id}/tracks", tracks[:50], len(tracks), 0, 50),
        "copyrights": [{"text": f"(P) {al.release_date[:4]} {al.label}".strip(), "type": "P"}],
        "external_ids": {"upc": al.upc or al.id[:12]},
    }


def simplified_track(base: str, state: SimState, t: SimTrack) -> Json:
    return {
        **_links(base, "track", t.id),
        "artists": [artist(base, state.artists[i]) for i in t.artist_ids],
        "disc_number": t.disc_number,
        "duration_ms": t.duration_ms,
        "explicit": False,
        "is_local": False,
        "name": t.name,
        "track_number": t.track_number,
        "type": "track",
    }


def track(base: str, state: SimState, t: SimTrack) -> Json:
    return {
        **simplified_track(base, state, t),
        "album": simplified_album(base, state, state.albums[t.album_id]),
        "external_ids": {"isrc": t.isrc} if t.isrc else {},
    }


def _user_ref(base: str, user_id: str) -> Json:
    return {**_links(base, "user", user_id), "type": "user"}


def owner(base: str, u: SimUser) -> Json:
    return {**_user_ref(base, u.id), "display_name": u.display_name}


def me(base: str, u: SimUser) -> Json:
    return {
        **_user_ref(base, u.id),
        "account_id": u.id,
        "display_name": u.display_name or u.id,
        "images": [],
    }


def simplified_playlist(base: str, state: SimState, p: SimPlaylist) -> Json:
    return {
        **_links(base, "playlist", p.id),
        "collaborative": p.collaborative,
        "description": p.description or "",
        "images": [],
        "items": {"href": f"{base}playlists/{p.id}/items", "total": len(p.items)},
        "name": p.name,
        "owner": owner(base, state.users[p.owner_id]),
        "public": p.public,
        "snapshot_id": p.snapshot_id,
        "type": "playlist",
    }


def playlist(base: str, state: SimState, p: SimPlaylist, *, with_items: bool) -> Json:
    """A full playlist; ``items`` only when the caller may read them (2026 rule)."""
    body = {
        **simplified_playlist(base, state, p),
        "description": p.description,
        "followers": {"href": None, "total": 0},
    }
    if with_items:
        items = [playlist_item(base, state, p, i) for i in range(min(100, len(p.items)))]
        body["items"] = page(base, f"playlists/{p.id}/items", items, len(p.items), 0, 100)
    else:
        del body["items"]
    return body


def playlist_item(base: str, state: SimState, p: SimPlaylist, position: int) -> Json:
    entry = p.items[position]
    return {
        "added_at": format_time(entry.added_at),
        "added_by": _user_ref(base, entry.added_by),
        "is_local": False,
        "item": track(base, state, state.tracks[entry.track_id]),
    }


def saved_track(base: str, state: SimState, track_id: str, added_at: datetime) -> Json:
    return {"added_at": format_time(added_at), "track": track(base, state, state.tracks[track_id])}


def saved_album(base: str, state: SimState, album_id: str, added_at: datetime) -> Json:
    return {"added_at": format_time(added_at), "album": album(base, state, state.albums[album_id])}


def play_history(base: str, state: SimState, track_id: str, played_at: datetime) -> Json:
    t = state.tracks[track_id]
    return {
        "track": track(base, state, t),
        "played_at": format_time(played_at),
        "context": {
            "type": "album",
            "href": f"{base}albums/{t.album_id}",
            "external_urls": {"spotify": f"{OPEN}album/{t.album_id}"},
            "uri": f"spotify:album:{t.album_id}",
        },
    }


def page(
    base: str,
    path: str,
    items: list[Json],
    total: int,
    offset: int,
    limit: int,
    extra: dict[str, str] | None = None,
) -> Json:
    """A PagingObject whose ``next``/``previous`` links point back at this server."""

    def link(at: int) -> str:
        return f"{base}{path}?" + urlencode({**(extra or {}), "offset": at, "limit": limit})

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }


def audio_features(base: str, t: SimTrack) -> Json | None:
    if t.audio_features is None:
        return None
    return {
        **t.audio_features,
        "analysis_url": f"{base}audio-analysis/{t.id}",
        "duration_ms": t.duration_ms,
        "id": t.id,
        "track_href": f"{base}tracks/{t.id}",
        "type": "audio_features",
        "uri": f"spotify:track:{t.id}",
    }


def audio_analysis(t: SimTrack) -> Json | None:
    """An analysis around the track's segments; summary values are plausible constants."""
    if t.analysis_segments is None:
        return None
    seconds = t.duration_ms / 1000
    features = t.audio_features or {}
    tempo = float(features.get("tempo", 100.0))
    key = int(features.get("key", 0))
    mode = int(features.get("mode", 1))
    loudness = float(features.get("loudness", -20.0))
    interval = {"start": 0.0, "duration": seconds, "confidence": 0.5}
    return {
        "meta": {
            "analyzer_version": "4.0.0",
            "platform": "Linux",
            "detailed_status": "OK",
            "status_code": 0,
            "timestamp": 1_700_000_000,
            "analysis_time": 1.0,
            "input_process": "libvorbisfile L+R 44100->22050",
        },
        "track": {
            "num_samples": int(seconds * 22050),
            "duration": seconds,
            "sample_md5": "",
            "offset_seconds": 0,
            "window_seconds": 0,
            "analysis_sample_rate": 22050,
            "analysis_channels": 1,
            "end_of_fade_in": 0.0,
            "start_of_fade_out": seconds,
            "loudness": loudness,
            "tempo": tempo,
            "tempo_confidence": 0.5,
            "time_signature": int(features.get("time_signature", 4)),
            "time_signature_confidence": 0.5,
            "key": key,
            "key_confidence": 0.5,
            "mode": mode,
            "mode_confidence": 0.5,
            "codestring": "",
            "code_version": 3.15,
            "echoprintstring": "",
            "echoprint_version": 4.15,
            "synchstring": "",
            "synch_version": 1.0,
            "rhythmstring": "",
            "rhythm_version": 1.0,
        },
        "bars": [interval],
        "beats": [interval],
        "sections": [
            {
                "start": 0.0,
                "duration": seconds,
                "confidence": 0.5,
                "loudness": loudness,
                "tempo": tempo,
                "tempo_confidence": 0.5,
                "key": key,
                "key_confidence": 0.5,
                "mode": mode,
                "mode_confidence": 0.5,
                "time_signature": int(features.get("time_signature", 4)),
                "time_signature_confidence": 0.5,
            }
        ],
        "segments": t.analysis_segments,
        "tatums": [interval],
    }


def reccobeats_item(t: SimTrack) -> Json | None:
    """ReccoBeats answers with its own id; ``href`` ends with the Spotify track id."""
    if t.reccobeats is None:
        return None
    return {
        "id": make_uuid(t.id),
        "href": f"https://api.reccobeats.com/v1/track/{t.id}",
        **t.reccobeats,
    }


def make_uuid(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def error(status: int, message: str) -> Json:
    return {"error": {"status": status, "message": message}}
