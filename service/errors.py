"""bachbot's exception hierarchy (the root; each boundary adds its own branch).

    BachbotError
    ├── ConfigError                  settings or input a user must fix
    ├── DatabaseError                database unreachable / migration failed
    ├── LockHeld                     another bachbot process holds the lock
    ├── SpotifyError                 service.spotify.errors (gateway boundary)
    ├── FeatureProviderError         models.features (provider boundary)
    └── ModelError                   models.registry (artifact refused, too little data)

Every message names the thing, the cause and the next step.
"""

from __future__ import annotations


class BachbotError(Exception):
    """Base of every error bachbot raises on purpose."""


class ConfigError(BachbotError):
    """A setting or an input file a user must fix."""


class DatabaseError(BachbotError):
    """The database cannot be reached or migrated."""


class LockHeld(BachbotError):
    """Another bachbot process is doing Spotify work on this database."""
