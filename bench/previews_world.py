"""The bench's Deezer catalogue: N new recordings with 30-second previews of known chords.

Previews cycle through 24 keys and 4 tempos (96 distinct clips, encoded once by
the local Deezer and served from its cache), so the bench measures bachbot's
side, not the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.features.base import TrackForFeatures
from service.deezer_sim import DeezerSimTrack, PreviewSignal

BACH = "5aIqB5nVVvmFsvSdExz408"
TEMPOS = (72.0, 96.0, 112.0, 132.0)


@dataclass(frozen=True, slots=True)
class BenchTrack:
    n: int

    @property
    def isrc(self) -> str:
        return f"ZZBEN{self.n:07d}"

    @property
    def signal(self) -> PreviewSignal:
        variant = self.n % 96
        return PreviewSignal(variant % 12, (variant // 12) % 2, TEMPOS[variant // 24], -18.0)

    def on_deezer(self) -> DeezerSimTrack:
        return DeezerSimTrack(
            id=7_000_000 + self.n, isrc=self.isrc, title=f"Prelude No. {self.n}, BWV 846",
            artist="Bench Player", duration_s=120, signal=self.signal, bpm=self.signal.tempo,
            gain=-8.0,
        )  # fmt: skip

    def for_provider(self) -> TrackForFeatures:
        return TrackForFeatures(
            id=f"bench{self.n:017d}", name=f"Prelude No. {self.n}, BWV 846",
            artists=[{"id": BACH, "name": "J. S. Bach"}, {"id": "b", "name": "Bench Player"}],
            duration_ms=120_000, bwv="846", isrc=self.isrc,
        )  # fmt: skip


def bench_track(n: int) -> BenchTrack:
    return BenchTrack(n)
