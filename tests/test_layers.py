"""Who may import whom: the layer rule of the README's Architecture section, from the imports.

Read from the source with :mod:`ast`, not by importing, so an import under
``if TYPE_CHECKING:`` or inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]

TOP = (
    "service.cli",
    "service.daemon",
    "service.http",
    "service.cycle",
    "service.jobrunner",
    "service.wiring",
    "service.demo",
    "service.demo_world",
    "service.status",
    "bench",
)
"""The layer that wires things up and may import everything."""

RULES: dict[str, tuple[str, ...]] = {
    "models": ("service", "jobs", "bench"),
    "service/store": ("models", "jobs", "service.spotify", *TOP),
    "service/spotify": ("models", "jobs", "service.store", *TOP),
    "jobs": TOP,
}
"""Folder -> packages it must never import (the layers above it, and the one beside it)."""


class Import(NamedTuple):
    line: int
    statement: str


def forbidden_imports(source: str, *, module: str, forbidden: tuple[str, ...]) -> list[Import]:
    """Each import in ``source`` that reaches a forbidden package, in line order.

    ``from a import b`` is judged by ``a`` and by ``a.b`` (``b`` may be a module,
    as in ``from service import spotify``); ``module`` resolves relative imports.
    """

    def banned(name: str) -> bool:
        return any(name == top or name.startswith(f"{top}.") for top in forbidden)

    package = module.split(".")[:-1]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            names = [name, *(f"{name}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(banned(n) for n in names):
            found.append(Import(node.lineno, ast.unparse(node)))
    return sorted(found)


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


CHECKED = [(folder, path) for folder in sorted(RULES) for path in _modules(folder)]


@pytest.mark.parametrize(
    ("folder", "path"), CHECKED, ids=[p.relative_to(ROOT).as_posix() for _, p in CHECKED]
)
def test_each_module_imports_only_what_is_below_its_layer(folder: str, path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    found = forbidden_imports(
        path.read_text(encoding="utf-8"), module=module, forbidden=RULES[folder]
    )
    assert found == []


def test_every_layer_is_checked() -> None:
    names = {p.relative_to(ROOT).as_posix() for _, p in CHECKED}
    for expected in ("models/pipeline.py", "service/store/tracks.py", "jobs/train.py",
                     "service/spotify/gateway.py", "service/store/migrations/env.py"):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize(
    ("source", "found"),
    [
        (
            "from service.spotify.types import AlbumRef",
            ["from service.spotify.types import AlbumRef"],
        ),
        ("import models.bach", ["import models.bach"]),
        ("import json, jobs", ["import json, jobs"]),
        ("from service import settings, spotify", ["from service import settings, spotify"]),
        ("from ..spotify import types", ["from ..spotify import types"]),
        ("from ...jobs.sync import sync_library", ["from ...jobs.sync import sync_library"]),
        ("if TYPE_CHECKING:\n    from models import bach", ["from models import bach"]),
        ("def f() -> None:\n    import jobs.train", ["import jobs.train"]),
        ("from service.spotify_sim import SpotifySim", []),
        ("from service.store.tables import Track\nfrom . import models", []),
        ("from .. import settings\nimport modelsx", []),
    ],
)
def test_the_import_reader_finds_every_form_of_import(source: str, found: list[str]) -> None:
    hits = forbidden_imports(
        source, module="service.store.example", forbidden=RULES["service/store"]
    )
    assert [hit.statement for hit in hits] == found
