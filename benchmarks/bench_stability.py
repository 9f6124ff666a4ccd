"""Stability selection with a false-positive bound: L0 against IPSS and the Lasso path.

For each family (a known support), seed and ``pfer`` in {1, 2}, every method is asked for
the features whose expected number of false positives is at most ``pfer``, and the table
gives the mean number of false positives over seeds (the bound's promise is about that
mean), the mean and the smallest number of true positives, and the median time.

- ``L0 stability``: :class:`~sklearn_l0.StabilitySelection` with its defaults (50
  subsamples in complementary pairs, the estimator's price grid, the threshold and the
  prices from ``pfer`` by Shah & Samworth's unimodal bound); one fit serves both values
  of ``pfer`` (the choice needs no new fits).
- ``Lasso stability``: the same procedure, the same subsamples, with scikit-learn's
  ``Lasso`` on the grid ``LassoCV`` would use (``alpha_max`` down to ``1e-3 alpha_max``,
  20 values, as many as L0's grid), warm-started along it.
- ``IPSS``: integrated path stability selection (``ipss`` package, Melikechi & Miller
  2024) with its own defaults: ``selector="l1"`` on the linear families, as its
  documentation advises for linear effects, and its default gradient boosting
  (``selector="gb"``) on the nonlinear family; features with ``efp_score <= pfer``.
- The time ratio ``L0 stability / L0RegressorCV`` compares the whole stability fit with
  one ``L0RegressorCV()`` fit on the same data (first ``--time-seeds`` seeds).

The nonlinear family, ``y = x0 x1 + sin(2 x2) + |x3| + noise``, uses
``L0MLPRegressor(hidden_layer_sizes=(32,))``'s price path per subsample.

Every library runs on one thread. Run: ``python benchmarks/bench_stability.py``
(``--seeds 20``; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, limit_threads, markdown_table  # noqa: E402

from sklearn_l0 import L0MLPRegressor, L0Regressor, L0RegressorCV, StabilitySelection  # noqa: E402
from sklearn_l0.datasets import make_sparse_regression  # noqa: E402

LINEAR = [  # (name, rho, n, p): 10 true coefficients of +-1, signal-to-noise 5
    ("independent", 0.0, 100, 1000),
    ("Toeplitz 0.5", 0.5, 200, 500),
    ("Toeplitz 0.8", 0.8, 300, 500),
]
PFERS = (1.0, 2.0)


def nonlinear(seed: int, n: int = 300, p: int = 30):
    """``y = x0 x1 + sin(2 x2) + |x3| + 0.3 noise``, uniform features on [-2, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, p))
    y = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + np.abs(X[:, 3]) + 0.3 * rng.standard_normal(n)
    true = np.zeros(p, dtype=bool)
    true[:4] = True
    return X, y, true


def lasso_grid(X, y, n_alphas: int = 20, eps: float = 1e-3) -> np.ndarray:
    """``LassoCV``'s grid: from the smallest alpha that zeroes every coefficient, down."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    top = np.max(np.abs(Xc.T @ yc)) / len(y)
    return top * np.logspace(0, np.log10(eps), n_alphas)


def rechoose(selection: StabilitySelection, pfer: float) -> np.ndarray:
    """The support at another ``pfer`` from the same fits (the choice needs none)."""
    selection.set_params(pfer=pfer)._choose()
    return selection.support_.copy()


def run_ipss(X, y, seed: int, selector: str) -> np.ndarray:
    from ipss import ipss

    np.random.seed(seed)  # ipss draws its subsamples from numpy's global state
    scores = ipss(X, y, selector=selector)["efp_scores"]
    efp = np.full(X.shape[1], np.inf)
    efp[list(scores)] = list(scores.values())
    return efp


def one_setting(family: str, X, y, true, seed: int, timed: bool, mlp: bool) -> list[dict]:
    rows = []

    def record(method, supports, seconds):
        for pfer, support in zip(PFERS, supports, strict=True):
            rows.append(
                dict(
                    family=family,
                    seed=seed,
                    pfer=pfer,
                    method=method,
                    tp=int(np.sum(support & true)),
                    fp=int(np.sum(support & ~true)),
                    seconds=seconds,
                )
            )

    estimator = (
        L0MLPRegressor(hidden_layer_sizes=(32,), random_state=seed, n_threads=1)
        if mlp
        else L0Regressor(random_state=seed, n_threads=1)
    )
    start = time.perf_counter()
    l0 = StabilitySelection(estimator, pfer=PFERS[0], random_state=seed).fit(X, y)
    seconds = time.perf_counter() - start
    record("L0 stability", [rechoose(l0, pfer) for pfer in PFERS], seconds)

    start = time.perf_counter()
    lasso = StabilitySelection(
        Lasso(), alphas=lasso_grid(X, y), pfer=PFERS[0], random_state=seed
    ).fit(X, y)
    record(
        "Lasso stability", [rechoose(lasso, pfer) for pfer in PFERS], time.perf_counter() - start
    )

    start = time.perf_counter()
    efp = run_ipss(X, y, seed, "gb" if mlp else "l1")
    record(
        f"IPSS ({'gb' if mlp else 'l1'})",
        [efp <= pfer for pfer in PFERS],
        time.perf_counter() - start,
    )

    if timed:
        start = time.perf_counter()
        L0RegressorCV(random_state=seed, n_threads=1).fit(X, y)
        cv_seconds = time.perf_counter() - start
        for row in rows:
            if row["method"] == "L0 stability":
                row["cv_seconds"] = cv_seconds
    return rows


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby(["family", "pfer", "method"], sort=False)
    table = grouped.agg(
        seeds=("seed", "nunique"),
        fp_mean=("fp", "mean"),
        tp_mean=("tp", "mean"),
        tp_min=("tp", "min"),
        seconds=("seconds", "median"),
    )
    if "cv_seconds" in frame:
        ratio = (frame["seconds"] / frame["cv_seconds"]).groupby(
            [frame["family"], frame["pfer"], frame["method"]], sort=False
        )
        table["x_L0RegressorCV"] = ratio.median()
    return table.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--nonlinear-seeds", type=int, default=5)
    parser.add_argument("--time-seeds", type=int, default=3)
    parser.add_argument("--families", default="all", help="comma-separated names, or all")
    parser.add_argument("--quick", action="store_true", help="2 seeds, a smoke run")
    parser.add_argument("--out", default=None, help="write every run as CSV here")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.nonlinear_seeds, args.time_seeds = 2, 1, 1
    print(environment(limit_threads(1)))
    warnings.simplefilter("ignore", ConvergenceWarning)
    wanted = None if args.families == "all" else set(args.families.split(","))
    runs = []
    for name, rho, n, p in LINEAR:
        family = f"{name}, n={n}, p={p}"
        if wanted is not None and name not in wanted:
            continue
        for seed in range(args.seeds):
            X, y, coef = make_sparse_regression(n, p, rho=rho, random_state=seed)
            runs += one_setting(family, X, y, coef != 0, seed, seed < args.time_seeds, False)
            print(f"{family} seed {seed} done", flush=True)
            if args.out:  # after every seed: a long run leaves what it measured
                pd.DataFrame(runs).to_csv(args.out, index=False)
    if wanted is None or "nonlinear" in wanted:
        for seed in range(args.nonlinear_seeds):
            X, y, true = nonlinear(seed)
            runs += one_setting("nonlinear (MLP), n=300, p=30", X, y, true, seed, False, True)
            print(f"nonlinear seed {seed} done", flush=True)
            if args.out:
                pd.DataFrame(runs).to_csv(args.out, index=False)
    frame = pd.DataFrame(runs)
    if args.out:
        frame.to_csv(args.out, index=False)
    print()
    print(markdown_table(summarize(frame), {"fp_mean": 2, "tp_mean": 2, "seconds": 2}))


if __name__ == "__main__":
    main()
