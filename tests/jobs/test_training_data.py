"""Which rated tracks are the same recording or the same work (kept in one fold)."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.training_data import groupings_for, recording_key
from service.store.identities import TrackIdentity


def ident(
    track_id: str,
    *,
    isrc: str | None = None,
    name: str = "Sarabande",
    performers: tuple[str, ...] = ("p1",),
    ms: int | None = 180_000,
    bwv: str | None = None,
) -> TrackIdentity:
    return TrackIdentity(track_id, isrc, name, performers, ms, bwv)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (ident("1", isrc="USX1"), ident("2", isrc="usx1", name="Other"), True),  # one ISRC
        (ident("1"), ident("2", ms=180_400), True),  # a reissue: same take, no ISRC
        (ident("1"), ident("2", performers=("p2",)), False),  # another performer
        (ident("1"), ident("2", ms=185_000), False),  # another take
        (ident("1", name="Sarabande!"), ident("2", name="sarabande"), True),  # punctuation
        (ident("1", ms=None), ident("2", ms=None), False),  # nothing to go by
    ],
)
def test_recording_keys(a: TrackIdentity, b: TrackIdentity, same: bool) -> None:
    ka, kb = recording_key(a), recording_key(b)
    assert (ka is not None and ka == kb) is same


def test_work_grouping_joins_movements_and_follows_recordings() -> None:
    tracks = [
        ident("a", isrc="I1", bwv="1007/1"),
        ident("b", isrc="I2", bwv="1007/3"),  # another movement of the same suite
        ident("c", isrc="I2", bwv=None),  # a reissue of b without a BWV
        ident("d", isrc="I3", bwv="988"),
    ]
    strict, loose = groupings_for(tracks)
    assert strict.name == "work + recording" and loose.name == "recording"
    assert len(set(strict.ids[:3])) == 1 and strict.ids[3] != strict.ids[0]
    assert loose.ids[1] == loose.ids[2] and len(np.unique(loose.ids)) == 3
