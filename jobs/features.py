"""The features job: run the provider chain over Bach tracks that lack features.

Each provider is asked only about tracks with no stored row at its current
schema version, in chunks, and each chunk is committed as soon as it is stored,
so an interrupted run loses at most one chunk and a second run fetches nothing.

Which providers exist, in which order, with which chunk size and per-cycle
budget, is what their classes declare in :mod:`models.features.registry`; this
job only hands each class the cycle's context and runs what it builds.

Degrading, not failing: a provider that errors is skipped for this cycle and
the others still run.  The exception is Spotify's rate limit, which is per
app: it ends the job so the job runner pauses every Spotify job until the
time Spotify named.  A ``lasting`` refusal (``spotify_audio``'s first 403:
Spotify closed audio-features to apps created after Nov 2024) is stored
(:func:`service.store.app_state.provider_unavailable`) and passed to the
provider class on every later cycle.  Each provider's failure is logged once
when it starts and once when it ends
(:func:`service.store.app_state.note_failure` / ``note_recovery``, the same
tracking the job runner uses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from models.features.base import (
    Deferred,
    FeatureProvider,
    FeatureValues,
    Missing,
    ProviderClass,
    ProviderResult,
    TrackForFeatures,
)
from models.features.context import AudioSource, ProviderContext, Skipped
from models.features.errors import FeatureProviderError, ProviderRateLimited, ProviderUnavailable
from models.features.registry import provider_classes
from service.settings import Settings
from service.spotify.errors import (
    SpotifyAccountBlocked,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyRestricted,
)
from service.store.app_state import (
    CheckedMark,
    Unavailable,
    features_checked,
    note_failure,
    note_recovery,
    provider_failing,
    provider_unavailable,
)
from service.store.features import (
    TrackFacts,
    save_features,
    tracks_for_features,
    tracks_missing_features,
)
from service.store.tables import utcnow

log = logging.getLogger(__name__)


@dataclass
class FeaturesReport:
    """What one run did, per provider."""

    stored: dict[str, int] = field(default_factory=dict)
    """Rows written (values or "nothing here")."""
    empty: dict[str, int] = field(default_factory=dict)
    """Of those, rows where the provider had nothing for the track."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Provider -> why it did not run or stopped early this cycle."""
    retry_after_s: float | None = None
    """Set when a provider was rate limited."""

    def counts(self) -> dict[str, Any]:
        """Flat counts for the job-run record and the log line."""
        counts: dict[str, Any] = {f"{p}.stored": n for p, n in self.stored.items()}
        counts |= {f"{p}.empty": n for p, n in self.empty.items()}
        counts |= {f"{p}.skipped": why for p, why in self.skipped.items()}
        if self.retry_after_s is not None:
            counts["retry_after_s"] = self.retry_after_s
        return counts


def build_providers(
    *,
    session: Session,
    spotify: AudioSource | None,
    settings: Settings,
    http_client: httpx.Client | None,
) -> tuple[list[tuple[ProviderClass, FeatureProvider]], dict[str, str]]:
    """The providers to run this cycle, in chain order, and why any others are left out."""
    providers: list[tuple[ProviderClass, FeatureProvider]] = []
    skipped: dict[str, str] = {}
    now = utcnow()
    for kind in provider_classes():
        failing = provider_failing(kind.name).get(session)
        if failing is not None and failing.next_at is not None and failing.next_at > now:
            # The upstream named a time (429 Retry-After): like Spotify's, it is kept.
            skipped[kind.name] = (
                f"waiting until {failing.next_at:%Y-%m-%d %H:%M} UTC: {failing.error}"
            )
            continue
        context = ProviderContext(
            settings=settings,
            audio_source=spotify,
            audio_refused=(SpotifyRestricted,),
            http_client=http_client,
            switched_off_for_good=provider_unavailable(kind.name).get(session) is not None,
        )
        built = kind.from_context(context)
        if isinstance(built, Skipped):
            skipped[kind.name] = built.reason
        else:
            providers.append((kind, built))
    return providers, skipped


def for_providers(track: TrackFacts) -> TrackForFeatures:
    """A stored track as providers see it (the store knows nothing of models/)."""
    return TrackForFeatures(
        id=track.id,
        name=track.name,
        artists=track.artists,
        album_name=track.album_name,
        album_type=track.album_type,
        release_date=track.release_date,
        duration_ms=track.duration_ms,
        track_number=track.track_number,
        bwv=track.bwv,
        meta=track.meta,
        isrc=track.isrc,
    )


def split_result(
    ids: list[str], result: ProviderResult
) -> tuple[dict[str, FeatureValues | None], dict[str, str], dict[str, str]]:
    """(values to store, reasons for misses, ids deferred to the next cycle -> why) (pure)."""
    values: dict[str, FeatureValues | None] = {}
    reasons: dict[str, str] = {}
    deferred: dict[str, str] = {}
    for track_id in ids:
        got = result.get(track_id)
        if isinstance(got, Deferred):
            deferred[track_id] = got.reason
        elif isinstance(got, Missing):
            values[track_id] = None
            reasons[track_id] = got.reason
        else:
            values[track_id] = got
    return values, reasons, deferred


def _run_provider(
    *,
    session: Session,
    kind: ProviderClass,
    provider: FeatureProvider,
    report: FeaturesReport,
    settings: Settings,
) -> None:
    """Fetch and store chunk by chunk until nothing is missing or the cycle's budget is spent.

    Tracks are looked for from the provider's :func:`~service.store.app_state.features_checked`
    mark on; a pass that leaves nothing behind moves the mark.
    """
    recheck_days = kind.recheck_misses_days(settings)
    started = utcnow()
    checked = features_checked(kind.name)
    mark = checked.get(session)
    missing = tracks_missing_features(
        session=session,
        provider=kind.name,
        schema_version=kind.schema_version,
        limit=kind.per_cycle,
        misses_before=None if recheck_days is None else utcnow() - timedelta(days=recheck_days),
        changed_since=None if mark is None else mark.since(kind.schema_version),
    )
    for start in range(0, len(missing), kind.chunk):
        ids = missing[start : start + kind.chunk]
        tracks = tracks_for_features(session=session, track_ids=ids)
        result = provider.fetch([for_providers(t) for t in tracks])
        values, reasons, deferred = split_result(ids, result)
        save_features(
            session=session,
            provider=kind.name,
            schema_version=kind.schema_version,
            values=values,
            reasons=reasons,
        )
        session.commit()
        report.stored[kind.name] = report.stored.get(kind.name, 0) + len(values)
        empty = sum(1 for v in values.values() if v is None)
        report.empty[kind.name] = report.empty.get(kind.name, 0) + empty
        if deferred:
            left = len(missing) - start - len(ids) + len(deferred)
            why = next(iter(deferred.values()))
            report.skipped[kind.name] = f"{left} tracks left for the next cycle: {why}"
            return
    if kind.per_cycle is None or len(missing) < kind.per_cycle:
        checked.put(session, CheckedMark.after_pass(kind.schema_version, started=started))
        session.commit()


def _note_failure(
    *, session: Session, name: str, err: Exception, wait_s: float | None = None
) -> None:
    retry_at = None if wait_s is None else (lambda _n: utcnow() + timedelta(seconds=wait_s))
    if note_failure(session, provider_failing(name), str(err), retry_at=retry_at).failures == 1:
        log.warning("feature provider %s started failing: %s", name, err)


def _note_success(*, session: Session, name: str) -> None:
    if note_recovery(session, provider_failing(name)):
        log.info("feature provider %s recovered", name)


def compute_features(
    *,
    session: Session,
    spotify: AudioSource | None,
    settings: Settings,
    http_client: httpx.Client | None = None,
) -> FeaturesReport:
    """Describe every Bach track lacking features, provider by provider; commits as it goes.

    ``http_client`` is the third-party providers' client (ReccoBeats, Deezer; tests
    pass one pointed at the local servers); without it a client is made for this
    run and closed after.
    """
    own_client = http_client is None and (
        settings.reccobeats_enabled or settings.preview_audio_enabled
    )
    client = httpx.Client(timeout=settings.spotify_timeout_s) if own_client else http_client
    try:
        providers, skipped = build_providers(
            session=session, spotify=spotify, settings=settings, http_client=client
        )
        report = FeaturesReport(skipped=skipped)
        for kind, provider in providers:
            _run_one(
                session=session, kind=kind, provider=provider, report=report, settings=settings
            )
    finally:
        if own_client and client is not None:
            client.close()
    log.info("features: %s", report.counts())
    return report


def _run_one(
    *,
    session: Session,
    kind: ProviderClass,
    provider: FeatureProvider,
    report: FeaturesReport,
    settings: Settings,
) -> None:
    name = kind.name
    try:
        _run_provider(
            session=session, kind=kind, provider=provider, report=report, settings=settings
        )
    except ProviderUnavailable as err:
        session.rollback()
        if err.lasting:
            log.warning("%s", err)
            provider_unavailable(name).put(
                session, Unavailable(since=utcnow().isoformat(timespec="seconds"), reason=str(err))
            )
            session.commit()
            report.skipped[name] = str(err)
            return
        _note_failure(session=session, name=name, err=err)
        session.commit()
        report.skipped[name] = str(err)
    except ProviderRateLimited as err:
        session.rollback()
        wait = err.retry_after_s if err.hold else None
        _note_failure(session=session, name=name, err=err, wait_s=wait)
        session.commit()
        report.skipped[name] = str(err)
        report.retry_after_s = max(report.retry_after_s or 0.0, err.retry_after_s)
    except (SpotifyRateLimited, SpotifyAccountBlocked):
        # Spotify's limit is per app, not per endpoint, and an account-wide 403 is
        # no verdict on the provider: the job runner must pause every Spotify job,
        # so neither is swallowed (nor marks the provider unavailable) here.
        session.rollback()
        raise
    except (FeatureProviderError, SpotifyError) as err:
        session.rollback()
        _note_failure(session=session, name=name, err=err)
        session.commit()
        report.skipped[name] = str(err)
    else:
        _note_success(session=session, name=name)
        session.commit()
