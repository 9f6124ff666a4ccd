"""Scores of fitted models that scikit-learn does not provide: the concordance index."""

from __future__ import annotations

import numpy as np
from sklearn.utils import gen_batches


def concordance_index(time, event, risk, chunk_size: int = 1024) -> float:
    """Harrell's concordance index of risk scores for censored survival times.

    A pair of rows is comparable when the earlier time is an observed event
    (``event`` true) and the times differ; it is concordant when that row has
    the higher risk score, and counts one half when the scores are equal. The
    index is the share of concordant pairs among comparable ones (as
    scikit-survival's ``concordance_index_censored``).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Observed times (of the event, or of censoring).
    event : array-like of shape (n_samples,)
        Whether the event was observed (bool or 0/1).
    risk : array-like of shape (n_samples,)
        Risk scores: a higher score predicts an earlier event.
    chunk_size : int, default=1024
        Rows compared at a time (memory ``chunk_size * n_samples``).

    Returns
    -------
    cindex : float

    Examples
    --------
    >>> from sklearn_l0.metrics import concordance_index
    >>> concordance_index([1, 2, 3, 4], [1, 1, 0, 1], [4, 3, 2, 1])
    1.0
    >>> concordance_index([1, 2, 3, 4], [1, 1, 0, 1], [1, 2, 3, 4])
    0.0
    """
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event).astype(bool)
    risk = np.asarray(risk, dtype=np.float64)
    if not time.shape == event.shape == risk.shape or time.ndim != 1:
        raise ValueError(
            f"time, event and risk must be 1-D of one length; got shapes {time.shape}, "
            f"{event.shape}, {risk.shape}."
        )
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk scores must be finite.")
    rows = np.flatnonzero(event)
    concordant = comparable = 0.0
    for batch in gen_batches(len(rows), chunk_size) if len(rows) else ():
        i = rows[batch]
        later = time[None, :] > time[i, None]  # (events in the batch, all rows)
        diff = risk[i, None] - risk[None, :]
        comparable += later.sum()
        concordant += (later & (diff > 0)).sum() + 0.5 * (later & (diff == 0)).sum()
    if comparable == 0:
        raise ValueError(
            "no comparable pair: the concordance index needs an observed event before "
            "another row's time."
        )
    return float(concordant / comparable)
