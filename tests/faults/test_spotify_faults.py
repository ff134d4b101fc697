"""Spotify faults during every job that talks to Spotify: survived, nothing lost.

Each case: two clean cycles (the "before"), then the listener acts (likes,
removes a published track, likes a new release, so every job has Spotify work
to do), one cycle with the fault injected in the local Spotify on one job's
route, then a clean cycle.  :meth:`World.verify` checks ratings, the one
playlist and its items; each case also checks the job runs and that the
listener's actions during the fault were not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from service.spotify_sim import Fault
from service.store.tables import Feature, JobRun, Rating

from .conftest import LISTENER, World


@dataclass(frozen=True)
class Activity:
    removed: str
    new_track: str


def listener_acts(world: World) -> Activity:
    """Likes two tracks, removes a published one, likes a track of a new release."""
    world.listener_likes(2)
    liked = set(world.sim.state.users[LISTENER].likes)
    removed = next(t for t in world.published() if t not in liked)
    bot = world.bot_playlist_id()
    assert bot is not None
    world.sim.state.remove_from_playlist(bot, removed)
    template = world.catalogue.tracks[0]
    state = world.sim.state
    album = state.add_album(
        "Bach: new release", artist_ids=list(template.artist_ids), release_date="2026-10-30"
    )
    new_track = state.add_track(
        template.name,
        album_id=album,
        artist_ids=list(template.artist_ids),
        audio_features=template.audio_features,
        reccobeats=template.reccobeats,
    )
    state.like(LISTENER, new_track, world.clock[0])
    return Activity(removed=removed, new_track=new_track)


def activity_kept(world: World, activity: Activity, provider: str) -> Callable[[], list[str]]:
    def check() -> list[str]:
        problems = []
        with world.sessions() as session:
            sources = set(
                session.scalars(select(Rating.source).where(Rating.track_id == activity.removed))
            )
            if "removal" not in sources:
                problems.append(f"the listener's removal of {activity.removed} was not recorded")
            if (
                session.scalar(select(Rating.id).where(Rating.track_id == activity.new_track))
                is None
            ):
                problems.append("the like of the new release was not recorded")
            feature = session.get(Feature, (activity.new_track, provider))
            if feature is None or feature.values is None:
                problems.append(f"the new release has no {provider} features after recovery")
        return problems

    return check


# The route each job uses, and the feature provider the world relies on.
JOB_ROUTES = {
    "sync": ("GET /me/tracks", "new"),
    "features": ("GET /audio-features", "extended"),
    "features-reccobeats": ("reccobeats GET /v1/audio-features", "new"),
    "publish": ("PUT /playlists/{id}/items", "new"),
}
PROVIDER = {"new": "reccobeats", "extended": "spotify_audio"}

QUOTA = Fault.rate_limited(3, quota_exceeded=True)
NO_RETRY_AFTER = Fault("http", status=429, message="API rate limit exceeded")

# (label, fault, times: None = every call until cleared, expected status of the job)
CASES: list[tuple[str, Fault, int | None, str]] = [
    ("429 short Retry-After, twice", Fault.rate_limited(2), 2, "ok"),
    ("429 without Retry-After, twice", NO_RETRY_AFTER, 2, "ok"),
    ("429 storm, short Retry-After", Fault.rate_limited(1), None, "failed"),
    ("429 long Retry-After (2 h)", Fault.rate_limited(7200), None, "failed"),
    ("429 QUOTA_EXCEEDED", QUOTA, None, "failed"),
    ("500 twice", Fault.http(500), 2, "ok"),
    ("502 storm", Fault.http(502), None, "failed"),
    ("503 storm", Fault.http(503), None, "failed"),
    ("connection reset, twice", Fault.reset(), 2, "ok"),
    ("connection reset storm", Fault.reset(), None, "failed"),
    ("read timeout, once", Fault.slow(1.5), 1, "ok"),
    ("malformed JSON storm", Fault.malformed_json(), None, "failed"),
    ("truncated JSON, twice", Fault.truncated_json(), 2, "ok"),
]
# Every case on sync (the job with the most calls); a cross-section on the others.
SUBSET = {
    "429 long Retry-After (2 h)",
    "503 storm",
    "connection reset, twice",
    "read timeout, once",
    "truncated JSON, twice",
}
PARAMS = [
    pytest.param(job, *case, id=f"{job}: {case[0]}")
    for job in JOB_ROUTES
    for case in CASES
    if job == "sync" or case[0] in SUBSET
]


def expected_status(job: str, fault: Fault, status: str) -> str:
    """Feature providers degrade (the job succeeds, the provider is skipped this cycle),
    except on Spotify's rate limit, which pauses every Spotify job."""
    if job == "features" and fault.status == 429:
        return status
    return "ok" if job.startswith("features") else status


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("job", "label", "fault", "times", "status"), PARAMS)
def test_spotify_fault_is_survived_without_loss(
    make_world: Callable[..., World],
    job: str,
    label: str,
    fault: Fault,
    times: int | None,
    status: str,
) -> None:
    route, mode = JOB_ROUTES[job]
    world = make_world(mode=mode)
    before = world.warm_up()
    activity = listener_acts(world)
    first_run = world.last_job_run_id()

    world.sim.faults.inject(route, fault, times=times)
    calls_before = world.sim.calls[route]
    (faulted,) = world.run(1)
    world.sim.faults.clear()
    assert world.sim.calls[route] > calls_before, f"the fault on {route} never fired"

    outcome = faulted.by_job()["features" if job.startswith("features") else job]
    assert outcome.status == expected_status(job, fault, status), outcome
    if job.startswith("features") and outcome.status == "ok" and status == "failed":
        provider = PROVIDER[mode]
        assert provider in outcome.result.skipped, outcome.result
    if outcome.status == "failed":
        assert outcome.error, "a failed job run must say why"
    rate_limited = fault.status == 429 and status == "failed"
    if rate_limited and job in {"sync", "features"}:
        # Later Spotify work waits; describing tracks from metadata and ReccoBeats goes on.
        later = [o for o in faulted.outcomes if o.job == "publish"]
        assert {o.status for o in later} == {"skipped"}, later
        if job == "sync":
            assert faulted.by_job()["features"].status == "ok"
    with world.sessions() as session:
        recorded = session.scalars(select(JobRun).where(JobRun.id > first_run)).all()
        assert [(r.job, r.status) for r in recorded] == [
            (o.job, o.status) for o in faulted.outcomes
        ]

    (clean,) = world.run(1)
    world.verify(
        f"{job}: {label}",
        tries=1,
        before=before,
        clean=clean,
        extra=activity_kept(world, activity, PROVIDER[mode]),
    )


@pytest.mark.timeout(60)
def test_rate_limit_in_features_pauses_every_spotify_job(make_world: Callable[..., World]) -> None:
    """Spotify's rate limit is per app: a long Retry-After met by the features job must
    stop publish's calls too, until the time Spotify named."""
    world = make_world(mode="extended")
    before = world.warm_up()
    listener_acts(world)
    world.sim.faults.inject("GET /audio-features", Fault.rate_limited(7200))
    world.sim.reset_calls()
    (faulted,) = world.run(1)
    world.sim.faults.clear()
    features_calls = world.sim.calls["GET /audio-features"]
    publish_calls = sum(n for route, n in world.sim.calls.items() if "playlists/{id}" in route)
    problems = []
    if features_calls and publish_calls:
        problems.append(
            f"publish made {publish_calls} Spotify call(s) after the features job was told "
            "to wait 2 h (Retry-After ignored for the rest of the cycle)"
        )
    (clean,) = world.run(1)
    world.verify(
        "features: 429 long Retry-After pauses later jobs",
        tries=1,
        before=before,
        clean=clean,
        extra=lambda: problems,
    )
    assert faulted.by_job()["publish"].status == "skipped"
