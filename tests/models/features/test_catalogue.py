"""The bundled BWV catalogue and its coverage of the demo catalogue."""

from __future__ import annotations

import pytest

from models.catalogue_demo import generate_catalogue
from models.features.catalogue import GROUPS, group_of, load_catalogue, lookup
from models.features.titles import parse_title

C, CS, D, EB, E, F, FS, G, AB, A, BB, B = range(12)


@pytest.mark.parametrize(
    ("bwv", "group", "key", "mode"),
    [
        ("846", "keyboard", C, "major"),
        ("853", "keyboard", EB, "minor"),
        ("877", "keyboard", EB, "minor"),  # D-sharp minor, the same pitch class
        ("893", "keyboard", B, "minor"),
        ("988", "keyboard", G, "major"),
        ("1001", "chamber", G, "minor"),
        ("1004", "chamber", D, "minor"),
        ("1007", "chamber", G, "major"),
        ("1010", "chamber", EB, "major"),
        ("1011", "chamber", C, "minor"),
        ("1046", "orchestral", F, "major"),
        ("1051", "orchestral", BB, "major"),
        ("1067", "orchestral", B, "minor"),
        ("1043", "orchestral", D, "minor"),
        ("1052", "orchestral", D, "minor"),
        ("232", "mass_passion_oratorio", B, "minor"),
        ("244", "mass_passion_oratorio", None, None),
        ("565", "organ", D, "minor"),
        ("582", "organ", C, "minor"),
        ("772", "keyboard", C, "major"),
        ("801", "keyboard", B, "minor"),
        ("826", "keyboard", C, "minor"),
        ("971", "keyboard", F, "major"),
        ("1079", "canon_late", C, "minor"),
        ("1080", "canon_late", D, "minor"),
        ("Anh. 114", "keyboard", G, "major"),
        ("BWV 988a", "keyboard", G, "major"),
    ],
)
def test_famous_works_have_their_group_and_key(
    bwv: str, group: str, key: int | None, mode: str | None
) -> None:
    work = lookup(bwv)
    assert work is not None
    assert (work.group, work.key, work.mode) == (group, key, mode)


@pytest.mark.parametrize(
    ("bwv", "group"),
    [
        ("1", "cantata"),
        ("199", "cantata"),
        ("226", "motet"),
        ("248", "mass_passion_oratorio"),
        ("300", "chorale"),
        ("478", "song"),
        ("600", "organ"),
        ("1097", "organ"),
        ("894", "keyboard"),
        ("997", "lute"),
        ("1025", "chamber"),
        ("1070", "orchestral"),
        ("1075", "canon_late"),
        ("Anh. 3", "other"),
        ("1500", "other"),
        ("not a number", None),
    ],
)
def test_unlisted_numbers_get_the_group_of_their_bwv_range(bwv: str, group: str | None) -> None:
    assert group_of(bwv) == group


def test_every_row_has_a_known_group_and_a_unique_number() -> None:
    works = load_catalogue()
    assert len(works) > 250
    assert {w.group for w in works.values()} <= set(GROUPS)


def test_most_demo_tracks_map_to_a_listed_work_with_a_group() -> None:
    catalogue = generate_catalogue(n_albums=60, seed=3)
    parsed = [parse_title(t.name) for t in catalogue.tracks]
    listed = [p for p in parsed if p.bwv and lookup(p.bwv) is not None]
    assert len(catalogue.tracks) > 500
    assert len(listed) / len(parsed) > 0.95
    assert all(group_of(p.bwv) in GROUPS for p in listed if p.bwv)
