"""Sent on stdin to ``python -`` inside the bot container by the compose smoke test.

It gives the stack data to keep, offline, through the user's own commands:
the local Spotify (``bachbot sim``) runs on the container's loopback with a
two-track catalogue, ``bachbot auth --paste`` logs in against it the way a
user on a headless server does, and ``bachbot import-ratings`` imports a CSV
of those two tracks. Nothing leaves the container. Only the standard library
and the image's ``bachbot`` command are used: this runs with the image's
Python, not the test's.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PORT = 8899
ROOT = f"http://127.0.0.1:{PORT}/"
WORK = Path("/tmp/smoke")  # the container's tmpfs: the root filesystem is read-only
BACH = "5aIqB5nVVvmFsvSdExz408"
ALBUM = "smokeAlbum000000000001"
TRACKS = {"smokeTrack000000000001": 9, "smokeTrack000000000002": 3}
CATALOGUE = {
    "artists": [{"id": BACH, "name": "Johann Sebastian Bach"}],
    "albums": [{"id": ALBUM, "name": "Goldberg Variations", "artist_ids": [BACH]}],
    "tracks": [
        {"id": track, "name": f"Goldberg Variations, BWV 988: Var. {n}", "album_id": ALBUM,
         "artist_ids": [BACH]}
        for n, track in enumerate(TRACKS, start=1)
    ],
}  # fmt: skip
SIM_ENV = {
    "BACHBOT_SPOTIFY_API_BASE": ROOT + "v1/",
    "BACHBOT_SPOTIFY_ACCOUNTS_BASE": ROOT + "accounts/",
    "BACHBOT_SPOTIFY_CLIENT_ID": "bachbot-sim",
    "BACHBOT_SPOTIFY_CLIENT_SECRET": "bachbot-sim-secret",
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object) -> None:
        return None  # the redirect target is the URL to paste, not a page to load


def wait_for_sim(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(ROOT + "v1/me", timeout=2)
        except urllib.error.HTTPError:
            return  # 401 without a token: the sim answers
        except OSError:
            time.sleep(0.2)
    sys.exit("the local Spotify did not start within 30 s")


def login(env: dict[str, str]) -> str:
    """``bachbot auth --paste``, with the sim's at-once approval as the browser."""
    auth = subprocess.Popen(
        ["bachbot", "auth", "--paste"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert auth.stdout is not None and auth.stdin is not None
    shown = []
    for line in auth.stdout:
        shown.append(line)
        if line.startswith(ROOT + "accounts/authorize"):
            break
    else:
        sys.exit("bachbot auth printed no authorize link:\n" + "".join(shown))
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(line.strip(), timeout=10)
        sys.exit("the local Spotify did not redirect")
    except urllib.error.HTTPError as err:
        redirected = err.headers["Location"]
    out, _ = auth.communicate(redirected + "\n", timeout=60)
    if auth.returncode != 0:
        sys.exit(f"bachbot auth --paste failed ({auth.returncode}):\n{out}")
    return out.strip().splitlines()[-1]


def main() -> None:
    WORK.mkdir(exist_ok=True)
    (WORK / "catalogue.json").write_text(json.dumps(CATALOGUE), encoding="utf-8")
    csv = "track,rating\n" + "".join(f"spotify:track:{t},{r}\n" for t, r in TRACKS.items())
    (WORK / "ratings.csv").write_text(csv, encoding="utf-8")
    env = {**os.environ, **SIM_ENV}
    sim = subprocess.Popen(
        ["bachbot", "sim", "--data", str(WORK / "catalogue.json"), "--port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_sim(time.monotonic() + 30)
        print(login(env))
        imported = subprocess.run(
            ["bachbot", "import-ratings", str(WORK / "ratings.csv")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        print((imported.stdout + imported.stderr).strip())
        if imported.returncode != 0:
            sys.exit(imported.returncode)
    finally:
        sim.terminate()
        sim.wait(timeout=10)


main()
