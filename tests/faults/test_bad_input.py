"""Bad input, fuzzed: every CSV import and every setting ends in a clear error or a correct
result, never a traceback or a partial write (property-based, Hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.spotify_sim import SimState, SpotifySim
from service.store.ratings import effective_ratings
from service.store.tables import Rating, Track

from .conftest import FaultTable

SIM_TRACKS = ["4uLU6hMCjMI75M1A2tKUQC", "0eGsygTp906u18L0Oimnem", "7ouMYWpwJ422jRcDASZB7P"]
UNKNOWN = "1111111111111111111111"

track_refs = st.one_of(
    st.sampled_from(SIM_TRACKS),
    st.sampled_from(SIM_TRACKS).map(lambda t: f"spotify:track:{t}"),
    st.sampled_from(SIM_TRACKS).map(lambda t: f"https://open.spotify.com/track/{t}?si=abc"),
    st.just(UNKNOWN),
    st.text(max_size=30),
)
rating_values = st.one_of(
    st.integers(min_value=-3, max_value=14).map(str),
    st.sampled_from(["7.5", "8/10", "", "ten", " 9 ", "1e1", "٣"]),
    st.text(max_size=8),
)
csv_lines = st.lists(
    st.tuples(track_refs, rating_values, st.sampled_from(["", ",extra", ',"quoted, title"'])).map(
        lambda t: f"{t[0]},{t[1]}{t[2]}"
    )
    | st.text(max_size=40),
    max_size=6,
)


@pytest.fixture
def csv_sim(settings: Settings) -> SpotifySim:
    state = SimState()
    state.add_user("listener")
    bach = state.add_artist("Johann Sebastian Bach", id="5aIqB5nVVvmFsvSdExz408")
    album = state.add_album("Goldberg", artist_ids=[bach])
    for track_id in SIM_TRACKS:
        state.add_track("Aria, BWV 988", album_id=album, artist_ids=[bach], id=track_id)
    sim = SpotifySim(state, validate=True)
    sim.accounts.client_id = settings.spotify_client_id or ""
    secret = settings.spotify_client_secret
    sim.accounts.client_secret = secret.get_secret_value() if secret else ""
    return sim


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Rating)) or 0,
            session.scalar(select(func.count()).select_from(Track)) or 0,
        )


@pytest.mark.timeout(180)
def test_fuzzed_csv_import_is_all_or_nothing_with_a_clear_error(
    csv_sim: SpotifySim,
    settings: Settings,
    sessions: sessionmaker[Session],
    cli: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
    fault_table: FaultTable,
) -> None:
    from service.spotify.auth import SCOPE
    from service.store.tokens import DbTokenStore

    with csv_sim:
        DbTokenStore(sessions).save_token_to_cache(csv_sim.issue_token(scope=SCOPE))
        env = {
            "BACHBOT_SPOTIFY_API_BASE": csv_sim.api_base,
            "BACHBOT_SPOTIFY_ACCOUNTS_BASE": csv_sim.accounts_base,
            "BACHBOT_SERVER_ERROR_RETRIES": "0",
        }
        tries = [0]

        @settings_for_ci(30)
        @given(lines=csv_lines, bom=st.booleans(), raw=st.binary(max_size=20) | st.none())
        def check(lines: list[str], bom: bool, raw: bytes | None) -> None:
            tries[0] += 1
            path = tmp_path / "ratings.csv"
            if raw is not None:
                path.write_bytes(raw)
            else:
                path.write_text(("\ufeff" if bom else "") + "\n".join(lines), encoding="utf-8")
            before = _counts(sessions)
            code, out, err = cli("import-ratings", str(path), env=env)
            assert "Traceback" not in out + err
            if code == 0:
                with sessions() as session:
                    effective = effective_ratings(session=session)
                from jobs.rating_input import parse_ratings_csv

                for line in parse_ratings_csv(path.read_text(encoding="utf-8-sig")):
                    assert effective.get(line.track_id) == line.value
            else:
                assert code == 1, (code, err)
                assert "\nbachbot: " in "\n" + err, err
                assert _counts(sessions) == before, "a failed import wrote something"

        def check_and_validate() -> None:
            check()
            csv_sim.assert_valid()  # and every request was one Spotify accepts

        _record(fault_table, "fuzzed CSV imports", check_and_validate, tries)


def _record(table: FaultTable, fault: str, check: Callable[[], None], tries: list[int]) -> None:
    """Run the property and put its real outcome in the table: a failing example is a row
    that says NO (and the test fails on it), not a row that is never written."""
    survived = False
    try:
        check()
        survived = True
    finally:
        table.add(fault, tries=tries[0], survived=survived)


def settings_for_ci(examples: int) -> Callable[..., object]:
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


SETTING_KEYS = [
    "BACHBOT_SYNC_MINUTES", "BACHBOT_HTTP_PORT", "BACHBOT_PLAYLIST_SIZE", "BACHBOT_LOG_LEVEL",
    "BACHBOT_SPOTIFY_REDIRECT_URI", "BACHBOT_SPOTIFY_API_BASE", "BACHBOT_TITLE_PATTERNS",
    "BACHBOT_COMPOSER_ARTIST_IDS", "BACHBOT_MODEL", "BACHBOT_RECCOBEATS_ENABLED",
    "BACHBOT_MIN_RATINGS", "BACHBOT_PLAYLIST_NAME", "BACHBOT_LIKE_RATING",
    "BACHBOT_MAX_RETRY_AFTER_S", "BACHBOT_SEARCH_QUERIES", "BACHBOT_CV_SPLITS",
]  # fmt: skip
env_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25
)
setting_values = st.one_of(
    env_text,
    st.integers(-10, 100_000).map(str),
    st.sampled_from(["nan", "inf", "-0", "1e309", "true", "[", "[1,2]", "http://localhost:8888/callback",
                     "ftp://x", "http://127.0.0.1:8888/callback", "(unclosed", "DEBUG", "auto"]),
)  # fmt: skip


@pytest.mark.timeout(180)
def test_fuzzed_settings_give_one_line_exit_2_or_start(
    cli: Callable[..., tuple[int, str, str]],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    fault_table: FaultTable,
) -> None:
    tries = [0]
    secret = "fuzz-secret-token-value-93"

    @settings_for_ci(50)
    @given(chosen=st.dictionaries(st.sampled_from(SETTING_KEYS), setting_values, max_size=4))
    def check(chosen: dict[str, str]) -> None:
        tries[0] += 1
        for key in SETTING_KEYS:
            monkeypatch.delenv(key, raising=False)
        chosen = {**chosen, "BACHBOT_HTTP_TOKEN": secret}
        code, out, err = cli("status", env=chosen)
        assert "Traceback" not in out + err
        if code == 2:
            assert err.startswith("bachbot: invalid setting"), err
            assert err.strip().count("\n") == 0, f"not one line: {err!r}"
            assert secret not in err, "a secret echoed in an error"
        else:
            assert code == 0, (code, err)

    _record(fault_table, "fuzzed settings (env)", check, tries)
