"""``bachbot sync``, ``bachbot rate`` and ``bachbot import-ratings`` as the user sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.spotify_sim import SpotifySim
from service.store.ratings import effective_ratings
from service.store.tables import Rating, Track
from service.store.tokens import DbTokenStore
from tests.jobs.sync.conftest import CURATOR, LISTENER, T0, Library

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def sim_cli(cli: Cli, spotify_sim: SpotifySim, token_store: DbTokenStore) -> Cli:
    """``bachbot`` pointed at the local Spotify, with a token stored."""
    env = {
        "BACHBOT_SPOTIFY_API_BASE": spotify_sim.api_base,
        "BACHBOT_SPOTIFY_ACCOUNTS_BASE": spotify_sim.accounts_base,
    }

    def run(*args: str) -> tuple[int, str, str]:
        return cli(*args, env=env)

    return run


def test_sync_prints_new_tracks_ratings_and_unreadable_playlists(
    sim_cli: Cli, library: Library
) -> None:
    liked = [library.bach_track() for _ in range(3)]
    for n, track in enumerate(liked):
        library.state.like(LISTENER, track, T0 - timedelta(minutes=n))
    library.state.add_playlist(
        owner=CURATOR,
        name="Baroque mornings",
        track_ids=[library.bach_track()],
        followed_by=[LISTENER],
    )

    code, out, err = sim_cli("sync")

    assert code == 0, err
    assert "new Bach tracks: 4" in out  # three liked, one more in the discography
    assert "new ratings: 3 (3 from likes)" in out
    assert "playlists bachbot cannot read:" in out
    assert '"Baroque mornings" (A Curator): owned by A Curator' in out
    assert "ask A Curator to make you a collaborator" in out

    code, status, _ = sim_cli("status")
    assert "Baroque mornings" in status


def test_sync_without_a_token_says_to_run_auth(cli: Cli, spotify_sim: SpotifySim) -> None:
    code, _, err = cli(
        "sync",
        env={
            "BACHBOT_SPOTIFY_API_BASE": spotify_sim.api_base,
            "BACHBOT_SPOTIFY_ACCOUNTS_BASE": spotify_sim.accounts_base,
        },
    )
    assert code == 1
    assert err.strip().splitlines() == [
        "bachbot: sync failed: no Spotify account is connected yet (no token is stored); "
        "run `bachbot auth` to connect yours"
    ]


def test_rating_a_known_track_needs_no_spotify_app(
    cli: Cli, library: Library, session: Session
) -> None:
    track = library.bach_track("Aria, BWV 988")
    session.add(Track(id=track, name="Aria, BWV 988", is_bach=True))
    session.commit()

    code, out, err = cli(
        "rate", track, "8", env={"BACHBOT_SPOTIFY_CLIENT_ID": "", "SPOTIPY_CLIENT_ID": ""}
    )

    assert code == 0, err
    assert out.strip() == 'rated "Aria, BWV 988" 8/10'
    assert effective_ratings(session=session)[track] == 8


def test_rate_by_link(sim_cli: Cli, library: Library, session: Session) -> None:
    track = library.bach_track("Cello Suite No. 1, BWV 1007: Prelude")

    code, out, err = sim_cli("rate", f"https://open.spotify.com/track/{track}?si=x", "9")

    assert code == 0, err
    assert 'rated "Cello Suite No. 1, BWV 1007: Prelude" 9/10' in out
    assert effective_ratings(session=session)[track] == 9


def test_rate_out_of_range_is_one_clear_line(sim_cli: Cli, library: Library) -> None:
    code, _, err = sim_cli("rate", library.bach_track(), "11")
    assert code == 2  # a bad argument: usage
    assert err.strip() == "bachbot: cannot rate: rating 11 is out of range: ratings go from 1 to 10"


def test_import_ratings_shows_progress_and_summary(
    sim_cli: Cli, library: Library, tmp_path: Path, session: Session
) -> None:
    tracks = [library.bach_track() for _ in range(3)]
    path = tmp_path / "ratings.csv"
    path.write_text("track,rating\n" + "".join(f"spotify:track:{t},{7}\n" for t in tracks))

    code, out, err = sim_cli("import-ratings", str(path))

    assert code == 0, err
    assert err.strip() == "fetching 3 track(s) new to bachbot from Spotify ..."
    assert f"imported 3 rating(s) from {path}" in out
    assert all(effective_ratings(session=session)[t] == 7 for t in tracks)


def test_import_ratings_with_bad_lines_lists_them_and_writes_nothing(
    sim_cli: Cli, library: Library, tmp_path: Path, session: Session
) -> None:
    good = library.bach_track()
    path = tmp_path / "ratings.csv"
    path.write_text(f"{good},7\nspotify:album:x,3\n{good},12\n")

    code, _, err = sim_cli("import-ratings", str(path))

    assert code == 1
    assert "nothing was imported" in err
    assert "line 2: 'spotify:album:x' is not a track id" in err
    assert "line 3: rating 12 is out of range" in err
    assert session.scalar(select(func.count()).select_from(Rating)) == 0
