"""A real ``bachbot run`` as a child process, against a local Spotify and a database of its own.

The kill trials and the lock tests need the daemon exactly as a user starts it
- its own interpreter, its own signal handling, its own connections - so it
runs as a subprocess of ``python -c "from service.cli import main; ..."``
with the environment a user would set, plus a mark
(:mod:`bench.processes`) that every process it starts inherits, so a worker
left behind can be found after the daemon is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bench.processes import MARK_VARIABLE, new_mark
from models.catalogue_demo import BACH_ID
from service.spotify_sim import SpotifySim

ROOT = Path(__file__).resolve().parents[1]
STOP_WAIT_S = 90.0
"""Hang guard for the daemon to stop (it gives a running job 30 s, then exits)."""


def daemon_env(
    sim: SpotifySim, *, data_dir: Path, database_url: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a ``bachbot run`` on ``sim``: a cycle every second or so, a small
    playlist, training as soon as there is anything to learn, two training workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    env |= {
        "BACHBOT_DATA_DIR": str(data_dir),
        "BACHBOT_DATABASE_URL": database_url,
        "BACHBOT_SPOTIFY_CLIENT_ID": sim.accounts.client_id,
        "BACHBOT_SPOTIFY_CLIENT_SECRET": sim.accounts.client_secret,
        "BACHBOT_SPOTIFY_API_BASE": sim.api_base,
        "BACHBOT_SPOTIFY_ACCOUNTS_BASE": sim.accounts_base,
        "BACHBOT_RECCOBEATS_BASE": sim.reccobeats_base,
        "BACHBOT_RECCOBEATS_ENABLED": "true",
        "BACHBOT_PREVIEW_AUDIO_ENABLED": "false",  # the local Spotify serves no Deezer
        "BACHBOT_COMPOSER_ARTIST_IDS": BACH_ID,
        "BACHBOT_SYNC_MINUTES": "0.02",
        "BACHBOT_HTTP_PORT": "0",
        "BACHBOT_MIN_RATINGS": "4",
        "BACHBOT_CV_SPLITS": "2",
        "BACHBOT_CV_REPEATS": "1",
        "BACHBOT_TRAIN_JOBS": "2",
        "BACHBOT_RETRAIN_AFTER_RATINGS": "1",
        "BACHBOT_PLAYLIST_SIZE": "12",
        "BACHBOT_PLAYLIST_MIN_PROBABILITY": "0",
        "BACHBOT_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    env |= dict(extra or {})
    return env


class DaemonProcess:
    """``bachbot run`` (or another command) as a child process; one start after another."""

    def __init__(self, env: Mapping[str, str], log: Path, *, cwd: Path) -> None:
        self.env = dict(env)
        self.log = log
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.marks: list[str] = []
        """The mark of every start, newest last (see :mod:`bench.processes`)."""

    @property
    def mark(self) -> str:
        return self.marks[-1]

    def start(self, *args: str) -> None:
        self.marks.append(new_mark("daemon"))
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))",
                    *(args or ("run",)),
                ],
                env={**self.env, MARK_VARIABLE: self.mark},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_WAIT_S)

    def stop(self) -> int:
        """SIGTERM, and the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=STOP_WAIT_S)

    def wait(self, timeout_s: float = STOP_WAIT_S) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout_s)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
