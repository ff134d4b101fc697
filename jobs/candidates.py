"""A model's candidates, read from its predictions in bounded memory.

At 500,000 known tracks the predictions with each track's work and performer
(a JSON column) would cost hundreds of megabytes as one list.  Publish never
needs them all: "Predicted favourites" wants the best few hundred in score
(or upside) order, and "Bach to rate" the top of the teaching value, so the
rankings are streamed from the database a block at a time (the database
sorts; ``ix_predictions_model_score`` serves the score order) and the caller
stops reading when its list is full.  The teaching value is not a column, so
its shortlist is a heap over a stream of the light columns (each block cut
first by a vectorised bound), and only the shortlist is looked up for its
work and performer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Select, literal_column, select
from sqlalchemy.orm import Session

from jobs.playlist_plan import (
    SHORTLIST,
    TEACHING_BOUND_MARGIN,
    Candidate,
    teaching_shortlist,
    teaching_values,
    work_key,
)
from service.store.tables import UPSIDE_SQL, Prediction, Track

BLOCK = 1000
"""Candidates per query of a ranked stream."""
LIGHT_BLOCK = 20_000
"""Rows per fetch of the light stream (ids and scores only)."""


def _performer(artists: object, composers: frozenset[str]) -> str | None:
    """The first credited artist who is not the composer (Bach is often listed first)."""
    for artist in artists if isinstance(artists, list) else []:
        if isinstance(artist, dict) and artist.get("id") and artist["id"] not in composers:
            return str(artist["id"])
    return None


Row = tuple[str, float, float | None, str | None, object]
"""track id, score, uncertainty, BWV, artists."""


class CandidateSource:
    """One model's predictions for Bach tracks, as ranked streams and lookups."""

    def __init__(self, session: Session, model_version_id: int, composers: Sequence[str]) -> None:
        self.session = session
        self.model_version_id = model_version_id
        self.composers = frozenset(composers)

    def _full(self) -> Select[Row]:
        return (
            select(
                Prediction.track_id,
                Prediction.score,
                Prediction.uncertainty,
                Track.bwv,
                Track.artists,
            )
            .join(Track, Track.id == Prediction.track_id)
            .where(Prediction.model_version_id == self.model_version_id, Track.is_bach.is_(True))
        )

    def _candidates(self, rows: Iterable[Any]) -> list[Candidate]:
        return [
            Candidate(t, s, u, work_key(bwv), _performer(artists, self.composers))
            for t, s, u, bwv, artists in rows
        ]

    def _ranked(self, query: Select[Row]) -> Iterator[Candidate]:
        offset = 0
        while True:
            block = self._candidates(self.session.execute(query.offset(offset).limit(BLOCK)))
            yield from block
            if len(block) < BLOCK:
                return
            offset += BLOCK

    def by_mean(self) -> Iterator[Candidate]:
        """Best score first (ties: lower uncertainty, unknown last; then track id)."""
        return self._ranked(
            self._full().order_by(
                Prediction.score.desc(),
                Prediction.uncertainty.asc().nulls_last(),
                Prediction.track_id,
            )
        )

    def by_upside(self) -> Iterator[Candidate]:
        """Highest upside (``score + UCB_Z * uncertainty``) first (then score, then track id)."""
        return self._ranked(self.upside_order())

    def upside_order(self) -> Select[Row]:
        """The query behind :meth:`by_upside`.

        Ordered by the expression ``ix_predictions_model_upside`` holds, spelled with
        the same literals, so the database reads the index instead of sorting all of
        the model's predictions for every block.
        """
        return self._full().order_by(
            literal_column(f"({UPSIDE_SQL})").desc(),
            Prediction.score.desc(),
            Prediction.track_id,
        )

    def _light_blocks(self) -> Iterator[Sequence[Any]]:
        """(track id, score, uncertainty) rows, :data:`LIGHT_BLOCK` at a time: Core rows
        on the session's connection (the ORM's row handling was most of a full read)."""
        query = (
            select(Prediction.track_id, Prediction.score, Prediction.uncertainty)
            .join(Track, Track.id == Prediction.track_id)
            .where(Prediction.model_version_id == self.model_version_id, Track.is_bach.is_(True))
        )
        self.session.flush()
        # per statement: Connection.execution_options would stream every later query too
        streamed = query.execution_options(yield_per=LIGHT_BLOCK)
        yield from self.session.connection().execute(streamed).partitions()

    def open_ids(self, excluded: set[str]) -> Iterator[str]:
        """Every candidate's track id that is not in ``excluded``, as a stream."""
        for block in self._light_blocks():
            yield from (row[0] for row in block if row[0] not in excluded)

    def teaching_shortlist(self, *, excluded: set[str], size: int) -> list[Candidate]:
        """:func:`jobs.playlist_plan.teaching_shortlist` of every candidate, the same list.

        Each block is first cut to the rows that can still be on the shortlist by
        :func:`jobs.playlist_plan.teaching_values` (less its margin); only those
        become candidates for the exact heap.  A full read after a model change at
        500,000 tracks made a candidate and a teaching value of every row.
        """
        keep = SHORTLIST * size
        best: list[Candidate] = []
        if keep <= 0:
            return best
        for block in self._light_blocks():
            ids = [row[0] for row in block]
            value = teaching_values(
                np.array([row[1] for row in block], dtype=float),
                np.array([row[2] or 0.0 for row in block], dtype=float),
            )
            rows = np.flatnonzero([t not in excluded for t in ids])
            if len(rows) > keep:
                floor = np.partition(value[rows], len(rows) - keep)[len(rows) - keep]
                rows = rows[value[rows] >= floor - TEACHING_BOUND_MARGIN]
            fresh = (Candidate(*block[int(i)]) for i in rows)
            best = teaching_shortlist([*best, *fresh], excluded=excluded, size=size)
        return best

    def described(self, shortlist: Sequence[Candidate]) -> list[Candidate]:
        """``shortlist`` again with each track's work and performer, in the same order."""
        ids = [c.track_id for c in shortlist]
        found: dict[str, Candidate] = {}
        for start in range(0, len(ids), BLOCK):
            rows = self.session.execute(
                self._full().where(Prediction.track_id.in_(ids[start : start + BLOCK]))
            )
            found.update((c.track_id, c) for c in self._candidates(rows))
        return [found[t] for t in ids if t in found]
