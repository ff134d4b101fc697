"""Small named facts kept between runs (bot playlist id, provider availability, resume times)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.store.models import AppState


def get_state(*, session: Session, key: str, default: Any = None) -> Any:
    row = session.get(AppState, key)
    return default if row is None else row.value


def set_state(*, session: Session, key: str, value: Any) -> None:
    row = session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def delete_state(*, session: Session, key: str) -> None:
    row = session.get(AppState, key)
    if row is not None:
        session.delete(row)
        session.flush()
