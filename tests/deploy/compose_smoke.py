"""Compose smoke test: build bachbot's image and run docker-compose.yml for real.

The machines have the docker CLI but no engine and no registry, so this runs
the unmodified ``Dockerfile`` and ``docker-compose.yml`` with Debian's rootful
podman and podman-compose, on base images made here with ``mmdebstrap``
(issue 22 has the recipe and why each piece is needed). It prints one line per
check and exits 1 if any fails. It skips, with one line saying why, only where
podman cannot run at all (not root, no apt-get, or a trivial container fails).

    python -m tests.deploy.compose_smoke                 # what scripts/test runs
    python -m tests.deploy.compose_smoke --break user    # a broken image must fail

Stand-ins and workarounds, each for a reason:

* podman keeps its storage, run state and network files under
  ``BACHBOT_SMOKE_DIR`` (default ``/var/tmp/bachbot-compose-smoke``) and
  ``/run/bachbot-compose-smoke``, never in the machine's own podman set-up;
  base images are cached there between runs (``--purge`` removes it all);
* ``python:3.11-slim-bookworm`` is Debian bookworm's Python 3.11 (minbase),
  ``postgres:16`` is Debian's PostgreSQL 15 behind a small entrypoint
  (``smoke/postgres-entrypoint.sh``) that does what the official image does;
* podman-compose 1.0.3 ignores ``depends_on`` conditions and
  ``stop_grace_period``, and podman runs health checks only from systemd
  timers: the test starts ``db``, drives its health check until healthy, then
  starts ``bot`` with ``--no-deps``, and stops with the compose file's grace;
* ``down -v`` leaves the compose network behind; the test says so and
  removes it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from dotenv import dotenv_values

from tests.deploy.smoke.engine import (
    CACHE,
    Skip,
    SmokeError,
    build_bases,
    build_image,
    install_packages,
    podman,
    probe_podman,
    run,
    say,
    write_podman_config,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "smoke"
PROJECT = "bachbot-smoke"
# Deliberate breakages for showing that the test fails: (old text, new text) in the Dockerfile.
BREAKS = {
    "user": ("USER 10001:10001", "USER 0:0"),
    # pip refuses a missing dependency, so skip the check, as a hand-edited install might.
    "psycopg": (
        "--no-index /wheels/*.whl",
        "--no-index --no-deps $(ls /wheels/*.whl | grep -v psycopg_binary)",
    ),
}
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: the bot talks to nothing outside


class Checks:
    """Each check prints one line; a failed one is remembered, a required one also stops."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        say(f"  [{'ok' if ok else 'FAIL'}] {name}" + (f" ({detail})" if detail else ""))
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        return ok

    def require(self, name: str, ok: bool, detail: str = "") -> None:
        if not self.check(name, ok, detail):
            raise SmokeError(f"stopping: {name} failed")


# --- podman-compose ---------------------------------------------------------------------
def compose(project_dir: Path, *args: str, timeout: float = 180) -> None:
    run(
        ["podman-compose", "-p", PROJECT, "-f", str(project_dir / "docker-compose.yml"), *args],
        cwd=project_dir,  # relative secret and env files resolve here, as with docker compose
        timeout=timeout,
    )


@contextmanager
def step(title: str) -> Iterator[None]:
    start = time.monotonic()
    say(f"== {title}")
    yield
    say(f"   ({time.monotonic() - start:.0f} s)")


# --- the project ----------------------------------------------------------------------
def copy_tree(dest: Path) -> None:
    """The project's files as git knows them (tracked or new), without .env or data."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        raise SmokeError(f"cannot list the project's files with git: {listed.stderr!r}")
    for raw in listed.stdout.split(b"\0"):
        if not raw:
            continue
        source = ROOT / raw.decode()
        if source.is_file():
            (dest / raw.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / raw.decode())


def fill_env(project: Path, token: str) -> None:
    """``cp .env.example .env`` and the blanks filled in, as the README tells a user to.

    Spotify points at the discard port: the bot must come up healthy with no
    Spotify at all and never talk to the internet.
    """
    values = {
        "BACHBOT_SPOTIFY_CLIENT_ID": "smoke-test-client",
        "BACHBOT_SPOTIFY_CLIENT_SECRET": "smoke-test-secret-" + os.urandom(6).hex(),
        "BACHBOT_SPOTIFY_API_BASE": UNREACHABLE,
        "BACHBOT_SPOTIFY_ACCOUNTS_BASE": UNREACHABLE,
        "BACHBOT_RECCOBEATS_ENABLED": "false",
        "BACHBOT_RECCOBEATS_BASE": UNREACHABLE,
        "BACHBOT_PREVIEW_AUDIO_ENABLED": "false",
        "BACHBOT_DEEZER_BASE": UNREACHABLE,
        "BACHBOT_HTTP_TOKEN": token,
    }
    lines = []
    for line in (project / ".env.example").read_text(encoding="utf-8").splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={values.pop(name)}" if name in values else line)
    if values:
        raise SmokeError(f".env.example no longer lists {', '.join(values)}")
    (project / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def seconds(duration: str) -> float:
    """A compose duration such as ``45s`` or ``1m30s``."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise SmokeError(f"cannot read the duration {duration!r}")
    return sum(float(n) * units[u] for n, u in parts)


# --- containers -----------------------------------------------------------------------
def container_of(service: str) -> str:
    found = podman(
        "ps", "-a", "--format", "{{.Names}}",
        "--filter", f"label=io.podman.compose.project={PROJECT}",
        "--filter", f"label=com.docker.compose.service={service}",
    )  # fmt: skip
    names = found.stdout.split()
    if len(names) != 1:
        raise SmokeError(f"expected one {service} container, found {names or 'none'}")
    return names[0]


def inspect(container: str, template: str) -> str:
    return podman("inspect", "--format", template, container).stdout.strip()


def wait_healthy(container: str, limit_s: float) -> tuple[bool, str]:
    """Run the container's health check until it passes (podman has no systemd timer here)."""
    deadline = time.monotonic() + limit_s
    last = ""
    while time.monotonic() < deadline:
        # restart: unless-stopped brings a crashing container back: a restart is a failure too.
        state = inspect(container, "{{.State.Status}} {{.RestartCount}}").split()
        if state != ["running", "0"]:
            logs = podman("logs", "--tail", "20", container, check=False)
            lines = dict.fromkeys((logs.stdout + logs.stderr).strip().splitlines())
            return False, f"{' '.join(state)}: " + " | ".join(list(lines)[-3:])
        probe = podman("healthcheck", "run", container, check=False, timeout=60)
        if probe.returncode == 0:
            status = inspect(container, "{{.State.Health.Status}}")
            return status == "healthy", f"status {status}"
        last = (probe.stdout + probe.stderr).strip()
        time.sleep(2)
    return False, f"not healthy within {limit_s:.0f} s: {last[-200:]}"


def in_bot(bot: str, code: str) -> subprocess.CompletedProcess[str]:
    return podman("exec", bot, "python", "-c", code, check=False)


PROCESS_STATUS = r"""
import os, json
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        continue
    args = [a for a in cmd if a]
    if b"run" in args and any(a == b"bachbot" or a.endswith(b"/bachbot") for a in args):
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        print(json.dumps({k: fields[k].split()[0] for k in
              ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs")}))
        break
"""

WRITE_PROBE = r"""
import errno, os, sys
for path in sys.argv[1:]:
    try:
        with open(path, "w") as f:
            f.write("x")
        os.unlink(path)
        print(path, "writable")
    except OSError as err:
        print(path, errno.errorcode.get(err.errno, err.errno))
"""


def process_facts(bot: str) -> dict[str, str]:
    done = in_bot(bot, PROCESS_STATUS)
    if done.returncode != 0 or not done.stdout.strip():
        raise SmokeError(f"cannot read the bot's process status: {done.stderr.strip()[-200:]}")
    facts: dict[str, str] = json.loads(done.stdout)
    return facts


def write_probe(bot: str, paths: Sequence[str]) -> dict[str, str]:
    done = podman("exec", bot, "python", "-c", WRITE_PROBE, *paths, check=False)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


# Modules that are not meant to import in the image, and why.
NOT_IMPORTED = {
    "service.store.migrations.env": "Alembic's env script, run only inside Alembic",
    "service.spotify_sim.spec": "`bachbot sim --validate` only: jsonschema is a dev extra",
}
IMPORT_PROBE = r"""
import importlib, json, pkgutil, sys
failed, count = {}, 0
for top in ("service", "jobs", "models", "bench"):
    for info in pkgutil.walk_packages(importlib.import_module(top).__path__, top + "."):
        if info.name.endswith("__main__") or info.name in sys.argv[1:]:
            continue
        count += 1
        try:
            importlib.import_module(info.name)
        except Exception as err:
            failed[info.name] = f"{type(err).__name__}: {err}"
print(json.dumps({"count": count, "failed": failed}))
"""
ENV_PROBE = "import json, os, sys; print(json.dumps({n: os.environ.get(n) for n in sys.argv[1:]}))"


def http_status(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def status_json(bot: str) -> tuple[dict[str, Any] | None, str]:
    done = podman("exec", bot, "bachbot", "status", "--json", check=False, timeout=60)
    if done.returncode != 0:
        return None, (done.stderr or done.stdout).strip()[-300:]
    data: dict[str, Any] = json.loads(done.stdout)
    return data, done.stdout


# --- the run --------------------------------------------------------------------------
def start_stack(project: Path, checks: Checks, *, again: bool = False) -> str:
    """``db`` first, healthy, then ``bot`` (podman-compose ignores the health condition)."""
    label = " (after down + up)" if again else ""
    compose(project, "up", "-d", "db")
    ok, detail = wait_healthy(container_of("db"), 120)
    checks.require(f"db healthy{label}", ok, detail)
    compose(project, "up", "-d", "--no-deps", "bot")
    bot = container_of("bot")
    ok, detail = wait_healthy(bot, 180)
    checks.require(f"bot healthy{label}", ok, detail)
    return bot


def smoke(project: Path, checks: Checks, spec: dict[str, Any], password: str, token: str) -> None:
    bot_spec = spec["services"]["bot"]
    grace = seconds(str(bot_spec.get("stop_grace_period", "10s")))
    host_port = int(str(bot_spec["ports"][0]).split(":")[-2])
    user = str(bot_spec["user"])

    with socket.socket() as sock:  # podman's own message would be lost in podman-compose's
        if sock.connect_ex(("127.0.0.1", host_port)) == 0:
            raise SmokeError(f"127.0.0.1:{host_port} is taken; the compose file publishes it")
    with step("start: db, wait healthy, then bot"):
        bot = start_stack(project, checks)

    with step("the bot container"):
        image_user = podman("image", "inspect", "--format", "{{.Config.User}}", "bachbot:local")
        checks.check(
            "image USER is 10001:10001 (what a plain `docker run` gets)",
            image_user.stdout.strip() == "10001:10001",
            image_user.stdout.strip(),
        )
        facts = process_facts(bot)
        uid, gid = facts["Uid"], facts["Gid"]
        checks.check(
            f"`bachbot run` runs as {user} (the compose file's user)",
            f"{uid}:{gid}" == user == "10001:10001",
            f"uid {uid} gid {gid}",
        )
        caps = {k: facts[k] for k in ("CapEff", "CapPrm", "CapBnd")}
        checks.check(
            "no capabilities (effective, permitted, bounding)",
            all(int(v, 16) == 0 for v in caps.values()),
            " ".join(f"{k}={v}" for k, v in caps.items()),
        )
        checks.check(
            "no-new-privileges", facts["NoNewPrivs"] == "1", f"NoNewPrivs={facts['NoNewPrivs']}"
        )
        probe = write_probe(
            bot, ["/app/probe", "/usr/probe", "/probe", "/tmp/probe", "/data/probe"]
        )
        checks.check(
            "root filesystem read-only",
            all(probe.get(p) == "EROFS" for p in ("/app/probe", "/usr/probe", "/probe")),
            ", ".join(f"{p} {probe.get(p)}" for p in ("/app/probe", "/usr/probe", "/probe")),
        )
        checks.check(
            "/tmp and /data writable",
            probe.get("/tmp/probe") == probe.get("/data/probe") == "writable",
            f"/tmp {probe.get('/tmp/probe')}, /data {probe.get('/data/probe')}",
        )
        env = inspect(bot, "{{json .Config.Env}}")
        checks.check(
            "the database password is in no environment variable of the bot",
            password not in env,
            "read from /run/secrets" if password not in env else "found in .Config.Env",
        )

    with step("from the host and inside"):
        base = f"http://127.0.0.1:{host_port}/"
        code = http_status(base + "healthz")
        checks.check(f"/healthz answers 200 on 127.0.0.1:{host_port}", code == 200, f"HTTP {code}")
        codes = (http_status(base), http_status(base, token))
        checks.check(
            "the status page needs the BACHBOT_HTTP_TOKEN from .env",
            codes == (401, 200),
            f"HTTP {codes[0]} without, {codes[1]} with it",
        )
        # What docker compose passes from .env (python-dotenv reads it the same way), where
        # the compose file's own environment does not override it.
        overridden = set(bot_spec["environment"])
        env_file = dotenv_values(project / ".env").items()
        wanted = {n: v for n, v in env_file if v and n not in overridden}
        seen = podman("exec", bot, "python", "-c", ENV_PROBE, *wanted, check=False)
        got = json.loads(seen.stdout) if seen.returncode == 0 else {}
        differ = sorted(n for n in wanted if got.get(n) != wanted[n])
        checks.check(
            ".env reaches the bot as docker compose reads it (no stray quotes)",
            seen.returncode == 0 and not differ,
            ", ".join(f"{n}={got.get(n)!r}" for n in differ[:3]) or f"{len(wanted)} values",
        )
        status, out = status_json(bot)
        url = str((status or {}).get("database_url", ""))
        checks.check(
            "`bachbot status` inside the container reaches PostgreSQL",
            status is not None and url.startswith("postgresql") and "@db:5432/" in url,
            url or out,
        )
        checks.check("`bachbot status` shows no password", password not in out)

    with step("ratings: `bachbot auth --paste` and `import-ratings` against a local Spotify"):
        script = (HERE / "ratings_in_container.py").read_text(encoding="utf-8")
        done = podman("exec", "-i", bot, "python", "-", stdin=script, check=False, timeout=180)
        for line in (done.stdout + done.stderr).strip().splitlines():
            say(f"   | {line.strip()}")
        status, out = status_json(bot)
        before = (status or {}).get("ratings")
        checks.require("2 ratings imported", done.returncode == 0 and before == 2, f"{before}")

    with step("the image does the work: imports, and the demo trains a model offline"):
        done = podman("exec", bot, "python", "-c", IMPORT_PROBE, *NOT_IMPORTED, check=False)
        found: dict[str, Any] = {"count": 0, "failed": {}}
        if done.returncode == 0:
            found = json.loads(done.stdout)
        failed: dict[str, str] = found["failed"]
        checks.check(
            "every bachbot module imports in the image",
            done.returncode == 0 and found["count"] > 50 and not failed,
            f"{found['count']} modules"
            + "".join(f"; {name}: {why}" for name, why in list(failed.items())[:3])
            + (f"; {done.stderr.strip()[-200:]}" if done.returncode else ""),
        )
        demo = podman(
            "exec", bot, "bachbot", "demo", "--cycles", "4", "--data-dir", "/tmp/demo", "--json",
            check=False, timeout=300,
        )  # fmt: skip
        kinds = []
        if demo.returncode == 0:
            kinds = [c["model_kind"] for c in json.loads(demo.stdout)["cycles"]]
        checks.check(
            "`bachbot demo --cycles 4` trains and promotes an MLP in the read-only container",
            demo.returncode == 0 and kinds[-1:] == ["mlp"],
            " -> ".join(kinds) if kinds else f"exit {demo.returncode}: {demo.stderr[-200:]}",
        )

    with step(f"SIGTERM: `podman stop -t {grace:.0f}` (the compose file's stop_grace_period)"):
        start = time.monotonic()
        podman("stop", "-t", str(int(grace)), bot, timeout=grace + 30)
        took = time.monotonic() - start
        exit_code = inspect(bot, "{{.State.ExitCode}}")
        logs = podman("logs", bot, check=False)
        text = logs.stdout + logs.stderr
        checks.check(
            "the bot stopped within its grace period with exit 0",
            exit_code == "0" and took < grace,
            f"exit {exit_code} after {took:.1f} s of {grace:.0f} s",
        )
        checks.check('"bachbot stopped" in its log', "bachbot stopped" in text)
        checks.check("no traceback in its log", "Traceback" not in text)
        checks.check("no secret in its log", password not in text and token not in text)

    with step("data survives `down` and `up`"):
        compose(project, "down", "-t", str(int(grace)))
        bot = start_stack(project, checks, again=True)
        status, out = status_json(bot)
        after = (status or {}).get("ratings")
        checks.check("the 2 imported ratings are still there", after == 2, f"{after}")

    with step("`down -v` cleans up"):
        compose(project, "down", "-v", "-t", str(int(grace)))
        left = leftovers()
        checks.check(
            "no container, pod or volume of the project left",
            not (left["containers"] or left["pods"] or left["volumes"]),
            json.dumps(left),
        )
        if left["networks"]:
            say(f"   note: podman-compose 1.0.3 leaves the network {left['networks']}; removing it")
            for network in left["networks"]:
                podman("network", "rm", network)
        checks.check("no network of the project left", not leftovers()["networks"])


def leftovers() -> dict[str, list[str]]:
    label = f"label=io.podman.compose.project={PROJECT}"
    found = {
        "containers": podman("ps", "-a", "--filter", label, "--format", "{{.Names}}"),
        "pods": podman("pod", "ps", "--filter", label, "--format", "{{.Name}}"),
        "volumes": podman("volume", "ls", "--filter", label, "--format", "{{.Name}}"),
        "networks": podman("network", "ls", "--filter", label, "--format", "{{.Name}}"),
    }
    return {kind: done.stdout.split() for kind, done in found.items()}


def clean_up(project: Path | None) -> None:
    """Whatever happened: no container, volume or network of the project stays."""
    if not shutil.which("podman"):
        return
    try:
        if project is not None and (project / "docker-compose.yml").exists():
            compose(project, "down", "-v", "-t", "5", timeout=120)
    except SmokeError:
        pass
    try:
        left = leftovers()
        for name in left["containers"]:
            podman("rm", "-f", "-t", "2", name, check=False)
        for name in left["pods"]:
            podman("pod", "rm", "-f", name, check=False)
        for name in left["volumes"]:
            podman("volume", "rm", "-f", name, check=False)
        for name in left["networks"]:
            podman("network", "rm", "-f", name, check=False)
    except SmokeError as err:
        say(f"   cleanup: {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--break", dest="breakage", choices=sorted(BREAKS), help=argparse.SUPPRESS)
    parser.add_argument("--purge", action="store_true", help="remove the cached images after")
    args = parser.parse_args(argv)

    if os.environ.get("BACHBOT_SKIP_COMPOSE_SMOKE"):
        say("compose smoke test skipped: BACHBOT_SKIP_COMPOSE_SMOKE is set")
        return 0

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise SmokeError(f"interrupted by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    checks = Checks()
    project: Path | None = None
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    try:
        with step("podman from Debian's packages"):
            install_packages()
            write_podman_config()
            clean_up(None)  # a run killed with -9 leaves its containers behind
        with step("base images (mmdebstrap of Debian bookworm)"):
            build_bases(str(spec["services"]["db"]["image"]))
            probe_podman()
        project = Path(tempfile.mkdtemp(prefix="bachbot-smoke-"))
        copy_tree(project)
        for name in ("Dockerfile", "docker-compose.yml"):
            same = (project / name).read_bytes() == (ROOT / name).read_bytes()
            checks.require(f"{name} is the project's, unmodified", same)
        if args.breakage:
            old, new = BREAKS[args.breakage]
            dockerfile = project / "Dockerfile"
            text = dockerfile.read_text(encoding="utf-8")
            if old not in text:
                raise SmokeError(f"--break {args.breakage}: {old!r} is not in the Dockerfile")
            dockerfile.write_text(text.replace(old, new), encoding="utf-8")
            say(f"   BROKEN on purpose: {old!r} -> {new!r}")
        token = os.urandom(16).hex()
        password = "smoke-" + os.urandom(12).hex()
        fill_env(project, token)
        secret = project / "secrets" / "db_password"
        secret.parent.mkdir(mode=0o700)
        secret.write_text(password + "\n", encoding="utf-8")
        secret.chmod(0o644)  # the bot reads it as uid 10001 through the bind mount
        with step("build the image from the Dockerfile"):
            build_image(project)
            size = int(podman("image", "inspect", "--format", "{{.Size}}", "bachbot:local").stdout)
            say(f"   bachbot:local is {size / 1e6:.0f} MB")
        smoke(project, checks, spec, password, token)
    except Skip as err:
        say(f"compose smoke test skipped: {err}")
        return 0
    except SmokeError as err:
        checks.failed.append(str(err))
        say(f"  [FAIL] {err}")
    finally:
        clean_up(project)
        if project is not None:
            shutil.rmtree(project, ignore_errors=True)
        if shutil.which("podman"):
            # Images of earlier builds: the next build replaces them anyway.
            podman("image", "prune", "--force", check=False)
            if args.purge:
                podman("system", "reset", "--force", check=False)
                shutil.rmtree(CACHE, ignore_errors=True)
    used = subprocess.run(["du", "-sh", str(CACHE)], capture_output=True, text=True).stdout
    say(
        f"compose smoke test: {checks.passed} passed, {len(checks.failed)} failed "
        f"in {time.monotonic() - started:.0f} s; cache {used.split()[0] if used else '0'}"
    )
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
