"""Every file-system and input problem a fresh clone meets: one line, an exit code, no files.

Each row runs the real command line (``service.cli.main``, in this process; the rows
that need another user run it in a subprocess as ``nobody``) in a fresh folder and
checks what a user would see: exactly one ``bachbot: ...`` line on stderr naming the
problem, nothing on stdout, the documented exit code (1: the command could not do
its job; 2: bad usage or settings), and a folder left exactly as it was: no
``bachbot.db``, no data directory, nothing deleted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.cli import main

TRACK = "4uLU6hMCjMI75M1A2tKUQC"
CREDENTIALS = {"BACHBOT_SPOTIFY_CLIENT_ID": "an-id", "BACHBOT_SPOTIFY_CLIENT_SECRET": "a-secret"}


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    code: int
    says: str
    env: dict[str, str] = field(default_factory=dict)
    """Values may use ``{tmp}``, the case's folder."""
    setup: Callable[[Path], None] = lambda _tmp: None


def _file(name: str, text: str = "x") -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).write_text(text, encoding="utf-8")


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).write_bytes(data)


def _dirs(*names: str) -> Callable[[Path], None]:
    return lambda tmp: [(tmp / n).mkdir(parents=True) for n in names] and None


def _symlink(name: str, target: str) -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).symlink_to(target)


def _demo_folder_with_files(tmp: Path) -> None:
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("keep me", encoding="utf-8")


CASES = [
    Case("data dir is a file", ("status",), 2, "is a file, not a directory",
         {"BACHBOT_DATA_DIR": "{tmp}/data"}, _file("data")),
    Case("data dir inside a file", ("status",), 2, "is a file, not a directory",
         {"BACHBOT_DATA_DIR": "{tmp}/data/bachbot"}, _file("data")),
    Case("data dir is a broken link", ("status",), 2, "broken symbolic link",
         {"BACHBOT_DATA_DIR": "{tmp}/data"}, _symlink("data", "/nonexistent/bachbot")),
    Case("SQLite URL in a missing folder", ("status",), 2, "does not exist",
         {"BACHBOT_DATABASE_URL": "sqlite:///{tmp}/nowhere/bachbot.db"}),
    Case("bachbot.db is a folder", ("status",), 2, "is a directory",
         {}, _dirs("data/bachbot.db")),
    Case("database driver not installed", ("status",), 2, "psycopg2, which is not installed",
         {"BACHBOT_DATABASE_URL": "postgresql+psycopg2://bot@db/bachbot"}),
    Case("invalid setting", ("status",), 2, "invalid setting BACHBOT_LIKE_RATING",
         {"BACHBOT_LIKE_RATING": "11"}),
    Case("unknown option", ("status", "--nope"), 2, "no such option"),
    Case("demo --data-dir is a file", ("demo", "--data-dir", "{tmp}/demo"), 2,
         "is a file, not a directory", {}, _file("demo")),
    Case("demo --data-dir holds other files", ("demo", "--data-dir", "{tmp}/mine"), 2,
         "already holds files", {}, _demo_folder_with_files),
    Case("demo --cycles out of range", ("demo", "--cycles", "0"), 2, "--cycles"),
    Case("rate: rating out of range", ("rate", TRACK, "11"), 2, "out of range"),
    Case("rate: not a track", ("rate", "spotify:album:x", "7"), 2, "not a track id"),
    Case("rate: new track, no Spotify app", ("rate", TRACK, "7"), 2,
         "BACHBOT_SPOTIFY_CLIENT_ID and BACHBOT_SPOTIFY_CLIENT_SECRET are not set"),
    Case("rate: new track, not connected", ("rate", TRACK, "7"), 1, "run `bachbot auth`",
         CREDENTIALS),
    Case("import: no such file", ("import-ratings", "{tmp}/nope.csv"), 1, "no such file"),
    Case("import: a folder", ("import-ratings", "{tmp}/folder"), 1, "is a folder",
         {}, _dirs("folder")),
    Case("import: not UTF-8", ("import-ratings", "{tmp}/r.csv"), 1, "not UTF-8",
         {}, _bytes("r.csv", b"\xff\xfe\x00bad")),
    Case("import: new tracks, no Spotify app", ("import-ratings", "{tmp}/r.csv"), 2,
         "the 1 track(s) in", {}, _file("r.csv", f"track;rating\n{TRACK};8\n")),
    Case("sync: no Spotify app", ("sync",), 2, "bachbot sync reads your library"),
    Case("sync: not connected", ("sync",), 1, "run `bachbot auth`", CREDENTIALS),
    Case("publish: no Spotify app", ("publish",), 2, "are not set"),
    Case("auth: no Spotify app", ("auth", "--paste"), 2, "are not set"),
    Case("run: no Spotify app", ("run",), 2, "bachbot run syncs with Spotify"),
    Case("features: nothing synced yet", ("features", "--show", TRACK), 1, "bachbot sync"),
    Case("sim: unknown mode", ("sim", "--mode", "old"), 2, "--mode must be new or extended"),
]  # fmt: skip


def _tree(root: Path) -> dict[str, tuple[bool, int, float]]:
    """Every path under ``root`` (links not followed) with kind, size and mtime."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (path.is_dir(), info.st_size, info.st_mtime)
    return found


def _env(case_env: dict[str, str], tmp: Path) -> dict[str, str]:
    env = {"BACHBOT_DATA_DIR": f"{tmp}/data", **case_env}
    return {key: value.format(tmp=tmp) for key, value in env.items()}


def _check(case: Case, code: int, out: str, err: str) -> None:
    lines = err.strip().splitlines()
    assert "Traceback" not in out + err, err
    assert len(lines) == 1, f"{case.name}: expected one line, got:\n{err}"
    assert lines[0].startswith("bachbot: ") and case.says in lines[0], lines[0]
    assert out == "", out
    assert code == case.code, f"{case.name}: exit {code}, expected {case.code}: {lines[0]}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (no .env), with no bachbot setting in the environment."""
    for key in list(os.environ):
        if key.startswith(("BACHBOT_", "SPOTIPY_")):
            monkeypatch.delenv(key)
    work = tmp_path / "case"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_problem_gives_one_line_an_exit_code_and_writes_nothing(
    case: Case, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case.setup(folder)
    for key, value in _env(case.env, folder).items():
        monkeypatch.setenv(key, value)
    before = _tree(folder)
    capsys.readouterr()

    code = main([arg.format(tmp=folder) for arg in case.args])

    out, err = capsys.readouterr()
    _check(case, code, out, err)
    assert _tree(folder) == before, "a failed command changed the folder"


# --- the same, as another user ----------------------------------------------------------
def _mode(name: str, mode: int) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        (tmp / name).mkdir()
        os.chmod(tmp / name, mode)

    return make


AS_NOBODY = [
    Case("root's data dir, mode 555", ("status",), 2, "cannot read and write it",
         {"BACHBOT_DATA_DIR": "{tmp}/data"}, _mode("data", 0o555)),
    Case("root's data dir, mode 000", ("status",), 2, "cannot read and write it",
         {"BACHBOT_DATA_DIR": "{tmp}/data"}, _mode("data", 0o000)),
    Case("cannot create the data dir", ("status",), 2, "cannot create folders in",
         {"BACHBOT_DATA_DIR": "{tmp}/ro/data"}, _mode("ro", 0o555)),
    Case("cannot reach the data dir", ("status",), 2, "cannot reach the data directory",
         {"BACHBOT_DATA_DIR": "{tmp}/closed/data"}, _mode("closed", 0o700)),
    Case("demo in root's folder", ("demo", "--data-dir", "{tmp}/ro/demo"), 2,
         "cannot create folders in", {}, _mode("ro", 0o555)),
]  # fmt: skip

SCRIPT = "import sys\nfrom service.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _as_nobody() -> list[str]:
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture(scope="module")
def nobody_can_run_bachbot() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a command as another user needs root and setpriv")
    probe = subprocess.run(
        [*_as_nobody(), sys.executable, "-c", "import service.cli"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run this Python: {probe.stderr.decode()[-200:]}")


@pytest.fixture
def public_folder() -> Iterator[Path]:
    """A root-owned folder other users may enter (pytest's tmp_path is closed to them)."""
    work = Path(tempfile.mkdtemp(prefix="bachbot-nobody-", dir="/tmp"))
    os.chmod(work, 0o755)
    yield work
    shutil.rmtree(work)


@pytest.mark.usefixtures("nobody_can_run_bachbot")
@pytest.mark.parametrize("case", AS_NOBODY, ids=[c.name for c in AS_NOBODY])
def test_another_users_folder_gives_one_line_and_exit_2(case: Case, public_folder: Path) -> None:
    case.setup(public_folder)
    before = _tree(public_folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    env |= _env(case.env, public_folder) | {"HOME": str(public_folder)}
    done = subprocess.run(
        [*_as_nobody(), sys.executable, "-c", SCRIPT,
         *(a.format(tmp=public_folder) for a in case.args)],
        env=env, cwd=public_folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    _check(case, done.returncode, done.stdout, done.stderr)
    assert _tree(public_folder) == before, "a failed command changed the folder"
