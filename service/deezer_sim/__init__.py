"""The local Deezer: Deezer's API and preview CDN on loopback, for tests, the demo and bench."""

from service.deezer_sim.server import DeezerSim, DeezerSimTrack
from service.deezer_sim.signal import PreviewSignal

__all__ = ["DeezerSim", "DeezerSimTrack", "PreviewSignal"]
