"""The Poisson models' default learning rate: where the gates settle, for several steps.

For each step size, on the families of ``bench_poisson.py`` (synthetic Toeplitz 0.5 at
several n x p, and the insurance-like frequency model), the gates of
:class:`~sklearn_l0.L0PoissonRegressor` with ``refit=False`` (the training alone, no local
search): how many stay open, how many true features are among them, the epochs used
(``max_iter`` 1000 means they had not settled) and whether training diverged. Then one
:class:`~sklearn_l0.L0PoissonRegressorCV` per step on the widest setting. One thread.

Run: ``python benchmarks/bench_poisson_lr.py`` (``--rates 0.02,0.05``, ``--seeds 3``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, limit_threads, markdown_table  # noqa: E402
from bench_poisson import insurance, synthetic  # noqa: E402

from sklearn_l0 import L0PoissonRegressor, L0PoissonRegressorCV  # noqa: E402
from sklearn_l0.training import TrainingDivergedError  # noqa: E402

FAMILIES = [(350, 200), (700, 1000), (1400, 200), ("insurance-like", 3500)]


def data(family, seed):
    n, p = family
    X, y, w, true = insurance(seed, p) if n == "insurance-like" else synthetic(seed, n, p)
    return StandardScaler().fit_transform(X), y, w, true


def fit(estimator, X, y, w, true, dataset: str) -> dict:
    """One fit's row of the table: the gates open at the end, or a divergence."""
    start = time.perf_counter()
    model = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = estimator.fit(X, y, sample_weight=w)
        except TrainingDivergedError:
            pass
    return dict(
        model=type(estimator).__name__ + ("" if estimator.refit else "(refit=False)"),
        dataset=dataset,
        learning_rate=estimator.learning_rate,
        diverged=model is None,
        gates_open=np.nan if model is None else int(model.support_.sum()),
        true_open=np.nan if model is None else int((model.support_ & true).sum()),
        n_true=int(true.sum()),
        epochs=getattr(model, "n_iter_", np.nan),
        seconds=time.perf_counter() - start,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="0.01,0.02,0.05")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(environment(limit_threads(1)))
    rows = []
    for rate in map(float, args.rates.split(",")):
        for n, p in FAMILIES:
            name = f"insurance-like n={p}" if n == "insurance-like" else f"synthetic n={n} p={p}"
            for seed in range(args.seeds):
                X, y, w, true = data((n, p), seed)
                estimator = L0PoissonRegressor(
                    learning_rate=rate, refit=False, random_state=seed, n_threads=1
                )
                rows.append(fit(estimator, X, y, w, true, name))
            print(f"rate {rate} {name} done", flush=True)
        X, y, w, true = data((700, 1000), 0)
        estimator = L0PoissonRegressorCV(learning_rate=rate, random_state=0, n_threads=1)
        rows.append(fit(estimator, X, y, w, true, "synthetic n=700 p=1000"))
    frame = pd.DataFrame(rows)
    table = (
        frame.groupby(["model", "dataset", "learning_rate"], sort=False)
        .agg(
            runs=("diverged", "size"),
            diverged=("diverged", "sum"),
            gates_open=("gates_open", "mean"),
            gates_open_max=("gates_open", "max"),
            true_open=("true_open", "mean"),
            n_true=("n_true", "first"),
            epochs=("epochs", "mean"),
        )
        .reset_index()
    )
    print()
    print(markdown_table(table, {"gates_open": 1, "true_open": 1, "epochs": 0}))


if __name__ == "__main__":
    main()
