"""The networks' CV estimators: one price path per fold against GridSearchCV over alpha.

Two parts (``--parts``):

- ``time``: on bench_mlp's ``xor`` and ``friedman1`` tasks and bench_interactions'
  ``prod`` family, ``L0MLPClassifierCV`` / ``L0MLPRegressorCV`` (defaults but
  ``hidden_layer_sizes``: the automatic 12-price grid, 5 folds) against
  ``GridSearchCV(L0MLP*(...), {"alpha": <the same 12 prices>}, cv=<the same
  folds>)``, refitted at its choice. Columns: fit time of each, their ratio
  (``x_grid``: the grid search's time over the CV estimator's, one run), the
  chosen alpha, features kept, support F1 and held-out test score.
- ``sizes``: ``support_path_`` sizes of ``L0MLPClassifierCV`` (hidden (64,), 3
  folds) on COIL-20 and ISOLET (``../shared/data``, bench_real's splits, seed 0)
  and on a categorical family (8 one-hot categoricals of 4 levels and 6
  numeric columns, ``groups`` by variable; the label
  ``1[c0 in {1, 3}] xor 1[x0 x1 > 0]``-style, driven by one categorical and
  two numeric columns): the kept count (groups for the categorical family) at
  every price of the default grid, and the largest ratio between neighbours.

Threads: one per library (``--threads``). Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/bench_network_cv.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import limit_threads
from bench_interactions import HIDDEN as INTERACTION_HIDDEN
from bench_interactions import make_family
from bench_mlp import load_task
from bench_real import load_dataset
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

from sklearn_l0 import L0MLPClassifier, L0MLPClassifierCV, L0MLPRegressor, L0MLPRegressorCV
from sklearn_l0.datasets import support_f1

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def time_task(name, seed):
    """(X_train, y_train, X_test, y_test, true support, hidden sizes, classification)."""
    if name == "prod":
        (Xt, Xs, yt, ys), k = make_family("prod", seed)
        return Xt, yt, Xs, ys, np.arange(Xt.shape[1]) < k, INTERACTION_HIDDEN, True
    hidden, clf = {"xor": ((32,), True), "friedman1": ((64,), False)}[name]
    Xt, yt, Xs, ys, truth, _ = load_task(name, seed)
    return Xt, yt, Xs, ys, truth, hidden, clf


def timed(est, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return est, time.perf_counter() - start


def run_time(tasks, seeds, grid):
    print(
        "| task | seed | CV s | grid s | x_grid | alpha CV / grid | kept CV / grid "
        "| F1 CV / grid | test CV / grid |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in tasks:
        for seed in range(seeds):
            Xt, yt, Xs, ys, truth, hidden, clf = time_task(name, seed)
            folds = (StratifiedKFold if clf else KFold)(5, shuffle=True, random_state=seed)
            cv_cls, plain_cls = (
                (L0MLPClassifierCV, L0MLPClassifier) if clf else (L0MLPRegressorCV, L0MLPRegressor)
            )
            common = dict(hidden_layer_sizes=hidden, random_state=seed, device="cpu")
            cv, cv_s = timed(cv_cls(cv=folds, **common, **grid), Xt, yt)
            grid = GridSearchCV(plain_cls(**common), {"alpha": list(cv.alphas_)}, cv=folds)
            grid, grid_s = timed(grid, Xt, yt)
            best = grid.best_estimator_
            print(
                f"| {name} | {seed} | {cv_s:.1f} | {grid_s:.1f} | {grid_s / cv_s:.2f} "
                f"| {cv.alpha_:.3g} / {best.alpha:.3g} "
                f"| {cv.support_.sum()} / {best.support_.sum()} "
                f"| {support_f1(cv.support_, truth):.2f} / {support_f1(best.support_, truth):.2f} "
                f"| {cv.score(Xs, ys):.3f} / {best.score(Xs, ys):.3f} |",
                flush=True,
            )


def categorical_family(seed, n=3000):
    """8 one-hot categoricals (4 levels) and 6 numeric columns; the label from one
    categorical and two numerics (an interaction of the numerics). Returns X, y, groups,
    the true groups."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 4, size=(n, 8))
    onehot = np.concatenate([np.eye(4)[levels[:, k]] for k in range(8)], axis=1)
    numeric = rng.standard_normal((n, 6))
    X = np.hstack([onehot, numeric])
    groups = np.array([f"c{k}" for k in range(8) for _ in range(4)] + [f"x{k}" for k in range(6)])
    score = np.array([-1.0, 1.0, -1.0, 1.0])[levels[:, 0]] + 1.5 * numeric[:, 0] * numeric[:, 1]
    y = (score + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X, y, groups, {"c0", "x0", "x1"}


def run_sizes(data_dir, seeds, grid):
    print("| data | seed | alphas (largest first) | kept at each alpha | largest step | alpha_ |")
    print("|---|---|---|---|---|---|")
    for seed in range(seeds):
        sets = []
        for name in ("COIL-20", "ISOLET"):
            try:
                Xt, yt, _, _ = load_dataset(name, data_dir, seed)
            except (FileNotFoundError, OSError) as error:
                print(f"{name}: skipped ({error})")
                continue
            sets.append((name, Xt, yt, None))
        X, y, groups, _ = categorical_family(seed)
        sets.append(("categorical", X, y, groups))
        for name, X, y, groups in sets:
            est = L0MLPClassifierCV(
                (64,), cv=3, groups=groups, random_state=seed, device="cpu", **grid
            )
            est, seconds = timed(est, X, y)
            kept = est.support_path_.sum(axis=1)
            if groups is not None:
                kept = np.array([len(set(groups[row])) for row in est.support_path_])
            ratios = [max(a, 1) / max(b, 1) for a, b in zip(kept[1:], kept[:-1], strict=True)]
            print(
                f"| {name} | {seed} | {' '.join(f'{a:.3g}' for a in est.alphas_)} "
                f"| {' '.join(map(str, kept))} | {max(ratios):.2f} | {est.alpha_:.3g} "
                f"({seconds:.0f} s) |",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["time", "sizes"], choices=["time", "sizes"])
    parser.add_argument("--tasks", nargs="+", default=["friedman1", "xor", "prod"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--alphas", type=int, default=None, help="grid size (default: the CV's)")
    args = parser.parse_args()
    print(limit_threads(args.threads), file=sys.stderr)
    grid = {} if args.alphas is None else {"alphas": args.alphas}  # else the CV's default
    if "time" in args.parts:
        run_time(args.tasks, args.seeds, grid)
    if "sizes" in args.parts:
        run_sizes(args.data, args.seeds, grid)


if __name__ == "__main__":
    main()
