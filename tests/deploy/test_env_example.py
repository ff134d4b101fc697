""".env.example is the user's list of settings: complete, current, loadable, secret-free."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo

from service.settings import Settings
from tests.deploy.files import ENV_EXAMPLE, read_env_example

# Settings whose default depends on the machine, so the example lists them commented out.
MACHINE_DEPENDENT = {"data_dir"}
# Settings read only to warn that they no longer do anything; not in the example.
RETIRED = "legacy_"
# Names in .env.example that are not bachbot settings but docker compose's (none since the
# database password became a file secret).
COMPOSE_ONLY: set[str] = set()


def _env_names(name: str, info: FieldInfo) -> list[str]:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [(prefix + name).upper()]


def _left_blank(name: str, info: FieldInfo) -> bool:
    """Secrets, and the client id that belongs with one, are the user's to fill in."""
    return "SecretStr" in str(info.annotation) or name == "spotify_client_id"


def _plain(value: Any) -> Any:
    """Blank strings and blank secrets mean "not set"."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return None if value == "" else value


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith(("BACHBOT_", "SPOTIPY_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory


def test_every_setting_is_listed_in_env_example() -> None:
    listed = {entry.name for entry in read_env_example()}
    missing = [
        _env_names(name, info)[0]
        for name, info in Settings.model_fields.items()
        if not listed & set(_env_names(name, info)) and not name.startswith(RETIRED)
    ]
    assert missing == [], f"add these settings to .env.example: {missing}"


def test_env_example_lists_no_unknown_setting() -> None:
    known = {env for name, info in Settings.model_fields.items() for env in _env_names(name, info)}
    unknown = [e.name for e in read_env_example() if e.name not in known | COMPOSE_ONLY]
    assert unknown == [], f"not bachbot settings (misspelt or removed?): {unknown}"


def test_each_setting_is_explained_by_the_comment_above_it() -> None:
    entries = read_env_example()
    assert len({e.name for e in entries}) == len(entries), "a setting is listed twice"
    for entry in entries:
        assert entry.comment_above.startswith("# ") and len(entry.comment_above) > 12, (
            f"line {entry.line}: {entry.name} needs a one-line comment above it"
        )


def test_only_machine_dependent_defaults_are_commented_out() -> None:
    commented = {e.name for e in read_env_example() if e.commented}
    expected = {_env_names(name, Settings.model_fields[name])[0] for name in MACHINE_DEPENDENT}
    assert commented == expected


def test_env_example_leaves_every_secret_blank() -> None:
    secrets = {
        env
        for name, info in Settings.model_fields.items()
        if _left_blank(name, info)
        for env in _env_names(name, info)
    } | COMPOSE_ONLY
    filled = [e.name for e in read_env_example() if e.name in secrets and e.value.strip()]
    assert filled == []


@pytest.mark.usefixtures("clean_env")
def test_env_example_loads_and_matches_the_real_defaults() -> None:
    from_example = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    differs = {
        name: (_plain(getattr(from_example, name)), _plain(getattr(defaults, name)))
        for name in Settings.model_fields
        if _plain(getattr(from_example, name)) != _plain(getattr(defaults, name))
    }
    assert differs == {}, "(.env.example, default) differ"


def test_env_example_values_carry_no_quotes() -> None:
    """docker compose strips quotes, but `docker run --env-file` and podman keep them in
    the value: a quoted title pattern would then match no title at all."""
    quoted = [e.name for e in read_env_example() if e.value[:1] in {"'", '"'}]
    assert quoted == []
