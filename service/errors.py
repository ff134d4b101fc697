"""bachbot's exception hierarchy (the root; each boundary adds its own branch).

    BachbotError                     exit 1: the command ran and could not do its job
    ├── ConfigError                  input a user must fix (a CSV file, a dataset)
    ├── DatabaseError                database unreachable / migration failed
    │   └── DatabaseRefused          the server refused the URL for good (exit 2)
    ├── LockHeld                     another bachbot process holds the lock
    │   └── LockTaken                this one lost it (connection dropped), another has it now
    ├── LockLost                     this process does not hold the lock at the moment
    ├── HttpPortBusy                 the status page's port is taken
    ├── JobFailed                    a job a command ran failed (its error, in one line)
    ├── NothingToExplain             `bachbot explain`: the track is unknown, rated or unscored
    ├── FreezeRefused                `bachbot freeze`: nothing published yet to copy, or a bad name
    ├── UsageError                   exit 2: how bachbot was called or configured is wrong
    │   ├── SettingsInvalid          a BACHBOT_* value failed validation
    │   └── DataDirUnusable          the data directory cannot be used
    ├── SpotifyError                 service.spotify.errors (gateway boundary)
    └── (models.errors.ModelError and its FeatureProviderError branch live in models/,
         which imports nothing from service/; the command line treats them alike)

Every message names the thing, the cause and the next step.  ``exit_code``
is what ``bachbot`` exits with when the error ends a command, so the code is
decided where the error is defined, never by string matching in the CLI.
"""

from __future__ import annotations

from typing import ClassVar


class BachbotError(Exception):
    """Base of every error bachbot raises on purpose."""

    exit_code: ClassVar[int] = 1


class ConfigError(BachbotError):
    """An input (a file, a value read from it) a user must fix."""


class UsageError(BachbotError):
    """The command line or the configuration cannot work as given; nothing was done.

    Exit code 2, like a usage error of the command-line parser: running the
    same command again will fail the same way until the user changes it.
    """

    exit_code: ClassVar[int] = 2


class SettingsInvalid(UsageError):
    """A setting from the environment or ``.env`` failed validation."""


class DataDirUnusable(UsageError):
    """The data directory is a file, cannot be created, or is not ours to write."""


class DatabaseError(BachbotError):
    """The database cannot be reached or migrated."""


class DatabaseRefused(DatabaseError, UsageError):
    """The database server answered and refused for good (no such database, user or
    password; an unknown host): retrying cannot help, the URL must change."""


class LockHeld(BachbotError):
    """Another bachbot process is doing Spotify work on this database."""


class LockTaken(LockHeld):
    """This process held the lock, lost it when its connection dropped, and another process
    holds it now: this one must stop."""


class LockLost(BachbotError):
    """This process held the lock and does not at the moment (its connection dropped), so a
    commit was refused; it may take the lock back once the database answers."""


class HttpPortBusy(BachbotError):
    """The daemon cannot listen on its HTTP port (another program, or another bachbot)."""


class JobFailed(BachbotError):
    """A job run by a one-shot command failed or was skipped; the message is its outcome."""


class NothingToExplain(BachbotError):
    """``bachbot explain`` has no prediction to explain for that track (the message says why)."""


class FreezeRefused(BachbotError):
    """``bachbot freeze`` cannot copy "Predicted favourites" (the message says why, what to do)."""
