"""The container engine for the compose smoke test: podman, set up from Debian's packages.

Everything here is a stand-in for what a Docker user already has, made on a
machine with no engine and no registry (issue 22 has the trial behind it):

* podman, podman-compose, runc, catatonit, the CNI plugins with dnsname,
  iptables and mmdebstrap from Debian, installed when missing;
* a ``containers.conf`` and ``storage.conf`` of our own (``CONTAINERS_CONF``,
  ``CONTAINERS_STORAGE_CONF``): storage, run state and network files live under
  ``BACHBOT_SMOKE_DIR`` (default ``/var/tmp/bachbot-compose-smoke``) and
  ``/run/bachbot-compose-smoke``, so the machine's own podman is untouched;
* base images made with ``mmdebstrap --variant=minbase`` of Debian bookworm and
  imported under local tags, cached there by recipe: ``python:3.11-slim`` is
  Debian's Python 3.11, ``postgres:16`` is Debian's PostgreSQL 15 behind
  ``postgres-entrypoint.sh``, which does what the official image does.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("BACHBOT_SMOKE_DIR", "/var/tmp/bachbot-compose-smoke"))
RUNROOT = Path("/run/bachbot-compose-smoke")
PACKAGES = [
    "podman",
    "podman-compose",
    "runc",
    "catatonit",
    "containernetworking-plugins",
    "golang-github-containernetworking-plugin-dnsname",
    "iptables",
    "mmdebstrap",
]
PYTHON_BASE = "localhost/bachbot-smoke/python:3.11-bookworm"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# Docs, man pages and translations left out, as the official slim images do.
SLIM = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "info", "locale")]
BASES: dict[str, dict[str, Any]] = {
    "python": {
        "packages": ["python3", "python3-venv", "python3-pip", "python-is-python3"],
        "hooks": [
            # pip in the build verifies PyPI against the host's CAs (TLS is intercepted here).
            f'cp {HOST_CA} "$1/etc/ssl/certs/ca-certificates.crt"',
            # python:3.11-slim lets pip install into the system Python; Debian's marks it
            # externally managed (PEP 668), which the Dockerfile's `pip install` would hit.
            'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',
        ],
        "changes": ['CMD ["python3"]'],
    },
    "postgres": {
        "packages": ["postgresql-15"],
        "hooks": [
            # Debian's package creates a cluster at install; the entrypoint makes its own.
            'rm -rf "$1/var/lib/postgresql/15" "$1/etc/postgresql/15"',
            f'cp {HERE / "postgres-entrypoint.sh"} "$1/usr/local/bin/docker-entrypoint.sh"',
        ],
        "changes": [
            "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
            "/usr/bin:/sbin:/bin",
            "ENV PGDATA=/var/lib/postgresql/data",
            'ENTRYPOINT ["docker-entrypoint.sh"]',
            'CMD ["postgres"]',
            "STOPSIGNAL SIGINT",
            "EXPOSE 5432",
            "VOLUME /var/lib/postgresql/data",
        ],
    },
}


class SmokeError(Exception):
    """A step could not be carried out; the message is the one line to print."""


class Skip(Exception):
    """Podman cannot run on this machine; the message says why."""


def say(text: str) -> None:
    print(text, flush=True)


def podman_env() -> dict[str, str]:
    return {
        **os.environ,
        "CONTAINERS_CONF": str(CACHE / "etc" / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(CACHE / "etc" / "storage.conf"),
        "BUILDAH_FORMAT": "docker",  # keeps HEALTHCHECK, which the OCI format drops
    }


def run(
    argv: Sequence[str],
    *,
    timeout: float = 120,
    check: bool = True,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=podman_env(),
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise SmokeError(f"`{' '.join(argv[:4])} ...` took longer than {timeout:.0f} s") from err
    if check and done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SmokeError(f"`{' '.join(argv[:4])} ...` exited {done.returncode}: {tail}")
    return done


def podman(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], **kwargs)


def install_packages() -> None:
    if os.geteuid() != 0:
        raise Skip("rootful podman needs root")
    if not shutil.which("apt-get"):
        raise Skip("no apt-get to install podman from Debian's packages")
    status = run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *PACKAGES], check=False)
    installed = {line.split()[0] for line in status.stdout.splitlines() if "ok installed" in line}
    missing = [p for p in PACKAGES if p not in installed]
    if missing:
        say(f"   installing {' '.join(missing)}")
        run(["apt-get", "update", "-qq"], timeout=300)
        run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            timeout=600,
        )


def write_podman_config() -> None:
    """containers.conf and storage.conf of our own, so the machine's podman is untouched."""
    etc = CACHE / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    # Podman's default ulimits exceed this machine's hard limits ("setrlimit: Operation not
    # permitted"); stay below them.
    nofile = min(16384, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    nproc = min(32768, resource.getrlimit(resource.RLIMIT_NPROC)[1])
    (etc / "containers.conf").write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'  # crun: "cgroups in hybrid mode not supported"
        'cgroup_manager = "cgroupfs"\n'  # no systemd here
        'events_logger = "file"\n'
        f'tmp_dir = "{RUNROOT / "libpod"}"\n'
        "[network]\n"
        'network_backend = "cni"\n'
        f'network_config_dir = "{CACHE / "cni"}"\n',
        encoding="utf-8",
    )
    (etc / "storage.conf").write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{CACHE / "storage"}"\n'
        f'runroot = "{RUNROOT / "storage"}"\n',
        encoding="utf-8",
    )
    (CACHE / "cni").mkdir(exist_ok=True)


def recipe_hash(name: str) -> str:
    """What a base image is made of, wherever the checkout lies (so clones share the cache)."""
    recipe = json.dumps(BASES[name], sort_keys=True).replace(str(HERE), "")
    recipe += (HERE / "postgres-entrypoint.sh").read_text(encoding="utf-8")
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def image_label(image: str, label: str) -> str | None:
    found = podman("image", "inspect", "--format", "{{json .Labels}}", image, check=False)
    if found.returncode != 0:
        return None
    labels = json.loads(found.stdout or "null") or {}
    return str(labels.get(label)) if label in labels else None


def build_bases(db_image: str) -> None:
    """Both base images from Debian's packages (mmdebstrap, in parallel), cached by recipe."""
    tags = {"python": PYTHON_BASE, "postgres": db_image}
    wanted = {
        name: tag
        for name, tag in tags.items()
        if image_label(tag, "bachbot.smoke.recipe") != recipe_hash(name)
    }
    if not wanted:
        say("   base images cached")
        return
    work = CACHE / "rootfs"
    work.mkdir(exist_ok=True)
    procs = {}
    for name in wanted:
        base = BASES[name]
        argv = [
            "mmdebstrap",
            "--quiet",
            "--mode=root",
            "--variant=minbase",
            "--aptopt=APT::Install-Recommends false",
            *SLIM,
            "--include=" + ",".join(["ca-certificates", *base["packages"]]),
            *[f"--customize-hook={hook}" for hook in base["hooks"]],
            "bookworm",
            str(work / f"{name}.tar"),
            str(SOURCES) if SOURCES.exists() else "http://deb.debian.org/debian",
        ]
        procs[name] = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    try:
        for name, proc in procs.items():
            try:
                out, _ = proc.communicate(timeout=600)
            except subprocess.TimeoutExpired as err:
                raise SmokeError(f"mmdebstrap of the {name} base took over 600 s") from err
            if proc.returncode != 0:
                raise SmokeError(f"mmdebstrap of the {name} base failed: {out.strip()[-300:]}")
    finally:
        for proc in procs.values():  # the other one too, when one failed or we were stopped
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, tag in wanted.items():
        changes = [*BASES[name]["changes"], f"LABEL bachbot.smoke.recipe={recipe_hash(name)}"]
        podman(
            "import",
            *[f"--change={c}" for c in changes],
            str(work / f"{name}.tar"),
            tag,
            timeout=300,
        )
        (work / f"{name}.tar").unlink()
        say(f"   {tag} imported")


def probe_podman() -> None:
    """Skip where podman cannot start even a trivial container, except in CI, whose
    machines are the kind where it runs: there a broken engine must fail the run."""
    probe = podman(
        "run", "--rm", "--pull=never", "--network=none", PYTHON_BASE, "true", check=False
    )
    if probe.returncode != 0:
        why = f"podman cannot run a container here: {probe.stderr.strip()[-200:]}"
        raise SmokeError(why) if os.environ.get("CI") else Skip(why)


def build_image(project: Path) -> None:
    podman(
        "build",
        "--format", "docker",  # the OCI format would drop HEALTHCHECK
        "--pull=never",
        "--network=host",  # pip reaches PyPI as the host does; no bridge needed to build
        "--build-arg", f"PYTHON_IMAGE={PYTHON_BASE}",
        "--tag", "bachbot:local",
        str(project),
        timeout=900,
    )  # fmt: skip
