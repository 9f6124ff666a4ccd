"""Small fits on a busy machine: the library's thread policy against torch's default threads.

Four cases, each timed idle and while two busy-looping processes (started and
stopped by this script, each ending by itself after ``--load-seconds``) keep
the cores busy:

1. ``quickstart``: ``examples/quickstart.py``'s grid search (StandardScaler +
   L0Classifier, 7 alphas x 5 folds on the breast cancer training split);
   peer: the same search over 7 ``C`` of an L1 ``LogisticRegression`` (saga).
2. ``L0Regressor``: one fit at n=500, p=1000 (``make_sparse_regression``);
   peer: ``Lasso(alpha=0.1)``.
3. ``L0RegressorCV``: ``alphas=20, cv=5`` on the same data; peer: ``LassoCV(cv=5)``.
4. ``L0MLPClassifier``: hidden ``(64,)`` on the digits (1797 x 64); peer:
   ``MLPClassifier((64,))`` behind a StandardScaler.

Each L0 case runs with the default ``n_threads=None`` (the library's policy)
and with ``n_threads=-1`` (torch's and BLAS's default threads, as before the
policy); peers run with their libraries' defaults. Every measurement is one
fresh process (``--worker``): imports and one small warm-up fit are not
timed. Each cell is the median of ``--repeats`` fits, the cases taking turns
within each load; a fit that hits the time limit (``--timeout``) ends its cell,
shown as ``>limit``. Environment thread variables are removed for the
workers, so that every library starts from its own default.

Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time

CASES = ("quickstart", "L0Regressor", "L0RegressorCV", "L0MLPClassifier")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _data(case):
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    from sklearn_l0.datasets import make_sparse_regression

    if case == "quickstart":
        X, y = load_breast_cancer(return_X_y=True)
        X, _, y, _ = train_test_split(X, y, stratify=y, random_state=0)
        return X, y, np.logspace(-3, -1, 7)
    if case == "L0MLPClassifier":
        return (*load_digits(return_X_y=True), None)
    X, y, _ = make_sparse_regression(500, 1000, random_state=0)
    return X, y, None


def _estimator(case, method):
    """The estimator a worker times: ``method`` is "default", "override" or "peer"."""
    from sklearn.linear_model import Lasso, LassoCV, LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_l0 import L0Classifier, L0MLPClassifier, L0Regressor, L0RegressorCV

    threads = {"n_threads": None if method == "default" else -1}
    if case == "quickstart":
        alphas = _data(case)[2]
        if method == "peer":
            peer = LogisticRegression(l1_ratio=1.0, solver="saga", max_iter=5000)
            grid = {"logisticregression__C": 1.0 / (alphas * 400)}  # C = 1 / (alpha n)
            return GridSearchCV(make_pipeline(StandardScaler(), peer), grid, cv=5)
        pipe = make_pipeline(StandardScaler(), L0Classifier(random_state=0, **threads))
        return GridSearchCV(pipe, {"l0classifier__alpha": alphas}, cv=5)
    if case == "L0Regressor":
        return Lasso(alpha=0.1) if method == "peer" else L0Regressor(random_state=0, **threads)
    if case == "L0RegressorCV":
        return LassoCV(cv=5) if method == "peer" else L0RegressorCV(random_state=0, **threads)
    if method == "peer":
        return make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=300, random_state=0))
    return L0MLPClassifier((64,), random_state=0, **threads)


def worker(case, method):
    """Time one fit in this process; print a JSON line."""
    import warnings

    import numpy as np
    import torch

    from sklearn_l0 import L0Regressor

    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    L0Regressor(max_iter=20).fit(rng.randn(50, 5), rng.randn(50))  # torch's lazy imports
    X, y, _ = _data(case)
    est = _estimator(case, method)
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "torch_threads": torch.get_num_threads()}))


def _spin(deadline):
    while time.time() < deadline:
        pass


def _measure(case, method, timeout):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    args = [sys.executable, __file__, "--worker", case, method]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per fit")
    parser.add_argument("--repeats", type=int, default=3, help="fits per cell (median)")
    parser.add_argument("--load-seconds", type=float, default=1800.0)
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "METHOD"))
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    import sklearn
    import torch

    import sklearn_l0

    print(
        f"sklearn-l0 {sklearn_l0.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}; {platform.platform()}, {os.cpu_count()} CPU(s); torch default "
        f"threads {torch.get_num_threads()}; load: 2 busy-looping processes"
    )
    methods = ("default", "override", "peer")
    runs: dict = {}
    for load in ("idle", "busy"):
        spinners = []
        if load == "busy":
            deadline = time.time() + args.load_seconds
            spinners = [multiprocessing.Process(target=_spin, args=(deadline,)) for _ in range(2)]
            for p in spinners:
                p.start()
        try:
            for _ in range(args.repeats):
                for case in args.cases:
                    for method in methods:
                        cell = runs.setdefault((case, method, load), [])
                        if None in cell:  # timed out already
                            continue
                        cell.append(_measure(case, method, args.timeout))
                        print(f"  {load:4s} {case:16s} {method:8s} {cell[-1]}", file=sys.stderr)
        finally:
            for p in spinners:
                p.terminate()
                p.join()
    times = {k: None if None in v else statistics.median(v) for k, v in runs.items()}
    _report(times, args.cases, methods, args.timeout)


def _report(times, cases, methods, timeout):
    def fmt(t):
        return f">{timeout:.0f}" if t is None else f"{t:.2f}"

    names = {"default": "L0 (n_threads=None)", "override": "L0 (n_threads=-1)", "peer": "peer"}
    print(f"\n{'case':16s} {'method':20s} {'idle_s':>8s} {'busy_s':>8s} {'busy/idle':>9s}")
    for case in cases:
        for method in methods:
            idle, busy = times[case, method, "idle"], times[case, method, "busy"]
            ratio = (
                "-"
                if idle is None
                else (f">{timeout / idle:.1f}" if busy is None else f"{busy / idle:.1f}")
            )
            print(f"{case:16s} {names[method]:20s} {fmt(idle):>8s} {fmt(busy):>8s} {ratio:>9s}")
    print(
        "\npeers: quickstart L1 LogisticRegression (saga) grid search, Lasso, LassoCV, "
        "MLPClassifier; medians of fits in fresh processes, imports and a warm-up excluded"
    )


if __name__ == "__main__":
    main()
