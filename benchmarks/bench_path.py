"""Choosing alpha by cross-validation: L0RegressorCV against GridSearchCV and LassoCV.

Task (``sklearn_l0.datasets.make_sparse_regression``, the foundation issue's):
independent features, 10 informative with coefficients +1 or -1, SNR 5;
``n`` training rows and 1000 held-out test rows. Two sizes: n=500, p=1000 and
n=5000, p=5000.

Methods, all on the same 5 folds (``KFold(5)``) of the training rows:

1. ``L0RegressorCV(alphas=20, cv=5)``: every (alpha, fold) model, and the
   all-data fit at every alpha, trained as one batched torch computation.
2. ``GridSearchCV(L0Regressor(), {"alpha": L0RegressorCV's grid}, cv=5)``:
   the same 20 alphas (taken from the run of 1 on the same data), 100 fits
   plus the refit at the best alpha, one after another.
3. ``LassoCV(cv=5)`` with its defaults (100 alphas).

Each method runs in a fresh subprocess (``--worker``) so that its peak
resident memory (``ru_maxrss``, which includes the data and the imports) is
its own. The time is the wall time of ``fit`` alone, after one untimed
warm-up fit on a small problem (torch's first fit pays its lazy imports).
One thread per library (``--threads 1``, torch and BLAS). With ``--repeats r``
every method runs r times (one process each, the methods taking turns) and the
table shows the medians of the times and of the peaks; F1 and R^2 are from the
first run (they do not depend on the repeat with fixed seeds). ``x_LassoCV`` is
the median time over LassoCV's median in the same run.

After each size the script measures, in the same way, the two products over X
of one training step (forward and gradient) for one model alone and for the
120-model grid (``product_ceiling``): while every gate is open, batching can
save at most their ratio, whatever the rest of the code does.

Run: ``python benchmarks/bench_path.py [--sizes 500x1000 5000x5000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
from _common import run_peak_memory

METHODS = ("L0RegressorCV", "GridSearchCV(L0Regressor)", "LassoCV")
N_TEST = 1000


def _task(n: int, p: int, seed: int):
    from sklearn_l0.datasets import make_sparse_regression

    X, y, coef = make_sparse_regression(n + N_TEST, p, random_state=seed)
    return X[:n], X[n:], y[:n], y[n:], coef


def worker(method: str, n: int, p: int, seed: int, threads: int) -> dict:
    """Fit one method once; return time, support F1, test R^2 (the parent adds peak memory)."""
    from _common import limit_threads, time_call
    from sklearn.linear_model import LassoCV
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GridSearchCV, KFold

    from sklearn_l0 import L0Regressor, L0RegressorCV
    from sklearn_l0.datasets import support_f1

    limit_threads(threads)
    X, X_test, y, y_test, coef = _task(n, p, seed)
    folds = KFold(5)
    L0RegressorCV(alphas=2, cv=2, max_iter=20, device="cpu").fit(X[:50, :20], y[:50])  # warm-up
    grid = L0RegressorCV(alphas=20, cv=folds, random_state=seed, device="cpu")
    if method == "L0RegressorCV":
        model = grid
    elif method == "LassoCV":
        model = LassoCV(cv=folds)
    else:  # the CV estimator's grid on the same data (it needs no training), one fit at a time
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alphas = list(grid.set_params(max_iter=1).fit(X, y).alphas_)
        model = GridSearchCV(
            L0Regressor(random_state=seed, device="cpu"), {"alpha": alphas}, cv=folds
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, (seconds,) = time_call(lambda: model.fit(X, y))
    best = getattr(model, "best_estimator_", model)
    support = best.support_ if hasattr(best, "support_") else best.coef_ != 0
    return {
        "seconds": seconds,
        "f1": support_f1(coef != 0, support),
        "r2": r2_score(y_test, model.predict(X_test)),
        "n_selected": int(support.sum()),
        "alpha": float(getattr(best, "alpha_", getattr(best, "alpha", np.nan))),
        "warnings": len(caught),
    }


def product_ceiling(n: int, p: int, threads: int, models: int = 120) -> dict:
    """What batching can gain at most while every gate is open (the first epochs).

    A step reads X twice (forward and gradient products). For one model these are
    matrix-vector products, bound by memory bandwidth; for the grid they are one
    matrix-matrix product with ``models`` columns, bound by arithmetic. The ratio of
    the one-model products' time to a model's share of the grid's is the most that
    batching can save on this machine in that phase, whatever the rest of the code does.
    """
    import torch
    from _common import limit_threads, time_call

    limit_threads(threads)
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(n, p, generator=gen)

    def best_of(k: int) -> float:
        W, G = torch.randn(p, k, generator=gen), torch.randn(n, k, generator=gen)
        _, times = time_call(lambda: (X @ W, X.T @ G), 5)
        return min(times)

    one, grid = best_of(1), best_of(models)
    return {"one": one, "grid_share": grid / models, "ceiling": one / (grid / models)}


def _run(method, n, p, seed, threads) -> dict:
    """One worker in a fresh process: its result, with its peak resident memory."""
    result, peak_mb = run_peak_memory(
        [__file__, "--worker", method, f"{n}x{p}", str(seed), str(threads)]
    )
    return {**result, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["500x1000", "5000x5000"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, size, seed, threads = args.worker
        n, p = map(int, size.split("x"))
        if method == "ceiling":
            print(json.dumps(product_ceiling(n, p, int(threads))))
        else:
            print(json.dumps(worker(method, n, p, int(seed), int(threads))))
        return

    print(f"# bench_path.py  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}")
    print(f"# python {platform.python_version()}, {os.cpu_count()} CPUs, threads={args.threads}")
    print(f"# repeats={args.repeats}, seed={args.seed}; times are medians, F1/R2 from run 1\n")
    header = (
        "| n x p | method | fit time (s) | x_LassoCV | support F1 | selected | test R2 "
        "| peak RSS (MB) | warnings |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for size in args.sizes:
        n, p = map(int, size.split("x"))
        results = {m: [] for m in METHODS}
        for _ in range(args.repeats):  # interleaved: a slow spell of a shared machine hits all
            for m in METHODS:
                results[m].append(_run(m, n, p, args.seed, args.threads))
        lasso_time = np.median([r["seconds"] for r in results["LassoCV"]])
        for method in METHODS:
            runs = results[method]
            t = float(np.median([r["seconds"] for r in runs]))
            peak = float(np.median([r["peak_mb"] for r in runs]))
            first = runs[0]
            print(
                f"| {n} x {p} | {method} | {t:.2f} | {t / lasso_time:.2f} | {first['f1']:.3f} "
                f"| {first['n_selected']} | {first['r2']:.3f} | {peak:.0f} | {first['warnings']} |",
                flush=True,
            )
        cv_t = np.median([r["seconds"] for r in results["L0RegressorCV"]])
        gs_t = np.median([r["seconds"] for r in results["GridSearchCV(L0Regressor)"]])
        print(f"\n{n} x {p}: GridSearchCV / L0RegressorCV time = {gs_t / cv_t:.1f}x")
        c = _run("ceiling", n, p, args.seed, args.threads)
        print(
            f"{n} x {p}: products of one step, one model alone {c['one'] * 1e3:.2f} ms, one "
            f"model's share of the 120-model grid {c['grid_share'] * 1e3:.3f} ms: batching "
            f"saves at most {c['ceiling']:.1f}x while every gate is open\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
