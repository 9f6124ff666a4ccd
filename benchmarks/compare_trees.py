"""Fit times of two checkouts of sklearn-l0, in alternation, in fresh processes.

For refactors that must not change speed or results: each round fits every case
once with each tree (``PYTHONPATH`` set to it), one thread per library; the table
shows the medians and minimums over rounds and, per pair, whether the selected
support and the number of epochs agree.

Cases: ``reg`` one ``L0Regressor(alpha=0.02)`` fit and ``cv`` one ``L0RegressorCV()``
fit on ``make_sparse_regression(500, 1000)``; ``clf`` ``L0Classifier(alpha=0.01)`` on
the standardized breast cancer data; ``mlp`` ``L0MLPClassifier((64,))`` on the digits.

Run: ``python benchmarks/compare_trees.py OLD_TREE NEW_TREE [--rounds 3]``, with a
tree made by ``git worktree add /tmp/old <commit>``. Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CASES = ("reg", "cv", "clf", "mlp")


def worker(case: str) -> None:
    import time
    import warnings

    import numpy as np
    from _common import limit_threads
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.preprocessing import StandardScaler

    from sklearn_l0 import L0Classifier, L0MLPClassifier, L0Regressor, L0RegressorCV
    from sklearn_l0.datasets import make_sparse_regression

    warnings.simplefilter("ignore")
    limit_threads(1)
    L0Regressor(max_iter=20).fit(np.random.randn(50, 5), np.random.randn(50))  # lazy imports
    if case == "clf":
        X, y = load_breast_cancer(return_X_y=True)
        X, est = StandardScaler().fit_transform(X), L0Classifier(alpha=0.01, random_state=0)
    elif case == "mlp":
        X, y = load_digits(return_X_y=True)
        est = L0MLPClassifier((64,), random_state=0)
    else:
        X, y, _ = make_sparse_regression(500, 1000, random_state=0)
        est = L0Regressor(alpha=0.02, random_state=0) if case == "reg" else L0RegressorCV()
    est.set_params(device="cpu", random_state=0)
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    print(json.dumps({"t": seconds, "support": est.support_.tolist(), "n_iter": est.n_iter_}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="*", help="OLD_TREE NEW_TREE")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    parser.add_argument("--worker", choices=CASES)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    results: dict = {}
    for _ in range(args.rounds):
        for case in args.cases:
            for tree in args.trees:
                env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", case],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                results.setdefault((case, tree), []).append(json.loads(out.stdout.splitlines()[-1]))
    print(f"{'case':5s} {'tree':30s} {'median_s':>8s} {'min_s':>7s} {'same_fit':>8s}")
    for case in args.cases:
        first = results[case, args.trees[0]][0]
        for tree in args.trees:
            runs = results[case, tree]
            times = [r["t"] for r in runs]
            same = all(
                r["support"] == first["support"] and r["n_iter"] == first["n_iter"] for r in runs
            )
            print(
                f"{case:5s} {tree:30s} {statistics.median(times):8.3f} {min(times):7.3f} "
                f"{'yes' if same else 'NO':>8s}"
            )


if __name__ == "__main__":
    main()
