"""A local Spotify: a real HTTP server that speaks the 2026 Web API subset bachbot uses.

Tests, benchmarks and the offline demo run against it; nothing in bachbot's
test suite talks to the real Spotify.  See :mod:`.server` for the entry point,
:mod:`.state` for the data-file format, :mod:`.faults` for fault injection,
:mod:`.request_rules` for the requests it refuses as Spotify does, and
:mod:`.spec` / :mod:`.answer_checks` for the strict checks of every response.
"""

from service.spotify_sim.api import EXTENDED, NEW
from service.spotify_sim.faults import Fault, Faults
from service.spotify_sim.server import SpotifySim
from service.spotify_sim.state import SimState

__all__ = ["EXTENDED", "NEW", "Fault", "Faults", "SimState", "SpotifySim"]
