"""Reading what a Bach track title says: BWV, key, mode, movement form, number, instruments.

Pure functions over real-world titles as labels write them, in English, German,
Italian and French ("Cello Suite No. 1 in G Major, BWV 1007: I. Prélude",
"Präludium und Fuge h-Moll BWV 544", "Suite en ré mineur"), so the metadata
provider works for every app, with or without Spotify's audio features.
Vocabularies are fixed tuples: their order is the one-hot order in the feature
matrix, so extending one means bumping the metadata provider's schema version.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from models.features.bwv import parse_bwv
from models.features.keys import Mode

FORMS: tuple[str, ...] = (
    "prelude", "fugue", "toccata", "fantasia", "passacaglia", "chaconne", "invention",
    "sinfonia", "overture", "allemande", "courante", "sarabande", "gigue", "minuet",
    "bourree", "gavotte", "passepied", "polonaise", "loure", "badinerie", "siciliano",
    "aria", "recitative", "arioso", "chorus", "chorale", "mass_movement", "variation",
    "canon", "ricercar", "trio", "sonata", "partita", "suite", "concerto", "cantata",
    "motet", "slow_tempo", "fast_tempo",
)  # fmt: skip
"""Movement and work forms; tempo words count as a form (a concerto's "II. Adagio")."""

INSTRUMENTS: tuple[str, ...] = (
    "harpsichord", "piano", "organ", "clavichord", "lute", "guitar", "violin", "viola",
    "cello", "viola_da_gamba", "flute", "recorder", "oboe", "trumpet", "horn", "bassoon",
    "strings", "orchestra", "continuo", "choir", "soprano", "alto", "tenor", "bass", "voice",
)  # fmt: skip

_FORM_WORDS: dict[tuple[str, ...], str] = {}
_INSTRUMENT_WORDS: dict[tuple[str, ...], str] = {}


def _words(table: dict[tuple[str, ...], str], canonical: str, spellings: str) -> None:
    for spelling in spellings.split(","):
        table[tuple(spelling.split())] = canonical


for _canonical, _spellings in {
    "prelude": "prelude,preludes,preludio,preludium,praeludium,praludium,praeambulum,preambulum",
    "fugue": "fugue,fugues,fuga,fuge,fughetta,fugato,contrapunctus",
    "toccata": "toccata,toccatas",
    "fantasia": "fantasia,fantasie,fantasy,fantaisie",
    "passacaglia": "passacaglia,passacaille",
    "chaconne": "chaconne,ciaccona,chaconna",
    "invention": "invention,inventions,inventio",
    "sinfonia": "sinfonia,sinfonias,symphonia",
    "overture": "overture,ouverture,ouverture,french overture",
    "allemande": "allemande,allemanda,alemanda",
    "courante": "courante,corrente,corrente",
    "sarabande": "sarabande,sarabanda",
    "gigue": "gigue,giga,gigg",
    "minuet": "minuet,minuets,menuet,menuets,menuett,menuetto,minuetto,menuetts",
    "bourree": "bourree,bourrees,borea",
    "gavotte": "gavotte,gavottes,gavotta",
    "passepied": "passepied,passepieds",
    "polonaise": "polonaise,polacca",
    "loure": "loure",
    "badinerie": "badinerie",
    "siciliano": "siciliano,siciliana,sicilienne,pastorale,pastorella",
    "aria": "aria,arie,arien,arias,air,arietta,duet,duetto",
    "recitative": "recitative,recitativo,rezitativ,recitatif,recit,rec,accompagnato",
    "arioso": "arioso",
    "chorus": "chorus,chor,coro,choeur",
    "chorale": "chorale,chorales,choral,corale,chorale prelude",
    "mass_movement": "kyrie,gloria,credo,sanctus,osanna,hosanna,benedictus,agnus dei,"
    "crucifixus,et incarnatus est,qui tollis,domine deus,magnificat",
    "variation": "variation,variations,variatio,var",
    "canon": "canon,canons,canone,kanon",
    "ricercar": "ricercar,ricercare,ricercata",
    "trio": "trio",
    "sonata": "sonata,sonatas,sonate,sonatina",
    "partita": "partita,partitas,partie",
    "suite": "suite,suites",
    "concerto": "concerto,concertos,konzert,concerti",
    "cantata": "cantata,cantatas,kantate,cantate",
    "motet": "motet,motets,motette,motetten,mottetto",
    "slow_tempo": "adagio,adagissimo,largo,larghetto,lento,grave,andante,andantino",
    "fast_tempo": "allegro,allegretto,presto,vivace,spiritoso,allegro assai,allegro moderato",
}.items():
    _words(_FORM_WORDS, _canonical, _spellings)

for _canonical, _spellings in {
    "harpsichord": "harpsichord,harpsichords,cembalo,cembali,clavecin,clavicembalo",
    "piano": "piano,pianoforte,fortepiano,klavier solo",
    "organ": "organ,orgel,orgue,organo",
    "clavichord": "clavichord",
    "lute": "lute,laute,luth,liuto,theorbo",
    "guitar": "guitar,guitars,gitarre,guitare,chitarra",
    "violin": "violin,violins,violine,violinen,violon,violino,violini",
    "viola": "viola,bratsche,viola d amore",
    "cello": "cello,cellos,violoncello,violoncelle,violoncelli",
    "viola_da_gamba": "viola da gamba,gamba,gambe,viol",
    "flute": "flute,flutes,flote,floten,flauto,traverso,flauto traverso,transverse flute",
    "recorder": "recorder,recorders,blockflote,flauto dolce",
    "oboe": "oboe,oboes,hautbois,oboi,oboe d amore,oboe da caccia",
    "trumpet": "trumpet,trumpets,tromba,trombe,trompete,trompette",
    "horn": "horn,horns,corno",
    "bassoon": "bassoon,fagott,fagotto",
    "strings": "strings,string orchestra",
    "orchestra": "orchestra,orchestral,orchester,orchestre",
    "continuo": "continuo,basso continuo,b c",
    "choir": "choir,choirs,chor,coro,choeur,chorus,chorus and orchestra",
    "soprano": "soprano,sopran,sopranos",
    "alto": "alto,altus,countertenor,contralto",
    "tenor": "tenor,tenore",
    "bass": "bass,basso,bariton,baritone,bassbariton,bass baritone",
    "voice": "voice,voices,stimme,singstimme",
}.items():
    _words(_INSTRUMENT_WORDS, _canonical, _spellings)

_MAX_PHRASE = 3
_COMPOSER_PREFIX = re.compile(
    r"^\s*(?:J(?:ohann)?\.?\s*S(?:ebastian)?\.?\s*)?Bach\s*[:\-–—]\s*", re.IGNORECASE
)
_SEPARATOR = re.compile(r":\s|\s[-–—|]\s")
_MOVEMENT_PREFIX = re.compile(
    r"^\s*(?:(?:no|nr|n°)\.?\s*(?P<no>\d{1,3})\b|(?P<num>[ivxlc]{1,7}|\d{1,3})\s*[.:)]\s*)"
)
_WORK_NUMBER = re.compile(r"\b(?:no|nr|n°)\.?\s*(\d{1,3})\b")
_GERMAN_KEY = re.compile(r"(?<![a-z])([a-h])(is|es|s)?[\s-]*(dur|moll)\b")
_ENGLISH_KEY = re.compile(r"(?<![a-z'])([a-g])(?:[\s-]*(flat|sharp|b|#))?[\s-]*(major|minor)\b")
_LATIN_KEY = re.compile(
    r"\b(do|ut|re|mi|fa|sol|la|si)(?:[\s-]*(bemol|bemolle|diese|diesis|sostenido))?"
    r"\s+(majeur|mineur|maggiore|minore|mayor|menor)\b"
)
_LETTER_PC = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11, "h": 11}
_SOLFEGE_PC = {"do": 0, "ut": 0, "re": 2, "mi": 4, "fa": 5, "sol": 7, "la": 9, "si": 11}
_MAJOR_WORDS = {"dur", "major", "majeur", "maggiore", "mayor"}
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


@dataclass(frozen=True, slots=True)
class TitleInfo:
    """What a title says about the recording; None or empty where it says nothing."""

    bwv: str | None = None
    bwv_movement: int | None = None
    key: int | None = None
    """Pitch class 0-11 of the tonic (Spotify's ``key``)."""
    mode: Mode | None = None
    forms: tuple[str, ...] = ()
    """Every form word in the title, canonical, in order of appearance."""
    movement_form: str | None = None
    """The form of this movement: a form word in the movement part, else the first form."""
    movement_number: int | None = None
    work_number: int | None = None
    """The "No. 1" of "Cello Suite No. 1"."""
    instruments: tuple[str, ...] = ()

    def to_meta(self) -> dict[str, Any]:
        """The JSON shape stored in ``Track.meta``."""
        return {
            "bwv": self.bwv,
            "bwv_movement": self.bwv_movement,
            "key": self.key,
            "mode": self.mode,
            "forms": list(self.forms),
            "movement_form": self.movement_form,
            "movement": self.movement_number,
            "work_number": self.work_number,
            "instruments": list(self.instruments),
        }


def fold(text: str) -> str:
    """Lower-case ASCII: accents dropped (é->e, ü->u), ♭/♯ spelled out, ß->ss, œ->oe."""
    text = text.replace("♭", "-flat").replace("♯", "-sharp")
    text = text.replace("ß", "ss").replace("œ", "oe").replace("Œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def roman_to_int(text: str) -> int | None:
    """``"iv"`` -> 4; None when ``text`` is not a Roman numeral."""
    values = [_ROMAN.get(ch) for ch in text.lower()]
    if not values or None in values:
        return None
    digits = [v for v in values if v is not None]
    total = 0
    for i, value in enumerate(digits):
        total += -value if i + 1 < len(digits) and value < digits[i + 1] else value
    return total


def parse_key(text: str) -> tuple[int | None, Mode | None]:
    """The first key named in ``text`` (English, German, French/Italian/Spanish), else None."""
    folded = fold(text)
    found: list[tuple[int, int, Mode]] = []
    for match in _GERMAN_KEY.finditer(folded):
        letter, accidental, mode_word = match.groups()
        pc = 10 if letter == "b" else _LETTER_PC[letter]
        pc += {"is": 1, "es": -1, "s": -1}.get(accidental or "", 0)
        found.append((match.start(), pc % 12, "major" if mode_word == "dur" else "minor"))
    for match in _ENGLISH_KEY.finditer(folded):
        letter, accidental, mode_word = match.groups()
        pc = _LETTER_PC[letter] + {"flat": -1, "b": -1, "sharp": 1, "#": 1}.get(accidental or "", 0)
        found.append((match.start(), pc % 12, "major" if mode_word in _MAJOR_WORDS else "minor"))
    for match in _LATIN_KEY.finditer(folded):
        name, accidental, mode_word = match.groups()
        pc = _SOLFEGE_PC[name] + (1 if accidental in {"diese", "diesis", "sostenido"} else 0)
        pc -= 1 if accidental in {"bemol", "bemolle"} else 0
        found.append((match.start(), pc % 12, "major" if mode_word in _MAJOR_WORDS else "minor"))
    if not found:
        return None, None
    _, pc, mode = min(found)
    return pc, mode


def _scan(text: str, table: dict[tuple[str, ...], str]) -> list[str]:
    """Canonical words of ``table`` in ``text``, longest phrase first, in order, no repeats."""
    tokens = re.findall(r"[a-z]+", fold(text))
    found: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(_MAX_PHRASE, 0, -1):
            canonical = table.get(tuple(tokens[i : i + size]))
            if canonical is not None:
                if canonical not in found:
                    found.append(canonical)
                i += size
                break
        else:
            i += 1
    return found


def _split_movement(title: str) -> tuple[str, str | None]:
    """(work part, movement part): the movement follows the first separator after the BWV."""
    bwv_at = re.search(r"\bBWV\b", title, re.IGNORECASE)
    start = bwv_at.end() if bwv_at else 0
    sep = _SEPARATOR.search(title, start)
    if sep is None:
        return title, None
    return title[: sep.start()], title[sep.end() :]


def _movement_number(part: str) -> int | None:
    match = _MOVEMENT_PREFIX.match(fold(part))
    if match is None:
        return None
    if match["no"]:
        return int(match["no"])
    raw = match["num"]
    return int(raw) if raw.isdigit() else roman_to_int(raw)


@lru_cache(maxsize=4096)
def parse_title(title: str) -> TitleInfo:
    """Everything :class:`TitleInfo` holds, read from one track title.

    Cached (the result is frozen): a new track's title is read by sync (Bach or not,
    BWV) and again by the metadata provider, and an album's 20 tracks share its name,
    so a cycle of 500 new tracks parsed ~2,000 titles for ~500 distinct ones.
    """
    title = _COMPOSER_PREFIX.sub("", title)
    ref = parse_bwv(title)
    work_part, movement_part = _split_movement(title)
    key, mode = parse_key(title)
    forms = _scan(title, _FORM_WORDS)
    movement_forms = _scan(movement_part, _FORM_WORDS) if movement_part else []
    candidates = movement_forms or forms
    movement_form = candidates[0] if candidates else None
    number = _movement_number(movement_part) if movement_part is not None else None
    if number is None:
        number = _movement_number(title)
        work_part = title if number is None else work_part
    if number is None and ref is not None:
        number = ref.movement
    work_match = _WORK_NUMBER.search(fold(work_part))
    work_number = int(work_match.group(1)) if work_match else None
    if work_number is not None and work_number == number and movement_part is None:
        work_number = None
    return TitleInfo(
        bwv=ref.bwv if ref else None,
        bwv_movement=ref.movement if ref else None,
        key=key,
        mode=mode,
        forms=tuple(forms),
        movement_form=movement_form,
        movement_number=number,
        work_number=work_number,
        instruments=tuple(_scan(title, _INSTRUMENT_WORDS)),
    )
