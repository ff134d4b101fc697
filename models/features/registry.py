"""The feature providers bachbot runs: the only place that names them.

Everything else reads this list: the feature matrix (its columns, fill plan and
the provider versions it reads), the features job (which classes to build, in
which order, with which chunk size and budget), ``bachbot features --show`` and
the status page.  Adding a provider is its module in ``models/features/`` plus
one line in :data:`PROVIDERS`.
"""

from __future__ import annotations

from functools import cache

from models.features.base import ProviderClass
from models.features.metadata import MetadataProvider
from models.features.preview_audio import PreviewAudioProvider
from models.features.reccobeats import ReccoBeatsProvider
from models.features.spotify_audio import SpotifyAudioProvider

PROVIDERS: tuple[ProviderClass, ...] = (
    SpotifyAudioProvider,
    ReccoBeatsProvider,
    PreviewAudioProvider,
    MetadataProvider,
)
"""Every provider class, in any order (each declares its ``order`` in the chain).

Tests that need another provider replace this tuple (``monkeypatch.setattr``);
everything derived from it is cached per its contents, so they see the change.
"""


def provider_classes() -> tuple[ProviderClass, ...]:
    """The registered classes in chain order, their declarations checked."""
    return _checked(PROVIDERS)


def provider_class(name: str) -> ProviderClass | None:
    """The registered class called ``name`` (None: not, or no longer, registered)."""
    return next((p for p in provider_classes() if p.name == name), None)


@cache
def _checked(providers: tuple[ProviderClass, ...]) -> tuple[ProviderClass, ...]:
    problems = declaration_problems(providers)
    if problems:
        raise ValueError("feature provider registry: " + "; ".join(problems))
    return tuple(sorted(providers, key=lambda p: p.order))


def declaration_problems(providers: tuple[ProviderClass, ...]) -> list[str]:
    """What would make the providers clash or the matrix ambiguous, in words (pure)."""
    problems: list[str] = []

    def unique(what: str, keys: list[object]) -> None:
        clashes = sorted({str(k) for k in keys if keys.count(k) > 1})
        if clashes:
            problems.append(f"two providers share the {what} {', '.join(clashes)}")

    unique("name", [p.name for p in providers])
    unique("order", [p.order for p in providers])
    unique("block and priority", [f"{p.block}/{p.priority}" for p in providers])
    for p in providers:
        if not p.columns or len(set(p.columns)) != len(p.columns):
            problems.append(f"{p.name} must declare its columns once each")
        if p.chunk < 1 or (p.per_cycle is not None and p.per_cycle < 1):
            problems.append(f"{p.name} needs a chunk and a per-cycle budget of at least 1")
        if "." in p.block or not p.block:
            problems.append(f"{p.name}'s block {p.block!r} must be a word without a dot")
    return problems
