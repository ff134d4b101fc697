"""``bachbot freeze [--name NAME]``: keep today's "Predicted favourites" as a playlist of its own."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
