"""``bachbot sim`` as a user runs it: a process on loopback that refuses what Spotify refuses.

Plain HTTP against the running command (no bachbot code on the client side),
for each request the issue's "Done when" lists.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from service.spotify.auth import SCOPE

REDIRECT = "http://127.0.0.1:8888/callback"


@dataclass
class Running:
    process: subprocess.Popen[str]
    banner: dict[str, str]

    @property
    def out(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def authorize(self, redirect: str, scope: str = SCOPE) -> requests.Response:
        return requests.get(
            self.banner["BACHBOT_SPOTIFY_ACCOUNTS_BASE"] + "authorize",
            params={
                "client_id": self.banner["BACHBOT_SPOTIFY_CLIENT_ID"],
                "response_type": "code",
                "redirect_uri": redirect,
                "scope": scope,
            },
            allow_redirects=False,
        )

    def log_in(self, scope: str = SCOPE) -> str:
        """An access token the way `bachbot auth` gets one, with bachbot's scope."""
        location = self.authorize(REDIRECT, scope).headers["Location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        token = requests.post(
            self.banner["BACHBOT_SPOTIFY_ACCOUNTS_BASE"] + "api/token",
            auth=(
                self.banner["BACHBOT_SPOTIFY_CLIENT_ID"],
                self.banner["BACHBOT_SPOTIFY_CLIENT_SECRET"],
            ),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        )
        assert token.status_code == 200, token.text
        return str(token.json()["access_token"])

    def call(self, method: str, path: str, token: str, **kwargs: object) -> requests.Response:
        url = self.banner["BACHBOT_SPOTIFY_API_BASE"] + path
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def running_sim() -> Iterator[Running]:
    code = "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "sim", "--port", "0", "--validate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner: dict[str, str] = {}
    lines: list[str] = []
    while "BACHBOT_SPOTIFY_REDIRECT_URI" not in banner:
        line = process.stdout.readline()
        assert line, "bachbot sim ended before its banner:\n" + "".join(lines)
        lines.append(line)
        key, sep, value = line.strip().partition("=")
        if sep and key.startswith("BACHBOT_"):
            banner[key] = value
    banner["_first"] = lines[0]
    try:
        yield Running(process, banner)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.mark.timeout(120)
def test_sim_refuses_what_spotify_refuses(running_sim: Running) -> None:
    sim = running_sim
    assert "demo's Bach catalogue" in sim.banner["_first"]
    assert sim.banner["BACHBOT_SPOTIFY_CLIENT_SECRET"] == "bachbot-sim-secret"  # no placeholder

    assert sim.authorize("http://localhost:8888/callback").status_code == 400
    token = sim.log_in()

    found = sim.call("GET", "search?q=bach&type=track&limit=10", token)
    assert found.status_code == 200 and found.json()["tracks"]["total"] > 0, found.text
    for query, message in (("offset=1001", "Invalid offset"), ("limit=11", "Invalid limit")):
        refused = sim.call("GET", f"search?q=bach&type=track&{query}", token)
        assert (refused.status_code, refused.json()["error"]["message"]) == (400, message)

    mine = [p["id"] for p in sim.call("GET", "me/playlists", token).json()["items"]]
    me = sim.call("GET", "me", token).json()["id"]
    own = next(
        p for p in mine if sim.call("GET", f"playlists/{p}", token).json()["owner"]["id"] == me
    )
    track = found.json()["tracks"]["items"][0]["uri"]
    bare = sim.call("POST", f"playlists/{own}/items", token, json=[track])
    assert (bare.status_code, bare.json()["error"]["message"]) == (400, "No uris provided")
    bad = sim.call("POST", f"playlists/{own}/items", token, json={"uris": [track], "position": -1})
    assert bad.status_code == 400
    no_scope = sim.call("PUT", f"me/library?uris={track}", token)
    assert (no_scope.status_code, no_scope.json()["error"]["message"]) == (
        403,
        "Insufficient client scope",
    )

    unknown = sim.call("GET", "me/trakcs", token)
    assert unknown.status_code == 404
    line = sim.out.readline()
    while line.startswith("then run"):  # the banner's last line
        line = sim.out.readline()
    assert line.startswith("off-spec: GET <unknown> -> 404: no such endpoint"), line
