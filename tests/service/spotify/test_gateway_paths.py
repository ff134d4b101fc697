"""A mistyped path in a gateway call fails the test that makes the call.

Each case copies the gateway's source, breaks one path, loads the copy as a
separate module (the real gateway is untouched) and makes the call against the
local Spotify: the local Spotify records the unknown path as a violation, so
the test that caused it would fail at teardown instead of passing with a
"deleted playlist" or "withdrawn album".  The unmutated call records nothing.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from service.spotify import gateway as gateway_module
from service.spotify.errors import SpotifyError
from service.spotify_sim import SpotifySim
from service.spotify_sim.spec import SpecViolation
from service.store.tokens import DbTokenStore
from tests.service.spotify.conftest import Library

Call = Callable[[Any, Library], object]

CASES: list[tuple[str, str, Call]] = [
    ('"GET", "GET /me", "me"', '"GET", "GET /me", "mee"', lambda g, lib: g.me()),
    (
        'f"playlists/{playlist_id}",\n            resource',
        'f"playlist/{playlist_id}",\n            resource',
        lambda g, lib: g.playlist(lib.own_playlist),
    ),
    (
        'f"playlists/{playlist_id}/items", limit=50',
        'f"playlists/{playlist_id}/item", limit=50',
        lambda g, lib: g.playlist_items(lib.own_playlist),
    ),
    (
        '"GET", "GET /me/albums", "me/albums"',
        '"GET", "GET /me/albums", "me/album"',
        lambda g, lib: g.saved_albums(offset=0),
    ),
    (
        'f"artists/{artist_id}/albums"',
        'f"artist/{artist_id}/albums"',
        lambda g, lib: g.artist_albums(lib.bach, offset=0),
    ),
    ('f"tracks/{track_id}"', 'f"track/{track_id}"', lambda g, lib: g.track(lib.tracks[0])),
    (
        '"GET /search",\n            "search"',
        '"GET /search",\n            "serch"',
        lambda g, lib: g.search_tracks("aria", offset=0),
    ),
]


def _mutated_gateway(old: str, new: str) -> Any:
    source = Path(gateway_module.__file__).read_text(encoding="utf-8")
    assert source.count(old) == 1, f"the mutation target {old!r} is not unique in the gateway"
    module = types.ModuleType("mutated_gateway")
    exec(compile(source.replace(old, new), "mutated_gateway.py", "exec"), module.__dict__)
    return module.SpotifyGateway


@pytest.mark.parametrize(("old", "new", "call"), CASES, ids=[c[1].split('"')[-2] for c in CASES])
def test_a_mistyped_path_is_caught(
    spotify_settings: Settings,
    token_store: DbTokenStore,
    spotify_sim: SpotifySim,
    library: Library,
    old: str,
    new: str,
    call: Call,
) -> None:
    real = gateway_module.SpotifyGateway(spotify_settings, token_store, sleep=lambda _: None)
    call(real, library)
    spotify_sim.assert_valid()  # the real path is known

    mutant = _mutated_gateway(old, new)(spotify_settings, token_store, sleep=lambda _: None)
    # What the mutant makes of the 404 does not matter: the violation does.
    with contextlib.suppress(SpotifyError):
        call(mutant, library)
    with pytest.raises(SpecViolation, match="no such endpoint"):
        spotify_sim.assert_valid()
    spotify_sim.violations.clear()
