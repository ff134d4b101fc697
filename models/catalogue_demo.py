"""A deterministic, realistic Bach catalogue for the offline demo and the benchmarks.

Works come from the bundled BWV catalogue with proper movement titles ("Cello
Suite No. 1 in G Major, BWV 1007: I. Prélude"), played by fictional performers
(``models/features/data/demo_catalogue.json``) on albums of one to many works.
Every track carries SIMULATED audio descriptors, shaped like Spotify's and
ReccoBeats' and correlated with the music the way real ones are (slow movements
have lower tempo and energy, minor keys lower valence, choral works are vocal,
organ and orchestra are loud, lute is quiet) plus a few simulated audio-analysis
segments (12 pitches, 12 timbre values) whose chroma follows the key.  None of
these numbers were measured from audio.

``generate_catalogue(n_albums=90)`` gives ~1,500 tracks; benchmarks ask for
more albums (or cap with ``max_tracks``).  The same seed gives the same catalogue.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any

from models.features.catalogue import BwvWork, lookup, normalise_bwv
from models.features.keys import key_name
from models.features.titles import parse_title

BACH_ID = "5aIqB5nVVvmFsvSdExz408"
BACH_NAME = "Johann Sebastian Bach"
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VOCAL_ROLES = {"choir", "soprano", "bass"}

# Typical seconds per movement form (before tempo and performer scaling).
_SECONDS = {
    "prelude": 150, "fugue": 180, "toccata": 300, "fantasia": 360, "passacaglia": 780,
    "chaconne": 840, "invention": 85, "sinfonia": 140, "overture": 420, "allemande": 240,
    "courante": 150, "sarabande": 240, "gigue": 180, "minuet": 110, "bourree": 110,
    "gavotte": 150, "passepied": 100, "polonaise": 120, "loure": 200, "badinerie": 80,
    "siciliano": 210, "aria": 330, "recitative": 60, "arioso": 120, "chorus": 300,
    "chorale": 75, "mass_movement": 270, "variation": 110, "canon": 150, "ricercar": 420,
    "slow_tempo": 300, "fast_tempo": 230,
}  # fmt: skip
_TRIPLE = {"minuet", "sarabande", "courante", "passepied", "polonaise", "chaconne",
           "passacaglia", "siciliano", "loure"}  # fmt: skip
_DANCES = {"allemande", "courante", "sarabande", "gigue", "minuet", "bourree", "gavotte",
           "passepied", "polonaise", "loure", "badinerie"}  # fmt: skip
# role -> (loudness dB, energy shift, timbre brightness, timbre attack)
_SOUND = {
    "harpsichord": (-17.0, 0.05, 60.0, 45.0), "piano": (-20.0, 0.0, 20.0, 20.0),
    "organ": (-12.0, 0.15, 10.0, -10.0), "cello": (-19.0, 0.0, -10.0, 5.0),
    "violin": (-18.0, 0.05, 55.0, 10.0), "lute": (-25.0, -0.08, 15.0, 35.0),
    "guitar": (-23.0, -0.05, 20.0, 35.0), "flute": (-20.0, 0.0, 40.0, 0.0),
    "gamba": (-21.0, -0.03, -5.0, 5.0), "ensemble": (-15.0, 0.1, 30.0, 10.0),
    "conductor": (-15.0, 0.1, 30.0, 10.0), "choir": (-16.0, 0.08, 0.0, -15.0),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoArtist:
    id: str
    name: str
    role: str
    """composer, harpsichord, piano, organ, cello, violin, lute, guitar, flute, gamba,
    ensemble, choir, conductor, soprano or bass."""


@dataclass(frozen=True, slots=True)
class DemoAlbum:
    id: str
    name: str
    album_type: str
    release_date: str
    artist_ids: list[str]
    label: str
    track_ids: list[str]


@dataclass(frozen=True, slots=True)
class DemoTrack:
    id: str
    name: str
    album_id: str
    artist_ids: list[str]
    """Composer first, then the performers."""
    duration_ms: int
    track_number: int
    bwv: str
    tempo_class: str
    """s, m or f: the movement's character the simulated descriptors follow."""
    audio_features: dict[str, float] | None
    """SIMULATED, Spotify's audio-features shape (None: Spotify has none for it)."""
    analysis_segments: list[dict[str, Any]] | None
    """SIMULATED audio-analysis segments (start, duration, loudness, 12 pitches, 12 timbre)."""
    reccobeats: dict[str, float] | None
    """SIMULATED, ReccoBeats' shape (None: ReccoBeats does not know the track)."""
    isrc: str | None = None
    """A made-up ISRC (country code ``ZZ``: none is a real recording's)."""
    preview: dict[str, float] | None = None
    """What the local Deezer's generated preview plays (key, mode, tempo, rms_db) and its
    ``bpm``/``gain``; None: not on Deezer.  SIMULATED like the rest."""


@dataclass
class DemoCatalogue:
    """Artists, albums and tracks; audio descriptors are simulated (see the module doc)."""

    seed: int
    artists: list[DemoArtist] = field(default_factory=list)
    albums: list[DemoAlbum] = field(default_factory=list)
    tracks: list[DemoTrack] = field(default_factory=list)

    def to_json(self) -> str:
        """Everything as one JSON document (``asdict`` is too slow at benchmark sizes)."""
        data = {
            "simulated_audio": True,
            "seed": self.seed,
            "artists": [_fields(a) for a in self.artists],
            "albums": [_fields(a) for a in self.albums],
            "tracks": [_fields(t) for t in self.tracks],
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def to_sim_catalogue(
        self, *, users: list[dict[str, Any]] | None = None, default_user: str | None = None
    ) -> dict[str, Any]:
        """The local Spotify's data-file shape (``service.spotify_sim.state``)."""
        data: dict[str, Any] = {
            "artists": [{"id": a.id, "name": a.name} for a in self.artists],
            "albums": [
                {
                    "id": a.id,
                    "name": a.name,
                    "album_type": a.album_type,
                    "release_date": a.release_date,
                    "artist_ids": a.artist_ids,
                    "label": a.label,
                }
                for a in self.albums
            ],
            "tracks": [
                {
                    "id": t.id,
                    "name": t.name,
                    "album_id": t.album_id,
                    "artist_ids": t.artist_ids,
                    "duration_ms": t.duration_ms,
                    "track_number": t.track_number,
                    "disc_number": 1,
                    "audio_features": t.audio_features,
                    "analysis_segments": t.analysis_segments,
                    "reccobeats": t.reccobeats,
                    "isrc": t.isrc,
                }
                for t in self.tracks
            ],
            "users": users or [],
            "playlists": [],
        }
        if default_user is not None:
            data["default_user"] = default_user
        return data


def _fields(obj: DemoArtist | DemoAlbum | DemoTrack) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@cache
def _data() -> dict[str, Any]:
    text = resources.files("models.features.data").joinpath("demo_catalogue.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _make_id(seed: int, kind: str, number: int) -> str:
    value = int.from_bytes(hashlib.sha256(f"{seed}/{kind}/{number}".encode()).digest()[:17])
    chars = []
    for _ in range(22):
        value, rest = divmod(value, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


def _expand(specs: list[str]) -> list[str]:
    """``["846-849", "Anh. 114"]`` -> ``["846", ..., "849", "Anh. 114"]``."""
    out: list[str] = []
    for spec in specs:
        first, _, last = spec.partition("-")
        if last and first.isdigit() and last.isdigit():
            out.extend(str(n) for n in range(int(first), int(last) + 1))
        else:
            out.append(spec)
    return out


def work_title(work: BwvWork, template: str | None) -> str:
    """``"Cello Suite No. 1 in G Major"``; a family may give its own template."""
    if template is not None:
        return template.format(title=work.title)
    base, paren, rest = work.title.partition(" (")
    if work.key is None:
        return work.title
    key = key_name(work.key).title() + (f" {work.mode.title()}" if work.mode else "")
    return f"{base} in {key}" + (f" ({rest}" if paren else "")


def _movements(family: dict[str, Any], bwv: str) -> list[tuple[str, str]]:
    plan = family["movements"].get(bwv, family["movements"]["default"])
    moves = [tuple(entry.rsplit("|", 1)) for entry in plan]
    if family.get("variations"):
        moves += [
            (f"Variatio {n}", "s" if n in (13, 15, 21, 25) else "f" if n % 3 else "m")
            for n in range(1, family["variations"] + 1)
        ]
        moves.append(("Aria da capo", "s"))
    return [(m[0], m[1]) for m in moves]


def _roman(number: int) -> str:
    out = ""
    for value, letters in ((40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, number = divmod(number, value)
        out += letters * count
    return out


def _track_name(work: str, bwv: str, number: int, movement: str, style: str) -> str:
    if not movement:
        return f"{work}, BWV {bwv}"
    if style == "no":
        return f"{work}, BWV {bwv}: No. {number}, {movement}"
    if style == "dash":
        return f"{work}, BWV {bwv} - {number}. {movement}"
    if style == "arabic":
        return f"{work}, BWV {bwv}: {number}. {movement}"
    roman = _roman(number)
    return f"{work}, BWV {bwv}: {roman}. {movement}"


def _chroma(rng: random.Random, key: int, mode: int) -> list[float]:
    third = 4 if mode == 1 else 3
    scale = {0, 2, 4, 5, 7, 9, 11} if mode == 1 else {0, 2, 3, 5, 7, 8, 10}
    chroma = []
    for pc in range(12):
        step = (pc - key) % 12
        weight = 0.15 + (0.12 if step in scale else 0.0)
        weight += {0: 0.55, 7: 0.35, third: 0.3}.get(step, 0.0)
        chroma.append(weight)
    return chroma


def _segments(
    rng: random.Random,
    n: int,
    seconds: float,
    chroma: list[float],
    timbre: list[float],
    loudness: float,
) -> list[dict[str, Any]]:
    step = seconds / max(n, 1)
    out = []
    for i in range(n):
        raw = [max(0.0, c * rng.uniform(0.5, 1.5)) for c in chroma]
        top = max(raw) or 1.0
        peak = loudness + rng.uniform(0.0, 8.0)
        out.append(
            {
                "start": round(i * step, 3),
                "duration": round(step, 3),
                "confidence": round(rng.uniform(0.3, 1.0), 3),
                "loudness_start": round(peak - rng.uniform(3, 12), 2),
                "loudness_max": round(peak, 2),
                "loudness_max_time": round(rng.uniform(0.0, min(step, 0.2)), 3),
                "loudness_end": round(peak - rng.uniform(3, 15), 2),
                "pitches": [round(v / top, 3) for v in raw],
                "timbre": [round(t + rng.gauss(0.0, 8.0), 2) for t in timbre],
            }
        )
    return out


def _simulate(
    rng: random.Random,
    *,
    form: str | None,
    tempo_class: str,
    key: int,
    mode: int,
    roles: list[str],
    seconds: float,
    speed: float,
    live: bool,
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """(audio features, ReccoBeats values, inputs for the segments): all simulated."""
    vocal = any(r in _VOCAL_ROLES for r in roles) and form not in {"sinfonia", "overture"}
    sound = _SOUND.get(roles[0], _SOUND["ensemble"])
    if vocal:
        sound = _SOUND["choir"]
    base_tempo = {"s": 66.0, "m": 96.0, "f": 128.0}[tempo_class] * speed
    energy = {"s": 0.1, "m": 0.2, "f": 0.32}[tempo_class] + sound[1] + rng.gauss(0, 0.04)
    valence = {"s": 0.2, "m": 0.35, "f": 0.5}[tempo_class] - (0.12 if mode == 0 else 0.0)
    dance = {"s": 0.25, "m": 0.38, "f": 0.48}[tempo_class] + (0.08 if form in _DANCES else 0.0)
    speech = 0.12 if form == "recitative" else 0.06 if vocal else 0.04
    features = {
        "acousticness": min(0.996, rng.uniform(0.93, 0.99) + (0.02 if vocal else 0.0)),
        "danceability": dance + rng.gauss(0, 0.05),
        "energy": energy,
        "instrumentalness": rng.uniform(0.01, 0.3) if vocal else rng.uniform(0.82, 0.96),
        "key": float(key),
        "liveness": rng.uniform(0.55, 0.85) if live else rng.uniform(0.07, 0.2),
        "loudness": sound[0] + rng.gauss(0, 2.0) + (3.0 * energy),
        "mode": float(mode),
        "speechiness": speech + rng.uniform(-0.01, 0.02),
        "tempo": max(40.0, base_tempo * rng.uniform(0.85, 1.15)),
        "time_signature": 3.0 if form in _TRIPLE else 4.0,
        "valence": valence + rng.gauss(0, 0.06),
    }
    for name in ("danceability", "energy", "valence", "speechiness"):
        features[name] = min(0.99, max(0.01, features[name]))
    features = {k: round(v, 4) for k, v in features.items()}
    recco = {
        k: round(v + (rng.gauss(0, 0.02) if k not in {"key", "mode"} else 0.0), 4)
        for k, v in features.items()
        if k != "time_signature"
    }
    timbre = [40.0 + features["loudness"] / 2, sound[2], rng.gauss(0, 20), sound[3]]
    timbre += [rng.gauss(0, 15) for _ in range(8)]
    return (
        features,
        recco,
        {
            "timbre": timbre,
            "chroma": _chroma(rng, key, mode),
            "seconds": seconds,
            "loudness": features["loudness"],
        },
    )


def _deezer(seed: int, number: int, features: dict[str, float], coverage: float) -> dict[str, Any]:
    """ISRC and Deezer preview of the ``number``-th track, drawn from a hash of its place so
    the catalogue's random stream (and every other simulated value) is unchanged."""
    digest = hashlib.sha256(f"{seed}/deezer/{number}".encode()).digest()
    isrc = f"ZZBCH{digest[0] % 100:02d}{int.from_bytes(digest[1:4]) % 100_000:05d}"
    if digest[4] / 255 >= coverage:
        return {"isrc": isrc, "preview": None}
    return {
        "isrc": isrc,
        "preview": {
            "key": features["key"],
            "mode": features["mode"],
            "tempo": round(features["tempo"], 1),
            "rms_db": round(features["loudness"] - 2.0, 1),
            "bpm": round(features["tempo"], 1) if digest[5] % 3 else 0.0,
            "gain": round(features["loudness"] + 4.0, 1),
        },
    }


def generate_catalogue(
    *,
    n_albums: int = 90,
    seed: int = 0,
    max_tracks: int | None = None,
    segments_per_track: int = 6,
    audio_coverage: float = 0.97,
    reccobeats_coverage: float = 0.85,
    deezer_coverage: float = 0.9,
) -> DemoCatalogue:
    """A seeded catalogue; the coverages are the shares of tracks with each audio source."""
    rng = random.Random(seed)
    data = _data()
    catalogue = DemoCatalogue(seed=seed)
    catalogue.artists.append(DemoArtist(id=BACH_ID, name=BACH_NAME, role="composer"))
    by_role: dict[str, list[DemoArtist]] = {}
    for role, names in data["performers"].items():
        for name in names:
            artist = DemoArtist(
                id=_make_id(seed, "artist", len(catalogue.artists)), name=name, role=role
            )
            catalogue.artists.append(artist)
            by_role.setdefault(role, []).append(artist)
    speed = {a.id: rng.uniform(0.85, 1.15) for a in catalogue.artists}
    families: list[dict[str, Any]] = data["families"]
    weights = [f["weight"] for f in families]
    for album_no in range(n_albums):
        if max_tracks is not None and len(catalogue.tracks) >= max_tracks:
            break
        family = rng.choices(families, weights)[0]
        roles: list[str] = list(rng.choice(family["roles"]))
        performers = [rng.choice(by_role[r]) for r in roles]
        pool = _expand(family["bwv"])
        low, high = family["works_per_album"]
        count = min(len(pool), rng.randint(low, high))
        works = sorted(rng.sample(pool, count), key=pool.index)
        album_type = (
            "single"
            if count == 1 and rng.random() < 0.15
            else ("compilation" if rng.random() < 0.08 else "album")
        )
        year = rng.randint(1955, 2025)
        album_id = _make_id(seed, "album", album_no)
        style = family.get("style") or rng.choice(["roman", "roman", "arabic", "dash"])
        live = rng.random() < 0.1
        track_ids: list[str] = []
        for bwv in works:
            work = lookup(bwv)
            if work is None:
                raise ValueError(f"demo_catalogue.json names BWV {bwv}, missing from bwv.csv")
            title = work_title(work, family.get("work_title"))
            movements = _movements(family, bwv) or [("", family.get("tempo", "m"))]
            norm = normalise_bwv(bwv) or bwv
            for number, (movement, tempo_class) in enumerate(movements, start=1):
                name = _track_name(title, norm, number, movement, style)
                info = parse_title(name)
                form = info.movement_form
                pace = speed[performers[0].id]
                seconds = _SECONDS.get(form or "", 200) / pace * math.exp(rng.gauss(0, 0.25))
                key = (
                    work.key if work.key is not None and rng.random() < 0.85 else rng.randrange(12)
                )
                mode = (1 if work.mode == "major" else 0) if work.mode else int(rng.random() < 0.55)
                feats, recco, seg = _simulate(
                    rng,
                    form=form,
                    tempo_class=tempo_class,
                    key=key,
                    mode=mode,
                    roles=roles,
                    seconds=seconds,
                    speed=pace,
                    live=live,
                )
                has_audio = rng.random() < audio_coverage
                segments = (
                    _segments(
                        rng,
                        segments_per_track,
                        seconds,
                        seg["chroma"],
                        seg["timbre"],
                        seg["loudness"],
                    )
                    if has_audio and segments_per_track > 0
                    else None
                )
                track = DemoTrack(
                    id=_make_id(seed, "track", len(catalogue.tracks)),
                    name=name,
                    album_id=album_id,
                    artist_ids=[BACH_ID, *(p.id for p in performers)],
                    duration_ms=int(seconds * 1000),
                    track_number=len(track_ids) + 1,
                    bwv=norm,
                    tempo_class=tempo_class,
                    audio_features=feats if has_audio else None,
                    analysis_segments=segments,
                    reccobeats=recco if rng.random() < reccobeats_coverage else None,
                    **_deezer(seed, len(catalogue.tracks), feats, deezer_coverage),
                )
                catalogue.tracks.append(track)
                track_ids.append(track.id)
        lead = performers[0]
        catalogue.albums.append(
            DemoAlbum(
                id=album_id,
                name=f"Bach: {family['album']}"
                + ("" if album_type != "compilation" else " (Collected Recordings)"),
                album_type=album_type,
                release_date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                artist_ids=[BACH_ID, lead.id],
                label=rng.choice(data["labels"]),
                track_ids=track_ids,
            )
        )
    return catalogue
