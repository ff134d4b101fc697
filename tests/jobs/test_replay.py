"""The replay's bookkeeping: a label is revealed only the way Spotify would, and only once."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.replay import (
    ReplayOptions,
    ReplayTable,
    Revealed,
    run_policy,
    run_replay,
    start_likes,
    table_from,
    training_data,
)
from service.settings import Settings

OPTIONS = ReplayOptions(rounds=3, playlist_size=8, to_rate=4, start_likes=4, fast=True)


def _table(settings: Settings, *, n: int = 240, seed: int = 0) -> ReplayTable:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    loved = (X[:, 0] + 0.8 * X[:, 1] + rng.normal(scale=0.8, size=n)) > 0.6
    groups = np.arange(n) // 3  # three movements a work
    return table_from(X, loved, columns=[f"f{i}" for i in range(5)], settings=settings,
                      groups=groups)  # fmt: skip


def test_a_track_is_never_revealed_twice() -> None:
    revealed = Revealed()
    revealed.add(3, 8.0, explicit=False)
    with pytest.raises(AssertionError, match="revealed twice"):
        revealed.add(3, 2.0, explicit=True)
    assert 3 in revealed and 4 not in revealed and revealed.n == 1


@pytest.mark.parametrize("policy", ["bachbot", "random", "nn", "oracle"])
def test_only_published_or_asked_tracks_are_revealed_once_each(
    settings: Settings, policy: str
) -> None:
    table = _table(settings)
    rounds = run_policy(policy, table, settings=settings, options=OPTIONS, seed=1)  # type: ignore[arg-type]
    start = start_likes(table, OPTIONS.start_likes, np.random.default_rng(1))
    seen = list(start)
    for r in rounds:
        assert r.ratings == len(seen)  # the model saw exactly what was revealed before
        assert not set(r.published_rows) & set(seen) and not set(r.asked_rows) & set(seen)
        assert r.loved == int(table.loved[list(r.published_rows)].sum())
        seen += [*r.published_rows, *r.asked_rows]
    assert len(seen) == len(set(seen))
    if policy != "bachbot":
        assert all(not r.asked_rows for r in rounds)  # only bachbot has "Bach to rate"
    else:
        assert any(r.asked_rows for r in rounds)


def test_hidden_labels_that_were_never_revealed_change_nothing(settings: Settings) -> None:
    """Black-box leak check: flip every label bachbot never saw; its run is the same."""
    table = _table(settings)
    first = run_policy("bachbot", table, settings=settings, options=OPTIONS, seed=2)
    start = start_likes(table, OPTIONS.start_likes, np.random.default_rng(2))
    seen = set(start) | {row for r in first for row in (*r.published_rows, *r.asked_rows)}
    unseen = np.array([i not in seen for i in range(table.n)])
    flipped = ReplayTable(
        X=table.X, loved=np.where(unseen, ~table.loved, table.loved),
        answers=np.where(unseen, 10.0 - table.answers, table.answers), columns=table.columns,
        works=table.works,
    )  # fmt: skip
    second = run_policy(
        "bachbot", flipped, settings=settings, options=OPTIONS, seed=2, likes=start
    )  # the listener's library before bachbot is the same
    assert [(r.published_rows, r.asked_rows, r.model) for r in second] == [
        (r.published_rows, r.asked_rows, r.model) for r in first
    ]


def test_training_data_holds_the_revealed_ratings_in_event_order(settings: Settings) -> None:
    table = _table(settings)
    revealed = Revealed()
    revealed.add(5, 8.0, explicit=False)
    revealed.add(3, 2.0, explicit=False)
    revealed.add(7, 9.0, explicit=True)
    data = training_data(table, revealed, settings)
    assert data.track_ids == ("5", "3", "7")
    np.testing.assert_array_equal(data.X, table.X[[5, 3, 7]])
    assert data.labels.loved.tolist() == [1, 0, 1]
    assert data.labels.explicit is not None and data.labels.explicit.tolist() == [
        False,
        False,
        True,
    ]
    assert data.event_ids.tolist() == [1, 2, 3]
    groups = data.groupings[0].ids
    assert groups[1] == groups[0] != groups[2]  # rows 5 and 3 are movements of one work


def test_replay_summary_has_every_policy_and_an_interval(settings: Settings) -> None:
    table = _table(settings)
    replay = run_replay(table, settings=settings, options=OPTIONS, seeds=[0, 1])
    out = replay.to_dict()
    assert [r["round"] for r in out["rounds"]] == [1, 2, 3]
    first = out["rounds"][0]
    assert set(first) >= {"round", "ratings", "model", "loved_share", "baselines"}
    assert set(first["baselines"]) == {"random", "nn", "oracle"}
    summary = out["summary"]
    assert set(summary["last_round"]) == {"bachbot", "random", "nn", "oracle"}
    oracle = summary["last_round"]["oracle"]
    assert oracle["mean"] == 1.0 and len(oracle["per_seed"]) == 2
    assert "bachbot_minus_nn" in summary
