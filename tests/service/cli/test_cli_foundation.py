from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from service.settings import Settings
from service.store.db import make_engine, session_factory
from service.store.tables import OAuthToken
from tests.conftest import TEST_CLIENT_SECRET

Cli = Callable[..., tuple[int, str, str]]


def test_status_on_empty_data_dir_creates_database_with_zero_counts(
    cli: Cli, settings: Settings
) -> None:
    code, out, _ = cli("status", "--json")
    assert code == 0
    snapshot = json.loads(out)
    assert snapshot["counts"]["tracks"] == 0
    assert set(snapshot["counts"].values()) == {0}
    assert snapshot["auth"]["state"] == "missing"
    code, text_out, _ = cli("status")
    assert "tracks" in text_out and "run `bachbot auth`" in text_out


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BACHBOT_LIKE_RATING": "11"}, "BACHBOT_LIKE_RATING"),
        ({"BACHBOT_SYNC_MINUTES": "soon"}, "BACHBOT_SYNC_MINUTES"),
        ({"SPOTIPY_REDIRECT_URI": "http://localhost:8888/callback"}, "SPOTIPY_REDIRECT_URI"),
        ({"BACHBOT_DATABASE_URL": "mysql://x"}, "BACHBOT_DATABASE_URL"),
    ],
)
def test_bad_setting_gives_one_line_and_exit_2(
    cli: Cli, env: dict[str, str], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "SPOTIPY_REDIRECT_URI" in env:
        monkeypatch.delenv("BACHBOT_SPOTIFY_REDIRECT_URI", raising=False)
    code, _out, err = cli("status", env=env)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0] and "Traceback" not in err
    assert "e.g." in lines[0] or "less than" in lines[0] or "valid" in lines[0]


def test_secrets_never_appear_in_status_or_logs(
    cli: Cli, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(settings)
    cli("db", "upgrade")
    with session_factory(engine)() as session:
        session.add(
            OAuthToken(
                token_info={
                    "access_token": "access-secret-abc123xyz",
                    "refresh_token": "refresh-secret-def456uvw",
                    "expires_at": 1_900_000_000,
                }
            )
        )
        session.commit()
    engine.dispose()
    caplog.set_level(logging.DEBUG)
    outputs = [cli("status"), cli("status", "--json")]
    everything = "".join(o + e for _, o, e in outputs) + caplog.text
    assert "present" in everything or "ok" in everything
    for secret in ("access-secret-abc123xyz", "refresh-secret-def456uvw", TEST_CLIENT_SECRET):
        assert secret not in everything
    assert TEST_CLIENT_SECRET not in repr(settings)


def test_database_password_is_hidden_in_status(cli: Cli, settings: Settings) -> None:
    from service.store.db import hide_password

    assert "s3cret" not in hide_password("postgresql+psycopg://bot:s3cret@db:5432/bachbot")
    _code, out, _ = cli("status", "--json")
    assert json.loads(out)["database_url"] == hide_password(settings.resolved_database_url)


@pytest.mark.parametrize(
    ("ref", "value", "problem"),
    [("spotify:track:abc", "5", "not a track id"), ("4uLU6hMCjMI75M1A2tKUQC", "11", "1 to 10")],
)
def test_rate_reports_bad_input_before_needing_spotify(
    cli: Cli, ref: str, value: str, problem: str
) -> None:
    code, _out, err = cli("rate", ref, value, env={"BACHBOT_SPOTIFY_CLIENT_ID": ""})
    assert code == 2  # bad usage: an argument is wrong
    assert "cannot rate" in err and problem in err
    assert "client id" not in err


def test_a_data_dir_under_home_written_with_a_tilde_means_the_home_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``BACHBOT_DATA_DIR=~/bachbot`` in .env is not expanded by any shell."""
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings(_env_file=None, data_dir="~/bachbot")  # type: ignore[call-arg, arg-type]
    assert settings.data_dir == tmp_path / "bachbot"


def test_version_and_short_help(cli: Cli) -> None:
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("bachbot ") and out.strip() != "bachbot"
    code, out, _ = cli("-h")
    assert code == 0 and "Commands:" in out and "<bool>" not in out
    code, out, _ = cli("demo", "-h")
    assert code == 0 and "--json" in out and "<bool>" not in out
