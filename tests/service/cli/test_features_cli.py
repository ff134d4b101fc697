"""``bachbot features --show TRACK``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from service.deezer_sim.signal import PreviewSignal, mp3
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


def test_audio_file_is_described_with_chroma_mfcc_tempo_and_key(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    clip = tmp_path / "chord.mp3"
    clip.write_bytes(mp3(PreviewSignal(2, 0, 96.0, -18.0, seconds=8.0)))  # D minor

    code, out, err = cli("features", "--audio", str(clip))

    assert code == 0, err
    chroma = re.search(r"sum ([\d.]+)\):\n(.*)\n", out)
    assert chroma is not None and 1.0 < float(chroma[1]) < 12.0
    names = re.findall(r"([A-G][#b]?) ([\d.]+)", chroma[2])
    top = sorted(names, key=lambda nv: -float(nv[1]))[:3]
    assert {n for n, _ in top} == {"D", "F", "A"}
    assert "12 MFCC means" in out and re.search(r"tempo (9[2-9]|10[0-1])\.\d BPM", out)
    assert "key D minor" in out


def test_a_file_that_is_not_audio_is_one_line_of_error(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    fake = tmp_path / "notes.mp3"
    fake.write_text("these are not sounds")

    code, out, err = cli("features", "--audio", str(fake))

    assert code == 2 and out == ""
    assert f"cannot describe {fake}: not readable audio" in err
    assert len(err.strip().splitlines()) == 1


def test_show_says_why_the_preview_provider_has_nothing(
    session: Session, cli: Callable[..., tuple[int, str, str]]
) -> None:
    session.add(Track(id=TID, name="Aria, BWV 988", is_bach=True))
    save_features(
        session=session,
        provider="preview_audio",
        schema_version=1,
        values={TID: None},
        reasons={TID: "not on Deezer (ISRC X; no search hit with the same duration and BWV)"},
    )
    session.commit()

    code, out, _ = cli("features", "--show", TID)

    assert code == 0
    assert "[preview_audio] Audio analysis of Deezer previews, v1" in out
    assert "nothing for this track (not on Deezer (ISRC X;" in out
