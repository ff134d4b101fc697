"""New releases first: calls to know a large discography's new releases after one cycle.

The world (issue 21): J. S. Bach on ``albums`` albums (default 20,000), of
which ``new`` (default 50) were released in the past two weeks, spread over
the album groups as a real discography is (albums, singles, compilations
and appears_on, where Bach is a guest artist).  One first sync runs through
the product against an empty database with the default call budget.

- **measured**: the catalogue calls the new-release probe spent (its search
  pages and the reads of the albums it found), and whether every track of
  the 50 is known after that first cycle;
- **minimum**: the search pages that list the 50 (10 a page) plus one
  album read per new album;
- **baseline**: a plain discography walk, as bachbot walked before: listing
  pages in Spotify's order (group by group, each newest first) and each
  album read as it is listed, counted (not sent) until the last of the 50
  is read.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.calls import START
from bench.report import Row
from bench.world import base_settings, database, sim_settings
from models.catalogue_demo import BACH_ID
from service.demo_world import LISTENER, log_in
from service.spotify_sim import SimState, SpotifySim
from service.spotify_sim.api import discography
from service.store.db import transaction
from service.store.tables import Track
from service.wiring import wire

ALBUMS = 20_000
NEW = 50
QUICK_ALBUMS = 600
QUICK_NEW = 12
TARGET_RATIO = 1.2
PAGE = 10
GROUP_SHARE = (("album", 0.4), ("single", 0.1), ("compilation", 0.2), ("appears_on", 0.3))
Progress = Callable[[str], None]


def build_world(*, albums: int, new: int, seed: int) -> tuple[SimState, dict[str, list[str]]]:
    """The discography; returns the state and each new release's track ids."""
    rng = random.Random(seed)
    state = SimState()
    state.clock = lambda: START
    state.add_artist("Johann Sebastian Bach", id=BACH_ID)
    performers = [state.add_artist(f"Ensemble {i}") for i in range(40)]
    state.add_user(LISTENER)
    fresh: dict[str, list[str]] = {}
    for i in range(albums):
        is_new = i < new
        days = rng.randint(0, 13) if is_new else rng.randint(15, 365 * 60)
        group = rng.choices([g for g, _ in GROUP_SHARE], [w for _, w in GROUP_SHARE])[0]
        performer = rng.choice(performers)
        guest = group == "appears_on"
        album = state.add_album(
            f"Bach recording {i}",
            artist_ids=[performer, BACH_ID] if guest else [BACH_ID, performer],
            album_type="album" if guest else group,
            release_date=(START.date() - timedelta(days=days)).isoformat(),
        )
        tracks = [
            state.add_track(
                f"Suite No. {n}, BWV {1006 + n}: Prelude",
                album_id=album,
                artist_ids=[BACH_ID, performer],
            )
            for n in range(1, rng.randint(2, 4))
        ]
        if is_new:
            fresh[album] = tracks
    return state, fresh


def plain_walk_calls(state: SimState, new_albums: set[str]) -> int:
    """Listing pages plus one read per listed album, until every new album is read."""
    listing = discography(state, BACH_ID, None)
    last = max(i for i, album in enumerate(listing) if album.id in new_albums)
    return math.ceil((last + 1) / PAGE) + (last + 1)


def run_new_releases(
    folder: Path, *, quick: bool, seed: int, progress: Progress
) -> tuple[list[Row], dict[str, Any]]:
    albums, new = (QUICK_ALBUMS, QUICK_NEW) if quick else (ALBUMS, NEW)
    state, fresh = build_world(albums=albums, new=new, seed=seed)
    progress(f"  releases: {albums:,} albums, {new} new")
    with (
        database("sqlite", folder, "releases") as url,
        SpotifySim(state, mode="new", validate=False) as sim,
    ):
        settings = sim_settings(base_settings(folder), sim, data_dir=folder, database_url=url)
        http = httpx.Client(timeout=30)
        wiring = wire(settings, clock=lambda: START, http_client=http)
        log_in(sim, wiring.tokens)
        with http, transaction(wiring.sessions) as session:
            from jobs.sync import sync_library

            report = sync_library(
                session=session, spotify=wiring.spotify, settings=settings, now=START
            )
        wanted = [t for tracks in fresh.values() for t in tracks]
        with wiring.sessions() as session:
            known = session.scalar(
                select(func.count()).select_from(Track).where(Track.id.in_(wanted))
            )
        wiring.dispose()
    minimum = math.ceil(new / PAGE) + new
    plain = plain_walk_calls(state, set(fresh))
    measured = report.new_release_calls
    all_known = known == len(wanted)
    details = {
        "albums": albums, "new": new, "tracks_of_new": len(wanted), "known_after": known,
        "probe_calls": measured, "minimum": minimum, "plain_walk_calls": plain,
        "catalogue_calls_in_cycle": report.catalogue_calls,
        "budget": settings.calls_per_cycle, "new_releases_seen": report.new_releases,
    }  # fmt: skip
    label = f"{albums:,} albums, {new} new"
    rows = [
        Row(
            "releases", f"{label}: probe calls / minimum", measured / minimum, "x",
            target=TARGET_RATIO, compare="<=",
            note=f"{measured} calls (search pages + album reads) against {minimum} "
            f"({math.ceil(new / PAGE)} search pages + {new} album reads); "
            f"{known}/{len(wanted)} of the new releases' tracks known after the first cycle "
            f"({report.catalogue_calls} catalogue calls in that cycle, budget "
            f"{settings.calls_per_cycle})" + ("" if all_known else "; NOT all known"),
            details=details,
        ),
        Row(
            "releases", f"{label}: plain discography walk to reach the same", plain, "calls",
            baseline=measured, baseline_name="probe",
            note="listing pages in Spotify's order (group by group, each newest first) and "
            "one read per listed album, counted up to the last new release; at the default "
            f"budget of {settings.calls_per_cycle} calls a cycle that is "
            f"{math.ceil(plain / settings.calls_per_cycle)} cycles",
        ),
        Row(
            "releases", f"{label}: new releases' tracks known after the first cycle",
            float(known or 0), "tracks", target=float(len(wanted)), compare="==",
        ),
    ]  # fmt: skip
    return rows, details


def main() -> None:  # pragma: no cover - manual use
    from bench.report import render_table

    with tempfile.TemporaryDirectory() as tmp:
        rows, _ = run_new_releases(Path(tmp), quick=False, seed=0, progress=print)
    print(render_table(rows))


if __name__ == "__main__":  # pragma: no cover
    main()
