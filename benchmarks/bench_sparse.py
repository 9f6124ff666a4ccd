"""Sparse data at scale: a 20,000 x 100,000 scipy CSR matrix with 0.1% non-zeros.

Task: every row has 100 non-zero standard normal entries in random columns
(so each column has about 20); 20 informative columns with coefficients +-3,
noise standard deviation 0.5; 2,000 more rows held out for the test R^2.

Methods, each in a fresh subprocess (its peak resident memory ``ru_maxrss``
is its own, the data included; the data alone are reported as ``data``):

1. ``L0Regressor(alpha)``, one fit, sparse X never densified.
2. ``Lasso(alpha)`` (coordinate descent, sklearn's sparse path) on the columns
   scaled to unit variance (sparse, not centered; the coefficients are mapped
   back), alpha from the universal threshold ``sigma * sqrt(2 log p / n)`` with
   the true noise sigma (an oracle choice, as a reference point).

One thread per library. Run: ``python benchmarks/bench_sparse.py [--alpha 0.003]``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import scipy.sparse as sp
from _common import run_peak_memory

N, P, PER_ROW, N_TRUE, N_TEST = 20_000, 100_000, 100, 20, 2_000


def task(seed: int = 0):
    rng = np.random.default_rng(seed)
    n = N + N_TEST
    rows = np.repeat(np.arange(n), PER_ROW)
    cols = rng.integers(0, P, n * PER_ROW)
    X = sp.csr_matrix((rng.standard_normal(n * PER_ROW), (rows, cols)), shape=(n, P))
    coef = np.zeros(P)
    coef[rng.choice(P, N_TRUE, replace=False)] = 3.0 * rng.choice([-1.0, 1.0], N_TRUE)
    y = X @ coef + 0.5 * rng.standard_normal(n)
    return X[:N], X[N:], y[:N], y[N:], coef


def worker(method: str, alpha: float) -> dict:
    """Build the data, fit ``method`` once ("data": no fit); the parent adds the peak memory."""
    from _common import limit_threads, time_call
    from sklearn.linear_model import Lasso
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_l0 import L0Regressor
    from sklearn_l0.datasets import support_f1

    limit_threads(1)
    X, X_test, y, y_test, coef = task()
    if method == "data":
        return {}
    if method == "L0Regressor":
        model = L0Regressor(alpha=alpha, random_state=0, device="cpu")
        support = lambda m: m.support_  # noqa: E731
    else:  # unit-variance columns, as L0Regressor standardizes internally
        scale = 1.0 / np.sqrt(X.multiply(X).mean(axis=0).A1 - np.square(X.mean(axis=0).A1))
        scale[~np.isfinite(scale)] = 0.0
        model = make_pipeline(
            FunctionTransformer(lambda Z: Z @ sp.diags(scale), accept_sparse=True),
            Lasso(alpha=0.5 * np.sqrt(2 * np.log(P) / N)),
        )
        support = lambda m: m[-1].coef_ != 0  # noqa: E731
    _, (seconds,) = time_call(lambda: model.fit(X, y))
    return {
        "seconds": seconds,
        "f1": support_f1(coef != 0, support(model)),
        "selected": int(support(model).sum()),
        "r2": r2_score(y_test, model.predict(X_test)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alpha", type=float, default=0.003)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.alpha)))
        return
    results = {}
    for method in ("data", "L0Regressor", "Lasso"):
        result, peak_mb = run_peak_memory(
            [__file__, "--worker", method, "--alpha", str(args.alpha)]
        )
        results[method] = {**result, "peak_mb": peak_mb}
    print(
        f"# {N} x {P} CSR, {N * PER_ROW} non-zeros; data alone: peak RSS "
        f"{results['data']['peak_mb']:.0f} MB; one thread"
    )
    print("| method | fit time (s) | support F1 | selected | test R2 | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for method in ("L0Regressor", "Lasso"):
        r = results[method]
        name = (
            f"L0Regressor(alpha={args.alpha})"
            if method == "L0Regressor"
            else "scaled Lasso (oracle alpha)"
        )
        print(
            f"| {name} | {r['seconds']:.1f} | {r['f1']:.3f} | {r['selected']} | {r['r2']:.3f} "
            f"| {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
