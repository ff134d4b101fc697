"""The status page in a real headless Chromium, on a desktop and on a phone, as a listener sees it.

The daemon's own HTTP server serves the seeded database; Chromium measures
the rendered layout (nothing may be wider than the screen) and saves a
full-page screenshot of each width in the test's tmp dir for a person to look at.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from service.daemon import Daemon
from service.settings import Settings
from tests.service.status.chromium import Chromium, find_chromium
from tests.service.status.conftest import LATEST, TRACKS, Seeded

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium for the status page test (scripts/test installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium): page not checked")
    with Chromium(executable, tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture
def page_url(seeded: Seeded, settings: Settings, engine: Engine) -> Iterator[str]:
    local = settings.model_copy(update={"http_port": 0})
    daemon = Daemon(local, engine=engine)
    base = f"http://127.0.0.1:{daemon.start_http()}"
    deadline = time.monotonic() + 30  # a guard against a server that never starts
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the status page server did not start"
            time.sleep(0.05)
    yield f"{base}/"
    daemon.stop()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("width", "mobile"), [(1280, False), (390, True)], ids=["desktop-1280", "phone-390"]
)
def test_status_page_reads_and_fits_in_a_real_browser(
    chromium: Chromium, page_url: str, tmp_path: Path, width: int, mobile: bool
) -> None:
    shot = tmp_path / f"status-page-{width}px.png"
    seen = chromium.look(page_url, width=width, mobile=mobile, screenshot=shot)

    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 20_000
    # Nothing sideways: a phone would otherwise zoom out or scroll horizontally.
    assert seen["wide"] == [], f"wider than {width} px: {seen['wide']}"
    assert seen["innerWidth"] == width
    assert seen["scrollWidth"] <= width
    text = seen["text"]
    for said in (
        *(TRACKS[t][0] for t in LATEST),
        "93% likely to be loved",
        "model spread ±6 pts",
        "Why it’s here",
        "2 added, 2 removed",
        "Connected to Spotify; the login was last refreshed",
        "ROC AUC 0.84 (nested CV)",
        "sync: 3 new tracks, 1 new like",
        "publish: failed - Spotify answered 503",
        "Baroque essentials (curated)",
        "harpsichord; slow tempo (62 BPM)",
        "Your taste",
        "More likely loved: minor key (over major key)",
        "Works you did not love",
    ):
        assert said in text, said
    for internal in ("app_state", "catalogue_cursors", "job_runs", "mse", "mae", "uncertainty"):
        assert internal not in text
    assert seen["plotDots"] == 3
    assert seen["refresh"] == "60"
