"""The README is the user's first hour: its commands and settings table must stay true."""

from __future__ import annotations

import re
from pathlib import Path

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_setting() -> None:
    missing = [
        f"BACHBOT_{name.upper()}"
        for name in Settings.model_fields
        if f"`BACHBOT_{name.upper()}`" not in README and not name.startswith("legacy_")
    ]
    assert missing == []


def test_readme_has_exactly_the_two_setup_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    first_two = [b.strip() for b in blocks[:2]]
    assert (
        first_two[0].endswith("bachbot demo") and "pip install -c constraints.txt" in first_two[0]
    )
    assert first_two[1] == "scripts/test"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci
