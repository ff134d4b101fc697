"""Descriptors of a short audio clip: the study's pitch and timbre vectors, measured.

The 2015 study described each recording by Spotify's (then Echo Nest's) analysis:
the means of 12 segment *pitches* (a chroma vector) and 12 *timbre* values.
Spotify's timbre basis is its own and unpublished; 12 MFCCs are the standard
open stand-in for it (both are a low-order description of the spectral
envelope), so ``mfcc_*`` take that place here.  Everything is computed with
librosa (decoding with soundfile/libsndfile, which reads MP3 since 1.1): both
are maintained, pip-installable with binary wheels (no ffmpeg), and librosa is
the reference implementation most MIR papers cite.

:func:`describe_audio` takes the clip as bytes (a preview is fetched into
memory, analysed and dropped; nothing is written to disk) and raises
:class:`AudioUnreadable` with a one-line reason for anything that is not usable
audio (not audio at all, truncated to nothing, silent).

librosa is imported on the first analysis, never at module import: ``bachbot
status`` and the rest of the CLI import the provider registry, and librosa's
import plus numba's first compilation cost seconds.  numba caches compiled
functions next to librosa's sources unless told otherwise, which fails in a
read-only container; :func:`prepare_numba_cache` points it at a writable
folder (the data dir) before the import, so the compile happens once per
install instead of once per process.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

SAMPLE_RATE = 22_050
"""Analysis rate: librosa's default; enough for chroma and 12 MFCCs, half the work of 44.1 kHz."""
MAX_SECONDS = 35.0
"""Deezer previews are 30 s; a longer file (``bachbot features --audio``) is cut here."""
N_FFT = 2048
SILENCE_DB = -60.0
"""A clip whose overall RMS is below this (dBFS) is treated as silent."""

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
CHROMA_MEAN = tuple(f"chroma_{i}" for i in range(12))
CHROMA_SD = tuple(f"chroma_sd_{i}" for i in range(12))
MFCC_MEAN = tuple(f"mfcc_{i}" for i in range(12))
MFCC_SD = tuple(f"mfcc_sd_{i}" for i in range(12))
SCALARS = (
    "tempo", "rms_db", "centroid_hz", "bandwidth_hz", "flatness", "onset_rate",
    "key", "mode", "key_strength",
)  # fmt: skip
AUDIO_COLUMNS: tuple[str, ...] = CHROMA_MEAN + CHROMA_SD + MFCC_MEAN + MFCC_SD + SCALARS
"""Every value :func:`describe_audio` returns, in a fixed order."""

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first (C major / C minor).
_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


class AudioUnreadable(ModelError):
    """The bytes are not usable audio; ``reason`` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Key:
    pitch_class: int
    """0-11, C=0 (Spotify's numbering)."""
    mode: int
    """1 major, 0 minor (Spotify's numbering)."""
    strength: float
    """Pearson correlation of the chroma with the winning key profile (-1..1)."""


def estimate_key(chroma_means: Any) -> Key:
    """Krumhansl-Schmuckler: the major or minor key whose profile best matches the chroma (pure)."""
    import numpy as np

    chroma = np.asarray(chroma_means, dtype=float)
    best = Key(0, 1, -2.0)
    for mode, profile in ((1, _MAJOR), (0, _MINOR)):
        for tonic in range(12):
            rotated = np.roll(np.asarray(profile), tonic)
            if float(np.std(chroma)) == 0.0:
                return Key(0, 1, 0.0)
            r = float(np.corrcoef(chroma, rotated)[0, 1])
            if r > best.strength:
                best = Key(tonic, mode, r)
    return best


def prepare_numba_cache(folder: Path) -> None:
    """Point numba's on-disk cache at ``folder`` (created), unless the user set one.

    Must run before librosa is first imported; later calls change nothing.
    """
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)


def decode(data: bytes) -> NDArray[np.float32]:
    """Mono samples at :data:`SAMPLE_RATE` (at most :data:`MAX_SECONDS`), or AudioUnreadable."""
    import numpy as np
    import soundfile

    if not data:
        raise AudioUnreadable("the file is empty")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate = sound.samplerate
            frames = sound.read(frames=int(MAX_SECONDS * rate), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise AudioUnreadable(f"not readable audio ({err})") from err
    samples = np.ascontiguousarray(frames.mean(axis=1), dtype=np.float32)
    if samples.size < rate:  # under a second: a truncated download, nothing to describe
        raise AudioUnreadable(f"only {samples.size / rate:.2f} s of audio could be decoded")
    if rate != SAMPLE_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=rate, target_sr=SAMPLE_RATE)
    return samples


def global_tempo(onset_env: NDArray[np.float32], *, hop: int = 512) -> float:
    """The clip's tempo: librosa's estimator (autocorrelation of the onset strength weighted
    by a log-normal prior around 120 BPM, ``librosa.feature.tempo``), computed over the
    whole clip at once instead of averaging 8-second windows; for a 30-second preview the
    two agree and this costs one FFT instead of one per frame."""
    import librosa
    import numpy as np

    window = 384  # librosa's default tempogram window, ~8.9 s at 22 050 Hz / 512
    envelope = onset_env.astype(np.float64) - float(onset_env.mean())
    ac = librosa.autocorrelate(envelope, max_size=min(window, envelope.size))
    if ac[0] <= 0:
        return 0.0
    ac = ac / ac[0]
    bpms = librosa.tempo_frequencies(ac.size, sr=SAMPLE_RATE, hop_length=hop)
    usable = (bpms > 30.0) & (bpms <= 320.0)
    with np.errstate(divide="ignore"):
        prior = -0.5 * ((np.log2(bpms) - np.log2(120.0)) / 1.0) ** 2
    score = np.where(usable, np.log1p(1e6 * np.clip(ac, 0.0, None)) + prior, -np.inf)
    return float(bpms[int(np.argmax(score))])


@cache
def _chroma_bank(tuning: float) -> NDArray[np.float32]:
    import librosa

    bank: NDArray[np.float32] = librosa.filters.chroma(
        sr=SAMPLE_RATE, n_fft=N_FFT, tuning=tuning, dtype="float32"
    )
    return bank


@cache
def _mel_bank() -> NDArray[np.float32]:
    import librosa

    bank: NDArray[np.float32] = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, dtype="float32")
    return bank


def describe_samples(samples: NDArray[np.float32]) -> dict[str, float]:
    """Every :data:`AUDIO_COLUMNS` value for mono samples at :data:`SAMPLE_RATE`."""
    import librosa
    import numpy as np

    y = samples.astype(np.float32, copy=False)
    sr = SAMPLE_RATE
    rms_all = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    rms_db = 20.0 * np.log10(max(rms_all, 1e-10))
    if rms_db < SILENCE_DB:
        raise AudioUnreadable(f"the audio is silent (RMS {rms_db:.0f} dBFS)")
    spectrum = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=512))
    power = spectrum**2
    # Baroque recordings are often at A=415-430 Hz: the chroma bins follow the estimated
    # tuning.  Every fourth frame is plenty for that and saves most of its cost.
    tuning = round(float(librosa.estimate_tuning(S=spectrum[:, ::4], sr=sr)), 2)
    # The filter banks as plain matrix products: what chroma_stft/melspectrogram compute,
    # without their per-call filter construction and numpy 2's slow einsum path.
    chroma = librosa.util.normalize(_chroma_bank(tuning) @ power, norm=np.inf, axis=0)
    mel_db = librosa.power_to_db(_mel_bank() @ power)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=12)
    onset_env = librosa.onset.onset_strength(S=mel_db, sr=sr)
    tempo = global_tempo(onset_env)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr)
    seconds = y.size / sr
    shape = spectrum[:, ::2]  # means of the spectral shape over 30 s: half the frames do
    centroid = librosa.feature.spectral_centroid(S=shape, sr=sr)
    bandwidth = librosa.feature.spectral_bandwidth(S=shape, sr=sr, centroid=centroid)
    flatness = librosa.feature.spectral_flatness(S=shape)
    chroma_means = chroma.mean(axis=1)
    key = estimate_key(chroma_means)
    values: dict[str, float] = {}
    for names, row in (
        (CHROMA_MEAN, chroma_means),
        (CHROMA_SD, chroma.std(axis=1)),
        (MFCC_MEAN, mfcc.mean(axis=1)),
        (MFCC_SD, mfcc.std(axis=1)),
    ):
        values.update({name: round(float(v), 5) for name, v in zip(names, row, strict=True)})
    values |= {
        "tempo": round(tempo, 2),
        "rms_db": round(float(rms_db), 2),
        "centroid_hz": round(float(centroid.mean()), 1),
        "bandwidth_hz": round(float(bandwidth.mean()), 1),
        "flatness": round(float(flatness.mean()), 6),
        "onset_rate": round(len(onsets) / seconds, 3),
        "key": float(key.pitch_class),
        "mode": float(key.mode),
        "key_strength": round(key.strength, 4),
    }
    return values


@cache
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


def describe_audio(data: bytes) -> dict[str, float]:
    """Decode ``data`` (MP3, WAV, FLAC, OGG: whatever libsndfile reads) and describe it.

    BLAS runs single-threaded here: on matrices of one 30-second clip its threads
    cost more CPU in hand-offs than they save (measured: 0.11 s -> 0.06 s of CPU a
    clip on 2 busy cores), and the daemon analyses one clip at a time anyway.
    """
    samples = decode(data)
    try:
        with _threadpools().limit(limits=1, user_api="blas"):
            return describe_samples(samples)
    except AudioUnreadable:
        raise
    except (ValueError, FloatingPointError) as err:  # librosa's ParameterError is a ValueError
        raise AudioUnreadable(f"the audio could not be analysed ({err})") from err
