"""Starting bachbot is cheap: the everyday commands never load the model stack.

Each command runs in a fresh interpreter (this process has long imported
everything) and prints the heavy top-level packages it ended up with.  How
much CPU and memory that saves is measured in bench/ (``python -m bench
--only startup``), never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from service.settings import Settings
from service.store.tables import Track

HEAVY = ("sklearn", "scipy", "matplotlib")
TRACK = "4uLU6hMCjMI75M1A2tKUQC"

SCRIPT = (
    "import json, sys\n"
    "from service.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "loaded = sorted({name.split('.')[0] for name in sys.modules})\n"
    "print(json.dumps({'code': code, 'loaded': loaded}))\n"
)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    last = done.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(last)
    result["heavy"] = sorted(set(HEAVY) & set(result.pop("loaded")))  # type: ignore[arg-type]
    result["stderr"] = done.stderr
    return result


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    return env | {"BACHBOT_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["--version"], ["rate", "--help"], ["status"]]
)
def test_everyday_commands_import_no_model_code(
    args: list[str], clean_env: dict[str, str], tmp_path: Path
) -> None:
    result = _run(args, clean_env, tmp_path)
    assert result["code"] == 0, result["stderr"]
    assert result["heavy"] == []


def test_rating_a_known_track_imports_no_model_code_and_needs_no_spotify_app(
    settings: Settings, session: Session, clean_env: dict[str, str], tmp_path: Path
) -> None:
    session.add(Track(id=TRACK, name="Aria, BWV 988", is_bach=True))
    session.commit()
    env = clean_env | {"BACHBOT_DATABASE_URL": settings.resolved_database_url}

    result = _run(["rate", TRACK, "9"], env, tmp_path)

    assert result["code"] == 0, result["stderr"]
    assert result["heavy"] == []
