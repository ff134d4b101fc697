"""The store's layer rule: tables, migrations and queries, with no model, job or gateway code.

Read from the source with :mod:`ast`, not by importing, so an import under
``if TYPE_CHECKING:`` or inside a function counts as much as one at the top
(the layer rule of the design: ``service/store/`` has its own plain types).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "service" / "store"
FORBIDDEN = ("models", "jobs", "service.spotify")
"""Packages the store may not import: the layers above it and the gateway beside it."""

KNOWN_EXCEPTIONS = {
    # Branch i16-providers takes the model code out of the store's feature queries.
    # Once it is merged these imports are gone and the test fails until the entry is deleted.
    "service/store/features.py": {
        "from models.features.base import FeatureValues, TrackForFeatures",
        "from models.matrix import PROVIDER_VERSIONS, build_matrix",
    },
}


class Import(NamedTuple):
    line: int
    statement: str


def _forbidden(name: str) -> bool:
    return any(name == top or name.startswith(f"{top}.") for top in FORBIDDEN)


def forbidden_imports(source: str, *, module: str) -> list[Import]:
    """Each import in ``source`` that reaches a forbidden package, in line order.

    ``from a import b`` is judged by ``a`` and by ``a.b`` (``b`` may be a module,
    as in ``from service import spotify``); ``module`` resolves relative imports.
    """
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
        if any(_forbidden(n) for n in names):
            found.append(Import(node.lineno, ast.unparse(node)))
    return sorted(found)


STORE_MODULES = sorted(STORE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", STORE_MODULES, ids=_relative)
def test_store_imports_nothing_from_models_jobs_or_the_gateway(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    found = forbidden_imports(path.read_text(encoding="utf-8"), module=module)
    tolerated = KNOWN_EXCEPTIONS.get(_relative(path), set())
    assert [i for i in found if i.statement not in tolerated] == []
    stale = tolerated - {i.statement for i in found}
    assert not stale, f"{_relative(path)} no longer has {stale}: delete it from KNOWN_EXCEPTIONS"


def test_every_store_module_is_checked() -> None:
    names = {path.relative_to(STORE).as_posix() for path in STORE_MODULES}
    assert {"tracks.py", "playlists.py", "models.py", "migrations/env.py"} <= names
    assert set(KNOWN_EXCEPTIONS) <= {_relative(path) for path in STORE_MODULES}


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
        ("from service.store.models import Track\nfrom . import models", []),
        ("from .. import settings\nimport modelsx", []),
    ],
)
def test_the_import_reader_finds_every_form_of_import(source: str, found: list[str]) -> None:
    hits = forbidden_imports(source, module="service.store.example")
    assert [hit.statement for hit in hits] == found
