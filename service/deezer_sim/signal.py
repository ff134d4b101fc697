"""Preview clips made on the fly from a known signal, so the analysis can be checked.

A clip is the key's tonic triad (major or minor), each note a few harmonics,
struck on every beat at ``tempo`` with a fast attack and a decay, scaled to an
RMS level in dBFS, and encoded as MP3 like Deezer's previews.  Because the
pitch classes, the beat and the level are chosen here, a test can assert that
the analysis finds them; nothing about it imitates a real recording.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

RATE = 22_050
SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PreviewSignal:
    """What a generated preview contains."""

    key: int
    """Tonic pitch class, 0-11 (C=0)."""
    mode: int
    """1 major (tonic, major third, fifth), 0 minor (minor third)."""
    tempo: float
    """Beats per minute: one chord strike per beat."""
    rms_db: float
    """Overall level in dBFS."""
    seconds: float = SECONDS

    @property
    def pitch_classes(self) -> tuple[int, int, int]:
        third = 4 if self.mode == 1 else 3
        return (self.key % 12, (self.key + third) % 12, (self.key + 7) % 12)


def samples(signal: PreviewSignal, *, rate: int = RATE) -> NDArray[np.float32]:
    """The clip as mono float samples in -1..1."""
    n = int(signal.seconds * rate)
    t = np.arange(n, dtype=np.float64) / rate
    tone = np.zeros(n)
    for pc in signal.pitch_classes:
        freq = 220.0 * 2 ** (((pc - 9) % 12) / 12)  # A3 = 220 Hz; notes between A3 and G#4
        for harmonic, weight in ((1, 1.0), (2, 0.4), (3, 0.2)):
            tone += weight * np.sin(2 * np.pi * freq * harmonic * t)
    beat = 60.0 / signal.tempo
    since_beat = np.mod(t, beat)
    envelope = np.minimum(since_beat / 0.005, 1.0) * np.exp(-since_beat / (0.25 * beat))
    y = tone * envelope
    y *= 10 ** (signal.rms_db / 20) / max(float(np.sqrt(np.mean(y**2))), 1e-12)
    clipped: NDArray[np.float32] = np.clip(y, -1.0, 1.0).astype(np.float32)
    return clipped


def mp3(signal: PreviewSignal, *, rate: int = RATE) -> bytes:
    """The clip encoded as MP3 (libsndfile's LAME encoder, as soundfile ships it)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples(signal, rate=rate), rate, format="MP3")
    return buffer.getvalue()
