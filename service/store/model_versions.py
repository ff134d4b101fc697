"""Queries over the model registry's database side (the artifacts live in the data dir)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import ModelVersion


def promoted_model(*, session: Session) -> ModelVersion | None:
    """The model in use: the most recently promoted one (at most one is promoted)."""
    return session.scalars(
        select(ModelVersion)
        .where(ModelVersion.promoted.is_(True))
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
        .limit(1)
    ).first()
