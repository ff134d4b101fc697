"""`bachbot publish` as a user runs it, against the local Spotify."""

from __future__ import annotations

from collections.abc import Callable

from service.spotify_sim import SpotifySim
from service.store.tokens import DbTokenStore
from tests.jobs.publish.conftest import Scored


def _env(sim: SpotifySim) -> dict[str, str]:
    return {
        "BACHBOT_SPOTIFY_API_BASE": sim.api_base,
        "BACHBOT_SPOTIFY_ACCOUNTS_BASE": sim.accounts_base,
        "BACHBOT_SPOTIFY_CLIENT_ID": sim.accounts.client_id,
        "BACHBOT_SPOTIFY_CLIENT_SECRET": sim.accounts.client_secret,
        "BACHBOT_PLAYLIST_MIN_PROBABILITY": "0",
        "BACHBOT_PLAYLIST_SIZE": "5",
    }


def test_publish_command_writes_then_leaves_unchanged(
    scored_factory: Callable[..., Scored],
    cli: Callable[..., tuple[int, str, str]],
    token_store: DbTokenStore,
) -> None:
    scored = scored_factory(12, size=5)
    code, out, err = cli("publish", env=_env(scored.sim))
    assert code == 0, err
    assert out.startswith('rewrote "Predicted favourites" (5 tracks, model m1)')
    code, out, err = cli("publish", env=_env(scored.sim))
    assert code == 0, err
    assert out.startswith('left unchanged "Predicted favourites"')
    assert len(scored.bot_playlists()) == 1


def test_publish_without_token_says_run_auth(
    scored_factory: Callable[..., Scored],
    cli: Callable[..., tuple[int, str, str]],
    token_store: DbTokenStore,
) -> None:
    scored = scored_factory(3, size=2)
    token_store.clear()
    code, _out, err = cli("publish", env=_env(scored.sim))
    assert code == 1
    assert "bachbot auth" in err and "Traceback" not in err


def test_freeze_command_keeps_the_published_list(
    scored_factory: Callable[..., Scored],
    cli: Callable[..., tuple[int, str, str]],
    token_store: DbTokenStore,
) -> None:
    scored = scored_factory(12, size=5)
    code, out, err = cli("freeze", env=_env(scored.sim))
    assert code == 1 and out == ""
    assert 'nothing to freeze: "Predicted favourites" has not been filled yet' in err
    assert cli("publish", env=_env(scored.sim))[0] == 0
    code, out, err = cli("freeze", "--name", "Best of November", env=_env(scored.sim))
    assert code == 0, err
    assert out.startswith('kept 5 tracks of "Predicted favourites" as "Best of November"')
    (frozen,) = scored.sim.state.find_playlists("Best of November")
    bot = scored.bot_playlists()[0]
    assert scored.sim.state.playlist_track_ids(frozen) == scored.sim.state.playlist_track_ids(bot)
    code, _out, err = cli("freeze", "--name", "Predicted favourites", env=_env(scored.sim))
    assert code == 2 and "one of bachbot's own playlists" in err
