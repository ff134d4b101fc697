"""``BACHBOT_DATABASE_PASSWORD_FILE``: the PostgreSQL password from a file (a Docker secret).

docker-compose.yml mounts the password at ``/run/secrets/db_password`` in both
containers, so it is in no environment variable; bachbot puts it into a URL
that names none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings, format_settings_error
from service.store.db import hide_password

URL = "postgresql+psycopg://bachbot@db:5432/bachbot"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _error(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        _settings(**values)
    return format_settings_error(raised.value)


def test_password_from_the_file_joins_the_url(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("p@ss:w/rd%\n", encoding="utf-8")  # characters a URL must escape

    settings = _settings(database_url=URL, database_password_file=secret)

    assert settings.resolved_database_url == (
        "postgresql+psycopg://bachbot:p%40ss%3Aw%2Frd%25@db:5432/bachbot"
    )
    assert hide_password(settings.resolved_database_url) == (
        "postgresql+psycopg://bachbot:***@db:5432/bachbot"
    )


def test_password_file_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("from-the-secret", encoding="utf-8")
    monkeypatch.setenv("BACHBOT_DATABASE_URL", URL)
    monkeypatch.setenv("BACHBOT_DATABASE_PASSWORD_FILE", str(secret))

    assert ":from-the-secret@db:" in _settings().resolved_database_url


def test_settings_rebuilt_from_their_own_values_stay_valid(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("pw", encoding="utf-8")
    settings = _settings(database_url=URL, database_password_file=secret)

    again = _settings(**settings.model_dump(exclude={"http_token", "spotify_client_secret"}))

    assert again.resolved_database_url == settings.resolved_database_url


def test_missing_password_file_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    message = _error(database_url=URL, database_password_file=tmp_path / "absent")
    assert "cannot read BACHBOT_DATABASE_PASSWORD_FILE" in message
    assert "No such file or directory" in message and "\n" not in message


def test_empty_password_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("\n", encoding="utf-8")
    assert "is empty" in _error(database_url=URL, database_password_file=secret)


def test_a_second_different_password_in_the_url_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("in-the-file", encoding="utf-8")
    message = _error(
        database_url="postgresql+psycopg://bachbot:in-the-url@db/bachbot",
        database_password_file=secret,
    )
    assert "keep the password in one place" in message
    assert "in-the-file" not in message and "in-the-url" not in message


def test_password_file_without_a_postgresql_url_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("pw", encoding="utf-8")
    assert "not a postgresql:// URL" in _error(database_password_file=secret)
