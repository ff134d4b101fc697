"""The model's feature matrix for stored tracks: the store's rows, the registry's layout.

The store returns what each provider said at the schema versions the matrix
reads (:attr:`models.matrix.MatrixLayout.versions`); :func:`models.matrix.build_matrix`
turns those rows into columns block by block.  Callers pass at most a few
thousand ids at a time (the score job loads 50,000 tracks in chunks of 5,000).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from models.matrix import build_matrix, matrix_layout
from service.store.features import load_feature_rows


def load_matrix(*, session: Session, track_ids: Sequence[str]) -> npt.NDArray[np.float64]:
    """The model's feature matrix for ``track_ids``, one row each in that order."""
    rows = load_feature_rows(
        session=session, track_ids=track_ids, versions=matrix_layout().versions
    )
    return build_matrix([rows[track_id] for track_id in track_ids])
