"""``bachbot status`` reads as sentences; ``--json`` keeps the counts for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable

import time_machine
from sqlalchemy.orm import Session, sessionmaker

from service.store.ratings import add_rating
from service.store.tables import ALL_TABLES, PlaylistKind, Publication
from tests.service.status.conftest import LATEST, TRACKS, Seeded

Cli = Callable[..., tuple[int, str, str]]


def test_status_text_is_sentences_for_a_person(cli: Cli, seeded: Seeded) -> None:
    with time_machine.travel(seeded.now, tick=False):  # relative times as of the seeding
        code, out, _ = cli("status")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Connected to Spotify; the login was last refreshed 12 minutes ago."
    assert lines[1] == (
        '"Predicted favourites" holds 5 tracks, published 20 minutes ago; '
        "since the list before (2 days ago) 2 added, 2 removed."
    )
    first, artist = TRACKS[LATEST[0]]
    assert lines[2] == f"   1. {first} - {artist} (93% likely to be loved)"
    assert "The model in use scores ROC AUC 0.84 (nested CV), learned from 40 ratings" in out
    assert "sync: 3 new tracks, 1 new like" in out
    assert "publish: failed - Spotify answered 503" in out and "Traceback" not in out
    for table in ALL_TABLES:
        if "_" in table.__tablename__:
            assert table.__tablename__ not in out
    assert "=" not in out


def test_status_json_keeps_the_machine_readable_counts(cli: Cli, seeded: Seeded) -> None:
    code, out, _ = cli("status", "--json")
    assert code == 0
    snapshot = json.loads(out)
    assert snapshot["counts"]["job_runs"] == 6 and snapshot["counts"]["publications"] == 2
    sync = next(r for r in snapshot["last_runs"] if r["job"] == "sync")
    assert sync["counts"]["new_tracks"] == 3 and sync["summary"] == "sync: 3 new tracks, 1 new like"
    assert snapshot["model"]["metric"] == "roc_auc" and snapshot["model"]["score"] == 0.84
    assert [t["track_id"] for t in snapshot["playlist"]["tracks"]] == LATEST
    assert snapshot["playlist"]["tracks"][0]["why"] == ["harpsichord", "slow tempo (62 BPM)"]
    assert snapshot["playlist"]["removed"] == ["t09", "t10"]
    assert snapshot["auth"]["state"] == "ok" and "a-secret" not in out


def test_status_says_how_bach_to_rate_was_answered(
    cli: Cli, seeded: Seeded, sessions: sessionmaker[Session]
) -> None:
    code, out, _ = cli("status")
    assert '"Bach to rate" starts once a model is in use' in out  # on, nothing asked yet
    asked = ["t01", "t02", "t03"]
    with sessions() as session:
        session.add(Publication(playlist_id="ask", playlist_kind=PlaylistKind.TO_RATE,
                                snapshot_id="a1", track_ids=asked, model_version="v4"))  # fmt: skip
        add_rating(session=session, track_id="t02", value=2, source="removal")
        session.commit()
    code, out, _ = cli("status")
    assert code == 0
    assert '"Bach to rate": you answered 1 of the 3 tracks it asked about, 2 waiting' in out
    # the favourites' lines still read the favourites' publications only
    assert '"Predicted favourites" holds 5 tracks' in out
    code, out, _ = cli("status", "--json")
    assert json.loads(out)["to_rate"] == {
        "name": "Bach to rate",
        "asked": 3,
        "answered": 1,
        "waiting": 2,
    }
    code, out, _ = cli("status", env={"BACHBOT_TO_RATE_SIZE": "0"})
    assert '"Bach to rate" (now turned off): you answered 1 of the 3' in out
