"""Sparse linear regression: L0Regressor against standard sparse estimators.

Task (``sklearn_l0.datasets.make_sparse_regression``): 1500 rows are drawn and
split into 500 training rows and 1000 held-out test rows; p = 1000 features,
10 of them informative with coefficients +1 or -1, SNR 5 (``var(X @ coef) /
var(noise)``). Two settings: independent features (rho=0) and Toeplitz
correlated features (``corr(x_i, x_j) = 0.5**|i - j|``).

Methods (support = ``support_`` for L0, ``coef_ != 0`` otherwise):

1. ``L0Regressor(alpha=0.02)``, one fit.
2. ``GridSearchCV(L0Regressor(), {"alpha": np.logspace(-3, -1, 10)}, cv=5)``;
   its time includes the refit on all training rows (51 fits in all).
3. ``Lasso`` with one alpha from the universal threshold
   ``alpha = sigma_hat * sqrt(2 * log(p) / n)``, with ``sigma_hat = std(y) / 2``.
   ``std(y)`` over-estimates the noise level (it contains the signal); the
   factor 1/2 is a crude correction that happens to be close to the truth on
   this task (at SNR 5, sigma = std(y) / sqrt(6) = 0.41 std(y)), so this is a
   mildly oracle-informed rule, not a tuned one. The alpha used is printed.
4. ``LassoCV(cv=5)`` with its default grid of 100 alphas.
5. abess ``LinearRegression()`` (best-subset selection by splicing; default
   support-size path and EBIC), if abess is installed.
6. skglm ``MCPRegression(alpha, gamma=3)`` with the same alpha as (3); with
   gamma=3, coefficients above 3 * alpha (~0.9 here) are left unshrunk.
   Optional, like abess: ``pip install -e ".[bench]"`` installs both.

Timing: every fit is timed with ``time.perf_counter``; the time of a method on
one seed is the median of ``--repeats`` fits (``--grid-repeats`` for the grid
search, 1 by default because it is 51 fits), and the table shows the median
over seeds. Fast fits are repeated until they have run ``--min-time`` seconds
in all (0.2 s, at most 100 fits, as ``timeit`` does): Lasso takes a few
milliseconds, and 3 samples of that on a busy machine are a noisy denominator
for the ratios. One untimed warm-up fit per method comes first (the first torch
fit in a process pays ~1 s of lazy imports; skglm compiles with numba). The
other columns are means over seeds. ``x_Lasso`` is the time divided by Lasso's
in the same setting and run: on a shared machine the ratios are the meaningful
numbers.

Threads: every method runs on one thread by default (``--threads``): torch via
``torch.set_num_threads``, BLAS and OpenMP (numpy, scipy, sklearn, abess) via
threadpoolctl; ``--threads 0`` keeps the libraries' defaults. On the 2-core
machine of the recorded run, the default 2-thread pools made these small fits
erratic and up to ~10x slower (Lasso: 2 ms -> 24 ms; L0Regressor: 0.2 s -> 1-6 s
while another process was busy).

No warnings are silenced: those raised during the timed fits are counted and
listed under the table.

Run: ``python benchmarks/bench_linear.py [--seeds 5] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter, defaultdict
from functools import partial
from operator import methodcaller

import numpy as np
import pandas as pd
from _common import environment, limit_threads, time_call
from sklearn.linear_model import Lasso, LassoCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from sklearn_l0 import L0Regressor
from sklearn_l0.datasets import make_sparse_regression, support_f1

N_TRAIN, N_TEST, N_FEATURES, N_INFORMATIVE, SNR = 500, 1000, 1000, 10, 5.0
SETTINGS = {"rho=0": 0.0, "rho=0.5": 0.5}
L0_ALPHA = 0.02
GRID = {"alpha": np.logspace(-3, -1, 10)}
FORMATS = {
    "fit_time_s": "{:.3f}".format,
    "x_Lasso": "{:.1f}".format,
    "selected": "{:.1f}".format,
    "support_f1": "{:.3f}".format,
    "test_r2": "{:.3f}".format,
}
L0_NAME, GRID_NAME, LASSO_NAME = "L0Regressor(alpha=0.02)", "GridSearchCV(L0Regressor)", "Lasso"


def universal_alpha(y, n_features):
    """``sigma_hat * sqrt(2 log p / n)`` with ``sigma_hat = std(y) / 2`` (see docstring)."""
    return np.std(y) / 2.0 * np.sqrt(2.0 * np.log(n_features) / len(y))


def build_methods(args):
    """name -> factory(lasso_alpha, seed) returning an unfitted estimator; skipped peers."""
    methods = {
        L0_NAME: lambda a, seed: L0Regressor(alpha=L0_ALPHA, device="cpu", random_state=seed),
        GRID_NAME: lambda a, seed: GridSearchCV(
            L0Regressor(device="cpu", random_state=seed), GRID, cv=5, n_jobs=args.n_jobs
        ),
        LASSO_NAME: lambda a, seed: Lasso(alpha=a),
        "LassoCV(cv=5)": lambda a, seed: LassoCV(cv=5, n_jobs=1),
    }
    skipped = []
    try:
        from abess.linear import LinearRegression as AbessLinearRegression
    except ImportError as exc:
        skipped.append(f'abess LinearRegression: skipped ({exc}); pip install -e ".[bench]"')
    else:
        methods["abess LinearRegression"] = lambda a, seed: AbessLinearRegression()
    try:
        from skglm import MCPRegression
    except ImportError as exc:
        skipped.append(f'skglm MCPRegression: skipped ({exc}); pip install -e ".[bench]"')
    else:
        methods["skglm MCPRegression(gamma=3)"] = lambda a, seed: MCPRegression(alpha=a, gamma=3)
    return methods, skipped


def selected(est):
    """Boolean mask of the features an estimator kept."""
    est = getattr(est, "best_estimator_", est)
    return np.asarray(est.support_ if hasattr(est, "support_") else est.coef_ != 0, dtype=bool)


def split_data(rho, seed):
    X, y, coef = make_sparse_regression(
        N_TRAIN + N_TEST,
        N_FEATURES,
        n_informative=N_INFORMATIVE,
        rho=rho,
        snr=SNR,
        random_state=seed,
    )
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], coef != 0


def warm_up(methods):
    """One untimed fit of each cheap method (torch lazy imports, numba compilation)."""
    X, y, _, _, _ = split_data(0.0, 12345)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, make in methods.items():
            if name != GRID_NAME and not name.startswith("LassoCV"):
                make(universal_alpha(y, X.shape[1]), 0).fit(X, y)


def run(args, methods):
    rows, warns = [], defaultdict(Counter)
    n_fits = Counter()
    for setting, rho in SETTINGS.items():
        for seed in range(args.seeds):
            Xtr, ytr, Xte, yte, true = split_data(rho, seed)
            alpha = universal_alpha(ytr, N_FEATURES)
            for name, make in methods.items():
                repeats = args.grid_repeats if name == GRID_NAME else args.repeats
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    est, times = time_call(
                        methodcaller("fit", Xtr, ytr),  # on a fresh estimator from setup
                        repeats,
                        min_time=args.min_time,
                        max_repeats=100,
                        setup=partial(make, alpha, seed),
                    )
                for w in caught:
                    warns[name][w.category.__name__] += 1
                n_fits[name] += len(times)
                mask = selected(est)
                rows.append(
                    {
                        "method": name,
                        "setting": setting,
                        "seed": seed,
                        "lasso_alpha": alpha,
                        "time": float(np.median(times)),
                        "selected": int(mask.sum()),
                        "f1": support_f1(mask, true),
                        "r2": r2_score(yte, est.predict(Xte)),
                        "grid_alpha": getattr(est, "best_params_", {}).get("alpha"),
                    }
                )
            print(f"  done: {setting} seed {seed}", file=sys.stderr, flush=True)
    return pd.DataFrame(rows), warns, n_fits


def summarize(df):
    order = list(dict.fromkeys(df["method"]))
    table = (
        df.groupby(["setting", "method"], sort=False)
        .agg(
            fit_time_s=("time", "median"),
            selected=("selected", "mean"),
            support_f1=("f1", "mean"),
            test_r2=("r2", "mean"),
        )
        .reset_index()
    )
    lasso_time = table[table["method"] == LASSO_NAME].set_index("setting")["fit_time_s"]
    table.insert(3, "x_Lasso", table["fit_time_s"] / table["setting"].map(lasso_time))
    table["method"] = pd.Categorical(table["method"], order)
    return table.sort_values(["setting", "method"])[
        ["method", "setting", "fit_time_s", "x_Lasso", "selected", "support_f1", "test_r2"]
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="data sets per setting")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per method and seed")
    parser.add_argument("--grid-repeats", type=int, default=1, help="timed GridSearchCV fits")
    parser.add_argument("--min-time", type=float, default=0.2, help="repeat fast fits this long")
    parser.add_argument("--n-jobs", type=int, default=1, help="n_jobs of GridSearchCV")
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    methods, skipped = build_methods(args)  # imports the peers before the thread limits
    pools = limit_threads(args.threads)

    print(environment(pools))
    print(
        f"task: n_train={N_TRAIN}, n_test={N_TEST}, p={N_FEATURES}, k={N_INFORMATIVE}, "
        f"SNR={SNR}; seeds={args.seeds}, repeats={args.repeats}, "
        f"grid repeats={args.grid_repeats}, GridSearchCV n_jobs={args.n_jobs}"
    )
    for line in skipped:
        print(line)
    start = time.perf_counter()
    warm_up(methods)
    df, warns, n_fits = run(args, methods)
    table = summarize(df)

    print()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, formatters=FORMATS))
    print(
        "\nfit_time_s: median over seeds of the median over repeats (see --min-time); "
        "x_Lasso: relative to Lasso in the same setting; selected, support_f1, test_r2: "
        "means over seeds."
    )
    for setting, alphas in df[df["method"] == LASSO_NAME].groupby("setting")["lasso_alpha"]:
        print(
            f"Lasso/MCP alpha ({setting}): mean {alphas.mean():.3f} "
            f"(range {alphas.min():.3f}-{alphas.max():.3f})"
        )
    for setting, alphas in df[df["method"] == GRID_NAME].groupby("setting")["grid_alpha"]:
        print(f"GridSearchCV best alpha ({setting}): " + ", ".join(f"{a:.3g}" for a in alphas))
    print("warnings raised during the timed fits:")
    for name in methods:
        counts = ", ".join(f"{n} {c}" for c, n in warns[name].items()) or "none"
        fits = f"{n_fits[name]} " + ("searches of 51 fits" if name == GRID_NAME else "fits")
        print(f"  {name} ({fits}): {counts}")

    print("\nsummary:")
    for setting in SETTINGS:
        t = table[table["setting"] == setting].set_index("method")
        peers = t.drop(index=[L0_NAME, GRID_NAME])
        best_f1 = peers["support_f1"].max()
        best = ", ".join(peers.index[np.isclose(peers["support_f1"], best_f1)])
        l0_time = t.loc[L0_NAME, "fit_time_s"]
        print(
            f"  {setting}: L0 one fit {l0_time:.2f} s "
            f"({'under' if l0_time < 1 else 'NOT under'} 1 s); support F1: L0 "
            f"{t.loc[L0_NAME, 'support_f1']:.3f} vs best peer {best_f1:.3f} ({best})"
        )
    print(f"total run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
