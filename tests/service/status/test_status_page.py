"""The status page says, in a listener's words, what is in the playlist, what ran, how it goes."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.http import build_app
from service.settings import Settings
from service.status import collect_status
from service.status_page import render_page
from service.store.app_state import AUTH_REVOKED
from service.store.tables import (
    ALL_TABLES,
    ModelVersion,
    OAuthToken,
    Prediction,
    Publication,
    utcnow,
)
from tests.service.status.conftest import LATEST, TRACKS, Seeded, seed_listener


class _Text(HTMLParser):
    """The text a person sees (no stylesheet, no head), one string per element."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "head")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "head")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def visible(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def page_of(engine: Engine, settings: Settings, now: datetime | None = None) -> str:
    """The page as it reads at ``now`` (the seeding time: relative times are then exact)."""
    return render_page(collect_status(engine=engine, settings=settings, now=now))


def test_playlist_shows_each_track_with_its_chance_and_why(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    page = page_of(engine, settings, seeded.now)
    text = visible(page)
    names = [TRACKS[t][0] for t in LATEST]
    assert [text.index(n) for n in names] == sorted(text.index(n) for n in names)
    assert "93% likely to be loved" in text and "66% likely to be loved" in text
    assert "model spread ±6 pts" in text
    assert "Why it’s here" in text and "makes no reasons up" in text
    assert "uncertainty" not in text.lower() and "interval" not in text.lower()
    rows = dict(zip(LATEST, re.findall(r'<td class="why">(.*?)</td>', page), strict=True))
    assert rows["t01"] == "harpsichord; slow tempo (62 BPM)"  # the two that raised it most
    assert rows["t04"] == "minor key"  # what lowered it is not a reason it is here
    assert rows["t02"] == "minor key; same work as a recording you loved: BWV 826"
    assert (
        rows["t05"]
        == "close to “English Suite No. 3 in G Minor, BWV 808: Sarabande” (you rated it 8)"
    )
    assert "—" in rows["t03"]  # scored before explanations: no reason made up


def test_taste_section_shows_what_matters_with_direction_and_what_was_rated(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    page = page_of(engine, settings, seeded.now)
    text = visible(page)
    taste = text[text.index("Your taste") :]
    assert (
        "More likely loved: minor key (over major key), slow tempo (over fast tempo), harpsichord"
        in taste
    )
    assert "Less likely loved: choir" in taste
    assert "Works you loved" in taste and "BWV 808" in taste and "BWV 914" in taste
    assert "Works you did not love" in taste and "BWV 147" in taste and "BWV 232" in taste
    assert "Performers you loved" in taste and "Glenn Gould\n(1 loved, 0 not)" in taste
    assert "Performers you did not love" in taste and "Monteverdi Choir" in taste
    plot = re.search(r'<svg class="plot taste".*?</svg>', page, flags=re.DOTALL)
    assert plot is not None
    assert plot.group(0).count('class="bar up"') == 3
    assert plot.group(0).count('class="bar down"') == 1


def test_what_changed_since_the_last_publish(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    page = page_of(engine, settings, seeded.now)
    text = visible(page)
    assert "since the list before (2 days ago) 2 added, 2 removed" in text
    new_rows = re.findall(r'<tr><td class="pos">(\d+)</td>(?:(?!</tr>).)*class="badge"', page)
    assert new_rows == ["2", "4"]  # t04 and t05 came in
    gone = text[text.index("Taken out: 2") :]
    assert TRACKS["t09"][0] in gone and TRACKS["t10"][0] in gone


def test_each_job_reads_as_a_sentence_with_when_and_why_it_failed(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    text = visible(page_of(engine, settings, seeded.now))
    for said in (
        "sync: 3 new tracks, 1 new like",
        "features: no new tracks to describe",
        "train: a better model is in use (ROC AUC 0.84, learned from 40 ratings)",
        "score: 1,234 tracks scored",
        "publish: failed - Spotify answered 503 on PUT /playlists/{id}/items after 3 retries",
        "publish: playlist unchanged",  # the run before, under "Earlier runs"
    ):
        assert said in text
    assert "21 minutes ago" in text
    assert "Traceback" not in text
    assert not re.search(r"\b\w+=\S", text), "raw key=value counts on the page"


def test_model_line_and_plot_use_the_metric_the_model_was_scored_by(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    page = page_of(engine, settings, seeded.now)
    text = visible(page)
    assert "The model in use scores ROC AUC 0.84 (nested CV), learned from 40 ratings" in text
    assert "a coin toss scores 0.5" in text
    assert page.count("<circle") == 3  # v2, v3 and v4; v1 was scored by R2
    assert "Not shown: 1 older model scored another way." in text
    for word in ("mse", "mae", "r2", "r²"):
        assert not re.search(rf"\b{word}\b", text.lower()), word


def test_no_internal_names_on_the_page(seeded: Seeded, engine: Engine, settings: Settings) -> None:
    text = visible(page_of(engine, settings, seeded.now))
    for name in (t.__tablename__ for t in ALL_TABLES if "_" in t.__tablename__):
        assert name not in text
    assert "v4" not in text.split()  # model version ids are for --json


def test_login_health_present_revoked_missing(
    seeded: Seeded, engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    text = visible(page_of(engine, settings, seeded.now))
    assert "Connected to Spotify; the login was last refreshed 12 minutes ago." in text
    assert "a-secret" not in page_of(engine, settings, seeded.now)
    with sessions() as session:
        AUTH_REVOKED.put(session, "Spotify refused the refresh token")
        session.commit()
    text = visible(page_of(engine, settings, seeded.now))
    assert "Spotify refused bachbot's login (Spotify refused the refresh token)" in text
    assert "until you run `bachbot auth` again" in text
    with sessions() as session:
        session.delete(session.get_one(OAuthToken, "default"))
        session.commit()
    assert "Spotify refused bachbot's login" in visible(page_of(engine, settings, seeded.now))


def test_cold_start_ranks_by_similarity_instead_of_a_score(
    engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with sessions() as session:
        seed_listener(session, now)
        for row in session.scalars(select(ModelVersion)):
            row.promoted = False
        cold = ModelVersion(version="cold", kind="coldstart", n_ratings=6, promoted=True,
                            promoted_at=now, created_at=now, metrics={})  # fmt: skip
        session.add(cold)
        session.flush()
        session.add(Prediction(track_id="t01", model_version_id=cold.id, score=7.9))
        session.add(Publication(playlist_id="pl", track_ids=["t01"], model_version="cold",
                                created_at=now))  # fmt: skip
        session.commit()
    text = visible(page_of(engine, settings, now))
    assert "ranking by similarity to your likes until there are enough ratings" in text
    assert "close to your likes" in text
    assert "likely to be loved" not in text and "7.9/10" not in text


def test_an_old_rating_prediction_shows_out_of_ten(
    engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with sessions() as session:
        seed_listener(session, now)
        old = session.scalars(select(ModelVersion).where(ModelVersion.version == "v1-r2")).one()
        session.add(Prediction(track_id="t08", model_version_id=old.id, score=7.43,
                               uncertainty=1.3))  # fmt: skip
        session.add(Publication(playlist_id="pl", track_ids=["t08"], model_version="v1-r2",
                                created_at=now + timedelta(seconds=1)))  # fmt: skip
        session.commit()
    text = visible(page_of(engine, settings, now))
    assert "7.4/10" in text
    assert "spread" not in text


def test_a_new_install_says_what_to_do_next(engine: Engine, settings: Settings) -> None:
    page = page_of(engine, settings)
    text = visible(page)
    assert '"Predicted favourites" has not been published yet.' in text
    assert "Not connected to Spotify yet: run `bachbot auth` to log in." in text
    assert "No model yet" in text and "Nothing has run yet." in text
    assert "<svg" not in page


def test_page_refreshes_itself_and_is_served_with_metrics_by_metric_name(
    seeded: Seeded, engine: Engine, settings: Settings
) -> None:
    app = build_app(settings=settings, engine=engine, scheduler_alive=lambda: True)

    async def get(*paths: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.get(path) for path in paths]

    page, metrics = asyncio.run(get("/", "/metrics"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<meta http-equiv="refresh" content="60">' in page.text
    assert 'name="viewport" content="width=device-width' in page.text
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    (sample,) = families["bachbot_model_score"].samples
    assert sample.labels == {"metric": "roc_auc"} and sample.value == 0.84


def test_the_status_page_does_not_load_matplotlib(tmp_path: Path) -> None:
    code = f"""
import sys
from service.settings import Settings
from service.status import collect_status
from service.status_page import render_page
from service.store.db import open_database
settings = Settings(_env_file=None, data_dir={str(tmp_path)!r})
assert "bachbot" in render_page(collect_status(engine=open_database(settings), settings=settings))
assert "matplotlib" not in sys.modules, "the status page loaded matplotlib"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
