"""bachbot's one settings class.

Built once in ``main()`` (or a test) and passed down; nothing else reads the
environment.  Every value comes from ``BACHBOT_*`` variables or a ``.env``
file; the Spotify credentials are also accepted under spotipy's own names
(``SPOTIPY_CLIENT_ID``, ``SPOTIPY_CLIENT_SECRET``, ``SPOTIPY_REDIRECT_URI``) so
an existing spotipy set-up works unchanged.

Validation refuses unsafe or meaningless values at start-up (a ``localhost``
redirect URI that Spotify rejects since 2025, a rating outside 1-10, ...);
:func:`format_settings_error` turns pydantic's report into the one line the CLI
prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ModelChoice = Literal["mlp", "auto"]

J_S_BACH_ARTIST_ID = "5aIqB5nVVvmFsvSdExz408"


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/bachbot`` on Linux)."""
    return Path(platformdirs.user_data_dir("bachbot", appauthor=False))


def _split_list(value: object) -> object:
    """Accept ``a,b,c`` in the environment as well as a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything bachbot can be told.  See ``.env.example`` for the user's view."""

    model_config = SettingsConfigDict(
        env_prefix="BACHBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,  # a blank `BACHBOT_HTTP_TOKEN=` in .env means unset, not ""
    )

    # --- storage ------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    """PostgreSQL or SQLite URL; default: SQLite file ``bachbot.db`` in data_dir."""
    database_password_file: Path | None = None
    """File holding the PostgreSQL password (a Docker secret), so it is in no environment
    variable; the URL then names no password.  Read once at start-up."""

    # --- Spotify -------------------------------------------------------------
    spotify_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BACHBOT_SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID"),
    )
    spotify_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BACHBOT_SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_SECRET"),
    )
    spotify_redirect_uri: str = Field(
        default="http://127.0.0.1:8888/callback",
        validation_alias=AliasChoices("BACHBOT_SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI"),
    )
    spotify_api_base: str = "https://api.spotify.com/v1/"
    """Web API prefix; the local Spotify (tests, demo) points this at loopback."""
    spotify_accounts_base: str = "https://accounts.spotify.com/"
    spotify_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_retry_after_s: float = Field(default=60.0, ge=0)
    """A 429 asking to wait longer than this ends the job; the scheduler resumes later."""
    server_error_retries: int = Field(default=3, ge=0, le=10)
    backoff_base_s: float = Field(default=0.5, ge=0)
    calls_per_cycle: int = Field(default=400, ge=10)
    """Budget of catalogue-walk calls per sync cycle (discography, search, imports)."""

    # --- catalogue -----------------------------------------------------------
    composer_artist_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [J_S_BACH_ARTIST_ID]
    )
    composer_names: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Johann Sebastian Bach"]
    )
    """Each composer's name as Spotify spells it, for search's ``artist:`` filter."""
    new_release_probe_hours: float = Field(default=6.0, ge=0)
    """How often the new-release search runs (0: every cycle); one to two calls a composer,
    so a quiet cycle in between still costs only the minimum."""
    new_release_pages: int = Field(default=20, ge=1, le=100)
    """Most search pages (10 albums each) one probe reads per query."""
    newest_first_releases: int = Field(default=50, ge=0)
    """A first sync reads the newest this many releases of each composer before the rest."""
    title_patterns: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [r"\bBWV\b"])
    search_queries: Annotated[list[str], NoDecode] = Field(default_factory=list)
    unreadable_recheck_hours: float = Field(default=24.0, gt=0)
    full_likes_pass_hours: float = Field(default=24.0, gt=0)
    catalogue_refresh_hours: float = Field(default=24.0, gt=0)
    """How often a finished discography walk or search is checked again for new albums."""
    top_tracks_hours: float = Field(default=24.0, gt=0)
    """How often top tracks (slow to change) are read; recently played is read every cycle."""

    # --- ratings -------------------------------------------------------------
    love_threshold: float = Field(default=7.0, ge=1, le=10)
    """Ratings at or above this count as loved; the model learns how likely that is."""
    like_rating: int = Field(default=8, ge=1, le=10)
    removal_rating: int = Field(default=2, ge=1, le=10)
    exposure_negative: bool = False
    """Treat a published track heard several times and never liked as a weak negative."""
    exposure_plays: int = Field(default=3, ge=1)
    exposure_rating: int = Field(default=4, ge=1, le=10)

    # --- features ------------------------------------------------------------
    reccobeats_enabled: bool = True
    """Sends Spotify track ids (nothing else) to the third-party ReccoBeats API."""
    reccobeats_base: str = "https://api.reccobeats.com/"
    preview_audio_enabled: bool = True
    """Sends ISRCs (and, to search, titles and performers) to Deezer; previews are analysed
    in memory and discarded."""
    deezer_base: str = "https://api.deezer.com/"
    preview_audio_calls_per_cycle: int = Field(default=600, ge=1)
    """Deezer calls per cycle (a track costs 2, 3 with a search); the rest wait a cycle."""
    deezer_calls_per_second: float = Field(default=9.0, gt=0)
    """Pace of Deezer API calls: Deezer allows 50 in 5 seconds and answers more with a
    quota error, so bachbot spaces its calls to stay just under that."""
    preview_audio_recheck_days: float = Field(default=30.0, gt=0)
    """A track Deezer had no usable preview for is looked up again after this many days."""

    # --- model ---------------------------------------------------------------
    model: ModelChoice = "mlp"
    min_ratings: int = Field(default=15, ge=2)
    cv_splits: int = Field(default=5, ge=2, le=20)
    cv_repeats: int | None = Field(default=None, ge=1, le=20)
    """Repeats of the outer cross-validation; unset: 5 up to 200 ratings, else 2."""
    seed: int = 0
    train_jobs: int = Field(default=2, ge=1, le=64)
    """Processes for the nested cross-validation (outer folds run in parallel)."""
    retrain_hours: float = Field(default=24.0, gt=0)
    retrain_after_ratings: int = Field(default=10, ge=1)

    # --- publishing ----------------------------------------------------------
    playlist_name: str = Field(default="Predicted favourites", min_length=1, max_length=100)
    playlist_public: bool = False
    playlist_size: int = Field(default=50, ge=1, le=10_000)
    playlist_min_probability: float = Field(default=0.5, ge=0, le=1)
    """Lowest probability of love (0-1) a track needs to be published."""
    legacy_playlist_min_score: float | None = Field(
        default=None, validation_alias="BACHBOT_PLAYLIST_MIN_SCORE"
    )
    """Read only to warn: scores became probabilities in bachbot 0.2."""
    max_per_work: int = Field(default=2, ge=1)
    explore: float = Field(default=0.1, ge=0, le=0.5)
    """Share of "Predicted favourites" for uncertain tracks with a high upside (0: pure top)."""
    to_rate_name: str = Field(default="Bach to rate", min_length=1, max_length=100)
    to_rate_size: int = Field(default=10, ge=0, le=100)
    """Tracks in "Bach to rate", picked to teach the model most; 0 turns the playlist off."""
    freeze_every_days: int | None = Field(default=None, ge=1, le=3650)
    """Copy "Predicted favourites" to a dated playlist of its own this often (``bachbot
    freeze`` on a schedule, after a cycle's publish); blank = only when asked."""

    # --- daemon --------------------------------------------------------------
    sync_minutes: float = Field(default=30.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8888, ge=0, le=65535)
    http_token: SecretStr | None = None
    """Protects the status page and /metrics (bearer, ?token= or basic auth).  Without it, a
    non-loopback http_host serves only /healthz and /callback (service.http)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("data_dir")
    @classmethod
    def _home(cls, value: Path) -> Path:
        """``~/bachbot`` in ``.env`` means the home folder (no shell expands it there)."""
        return value.expanduser()

    @field_validator(
        "composer_artist_ids", "composer_names", "title_patterns", "search_queries", mode="before"
    )
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("spotify_redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL, e.g. http://127.0.0.1:8888/callback")
        if parts.hostname == "localhost":
            raise ValueError(
                "Spotify no longer accepts 'localhost' redirect URIs; use the loopback IP, "
                "e.g. http://127.0.0.1:8888/callback"
            )
        if parts.scheme == "http" and parts.hostname not in {"127.0.0.1", "::1", "[::1]"}:
            raise ValueError("must be HTTPS or a loopback IP, e.g. http://127.0.0.1:8888/callback")
        return value

    @field_validator("spotify_api_base", "spotify_accounts_base", "reccobeats_base", "deezer_base")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://api.spotify.com/v1/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must be a sqlite:// or postgresql:// URL, "
                "e.g. postgresql+psycopg://bachbot:secret@db:5432/bachbot"
            )
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _password_from_file(self) -> Settings:
        """Put the secret file's password into the URL (trailing newlines dropped, as the
        postgres image does with ``POSTGRES_PASSWORD_FILE``)."""
        path = self.database_password_file
        if path is None:
            return self
        from sqlalchemy.engine import make_url

        if not (self.database_url or "").startswith("postgresql"):
            raise ValueError(
                "BACHBOT_DATABASE_PASSWORD_FILE is set but BACHBOT_DATABASE_URL is not a "
                "postgresql:// URL; set both or neither"
            )
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as err:
            why = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise ValueError(
                f"cannot read BACHBOT_DATABASE_PASSWORD_FILE {path}: {why}; check the path "
                "and that the file is readable by this user"
            ) from err
        if not password:
            raise ValueError(f"BACHBOT_DATABASE_PASSWORD_FILE {path} is empty")
        url = make_url(str(self.database_url))
        if url.password not in (None, password):  # the same one again: settings rebuilt
            raise ValueError(
                "BACHBOT_DATABASE_URL holds a password and BACHBOT_DATABASE_PASSWORD_FILE is "
                "set; keep the password in one place (the file)"
            )
        self.database_url = url.set(password=password).render_as_string(hide_password=False)
        return self

    @field_validator("title_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        import re

        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {err}") from err
        return value

    @model_validator(mode="after")
    def _ratings_straddle_love(self) -> Settings:
        """A like must count as loved and a removal as not, or the model learns nothing."""
        if self.like_rating < self.love_threshold:
            raise ValueError(
                f"BACHBOT_LIKE_RATING ({self.like_rating}) is below BACHBOT_LOVE_THRESHOLD "
                f"({self.love_threshold:g}), so a like would not count as loved"
            )
        for name, value in (
            ("BACHBOT_REMOVAL_RATING", self.removal_rating),
            ("BACHBOT_EXPOSURE_RATING", self.exposure_rating),
        ):
            if value >= self.love_threshold:
                raise ValueError(
                    f"{name} ({value}) is not below BACHBOT_LOVE_THRESHOLD "
                    f"({self.love_threshold:g}), so it would count as loved"
                )
        return self

    @property
    def deprecations(self) -> list[str]:
        """Settings that are still set but no longer do anything (logged at start-up)."""
        notes = []
        if self.legacy_playlist_min_score is not None:
            notes.append(
                "BACHBOT_PLAYLIST_MIN_SCORE is no longer used: scores are now the probability "
                "you love a track; set BACHBOT_PLAYLIST_MIN_PROBABILITY (0-1, default 0.5)"
            )
        return notes

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the configured one or the SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'bachbot.db'}"

    @property
    def models_dir(self) -> Path:
        """Where trained model artifacts live (never in the source tree)."""
        return self.data_dir / "models"

    @property
    def has_spotify_credentials(self) -> bool:
        return bool(self.spotify_client_id and self.spotify_client_secret)


ENV_NAMES: dict[str, str] = {
    "spotify_client_id": "BACHBOT_SPOTIFY_CLIENT_ID (or SPOTIPY_CLIENT_ID)",
    "spotify_client_secret": "BACHBOT_SPOTIFY_CLIENT_SECRET (or SPOTIPY_CLIENT_SECRET)",
    "spotify_redirect_uri": "BACHBOT_SPOTIFY_REDIRECT_URI (or SPOTIPY_REDIRECT_URI)",
}

EXAMPLES: dict[str, str] = {
    "int": "e.g. 8",
    "float": "e.g. 30",
    "bool": "e.g. true or false",
}


def format_settings_error(err: ValidationError) -> str:
    """One line per bad value: the variable, what is wrong with it, and an example.

    Never echoes the value of a secret.
    """
    lines = []
    for error in err.errors():
        if not error["loc"]:  # a rule across several settings names them itself
            lines.append(f"invalid settings: {str(error['msg']).removeprefix('Value error, ')}")
            continue
        loc = error["loc"][0]
        field = str(loc)
        field_key = field.lower().removeprefix("bachbot_")
        if field_key in {"spotipy_client_id", "spotipy_client_secret", "spotipy_redirect_uri"}:
            field_key = field_key.replace("spotipy_", "spotify_")
        env = ENV_NAMES.get(field_key, f"BACHBOT_{field_key.upper()}")
        message = str(error["msg"]).removeprefix("Value error, ")
        secret = "secret" in field_key or "token" in field_key
        given = "" if secret or "input" not in error else f" (got {error['input']!r})"
        lines.append(f"invalid setting {env}{given}: {message}")
    return "; ".join(lines)
