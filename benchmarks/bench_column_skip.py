"""Does leaving shut columns out of the CPU product pay? Fits with and without it.

``sklearn_l0.networks.ColumnPicker`` gathers, on the CPU, only the columns of X
whose gate is non-zero before a matrix product. This script fits the same
estimators with it switched off (``FRACTION = (0, 0)``: never gather) and on
(the library's settings), alternating the two within one process so that a slow
spell of a shared machine hits both, and prints the minimum fit time of each
over ``--repeats`` pairs. Same seeds, so both fits compute the same model up to
floating-point rounding (the skipped columns contribute exact zeros); the table
says whether the selected supports agree.

Cases: ``L0Regressor`` on the foundation task at two widths (one output: a
matrix-vector product), ``L0RegressorCV`` (20 alphas x 5 folds: a matrix
product with one column per model), and ``L0MLPClassifier`` on the digits
(mini-batches, small layers: the skip should stay out of the way).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_column_skip.py [--repeats 3]``;
``--large`` times the CV grid at 5000 x 5000 instead (about 100 s a fit).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from functools import partial

import numpy as np


def cases(large: bool):
    from sklearn.datasets import load_digits

    from sklearn_l0 import L0MLPClassifier, L0Regressor, L0RegressorCV
    from sklearn_l0.datasets import make_sparse_regression

    X1, y1, _ = make_sparse_regression(500, 1000, random_state=0)
    X2, y2, _ = make_sparse_regression(2000, 5000, random_state=0)
    Xd, yd = load_digits(return_X_y=True)
    if large:  # bench_path's larger size: about 100 s a fit
        X3, y3, _ = make_sparse_regression(5000, 5000, random_state=0)
        return [("L0RegressorCV(alphas=20, cv=5)", "5000 x 5000", L0RegressorCV(alphas=20), X3, y3)]
    return [
        ("L0Regressor(alpha=0.03)", "500 x 1000", L0Regressor(alpha=0.03), X1, y1),
        ("L0Regressor(alpha=0.03)", "2000 x 5000", L0Regressor(alpha=0.03), X2, y2),
        ("L0RegressorCV(alphas=20, cv=5)", "500 x 1000", L0RegressorCV(alphas=20), X1, y1),
        (
            "L0MLPClassifier((100,), max_iter=60)",
            "digits 1797 x 64",
            L0MLPClassifier(hidden_layer_sizes=(100,), alpha=1e-3, max_iter=60),
            Xd,
            yd,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--large", action="store_true", help="the CV grid at 5000 x 5000 only")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(__file__))
    from _common import limit_threads, time_call
    from sklearn.base import clone

    from sklearn_l0 import L0Regressor
    from sklearn_l0.nn.layers import ColumnPicker

    limit_threads(args.threads)
    warnings.simplefilter("ignore")
    L0Regressor(max_iter=20).fit(np.random.rand(50, 5), np.random.rand(50))  # warm-up
    settings = {"off": (0.0, 0.0), "on": ColumnPicker.FRACTION}
    print(f"# bench_column_skip.py  {time.strftime('%Y-%m-%d %H:%M')}, repeats={args.repeats}")
    print("| estimator | data | skip off (s) | skip on (s) | off / on | same support |")
    print("|---|---|---|---|---|---|")
    for name, data, est, X, y in cases(args.large):
        times = {k: [] for k in settings}
        supports = {}
        for _ in range(args.repeats):
            for key, fraction in settings.items():
                ColumnPicker.FRACTION = fraction
                model = clone(est).set_params(random_state=0, device="cpu")
                _, (seconds,) = time_call(partial(model.fit, X, y))
                times[key].append(seconds)
                supports[key] = model.support_
        ColumnPicker.FRACTION = settings["on"]
        off, on = min(times["off"]), min(times["on"])
        same = bool(np.array_equal(supports["off"], supports["on"]))
        print(f"| {name} | {data} | {off:.2f} | {on:.2f} | {off / on:.2f} | {same} |", flush=True)


if __name__ == "__main__":
    main()
