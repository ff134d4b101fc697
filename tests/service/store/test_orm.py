from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.store import tables as m

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _rows() -> list[Any]:
    return [
        m.Track(
            id="t1",
            name="Cello Suite No. 1 in G Major, BWV 1007: I. Prélude",
            artists=[{"id": "a1", "name": "Johann Sebastian Bach"}],
            album_id="al1",
            album_name="Cello Suites",
            release_date="2020-01-01",
            duration_ms=150000,
            isrc="XX1234567890",
            is_bach=True,
            bwv="1007",
            meta={"key": 7, "mode": 1},
        ),
        m.Album(id="al1", name="Cello Suites", tracks_read_at=NOW),
        m.CatalogueCursor(key="artist:x", offset=10, total=40),
        m.Playlist(id="p1", name="Mine", owner_id="u", snapshot_id="s1", owned=True),
        m.PlaylistTrack(playlist_id="p1", position=0, track_id="t1", added_at=NOW),
        m.Feature(track_id="t1", provider="metadata", schema_version=1, values={"x": 1.5}),
        m.Rating(track_id="t1", value=8, source="like", created_at=NOW),
        m.Listen(track_id="t1", played_at=NOW, source="recent"),
        m.ModelVersion(version="v1", kind="mlp", metrics={"r2": 0.5}, n_ratings=20),
        m.Publication(playlist_id="p9", snapshot_id="s", track_ids=["t1"], model_version="v1"),
        m.OAuthToken(name="default", token_info={"access_token": "x", "expires_at": 1}),
        m.JobRun(job="sync", status="ok", counts={"new_tracks": 3}),
        m.AppState(key="k", value={"a": [1, 2]}),
    ]


def test_every_table_round_trips(sessions: sessionmaker[Session]) -> None:
    rows = _rows()
    with sessions() as session:
        for row in rows:
            session.add(row)
            session.flush()
        model_id = session.get(m.ModelVersion, 1)
        assert model_id is not None
        session.add(m.Prediction(track_id="t1", model_version_id=model_id.id, score=7.5))
        session.commit()
    tables_seen = {type(r).__tablename__ for r in rows} | {"predictions"}
    assert tables_seen == {t.__tablename__ for t in m.ALL_TABLES}
    with sessions() as session:
        track = session.get(m.Track, "t1")
        assert track is not None
        assert track.artists == [{"id": "a1", "name": "Johann Sebastian Bach"}]
        assert track.meta == {"key": 7, "mode": 1}
        album = session.get(m.Album, "al1")
        assert album is not None and album.tracks_read_at == NOW
        assert session.get(m.AppState, "k").value == {"a": [1, 2]}  # type: ignore[union-attr]
        feature = session.get(m.Feature, ("t1", "metadata"))
        assert feature is not None and feature.values == {"x": 1.5}
        prediction = session.query(m.Prediction).one()
        assert prediction.score == pytest.approx(7.5)
        assert "x" not in repr(session.get(m.OAuthToken, "default"))


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(m.Album(id="a", name="n", tracks_read_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
