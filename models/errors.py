"""The errors of the taste model, a branch of its own (``models`` imports no ``service``).

    ModelError
    ├── NotEnoughData       too few ratings (or rows of one kind) to train or evaluate honestly
    ├── ArtifactRefused     missing / tampered / incompatible saved model
    └── DatasetError        a table given to ``bachbot evaluate --dataset`` cannot be used

The command line prints any of them as one line (exit 1); the daemon records
them on the job run.  Every message names the thing, the cause and the next
step.
"""

from __future__ import annotations

from pathlib import Path


class ModelError(Exception):
    """The taste model cannot be trained, loaded or used."""


class NotEnoughData(ModelError):
    """Too few ratings (or rows) to train or evaluate honestly."""


class ArtifactRefused(ModelError):
    """A saved model failed its integrity or compatibility checks."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class DatasetError(ModelError):
    """A data set file a user must fix (unreadable, no such column, one class ...)."""
