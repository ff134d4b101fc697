"""Playlists under the 2026 rules: owned and collaborative read by snapshot, others recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from jobs.sync_playlists import Step, read_step
from service.spotify_sim import SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.playlists import playlist_track_ids
from service.store.tables import Playlist, Track, utcnow
from tests.jobs.sync.conftest import CURATOR, LISTENER, T0, Library, RunSync, minimum_calls

ITEMS = "GET /playlists/{id}/items"


class Scenario:
    """Five owned playlists, one collaborative, two followed from a curator, the bot's own."""

    def __init__(self, library: Library, session: Session) -> None:
        state = library.state
        self.owned = []
        self.owned_tracks: dict[str, list[str]] = {}
        for n in range(5):
            tracks = [library.bach_track(), library.other_track(), library.bach_track()]
            pid = state.add_playlist(owner=LISTENER, name=f"Mine {n}", track_ids=tracks)
            self.owned.append(pid)
            self.owned_tracks[pid] = tracks
        self.collab_track = library.bach_track()
        self.collab = state.add_playlist(
            owner=CURATOR,
            name="Shared Bach",
            track_ids=[self.collab_track],
            collaborative=True,
            collaborators=[LISTENER],
            followed_by=[LISTENER],
        )
        self.followed = [
            state.add_playlist(
                owner=CURATOR,
                name=f"Curated {n}",
                track_ids=[library.bach_track()],
                followed_by=[LISTENER],
            )
            for n in range(2)
        ]
        self.bot = state.add_playlist(
            owner=LISTENER, name="Predicted favourites", track_ids=[library.bach_track()]
        )
        BOT_PLAYLIST.put(session, self.bot)
        session.commit()

    @property
    def listed(self) -> int:
        return len(self.owned) + 1 + len(self.followed) + 1


@pytest.fixture
def scenario(library: Library, session: Session) -> Scenario:
    return Scenario(library, session)


def test_first_sync_reads_owned_and_collaborative_playlists_keeping_only_bach(
    scenario: Scenario,
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
) -> None:
    report = run_sync()

    for pid in scenario.owned:
        bach, jazz = scenario.owned_tracks[pid][::2], scenario.owned_tracks[pid][1]
        assert playlist_track_ids(session=session, playlist_id=pid) == bach
        assert session.get(Track, jazz) is None
        assert all(session.get_one(Track, t).is_bach for t in bach)
    assert playlist_track_ids(session=session, playlist_id=scenario.collab) == [
        scenario.collab_track
    ]
    assert report.playlists_read == 6
    # owned and collaborative ones once each, and one of the curator's two: its 403
    # stands for the other (the 2026 rule is per app); the bot's own is never read
    assert spotify_sim.calls[ITEMS] == 7


def test_followed_playlist_of_someone_else_is_unreadable_with_what_to_do(
    scenario: Scenario, run_sync: RunSync, session: Session
) -> None:
    report = run_sync()

    assert sorted(p.name for p in report.unreadable) == ["Curated 0", "Curated 1"]
    row = session.get_one(Playlist, scenario.followed[0])
    assert row.readable is False
    assert row.unreadable_reason is not None
    assert "A Curator" in row.unreadable_reason
    assert "add them to a playlist you own" in row.unreadable_reason
    assert "collaborator" in row.unreadable_reason


def test_bot_playlist_is_not_a_candidate_source(
    scenario: Scenario, run_sync: RunSync, session: Session
) -> None:
    run_sync()

    row = session.get_one(Playlist, scenario.bot)
    assert row.is_bot_playlist is True
    assert playlist_track_ids(session=session, playlist_id=scenario.bot) == []


def test_no_change_cycle_makes_only_the_minimum_calls(
    scenario: Scenario, run_sync: RunSync, spotify_sim: SpotifySim
) -> None:
    run_sync()
    spotify_sim.reset_calls()

    report = run_sync(T0 + timedelta(minutes=30))

    assert +spotify_sim.calls == minimum_calls(playlists=scenario.listed)
    assert report.new_tracks == 0 and report.playlists_unchanged == 6


def test_changed_playlist_is_read_again_and_only_it(
    scenario: Scenario,
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
) -> None:
    run_sync()
    added = library.bach_track()
    library.state.add_to_playlist(scenario.owned[2], added, added_at=T0)
    spotify_sim.reset_calls()

    report = run_sync(T0 + timedelta(minutes=30))

    assert spotify_sim.calls[ITEMS] == 1
    assert added in playlist_track_ids(session=session, playlist_id=scenario.owned[2])
    assert report.playlists_read == 1


def test_one_refusal_stands_for_every_playlist_of_someone_else(
    scenario: Scenario, run_sync: RunSync, spotify_sim: SpotifySim, session: Session
) -> None:
    """The 2026 rule is per app: after one 403 the other followed playlists are not asked."""
    report = run_sync()
    readable = len(scenario.owned) + 1  # owned and collaborative; the bot's is skipped
    assert spotify_sim.calls[ITEMS] == readable + 1
    assert sorted(p.name for p in report.unreadable) == ["Curated 0", "Curated 1"]
    assert all(session.get_one(Playlist, pid).readable is False for pid in scenario.followed)


def test_unreadable_playlist_is_asked_again_only_after_recheck_interval(
    scenario: Scenario, run_sync: RunSync, spotify_sim: SpotifySim, session: Session
) -> None:
    run_sync()
    spotify_sim.reset_calls()
    run_sync(T0 + timedelta(hours=23))
    assert spotify_sim.calls[ITEMS] == 0

    spotify_sim.mode = "extended"  # e.g. the app was granted extended quota meanwhile
    run_sync(T0 + timedelta(hours=24))

    assert spotify_sim.calls[ITEMS] == 2
    row = session.get_one(Playlist, scenario.followed[1])
    assert row.readable is True and row.unreadable_reason is None
    assert len(playlist_track_ids(session=session, playlist_id=scenario.followed[1])) == 1


def test_unfollowed_playlist_is_forgotten(
    scenario: Scenario, library: Library, run_sync: RunSync, session: Session
) -> None:
    run_sync()
    library.state.users[LISTENER].followed_playlists.remove(scenario.followed[0])

    report = run_sync(T0 + timedelta(minutes=30))

    assert session.get(Playlist, scenario.followed[0]) is None
    assert report.unreadable and all(p.id != scenario.followed[0] for p in report.unreadable)


def _row(**fields: object) -> Playlist:
    return Playlist(id="p", name="p", **fields)


NOW = utcnow()
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("is_bot", "stored", "expected"),
    [
        (True, None, Step.SKIP_BOT),
        (False, None, Step.READ),
        (False, _row(readable=True, synced_snapshot_id="s1"), Step.UNCHANGED),
        (False, _row(readable=True, synced_snapshot_id="s0"), Step.READ),
        (False, _row(readable=True, synced_snapshot_id=None), Step.READ),
        (False, _row(readable=False, last_checked_at=NOW - timedelta(hours=1)), Step.WAIT),
        (False, _row(readable=False, last_checked_at=NOW - DAY), Step.READ),
        (False, _row(readable=False, last_checked_at=None), Step.READ),
    ],
)
def test_a_listed_playlist_is_read_when_new_changed_or_due(
    is_bot: bool, stored: Playlist | None, expected: Step
) -> None:
    step = read_step(is_bot=is_bot, snapshot_id="s1", stored=stored, now=NOW, recheck=DAY)
    assert step is expected


def test_before_the_first_publish_the_users_playlist_named_like_the_bot_is_skipped(
    library: Library, run_sync: RunSync, session: Session
) -> None:
    old_bot = library.state.add_playlist(
        owner=LISTENER, name="Predicted favourites", track_ids=[library.bach_track()]
    )
    namesake = library.state.add_playlist(
        owner=CURATOR,
        name="Predicted favourites",
        followed_by=[LISTENER],
        collaborative=True,
        collaborators=[LISTENER],
        track_ids=[library.bach_track()],
    )

    run_sync()

    assert session.get_one(Playlist, old_bot).is_bot_playlist is True
    assert playlist_track_ids(session=session, playlist_id=old_bot) == []
    assert len(playlist_track_ids(session=session, playlist_id=namesake)) == 1
