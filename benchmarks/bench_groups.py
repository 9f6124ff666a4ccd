"""Group selection (issue 14): L0 gates shared by a group's columns against abess and group lasso.

A synthetic group-sparse regression, a fresh data set per seed: 50 groups of
1 to 8 columns (sizes drawn per seed, so p is about 225; the columns of a
group are contiguous and the labels are 0..49), 5 of them active (drawn per
seed), every coefficient of an active group non-zero (random sign, magnitude
uniform in [0.5, 1.5]). Within a group the columns share a latent factor,
``x_j = sqrt(rho) f_g + sqrt(1 - rho) e_j``: unit variance, correlation
``rho`` inside a group, none across groups. The noise level gives the signal
to noise ratio ``SNR = coef' Sigma coef / sigma^2``. Train on ``n`` rows, score
on 2000 fresh rows from the same distribution.

Settings: n in {300, 150} x rho in {0.5, 0.8} x SNR in {2, 5}, 5 seeds each.

Methods, all fitted on the same data (``random_state=seed``, ``device="cpu"``
and otherwise the defaults for every L0 estimator):

- ``L0 bic``, ``L0 ebic``: ``L0Regressor(alpha="bic"/"ebic", groups=g)``, one fit;
- ``L0CV groups``: ``L0RegressorCV(groups=g)`` (20 alphas, 5-fold CV);
- ``L0CV no groups``: ``L0RegressorCV()``, one gate per column, for reference
  (a group counts as selected when any of its columns is);
- ``abess``: ``abess.LinearRegression(group=g)``, its defaults (support sizes
  0..n/(log log n log p) groups, chosen by its EBIC); abess takes the first
  column of each group from the sorted labels, so it needs contiguous groups,
  as here;
- ``abess cv=5``: the same with ``cv=5`` (support size by 5-fold test loss);
- ``group lasso CV``: skglm's ``GroupLasso`` (weights sqrt(group size), the
  usual choice), alpha by 5-fold CV (shuffled ``KFold``, seed) over 20 values
  on a log grid from ``alpha_max`` (every group zero) to ``1e-3 alpha_max``,
  warm-started along the grid, then refitted on all the data at the best alpha.
- ``oracle OLS``: least squares on the true groups (a ceiling for test R^2,
  not timed against the others).

Metrics: group F1 (selected groups against the 5 true ones; a group is
selected when any of its coefficients is non-zero, which for the grouped L0
estimators is ``group_support_``), test R^2, and fit time as a ratio to
``abess`` (default settings) on the same data set. A fit is timed once; fits
under ``--min-time`` = 0.2 s (abess, some ``ebic`` fits) are repeated until
they have run that long, at most 20 times, and the median is kept. One
untimed warm-up fit per method comes first (torch's lazy imports, numba's
compilation of skglm's solver).

For the grouped L0 fits the script also checks that ``support_`` is constant
within each group, that ``group_support_`` agrees with it and that
``groups_`` is ``np.unique(groups)``; breaches are listed at the end.

Threads: torch, BLAS and OpenMP run one thread each (``--threads``, via
``_common.limit_threads``; abess's own ``thread`` default is 1 too, skglm's
solver is single-threaded). Run it from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/bench_groups.py

No warning is silenced: those raised during the timed fits are counted per
method and listed under the tables.
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
from _common import fit_timed, limit_threads, markdown_table, shorten
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

import sklearn_l0
from sklearn_l0 import L0Regressor, L0RegressorCV
from sklearn_l0.datasets import support_f1

try:
    import abess
except ImportError:  # optional peer
    abess = None
try:
    import skglm
    from skglm import GroupLasso
except ImportError:  # optional peer
    skglm = None

N_GROUPS = 50
N_ACTIVE = 5
N_TEST = 2000

DECIMALS = {"groups": 1, "x_abess": 1}
"""Digits of the table columns that are not shown with 3."""


def make_data(seed, n, rho, snr):
    """(X, y, X_test, y_test, groups, true group mask) for one seed."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(1, 9, N_GROUPS)
    groups = np.repeat(np.arange(N_GROUPS), sizes)
    p = len(groups)
    active = rng.choice(N_GROUPS, N_ACTIVE, replace=False)
    coef = np.zeros(p)
    for a in active:
        cols = np.flatnonzero(groups == a)
        coef[cols] = rng.choice([-1.0, 1.0], len(cols)) * rng.uniform(0.5, 1.5, len(cols))
    cov = (1 - rho) * np.eye(p) + rho * (groups[:, None] == groups[None, :])
    sigma = np.sqrt(coef @ cov @ coef / snr)

    def draw(m):
        factors = rng.randn(m, N_GROUPS)
        X = np.sqrt(rho) * factors[:, groups] + np.sqrt(1 - rho) * rng.randn(m, p)
        return X, X @ coef + sigma * rng.randn(m)

    X, y = draw(n)
    X_test, y_test = draw(N_TEST)
    return X, y, X_test, y_test, groups, np.isin(np.arange(N_GROUPS), active)


class GroupLassoCV:
    """skglm ``GroupLasso`` with alpha chosen by K-fold CV on a log grid (test MSE)."""

    def __init__(self, sizes, n_alphas=20, eps=1e-3, cv=5, random_state=0):
        self.sizes, self.n_alphas, self.eps = np.asarray(sizes), n_alphas, eps
        self.cv, self.random_state = cv, random_state

    def _alpha_max(self, X, y, weights):
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        corr = Xc.T @ yc / len(y)
        starts = np.concatenate([[0], np.cumsum(self.sizes)])
        norms = [np.linalg.norm(corr[a:b]) for a, b in zip(starts[:-1], starts[1:], strict=True)]
        return float(np.max(np.asarray(norms) / weights))

    def _path(self, X, y, alphas, weights):
        est = GroupLasso(groups=self.sizes.tolist(), weights=weights, warm_start=True, tol=1e-6)
        for alpha in alphas:
            est.alpha = alpha
            est.fit(X, y)
            yield est

    def fit(self, X, y):
        weights = np.sqrt(np.asarray(self.sizes, dtype=float))
        alpha_max = self._alpha_max(X, y, weights)
        self.alphas_ = alpha_max * np.logspace(0, np.log10(self.eps), self.n_alphas)
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(X)
        mse = np.zeros((self.n_alphas, self.cv))
        for k, (tr, te) in enumerate(folds):
            for i, est in enumerate(self._path(X[tr], y[tr], self.alphas_, weights)):
                mse[i, k] = np.mean((y[te] - est.predict(X[te])) ** 2)
        self.alpha_ = float(self.alphas_[np.argmin(mse.mean(axis=1))])
        est = GroupLasso(groups=self.sizes.tolist(), weights=weights, alpha=self.alpha_, tol=1e-6)
        self.estimator_ = est.fit(X, y)
        self.coef_ = est.coef_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


class OracleOLS:
    """Least squares on the true groups' columns."""

    def __init__(self, columns):
        self.columns = columns

    def fit(self, X, y):
        self.ols_ = LinearRegression().fit(X[:, self.columns], y)
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[self.columns] = self.ols_.coef_
        return self

    def predict(self, X):
        return self.ols_.predict(X[:, self.columns])


def methods_for(seed, groups, true_groups):
    """name -> zero-argument factory of an unfitted estimator."""

    def l0(cls, **kw):
        return lambda: cls(random_state=seed, device="cpu", **kw)

    methods = {
        "L0 bic": l0(L0Regressor, alpha="bic", groups=groups),
        "L0 ebic": l0(L0Regressor, alpha="ebic", groups=groups),
        "L0CV groups": l0(L0RegressorCV, groups=groups),
        "L0CV no groups": l0(L0RegressorCV),
    }
    if abess is not None:
        methods["abess"] = lambda: abess.LinearRegression(group=groups)
        methods["abess cv=5"] = lambda: abess.LinearRegression(group=groups, cv=5)
    if skglm is not None:
        sizes = np.bincount(groups)
        methods["group lasso CV"] = lambda: GroupLassoCV(sizes, random_state=seed)
    methods["oracle OLS"] = lambda: OracleOLS(np.flatnonzero(true_groups[groups]))
    return methods


def selected_groups(est, groups):
    """Per group: whether any of its columns has a non-zero coefficient (or open gate)."""
    support = getattr(est, "support_", None)
    if support is None:
        support = np.ravel(est.coef_) != 0
    return np.bincount(groups, weights=np.asarray(support, float), minlength=N_GROUPS) > 0


def group_checks(est, groups):
    """Breaches of the grouped L0 attributes' contract (empty list: none)."""
    problems = []
    if not np.array_equal(est.groups_, np.unique(groups)):
        problems.append("groups_ != np.unique(groups)")
    per_group = np.bincount(groups, weights=est.support_.astype(float), minlength=N_GROUPS)
    mixed = np.flatnonzero((per_group > 0) & (per_group < np.bincount(groups)))
    if len(mixed):
        problems.append(f"support_ mixed within groups {mixed.tolist()}")
    if not np.array_equal(est.group_support_, per_group > 0):
        problems.append("group_support_ disagrees with support_")
    if np.any(np.ravel(est.coef_)[~est.support_] != 0):
        problems.append("non-zero coef_ outside support_")
    return problems


def warm_up():
    X, y, _, _, groups, true_groups = make_data(0, 100, 0.5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factory in methods_for(0, groups, true_groups).values():
            factory().fit(X, y)


def run(args):
    rows, problems = [], []
    warn_counts = defaultdict(Counter)
    for n in args.n:
        for rho in args.rho:
            for snr in args.snr:
                setting = f"n={n} rho={rho} SNR={snr}"
                for seed in range(args.seeds):
                    X, y, Xte, yte, groups, true_groups = make_data(seed, n, rho, snr)
                    abess_s = None
                    methods = methods_for(seed, groups, true_groups)
                    for name, factory in methods.items():
                        caught = []
                        est, times = fit_timed(factory, X, y, min_time=args.min_time, caught=caught)
                        fit_s = float(np.median(times))
                        for w in caught:
                            warn_counts[name][f"{w.category.__name__}: {shorten(w.message)}"] += 1
                        sel = selected_groups(est, groups)
                        if name.startswith("L0") and "no groups" not in name:
                            for msg in group_checks(est, groups):
                                problems.append(f"{setting} seed {seed} {name}: {msg}")
                            sel_attr = np.asarray(est.group_support_, bool)
                            if not np.array_equal(sel_attr, sel):
                                sel = sel_attr  # reported above; score the attribute
                        if name == "abess":
                            abess_s = fit_s
                        r2 = r2_score(yte, est.predict(Xte))
                        rows.append(
                            dict(
                                setting=setting,
                                method=name,
                                seed=seed,
                                p=X.shape[1],
                                groups_sel=int(sel.sum()),
                                group_f1=support_f1(sel, true_groups),
                                test_r2=r2,
                                fit_s=fit_s,
                                alpha=getattr(est, "alpha_", None),
                            )
                        )
                        print(
                            f"  {setting:24s} seed {seed} {name:16s} {fit_s:7.3f} s  "
                            f"groups {int(sel.sum()):2d}  F1 {rows[-1]['group_f1']:.3f}  "
                            f"R2 {r2:.3f}",
                            file=sys.stderr,
                            flush=True,
                        )
                    for row in rows[-len(methods) :]:
                        row["x_abess"] = row["fit_s"] / abess_s if abess_s else np.nan
    df = pd.DataFrame(rows)
    df.loc[df.method == "oracle OLS", "x_abess"] = np.nan
    return df, warn_counts, problems


def summarize(df, by):
    out = []
    for keys, g in df.groupby(by, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        out.append(
            dict(
                zip(by, keys, strict=True),
                groups=g.groups_sel.mean(),
                f1_mean=g.group_f1.mean(),
                f1_min=g.group_f1.min(),
                r2_mean=g.test_r2.mean(),
                r2_min=g.test_r2.min(),
                x_abess=g.x_abess.mean(),
            )
        )
    return pd.DataFrame(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--n", type=int, nargs="+", default=[300, 150])
    p.add_argument("--rho", type=float, nargs="+", default=[0.5, 0.8])
    p.add_argument("--snr", type=float, nargs="+", default=[2.0, 5.0])
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = p.parse_args()
    start = time.perf_counter()
    pools = limit_threads(args.threads)
    print(
        f"sklearn-l0 {sklearn_l0.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}, abess "
        f"{abess.__version__ if abess is not None else 'not installed'}, skglm "
        f"{skglm.__version__ if skglm is not None else 'not installed'}; "
        f"{platform.platform()}, {torch.get_num_threads()} torch thread(s)"
    )
    print(f"threads: {pools} (abess thread=1; skglm single-threaded)")
    print(
        f"data: {N_GROUPS} groups of 1-8 columns, {N_ACTIVE} active, {N_TEST} test rows; "
        f"n {args.n}, rho {args.rho}, SNR {args.snr}; {args.seeds} seeds per setting"
    )
    print()
    warm_up()
    df, warn_counts, problems = run(args)
    print(
        "groups: mean number selected; f1: group F1 vs the 5 true groups; r2: test R^2; "
        "mean and min over seeds; x_abess: fit time / abess's on the same data, mean over "
        "seeds.\n"
    )
    for setting, g in df.groupby("setting", sort=False):
        ps = g.p.unique()
        print(f"### {setting} (p {ps.min()}-{ps.max()})\n")
        print(markdown_table(summarize(g, ["method"]), DECIMALS))
        print()
    print("### all settings (means and mins over every setting and seed)\n")
    print(markdown_table(summarize(df, ["method"]), DECIMALS))
    print()
    best = summarize(df, ["setting", "method"])
    peers = best[~best.method.str.startswith("L0") & (best.method != "oracle OLS")]
    l0 = best[best.method.str.startswith("L0") & (best.method != "L0CV no groups")]
    print("best grouped L0 vs best peer per setting (by mean):")
    for setting in df.setting.unique():
        a, b = l0[l0.setting == setting], peers[peers.setting == setting]
        if len(b) == 0:
            continue
        fa, fb = a.loc[a.f1_mean.idxmax()], b.loc[b.f1_mean.idxmax()]
        ra, rb = a.loc[a.r2_mean.idxmax()], b.loc[b.r2_mean.idxmax()]
        print(
            f"  {setting:24s} F1 {fa.method} {fa.f1_mean:.3f} vs {fb.method} {fb.f1_mean:.3f}; "
            f"R2 {ra.method} {ra.r2_mean:.3f} vs {rb.method} {rb.r2_mean:.3f}"
        )
    print("\nL0 strength used (alpha_), per seed:")
    for (setting, method), g in df.groupby(["setting", "method"], sort=False):
        if method.startswith("L0"):
            print(f"  {setting:24s} {method:16s} {', '.join(f'{v:.3g}' for v in g.alpha)}")
    print("\nwarnings raised during the timed fits (repeated fits counted):")
    for method in df.method.unique():
        counts = warn_counts[method]
        text = "; ".join(f"{k} x {m}" for m, k in counts.most_common()) or "none"
        print(f"  {method:16s}: {text}")
    print("\ngrouped L0 attribute checks: " + ("all passed" if not problems else ""))
    for msg in problems:
        print(f"  {msg}")
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
