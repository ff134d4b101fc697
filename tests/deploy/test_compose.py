"""docker-compose.yml, checked without a Docker engine.

The file is validated against the Compose Specification's JSON schema
(vendored: see README.md beside this file), then against what bachbot needs
from it: the bot waits for a healthy database, publishes on loopback only,
runs read-only as the image's unprivileged user, and holds no secret.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from dotenv import dotenv_values

from service.settings import Settings
from tests.deploy.files import (
    COMPOSE_SCHEMA,
    ENV_EXAMPLE,
    ROOT,
    dockerignore_rules,
    environment_of,
    exec_form,
    interpolate,
    is_ignored,
    load_compose,
    read_stages,
)

SECRET_KEY = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)
ONLY_INTERPOLATION = re.compile(r"^\$\{\w+(:?[?-][^}]*)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@]+:(?P<pw>\$\{[^}]*\}|[^@/]*)@")
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def schema_errors() -> Any:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    # The schema declares draft 2019-09 under an old URL jsonschema does not know.
    jsonschema.Draft201909Validator.check_schema(schema)
    validator = jsonschema.Draft201909Validator(schema)

    def errors(document: dict[str, Any]) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]

    return errors


def _published_ports(service: dict[str, Any]) -> list[str]:
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append(f"{port.get('host_ip', '')}:{port.get('published')}:{port['target']}")
        else:
            ports.append(str(port))
    return ports


def test_compose_file_follows_the_compose_specification(
    compose: dict[str, Any], schema_errors: Any
) -> None:
    assert schema_errors(compose) == []


def test_schema_check_rejects_a_misspelt_key(compose: dict[str, Any], schema_errors: Any) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["bot"]["depends_onn"] = broken["services"]["bot"].pop("depends_on")
    assert any("depends_onn" in error for error in schema_errors(broken))


def test_compose_runs_the_bot_and_a_postgresql_16_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "db"}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["bot"]["build"] == "."
    assert "version" not in compose, "the top-level version key is obsolete"


def test_bot_runs_the_images_command(compose: dict[str, Any]) -> None:
    (cmd,) = read_stages()[1][-1].all("CMD")
    assert compose["services"]["bot"]["command"] == exec_form(cmd)


def test_database_reports_health_with_pg_isready(compose: dict[str, Any]) -> None:
    check = compose["services"]["db"]["healthcheck"]
    test = check["test"]
    command = " ".join(test[1:]) if isinstance(test, list) else test
    assert "pg_isready" in command
    for key in ("interval", "timeout", "start_period"):
        assert GO_DURATION.match(check[key]), f"{key}: {check[key]!r}"
    assert check["retries"] >= 3


def test_bot_starts_only_once_the_database_is_healthy(compose: dict[str, Any]) -> None:
    assert compose["services"]["bot"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_both_services_restart_unless_stopped(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service["restart"] == "unless-stopped", name


def test_only_the_bot_publishes_a_port_and_only_on_loopback(compose: dict[str, Any]) -> None:
    assert _published_ports(compose["services"]["db"]) == []
    assert _published_ports(compose["services"]["bot"]) == ["127.0.0.1:8888:8888"]


def test_data_lives_in_declared_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    mounts = {
        name: dict(v.split(":")[1::-1] for v in service.get("volumes", []))
        for name, service in compose["services"].items()
    }
    assert mounts["bot"].get("/data") in declared
    assert mounts["db"].get("/var/lib/postgresql/data") in declared
    assert mounts["bot"]["/data"] != mounts["db"]["/var/lib/postgresql/data"]


def test_bot_runs_read_only_as_the_images_unprivileged_user(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    image_user = read_stages()[1][-1].all("USER")[-1].args
    assert bot["user"] == image_user and not bot["user"].startswith(("0:", "root"))
    assert bot["read_only"] is True
    assert any(str(t).split(":")[0] == "/tmp" for t in bot["tmpfs"])
    assert bot["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bot["security_opt"]
    assert bot["init"] is True, "an init forwards SIGTERM and reaps children"


def test_bot_reads_dotenv_and_uses_the_db_service(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["env_file"] in (".env", [".env"])
    env = environment_of(bot)
    url = urlsplit(interpolate(env["BACHBOT_DATABASE_URL"], {}))
    assert url.scheme == "postgresql+psycopg" and url.hostname == "db" and url.port == 5432
    assert url.path == "/" + environment_of(compose["services"]["db"])["POSTGRES_DB"]
    assert env["BACHBOT_DATA_DIR"] == "/data"
    assert env["BACHBOT_HTTP_HOST"] == "0.0.0.0"
    assert env["BACHBOT_HTTP_PORT"] == "8888"


def test_database_password_is_a_file_secret_in_no_environment(compose: dict[str, Any]) -> None:
    """Both containers read the one secret file; the URL names no password."""
    (name,) = compose["secrets"]
    source = compose["secrets"][name]["file"]
    target = f"/run/secrets/{name}"
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["secrets"] == bot["secrets"] == [name]
    assert environment_of(db)["POSTGRES_PASSWORD_FILE"] == target
    assert environment_of(bot)["BACHBOT_DATABASE_PASSWORD_FILE"] == target
    assert urlsplit(environment_of(bot)["BACHBOT_DATABASE_URL"]).password is None
    for service in (db, bot):
        assert not [k for k in environment_of(service) if k.endswith("PASSWORD")]
    assert is_ignored(source.removeprefix("./"), dockerignore_rules())
    ignored = subprocess.run(["git", "check-ignore", "-q", source], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{source} must be git-ignored"


def test_grace_period_outlasts_the_daemons_own_stop_wait(compose: dict[str, Any]) -> None:
    """`docker compose stop` must let a running job finish, not SIGKILL it."""
    from service.daemon import Daemon

    stop_wait = inspect.signature(Daemon).parameters["stop_timeout_s"].default
    grace = compose["services"]["bot"]["stop_grace_period"]
    assert GO_DURATION.match(grace)
    seconds = sum(
        float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"([\d.]+)([hms])", grace)
    )
    # After the job's wait the daemon still stops its HTTP server (up to 5 s) and the lock.
    assert seconds >= stop_wait + 10, f"stop_grace_period {grace} vs the daemon's {stop_wait} s"


def test_compose_file_holds_no_secret(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in environment_of(service).items():
            if key.endswith("_FILE"):  # names where a secret is mounted, not the secret
                assert value.startswith("/run/secrets/"), f"{name}.{key} must be a secret"
            elif SECRET_KEY.search(key):
                assert ONLY_INTERPOLATION.match(value), f"{name}.{key} must come from .env"
            userinfo = URL_PASSWORD.search(value)
            if userinfo:
                assert ONLY_INTERPOLATION.match(userinfo["pw"]), f"{name}.{key} holds a password"


def test_compose_refuses_to_start_without_a_status_page_token(compose: dict[str, Any]) -> None:
    """The bot listens on 0.0.0.0 in its container: the status page needs its token."""
    env = environment_of(compose["services"]["bot"])
    with pytest.raises(KeyError, match="BACHBOT_HTTP_TOKEN"):
        interpolate(env["BACHBOT_HTTP_TOKEN"], {"BACHBOT_HTTP_TOKEN": ""})
    assert interpolate(env["BACHBOT_HTTP_TOKEN"], {"BACHBOT_HTTP_TOKEN": "t0k"}) == "t0k"


def test_bot_settings_inside_the_container_are_valid(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Image ENV, then .env.example with its blanks filled in, then compose's environment,
    with the password secret where compose mounts it (moved under tmp_path)."""
    example = dotenv_values(ENV_EXAMPLE)
    filled = {name: value or f"filled-{name.lower()}" for name, value in example.items()}
    filled["BACHBOT_DATABASE_URL"] = ""  # a blank that stays blank: compose sets it
    filled["BACHBOT_DATABASE_PASSWORD_FILE"] = ""  # likewise
    filled["BACHBOT_CV_REPEATS"] = ""  # blank means "chosen by the number of ratings"
    filled["BACHBOT_FREEZE_EVERY_DAYS"] = ""  # blank means "never on a schedule"
    container_env = {**read_stages()[1][-1].env(), **filled}
    for key, value in environment_of(compose["services"]["bot"]).items():
        container_env[key] = interpolate(value, filled)
    secret = tmp_path / "db_password"
    secret.write_text("from-the-secret\n", encoding="utf-8")
    assert container_env["BACHBOT_DATABASE_PASSWORD_FILE"] == "/run/secrets/db_password"
    container_env["BACHBOT_DATABASE_PASSWORD_FILE"] = str(secret)
    for key in list(os.environ):
        if key.startswith(("BACHBOT_", "SPOTIPY_")):
            monkeypatch.delenv(key)
    for key, value in container_env.items():
        monkeypatch.setenv(key, value)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert str(settings.data_dir) == "/data"
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8888)
    assert settings.http_token is not None
    assert settings.resolved_database_url == (
        "postgresql+psycopg://bachbot:from-the-secret@db:5432/bachbot"
    )
    assert settings.playlist_name == "Predicted favourites"
