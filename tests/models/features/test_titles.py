"""Title parsing over real-style Bach track titles as labels write them."""

from __future__ import annotations

import pytest

from models.features.bwv import parse_bwv
from models.features.titles import parse_key, parse_title

C, CS, D, EB, E, F, FS, G, AB, A, BB, B = range(12)

# title, bwv, key, mode, movement form, movement number, instruments (subset expected)
TITLES: list[tuple[str, str | None, int | None, str | None, str | None, int | None, set[str]]] = [
    ("Cello Suite No. 1 in G Major, BWV 1007: I. Prélude", "1007", G, "major", "prelude", 1, set()),
    ("Suite for Cello No. 1 in G Major, BWV1007: 1. Prélude", "1007", G, "major", "prelude", 1,
     {"cello"}),
    ("Cellosuite Nr. 2 d-Moll, BWV 1008: IV. Sarabande", "1008", D, "minor", "sarabande", 4, set()),
    ("Suite No. 3 in C Major, BWV 1009 - V. Bourrée I", "1009", C, "major", "bourree", 5, set()),
    ("Suite No. 4 in E-Flat Major, BWV 1010: VI. Gigue", "1010", EB, "major", "gigue", 6, set()),
    ("Suite Nr. 4 Es-Dur BWV 1010: Courante", "1010", EB, "major", "courante", None, set()),
    ("Suite No. 5 in C Minor, BWV 1011: V. Gavotte I & II", "1011", C, "minor", "gavotte", 5,
     set()),
    ("Toccata and Fugue in D Minor, BWV 565", "565", D, "minor", "toccata", None, set()),
    ("Toccata und Fuge d-Moll, BWV 565: Toccata", "565", D, "minor", "toccata", None, set()),
    ("Passacaglia and Fugue in C Minor, BWV 582", "582", C, "minor", "passacaglia", None, set()),
    ("Präludium und Fuge h-Moll, BWV 544", "544", B, "minor", "prelude", None, set()),
    ("The Well-Tempered Clavier, Book I: Prelude and Fugue No. 1 in C Major, BWV 846: I. Prelude",
     "846", C, "major", "prelude", 1, set()),
    ("Das Wohltemperierte Klavier I: Fuge Nr. 3 Cis-Dur, BWV 848", "848", CS, "major", "fugue",
     None, set()),
    ("Prelude and Fugue No. 14 in F sharp minor, BWV 883: II. Fugue", "883", FS, "minor", "fugue",
     2, set()),
    ("Präludium und Fuge fis-Moll BWV 883", "883", FS, "minor", "prelude", None, set()),
    ("Prelude & Fugue in B-flat minor, BWV 867/2", "867", BB, "minor", "prelude", 2, set()),
    ("Goldberg Variations, BWV 988: Aria", "988", None, None, "aria", None, set()),
    ("Goldberg-Variationen BWV 988: Variatio 25 a 2 Clav.", "988", None, None, "variation", None,
     set()),
    ("Aria mit verschiedenen Veränderungen, BWV 988a: Aria da capo", "988a", None, None, "aria",
     None, set()),
    ("Partita No. 2 in D Minor, BWV 1004: V. Ciaccona", "1004", D, "minor", "chaconne", 5,
     set()),
    ("Violin Partita No. 2 in D Minor, BWV 1004: V. Chaconne", "1004", D, "minor", "chaconne", 5,
     {"violin"}),
    ("Sonata for Solo Violin No. 1 in G Minor, BWV 1001: II. Fuga (Allegro)", "1001", G, "minor",
     "fugue", 2, {"violin"}),
    ("Orchestral Suite No. 3 in D Major, BWV 1068: II. Air", "1068", D, "major", "aria", 2,
     {"orchestra"}),
    ("Brandenburg Concerto No. 3 in G Major, BWV 1048: I. Allegro", "1048", G, "major",
     "fast_tempo", 1, set()),
    ("Harpsichord Concerto No. 1 in D Minor, BWV 1052: II. Adagio", "1052", D, "minor",
     "slow_tempo", 2, {"harpsichord"}),
    ("Concerto for 2 Violins, Strings and Continuo in D Minor, BWV 1043: I. Vivace", "1043", D,
     "minor", "fast_tempo", 1, {"violin", "strings", "continuo"}),
    ("Mass in B Minor, BWV 232: Agnus Dei", "232", B, "minor", "mass_movement", None, set()),
    ("Matthäus-Passion, BWV 244, Pt. 2: No. 39, Aria. Erbarme dich, mein Gott", "244", None, None,
     "aria", 39, set()),
    ("St John Passion, BWV 245: No. 1 Chorus: Herr, unser Herrscher", "245", None, None, "chorus",
     1, set()),
    ("Herz und Mund und Tat und Leben, BWV 147: X. Choral. Jesus bleibet meine Freude", "147",
     None, None, "chorale", 10, set()),
    ("Cantata BWV 82 'Ich habe genung': I. Aria (Bass)", "82", None, None, "aria", 1, {"bass"}),
    ("Weihnachtsoratorium, BWV 248: Rezitativ (Evangelist). Es begab sich aber", "248", None,
     None, "recitative", None, set()),
    ("Jesu, meine Freude, BWV 227: Motette für Chor", "227", None, None, "motet", None, {"choir"}),
    ("Minuet in G Major, BWV Anh. 114", "Anh. 114", G, "major", "minuet", None, set()),
    ("Menuett G-Dur, BWV Anh. 114 (Notenbüchlein für Anna Magdalena Bach)", "Anh. 114", G, "major",
     "minuet", None, set()),
    ("Musette in D Major, BWV Anh. 126", "Anh. 126", D, "major", None, None, set()),
    ("Invention No. 13 in A Minor, BWV 784", "784", A, "minor", "invention", None, set()),
    ("Sinfonia No. 9 in F Minor, BWV 795", "795", F, "minor", "sinfonia", None, set()),
    ("French Suite No. 5 in G Major, BWV 816: VII. Gigue", "816", G, "major", "gigue", 7, set()),
    ("English Suite No. 3 in G Minor, BWV 808: IV. Sarabande", "808", G, "minor", "sarabande", 4,
     set()),
    ("Partita No. 1 in B-Flat Major, BWV 825: VI. Menuet I & II", "825", BB, "major", "minuet", 6,
     set()),
    ("Partita Nr. 1 B-Dur, BWV 825: Giga", "825", BB, "major", "gigue", None, set()),
    ("Italian Concerto in F Major, BWV 971: III. Presto", "971", F, "major", "fast_tempo", 3,
     set()),
    ("Chromatische Fantasie und Fuge d-Moll, BWV 903", "903", D, "minor", "fantasia", None, set()),
    ("Lute Suite in E Minor, BWV 996: V. Bourrée (Arr. for Guitar)", "996", E, "minor", "bourree",
     5, {"lute", "guitar"}),
    ("Sonata for Viola da Gamba and Harpsichord No. 1 in G Major, BWV 1027: I. Adagio", "1027", G,
     "major", "slow_tempo", 1, {"viola_da_gamba", "harpsichord"}),
    ("Flute Sonata in E Minor, BWV 1034: III. Andante", "1034", E, "minor", "slow_tempo", 3,
     {"flute"}),
    ("Schübler Chorale: Wachet auf, ruft uns die Stimme, BWV 645 (Organ)", "645", None, None,
     "chorale", None, {"organ"}),
    ("Orgelbüchlein: Ich ruf zu dir, Herr Jesu Christ, BWV 639", "639", None, None, None, None,
     set()),
    ("J.S. Bach: Suite in A-flat major for keyboard, BWV 1007 (arr.)", "1007", AB, "major",
     "suite", None, set()),
    ("Johann Sebastian Bach - Prelude in C minor, BWV 999", "999", C, "minor", "prelude", None,
     set()),
    ("Suite en ré mineur, BWV 1008 : Prélude", "1008", D, "minor", "prelude", None, set()),
    ("Die Kunst der Fuge, BWV 1080: Contrapunctus 1", "1080", None, None, "fugue", None, set()),
    ("Musikalisches Opfer, BWV 1079: Ricercar a 6", "1079", None, None, "ricercar", None, set()),
    ("Air on the G String (from Orchestral Suite No. 3, BWV 1068)", "1068", None, None, "aria",
     None, {"orchestra"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("title", "bwv", "key", "mode", "form", "number", "instruments"),
    TITLES,
    ids=[t[0][:60] for t in TITLES],
)
def test_title_parses_to_bwv_key_form_movement_and_instruments(
    title: str,
    bwv: str | None,
    key: int | None,
    mode: str | None,
    form: str | None,
    number: int | None,
    instruments: set[str],
) -> None:
    info = parse_title(title)
    assert (info.bwv, info.key, info.mode, info.movement_form, info.movement_number) == (
        bwv,
        key,
        mode,
        form,
        number,
    )
    assert instruments <= set(info.instruments)


def test_table_holds_at_least_thirty_titles() -> None:
    assert len(TITLES) >= 30


@pytest.mark.parametrize(
    ("title", "bwv", "movement"),
    [
        ("BWV 1007", "1007", None),
        ("BWV1007", "1007", None),
        ("BWV. 1007", "1007", None),
        ("BWV 1007/1", "1007", 1),
        ("BWV 1007:1", "1007", 1),
        ("BWV 988a", "988a", None),
        ("BWV 1006a: Prelude", "1006a", None),
        ("BWV Anh. 114", "Anh. 114", None),
        ("BWV Anh 114", "Anh. 114", None),
        ("BWV Anh. II 114", "Anh. 114", None),
        ("BWV 846-869", "846", None),
        ("bwv 565", "565", None),
        ("BWV 0565", "565", None),
        ("Cello Suite No. 1", None, None),
        ("BWV 565arr. for piano", "565", None),
    ],
)
def test_bwv_forms_are_normalised(title: str, bwv: str | None, movement: int | None) -> None:
    ref = parse_bwv(title)
    assert (ref.bwv if ref else None, ref.movement if ref else None) == (bwv, movement)


@pytest.mark.parametrize(
    ("text", "key", "mode"),
    [
        ("in D Minor", D, "minor"),
        ("d-Moll", D, "minor"),
        ("D-Dur", D, "major"),
        ("in B-flat major", BB, "major"),
        ("in Bb major", BB, "major"),
        ("in B♭ major", BB, "major"),
        ("h-moll", B, "minor"),
        ("H-Dur", B, "major"),
        ("B-Dur", BB, "major"),
        ("in F sharp minor", FS, "minor"),
        ("in C-Sharp Minor", CS, "minor"),
        ("Es-Dur", EB, "major"),
        ("es-moll", EB, "minor"),
        ("As-Dur", AB, "major"),
        ("fis-Moll", FS, "minor"),
        ("gis-moll", AB, "minor"),
        ("Des-Dur", CS, "major"),
        ("en sol majeur", G, "major"),
        ("en si bémol majeur", BB, "major"),
        ("in re minore", D, "minor"),
        ("Prelude in C", None, None),
        ("Aria", None, None),
    ],
)
def test_key_and_mode_in_english_german_and_romance_spellings(
    text: str, key: int | None, mode: str | None
) -> None:
    assert parse_key(text) == (key, mode)


def test_meta_is_json_ready() -> None:
    meta = parse_title("Cello Suite No. 1 in G Major, BWV 1007: I. Prélude").to_meta()
    assert meta == {
        "bwv": "1007",
        "bwv_movement": None,
        "key": G,
        "mode": "major",
        "forms": ["suite", "prelude"],
        "movement_form": "prelude",
        "movement": 1,
        "work_number": 1,
        "instruments": ["cello"],
    }
