"""A provider is one class plus one registry line: everything else follows the registry.

The fake provider below is registered the way a test can: by replacing
``models.features.registry.PROVIDERS`` with ``monkeypatch.setattr`` (the
matrix layout is cached per registry contents, so it follows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

import numpy as np
import pytest
from sqlalchemy.orm import Session

from jobs.feature_matrix import load_matrix
from jobs.features import compute_features
from models.features import registry
from models.features.base import ProviderClass, ProviderResult, TrackForFeatures
from models.features.context import ProviderContext, ProviderSettings, Skipped
from models.features.errors import ProviderUnavailable
from models.matrix import feature_schema
from service.settings import Settings
from service.status import provider_status
from service.store.app_state import provider_unavailable
from service.store.tables import Track

TRACKS = [f"fake{n:018d}" for n in range(5)]


class BrightnessProvider:
    """A provider of two made-up numbers: brightness is the title's length."""

    name = "brightness"
    title = "Made-up brightness"
    status_note = "sends nothing anywhere"
    schema_version = 3
    columns = ("brightness", "warmth")
    block = "timbre"
    priority = 0
    order = 10  # after every real provider
    chunk = 2
    per_cycle = None

    asked: ClassVar[list[list[str]]] = []
    """Track ids per fetch, so a test sees the chunking."""
    refuse: ClassVar[bool] = False

    @classmethod
    def recheck_misses_days(cls, settings: ProviderSettings) -> float | None:
        return None

    @classmethod
    def enabled(cls, settings: ProviderSettings) -> bool:
        return True

    @classmethod
    def from_context(cls, context: ProviderContext) -> BrightnessProvider | Skipped:
        if context.switched_off_for_good:
            return Skipped("refused for good")
        return cls()

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        self.asked.append([t.id for t in tracks])
        if self.refuse:
            raise ProviderUnavailable(
                "brightness refuses this app", provider=self.name, lasting=True
            )
        return {t.id: {"brightness": float(len(t.name)), "warmth": None} for t in tracks}


@pytest.fixture
def brightness(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[BrightnessProvider]]:
    monkeypatch.setattr(registry, "PROVIDERS", (*registry.PROVIDERS, BrightnessProvider))
    BrightnessProvider.asked = []
    BrightnessProvider.refuse = False
    yield BrightnessProvider


@pytest.fixture
def tracks(session: Session) -> list[str]:
    for n, track_id in enumerate(TRACKS):
        session.add(Track(id=track_id, name="Aria" + "!" * n, is_bach=True))
    session.commit()
    return TRACKS


def test_a_registered_provider_reaches_the_matrix_the_job_and_features_show(
    brightness: type[BrightnessProvider],
    tracks: list[str],
    session: Session,
    settings: Settings,
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    columns = feature_schema().columns
    assert columns[-2:] == ("timbre.brightness", "timbre.warmth")
    assert feature_schema().version != "1-96540d965602"  # older models are refused
    _, before, _ = cli("features", "--show", TRACKS[2])
    assert "[brightness] not fetched yet" in before

    report = compute_features(session=session, spotify=None, settings=settings)

    assert report.stored["brightness"] == 5
    assert brightness.asked == [TRACKS[0:2], TRACKS[2:4], TRACKS[4:5]]  # its chunk of 2
    matrix = load_matrix(session=session, track_ids=tracks)
    assert matrix[:, columns.index("timbre.brightness")].tolist() == [4, 5, 6, 7, 8]
    assert np.isnan(matrix[:, columns.index("timbre.warmth")]).all()
    assert not np.isnan(matrix[:, columns.index("metadata.album_type.album")]).any()

    code, out, _ = cli("features", "--show", TRACKS[2])
    assert code == 0
    lines = out.splitlines()
    shown = [line.split("]")[0] + "]" for line in lines if line.startswith("[")]
    assert shown == [
        "[spotify_audio]", "[reccobeats]", "[metadata]", "[preview_audio]", "[brightness]",
    ]  # fmt: skip
    assert any(line.split() == ["brightness", "6"] for line in lines)
    assert provider_status(session=session, settings=settings)["brightness"] == (
        "on (sends nothing anywhere)"
    )


def test_a_lasting_refusal_is_stored_and_the_class_is_told_next_cycle(
    brightness: type[BrightnessProvider], tracks: list[str], session: Session, settings: Settings
) -> None:
    brightness.refuse = True
    first = compute_features(session=session, spotify=None, settings=settings)
    assert first.skipped["brightness"] == "brightness refuses this app"
    assert provider_unavailable("brightness").get(session) is not None
    assert provider_status(session=session, settings=settings)["brightness"].startswith(
        "unavailable for this app since "
    )

    brightness.asked = []
    second = compute_features(session=session, spotify=None, settings=settings)
    assert second.skipped["brightness"] == "refused for good"
    assert brightness.asked == []


def test_real_registry_runs_spotify_then_reccobeats_then_metadata_then_previews() -> None:
    assert [p.name for p in registry.provider_classes()] == [
        "spotify_audio",
        "reccobeats",
        "metadata",
        "preview_audio",
    ]


class _Clash(BrightnessProvider):
    name = "metadata"
    block = "audio"
    chunk = 0


def test_clashing_declarations_are_refused_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    clash: ProviderClass = _Clash
    problems = registry.declaration_problems((*registry.PROVIDERS, clash))
    assert "two providers share the name metadata" in problems
    assert "two providers share the block and priority audio/0" in problems
    assert "metadata needs a chunk and a per-cycle budget of at least 1" in problems
    monkeypatch.setattr(registry, "PROVIDERS", (*registry.PROVIDERS, clash))
    with pytest.raises(ValueError, match="share the name metadata"):
        feature_schema()
