"""The options ``evaluate --dataset`` and ``replay`` share for reading a labelled table.

Typer reads each option's settings from the default's ``OptionInfo``, so one
definition serves both commands and their help stays the same.
"""

from __future__ import annotations

import typer

FEATURES = typer.Option(
    None,
    "--features",
    metavar="a,b,c",
    help="Feature columns (default: every numeric column except ID-like ones).",
)
GROUP = typer.Option(
    None,
    "--group",
    metavar="a,b",
    help="Columns whose values mark related rows (same song, same work); "
    "kept on one side of every split.",
)
POSITIVE_AT = typer.Option(
    None,
    "--positive-at",
    metavar="VALUE",
    help="Target values at or above this count as loved (default: 0/1 as is, "
    "1-10 ratings from BACHBOT_LOVE_THRESHOLD).",
)


def names(text: str | None) -> list[str] | None:
    """``a, b,c`` -> ``["a", "b", "c"]``; nothing -> None."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    return parts or None
