"""``bachbot features --show TRACK``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from service.store.features import save_features
from service.store.tables import Track

TID = "4uLU6hMCjMI75M1A2tKUQC"


@pytest.mark.parametrize(
    "text",
    [TID, f"spotify:track:{TID}", f"https://open.spotify.com/track/{TID}?si=abc"],
)
def test_track_can_be_named_by_id_uri_or_link(
    text: str, session: Session, cli: Callable[..., tuple[int, str, str]]
) -> None:
    session.add(Track(id=TID, name="Aria, BWV 988", is_bach=True))
    session.commit()

    code, out, _ = cli("features", "--show", text)

    assert code == 0
    assert out.startswith(f"{TID}  Aria, BWV 988")


@pytest.mark.parametrize(
    "text",
    [
        "nosuchtrack",  # too short for an id: once shown as "no track 'nosuchtrack'"
        f"https://open.spotify.com/album/{TID}",  # an album, not a track
        f"https://example.com/track/{TID}",
    ],
)
def test_a_malformed_reference_is_a_usage_error_naming_the_forms(
    text: str, cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = cli("features", "--show", text)
    assert code == 2 and out == ""
    assert "cannot show features" in err and "spotify:track:ID" in err


def test_show_prints_each_provider(
    session: Session, cli: Callable[..., tuple[int, str, str]]
) -> None:
    session.add(
        Track(id=TID, name="Cello Suite No. 1 in G Major, BWV 1007: I. Prélude", is_bach=True)
    )
    session.flush()
    save_features(
        session=session,
        provider="metadata",
        schema_version=1,
        values={TID: {"duration_s": 150.0, "form.prelude": 1.0, "form.fugue": 0.0}},
    )
    save_features(session=session, provider="reccobeats", schema_version=1, values={TID: None})
    session.commit()

    code, out, _ = cli("features", "--show", f"spotify:track:{TID}")

    assert code == 0
    assert "BWV 1007" in out and "chamber: Cello Suite No. 1" in out and "G major" in out
    assert "[spotify_audio] not fetched yet" in out
    assert "nothing for this track" in out
    assert "form.prelude" in out and "form.fugue" not in out
    assert "150" in out


def test_show_unknown_track_says_what_to_do(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = cli("features", "--show", "0000000000000000000000")
    assert code == 1
    assert "no track '0000000000000000000000'" in err and "bachbot sync" in err
