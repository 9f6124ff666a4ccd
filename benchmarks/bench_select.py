"""Choosing the L0 strength: information criteria and a fixed count against cross-validation.

One fit with ``alpha="bic"`` or ``alpha="ebic"`` (the L0 price of a feature is
set by the criterion), one fit with ``n_features_to_select`` = the true number
of informative features (an oracle count: it shows what the count constraint
does when the count is right), and ``GridSearchCV`` over ``alpha`` (the
documented way to pick it), with abess (best-subset selection, its default
EBIC) as the external reference on the linear tasks.

Tasks (``sklearn_l0.datasets``; a fresh data set per seed):

a. ``reg rho=0``: ``make_sparse_regression(1500, 1000, rho=0)``, the first 500
   rows train, the other 1000 test; 10 informative features, SNR 5.
b. ``reg rho=0.5``: the same with Toeplitz-correlated features.
c. ``logistic``: ``make_sparse_classification(2000, 500)``, 1000 train / 1000
   test; 10 informative features (``coef[0] != 0``).
d. ``xor``: ``make_nonlinear_classification(4000, 100)``, 2000 train / 2000
   test; 4 informative features, 4 classes; ``L0MLPClassifier((32,))``.

Methods (``random_state=seed`` for every L0 estimator; support = ``support_``,
or ``coef_ != 0`` for abess):

- ``L0 alpha=bic``, ``L0 alpha=ebic``: one fit each (linear tasks; on xor,
  where the networks refuse a criterion, ``L0 default``: one fit of
  ``L0MLPClassifier((32,))`` with its default ``alpha``);
- ``L0 n_features_to_select=k``: k = 10 (linear tasks) or 4 (xor);
- ``GridSearchCV``: ``{"alpha": np.logspace(-3, -1, 8)}``, ``cv=5`` on the
  linear tasks (41 fits with the refit); on xor 5 alphas over the same range
  and ``cv=3`` (16 fits), to keep the run within about 8 minutes;
- abess ``LinearRegression()`` / ``LogisticRegression()`` with their defaults
  (support-size path, EBIC), linear tasks only, when abess is installed
  (``pip install -e ".[bench]"``).

Score: test R^2 (regression) or test accuracy (classification). Fit time: one
fit per seed (fits under ``--min-time`` = 0.2 s are repeated until they have
run that long, at most 20 times, and the median is kept), median over seeds;
``x_ebic`` = that median over the median of ``L0 alpha=ebic`` (on xor, of
``L0 default``) on the same task in the same run. One untimed warm-up fit per
estimator class comes first (the first torch fit in a process pays about 1 s
of lazy imports). Selected count, support F1 and score are means over seeds.

Threads: torch, BLAS and OpenMP run one thread each by default (``--threads``;
0 keeps the libraries' defaults). The recorded machine is shared (2 cores,
other jobs running): absolute times move between runs, the ratios are the
numbers to read. Run it as ``OMP_NUM_THREADS=1 nice -n 10 python
benchmarks/bench_select.py``.

No warning is silenced: those raised during the timed fits are counted per
method and listed under the table.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import sklearn
import torch
from _common import fit_timed, limit_threads, shorten
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV

import sklearn_l0
from sklearn_l0 import L0Classifier, L0MLPClassifier, L0Regressor
from sklearn_l0.datasets import (
    make_nonlinear_classification,
    make_sparse_classification,
    make_sparse_regression,
    support_f1,
)

try:
    import abess
except ImportError:  # optional peer
    abess = None

TASKS = ("reg rho=0", "reg rho=0.5", "logistic", "xor")


def make_task(task, seed):
    """(X_train, y_train, X_test, y_test, true support, kind)."""
    if task.startswith("reg"):
        rho = 0.5 if task.endswith("0.5") else 0.0
        X, y, coef = make_sparse_regression(
            1500, 1000, n_informative=10, rho=rho, random_state=seed
        )
        return X[:500], y[:500], X[500:], y[500:], coef != 0, "reg"
    if task == "logistic":
        X, y, coef = make_sparse_classification(2000, 500, n_informative=10, random_state=seed)
        return X[:1000], y[:1000], X[1000:], y[1000:], coef[0] != 0, "clf"
    X, y, support = make_nonlinear_classification(4000, 100, random_state=seed)
    return X[:2000], y[:2000], X[2000:], y[2000:], support, "mlp"


def methods_for(task, kind, k_true, seed, args):
    """name -> zero-argument factory of an unfitted estimator."""
    if kind == "mlp":

        def base(**kw):
            return L0MLPClassifier((32,), random_state=seed, **kw)

        grid = {"alpha": np.logspace(-3, -1, args.xor_alphas)}
        cv = args.xor_cv
    else:
        cls = L0Regressor if kind == "reg" else L0Classifier

        def base(**kw):
            return cls(random_state=seed, **kw)

        grid = {"alpha": np.logspace(-3, -1, args.alphas)}
        cv = args.cv
    if kind == "mlp":  # networks have no criterion (they refuse one): their default instead
        methods = {"L0 default": lambda: base()}
    else:
        methods = {
            "L0 alpha=bic": lambda: base(alpha="bic"),
            "L0 alpha=ebic": lambda: base(alpha="ebic"),
        }
    methods |= {
        f"L0 n_features_to_select={k_true}": lambda: base(n_features_to_select=k_true),
        f"GridSearchCV({len(grid['alpha'])} alphas, cv={cv})": lambda: GridSearchCV(
            base(), grid, cv=cv
        ),
    }
    if abess is not None and kind != "mlp":
        peer = abess.LinearRegression if kind == "reg" else abess.LogisticRegression
        methods[f"abess {peer.__name__}()"] = peer
    return methods


def support_of(est):
    est = getattr(est, "best_estimator_", est)
    if hasattr(est, "support_"):
        return np.asarray(est.support_, dtype=bool)
    return np.ravel(est.coef_) != 0  # abess (one coefficient vector on these tasks)


def strength_of(est):
    """The L0 strength used: alpha_ (or the grid's best alpha); None for abess."""
    if hasattr(est, "best_params_"):
        return float(est.best_params_["alpha"])
    return getattr(est, "alpha_", None)


def warm_up():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 20)
    y = X[:, 0] - X[:, 1] + 0.1 * rng.randn(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L0Regressor(alpha="ebic", random_state=0).fit(X, y)
        L0Regressor(n_features_to_select=2, random_state=0).fit(X, y)
        L0Classifier(alpha="ebic", random_state=0).fit(X, y > 0)
        L0MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y > 0)
        if abess is not None:
            abess.LinearRegression().fit(X, y)
            abess.LogisticRegression().fit(X, (y > 0).astype(int))


def run(args):
    rows = []
    warn_counts = defaultdict(Counter)
    n_fits = Counter()
    for task in args.tasks:
        seeds = range(args.xor_seeds if task == "xor" else args.seeds)
        for seed in seeds:
            Xtr, ytr, Xte, yte, true_support, kind = make_task(task, seed)
            k_true = int(true_support.sum())
            for name, factory in methods_for(task, kind, k_true, seed, args).items():
                caught = []
                est, times = fit_timed(factory, Xtr, ytr, min_time=args.min_time, caught=caught)
                fit_s, reps = float(np.median(times)), len(times)
                n_fits[name, task] += reps
                for w in caught:
                    warn_counts[name, task][f"{w.category.__name__}: {shorten(w.message)}"] += 1
                sel = support_of(est)
                pred = est.predict(Xte)
                score = r2_score(yte, pred) if kind == "reg" else accuracy_score(yte, pred)
                fitted = getattr(est, "best_estimator_", est)
                rows.append(
                    dict(
                        method=name,
                        task=task,
                        seed=seed,
                        selected=int(sel.sum()),
                        support_f1=support_f1(sel, true_support),
                        test_score=score,
                        fit_s=fit_s,
                        strength=strength_of(est),
                        n_iter=getattr(fitted, "n_iter_", None),
                        hidden=getattr(fitted, "hidden_layer_sizes_", None),
                    )
                )
                print(
                    f"  {task:12s} seed {seed} {name:38s} {fit_s:7.3f} s  sel {int(sel.sum()):3d}  "
                    f"F1 {rows[-1]['support_f1']:.3f}  score {score:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    return pd.DataFrame(rows), warn_counts, n_fits


def summarize(df):
    out = []
    for task, g in df.groupby("task", sort=False):
        ebic = g.loc[g.method.isin(["L0 alpha=ebic", "L0 default"]), "fit_s"].median()
        for method, h in g.groupby("method", sort=False):
            out.append(
                dict(
                    method=method,
                    task=task,
                    seeds=len(h),
                    selected=h.selected.mean(),
                    support_f1=h.support_f1.mean(),
                    test_score=h.test_score.mean(),
                    fit_s=h.fit_s.median(),
                    x_ebic=h.fit_s.median() / ebic,
                )
            )
    return pd.DataFrame(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds of the linear tasks")
    p.add_argument("--xor-seeds", type=int, default=None, help="seeds of xor (default --seeds)")
    p.add_argument("--alphas", type=int, default=8, help="grid size, linear tasks")
    p.add_argument("--cv", type=int, default=5, help="folds, linear tasks")
    p.add_argument("--xor-alphas", type=int, default=5, help="grid size, xor")
    p.add_argument("--xor-cv", type=int, default=3, help="folds, xor")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = p.parse_args()
    if args.xor_seeds is None:
        args.xor_seeds = args.seeds
    start = time.perf_counter()
    pools = limit_threads(args.threads)
    print(
        f"sklearn-l0 {sklearn_l0.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}, abess "
        f"{abess.__version__ if abess is not None else 'not installed'}; "
        f"{platform.platform()}, {torch.get_num_threads()} torch thread(s)"
    )
    print(f"threads: {pools}")
    print(
        f"seeds: {args.seeds} (xor: {args.xor_seeds}); grid: {args.alphas} alphas in "
        f"[1e-3, 1e-1], cv={args.cv} (xor: {args.xor_alphas} alphas, cv={args.xor_cv})"
    )
    if abess is None:
        print('abess is not installed: its rows are missing (pip install -e ".[bench]")')
    print()
    warm_up()
    df, warn_counts, n_fits = run(args)
    table = summarize(df)
    fmt = {
        "selected": "{:.1f}".format,
        "support_f1": "{:.3f}".format,
        "test_score": "{:.3f}".format,
        "fit_s": "{:.3f}".format,
        "x_ebic": "{:.2f}".format,
    }
    print(table.to_string(index=False, formatters=fmt))
    print(
        "\nselected, support_f1, test_score (R^2 for reg, accuracy otherwise): means over "
        "seeds; fit_s: median over seeds of one fit (the whole search for GridSearchCV, "
        "refit included); x_ebic: fit_s / fit_s of 'L0 alpha=ebic' on the same task, "
        "same run."
    )
    print("\nL0 strength used (alpha_ of the fit, best alpha of the grid), per seed:")
    for (task, method), g in df.groupby(["task", "method"], sort=False):
        if g.strength.notna().any():
            vals = ", ".join(f"{v:.3g}" for v in g.strength)
            print(f"  {task:12s} {method:38s} {vals}")
    mlp = df[df.task == "xor"]
    if len(mlp):
        print("\nxor: epochs run and hidden layer after pruning, per seed:")
        for method, g in mlp.groupby("method", sort=False):
            desc = ", ".join(f"{n}/{h}" for n, h in zip(g.n_iter, g.hidden, strict=True))
            print(f"  {method:38s} {desc}")
    print("\nselected count per seed:")
    for (task, method), g in df.groupby(["task", "method"], sort=False):
        print(f"  {task:12s} {method:38s} {' '.join(str(s) for s in g.selected)}")
    print(
        "\nwarnings raised during the timed fits "
        "(fits counted with repeats; GridSearchCV: searches):"
    )
    for task, method in df[["task", "method"]].drop_duplicates().itertuples(index=False):
        counts = warn_counts[method, task]
        text = "; ".join(f"{n} x {m}" for m, n in counts.most_common()) or "none"
        print(f"  {task:12s} {method:38s} ({n_fits[method, task]} fits): {text}")
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
