"""Correlated p >> n (issue 12): L0 criterion, count and CV fits against abess, MCP and the lasso.

Regression families, a fresh data set per seed. The rows of X are Gaussian
with Toeplitz correlation ``rho^|i - j|``, drawn by an AR(1) recursion across
the columns (``x_1 = e_1``, ``x_j = rho x_{j-1} + sqrt(1 - rho^2) e_j``: unit
variance, cheap at p = 5000). ``k`` true features (6 when p = 1500, 5 when
p = 5000) at random positions (seeded), coefficients of random sign and
magnitude uniform in [1, 2]; noise sigma from ``SNR = coef' Sigma coef /
sigma^2``. Train on ``n`` rows, score on 2000 fresh rows.

Settings: rho in {0.5, 0.7} x (n, p) in {(300, 1500), (200, 5000)} x SNR in
{2, 3, 5}: 12 settings, 5 seeds each (seeds 0..4).

Classification family: the same X with rho = 0.5, n = 500, p = 1000, 6 true
features (random positions, random sign, magnitude uniform in [1, 2], no
rescaling: with unit-variance columns the linear score has a standard
deviation of about 4, so the Bayes accuracy is about 0.9 and every true
feature moves the log-odds by 1-2 per standard deviation), labels
``Bernoulli(sigmoid(X coef))``; 2000 test rows, 5 seeds.

Methods, all fitted on the same data (``random_state=seed``, ``device="cpu"``
and otherwise the defaults for every L0 estimator):

- ``L0 ebic``: ``L0Regressor(alpha="ebic")``, one fit (the local search of
  ``sklearn_l0/search.py`` ends it);
- ``L0 k``: ``L0Regressor(n_features_to_select=k)``, k the true count;
- ``L0CV``: ``L0RegressorCV()`` (its defaults: 20 alphas, 5-fold CV), on
  seeds 0 and 1 only (``--cv-seeds`` = 2; ``--cv-alphas``, ``--cv-folds``
  change its grid): one fit takes about 30 s here at p = 5000 (1200x default
  abess), five seeds of it in all 12 settings would take 30 minutes alone.
  Its R^2 target is checked against abess on the same two seeds;
- ``abess``: ``abess.LinearRegression()``, its defaults (support sizes up to
  n/(log log n log p), chosen by its EBIC, ``thread=1``): the time reference;
- ``abess cv=5``: ``abess.LinearRegression(support_size=range(0, 30), cv=5)``;
- ``MCP CV``: skglm ``MCPRegression(gamma=3)``, alpha by 5-fold CV (shuffled
  ``KFold``, seed) over 10 values on a log grid from ``alpha_max`` (all
  zero) to ``0.02 alpha_max``, warm-started along the grid, then refitted on
  all the data at the best alpha;
- ``LassoCV``: scikit-learn's ``LassoCV(cv=5)`` (R^2 reference).

Classification: ``L0Classifier(alpha="ebic")``, ``L0Classifier(
n_features_to_select=k)``, ``abess.LogisticRegression()`` (defaults, the time
reference) and the L1 logistic regression by CV, ``LogisticRegressionCV(
l1_ratios=[1.0], solver="liblinear", Cs=10, cv=5)`` (scikit-learn 1.9: no
``penalty`` argument).

Metrics: support F1 against the true support (mean and min over seeds),
number selected, test R^2 (accuracy for classification), fit time as a ratio
to ``abess`` (defaults) on the same data set, mean over seeds. A fit is timed
once; fits under ``--min-time`` = 0.2 s are repeated until they have run that
long (at most 20 times) and the median is kept. One untimed warm-up fit per
method comes first (torch's lazy imports, numba's compilation of skglm).

For every ``L0 ebic`` regression fit whose support is not the true one, the
exact EBIC of both supports (least squares with an intercept on the training
data, ``n log(RSS/n) + k log n + 2 k log p``) is compared: "ebic prefers
selection" counts the misses where the selected support has the lower EBIC
(a criterion failure, not an optimisation one). The classification analogue
uses ``-2 loglik + k log n + 2 k log p`` of an (almost) unpenalised logistic
fit.

Targets (issue 12), checked per setting in the summary: ``L0 ebic`` mean F1
at least abess's; ``L0 ebic`` min F1 at least 0.85; ``L0CV`` mean test R^2
within 0.02 of abess's.

Threads: torch, BLAS and OpenMP run one thread each (``--threads``, via
``_common.limit_threads``; abess's ``thread`` default is 1, skglm's solver is
single-threaded). Run it from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/bench_hard.py

Progress goes to stderr. No warning is silenced: those raised during the
timed fits are counted per method and listed under the tables.
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
from sklearn.linear_model import LassoCV, LogisticRegression, LogisticRegressionCV
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold

import sklearn_l0
from sklearn_l0 import L0Classifier, L0Regressor, L0RegressorCV
from sklearn_l0.datasets import support_f1

try:
    import abess
except ImportError:  # optional peer
    abess = None
try:
    import skglm
    from skglm import MCPRegression
except ImportError:  # optional peer
    skglm = None

N_TEST = 2000
FAMILIES = {(300, 1500): 6, (200, 5000): 5}  # (n, p) -> true support size

DECIMALS = {"n_sel": 1, "x_abess": 1, "fit_s": 2}
"""Digits of the table columns that are not shown with 3."""


def toeplitz_x(rng, m, p, rho):
    """m rows with corr(x_i, x_j) = rho^|i-j| (AR(1) across the columns)."""
    E = rng.randn(m, p)
    X = np.empty((m, p))
    X[:, 0] = E[:, 0]
    s = np.sqrt(1 - rho**2)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + s * E[:, j]
    return X


def draw_coef(rng, p, k):
    support = np.sort(rng.choice(p, k, replace=False))
    coef = np.zeros(p)
    coef[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 2.0, k)
    return coef


def quad_form(coef, rho):
    """coef' Sigma coef for the Toeplitz Sigma, from the support only."""
    idx = np.flatnonzero(coef)
    c = coef[idx]
    return float(c @ (rho ** np.abs(idx[:, None] - idx[None, :])) @ c)


def make_regression(seed, n, p, k, rho, snr):
    rng = np.random.RandomState(seed)
    coef = draw_coef(rng, p, k)
    sigma = np.sqrt(quad_form(coef, rho) / snr)
    X, Xte = toeplitz_x(rng, n, p, rho), toeplitz_x(rng, N_TEST, p, rho)
    y = X @ coef + sigma * rng.randn(n)
    yte = Xte @ coef + sigma * rng.randn(N_TEST)
    return X, y, Xte, yte, coef != 0


def make_classification(seed, n, p, k, rho):
    rng = np.random.RandomState(seed)
    coef = draw_coef(rng, p, k)
    X, Xte = toeplitz_x(rng, n, p, rho), toeplitz_x(rng, N_TEST, p, rho)
    y = (rng.rand(n) < 1 / (1 + np.exp(-X @ coef))).astype(int)
    yte = (rng.rand(N_TEST) < 1 / (1 + np.exp(-Xte @ coef))).astype(int)
    return X, y, Xte, yte, coef != 0


def ebic_ls(X, y, support):
    """Exact EBIC of a support: least squares with intercept, n log(RSS/n) + k log n + 2k log p."""
    n, p = X.shape
    cols = np.flatnonzero(support)
    A = np.column_stack([np.ones(n), X[:, cols]])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((y - A @ beta) ** 2))
    k = len(cols)
    return n * np.log(rss / n) + k * np.log(n) + 2 * k * np.log(p)


def ebic_logistic(X, y, support):
    """-2 loglik (almost unpenalised logistic fit, intercept) + k log n + 2k log p."""
    n, p = X.shape
    cols = np.flatnonzero(support)
    k = len(cols)
    if k == 0:
        q = y.mean()
        ll = n * (q * np.log(q) + (1 - q) * np.log(1 - q))
    else:
        m = LogisticRegression(C=1e6, max_iter=1000).fit(X[:, cols], y)
        pr = np.clip(m.predict_proba(X[:, cols])[:, 1], 1e-12, 1 - 1e-12)
        ll = float(np.sum(y * np.log(pr) + (1 - y) * np.log(1 - pr)))
    return -2 * ll + k * np.log(n) + 2 * k * np.log(p)


class MCPCV:
    """skglm ``MCPRegression`` with alpha chosen by K-fold CV on a log grid (test MSE)."""

    def __init__(self, n_alphas=10, eps=0.02, gamma=3.0, cv=5, random_state=0):
        self.n_alphas, self.eps, self.gamma = n_alphas, eps, gamma
        self.cv, self.random_state = cv, random_state

    def _path(self, X, y):
        est = MCPRegression(gamma=self.gamma, warm_start=True, tol=1e-6)
        for alpha in self.alphas_:
            est.alpha = alpha
            est.fit(X, y)
            yield est

    def fit(self, X, y):
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        alpha_max = float(np.max(np.abs(Xc.T @ yc)) / len(y))
        self.alphas_ = alpha_max * np.logspace(0, np.log10(self.eps), self.n_alphas)
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(X)
        mse = np.zeros((self.n_alphas, self.cv))
        for f, (tr, te) in enumerate(folds):
            for i, est in enumerate(self._path(X[tr], y[tr])):
                mse[i, f] = np.mean((y[te] - est.predict(X[te])) ** 2)
        self.alpha_ = float(self.alphas_[np.argmin(mse.mean(axis=1))])
        est = MCPRegression(alpha=self.alpha_, gamma=self.gamma, tol=1e-6)
        self.estimator_ = est.fit(X, y)
        self.coef_ = est.coef_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


def regression_methods(seed, k, args, with_cv):
    def l0(cls, **kw):
        return lambda: cls(random_state=seed, device="cpu", **kw)

    methods = {
        "L0 ebic": l0(L0Regressor, alpha="ebic"),
        "L0 k": l0(L0Regressor, n_features_to_select=k),
    }
    if with_cv:
        methods["L0CV"] = l0(L0RegressorCV, alphas=args.cv_alphas, cv=args.cv_folds)
    if abess is not None:
        methods["abess"] = lambda: abess.LinearRegression()
        methods["abess cv=5"] = lambda: abess.LinearRegression(support_size=range(0, 30), cv=5)
    if skglm is not None:
        methods["MCP CV"] = lambda: MCPCV(random_state=seed)
    if True:
        methods["LassoCV"] = lambda: LassoCV(cv=5)
    return methods


def classification_methods(seed, k):
    def l0(**kw):
        return lambda: L0Classifier(random_state=seed, device="cpu", **kw)

    methods = {"L0 ebic": l0(alpha="ebic"), "L0 k": l0(n_features_to_select=k)}
    if abess is not None:
        methods["abess"] = lambda: abess.LogisticRegression()
    methods["L1 logistic CV"] = lambda: LogisticRegressionCV(
        l1_ratios=[1.0],
        solver="liblinear",
        Cs=10,
        cv=5,
        scoring="neg_log_loss",
        use_legacy_attributes=False,
    )
    return methods


def selected(est):
    support = getattr(est, "support_", None)
    if support is None:
        support = np.ravel(est.coef_) != 0
    return np.asarray(support, bool)


def warm_up(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y, *_ = make_regression(0, 100, 200, 5, 0.5, 5)
        for factory in regression_methods(0, 5, args, True).values():
            factory().fit(X, y)
        X, y, *_ = make_classification(0, 200, 100, 5, 0.5)
        for factory in classification_methods(0, 5).values():
            factory().fit(X, y)


def fit_all(setting, seed, methods, data, score, criterion, rows, warn_counts, min_time):
    X, y, Xte, yte, true = data
    abess_s = None
    start = len(rows)
    for name, factory in methods.items():
        caught = []
        try:
            est, times = fit_timed(factory, X, y, min_time=min_time, caught=caught)
            fit_s = float(np.median(times))
        except Exception as exc:  # a failed fit is counted, not scored
            failures.append(
                f"{setting} seed {seed} {name}: {type(exc).__name__}: {shorten(exc, 200)}"
            )
            rows.append(dict(setting=setting, method=name, seed=seed, failed=True))
            print(f"  {setting:30s} seed {seed} {name:14s} FAILED: {shorten(exc)}", file=sys.stderr)
            continue
        for w in caught:
            warn_counts[name][f"{w.category.__name__}: {shorten(w.message)}"] += 1
        sel = selected(est)
        if name == "abess":
            abess_s = fit_s
        row = dict(
            setting=setting,
            method=name,
            seed=seed,
            n_sel=int(sel.sum()),
            f1=support_f1(sel, true),
            score=score(yte, est.predict(Xte)),
            fit_s=fit_s,
            exact=bool(np.array_equal(sel, true)),
            failed=False,
            ebic_pref=np.nan,
            ebic_gap=np.nan,
        )
        if name == "L0 ebic" and not row["exact"]:
            e_sel, e_true = criterion(X, y, sel), criterion(X, y, true)
            row["ebic_pref"] = float(e_sel < e_true)
            row["ebic_gap"] = e_sel - e_true
        rows.append(row)
        print(
            f"  {setting:30s} seed {seed} {name:14s} {fit_s:8.3f} s  sel {row['n_sel']:3d}  "
            f"F1 {row['f1']:.3f}  score {row['score']:.3f}"
            + (
                f"  EBIC(sel)-EBIC(true) {row['ebic_gap']:+.1f}"
                if row["ebic_gap"] == row["ebic_gap"]
                else ""
            ),
            file=sys.stderr,
            flush=True,
        )
    for row in rows[start:]:
        row["x_abess"] = row["fit_s"] / abess_s if abess_s and not row["failed"] else np.nan


failures: list[str] = []


def run(args):
    rows = []
    warn_counts = defaultdict(Counter)
    for rho in args.rho:
        for n, p in args.families:
            k = FAMILIES.get((n, p), 6 if p <= 2000 else 5)
            for snr in args.snr:
                setting = f"rho={rho} n={n} p={p} SNR={snr:g}"
                for seed in range(args.seeds):
                    data = make_regression(seed, n, p, k, rho, snr)
                    methods = regression_methods(seed, k, args, seed < args.cv_seeds)
                    fit_all(
                        setting,
                        seed,
                        methods,
                        data,
                        r2_score,
                        ebic_ls,
                        rows,
                        warn_counts,
                        args.min_time,
                    )
    if args.classification:
        n, p, k, rho = 500, 1000, 6, 0.5
        setting = f"logistic rho={rho} n={n} p={p}"
        for seed in range(args.seeds):
            data = make_classification(seed, n, p, k, rho)
            methods = classification_methods(seed, k)
            fit_all(
                setting,
                seed,
                methods,
                data,
                accuracy_score,
                ebic_logistic,
                rows,
                warn_counts,
                args.min_time,
            )
    return pd.DataFrame(rows), warn_counts


def summarize(df):
    out = []
    for method, g in df.groupby("method", sort=False):
        fails = int(g.failed.sum())
        g = g[~g.failed]
        misses = g.ebic_pref.notna()
        out.append(
            dict(
                method=method,
                seeds=len(g),
                failed=fails,
                n_sel=g.n_sel.mean(),
                f1_mean=g.f1.mean(),
                f1_min=g.f1.min(),
                exact=f"{int(g.exact.sum())}/{len(g)}",
                score_mean=g.score.mean(),
                score_min=g.score.min(),
                x_abess=g.x_abess.mean(),
                fit_s=g.fit_s.mean(),
                ebic_prefers_sel=(
                    f"{int(g.ebic_pref[misses].sum())}/{int(misses.sum())}"
                    if method == "L0 ebic"
                    else "-"
                ),
            )
        )
    return pd.DataFrame(out)


def parse_family(text):
    n, p = text.split("x")
    return int(n), int(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rho", type=float, nargs="+", default=[0.5, 0.7])
    ap.add_argument(
        "--families",
        type=parse_family,
        nargs="+",
        default=[(300, 1500), (200, 5000)],
        help="n x p, e.g. 300x1500",
    )
    ap.add_argument("--snr", type=float, nargs="+", default=[2.0, 3.0, 5.0])
    ap.add_argument("--cv-seeds", type=int, default=2, help="seeds with L0CV (0..N-1)")
    ap.add_argument("--cv-alphas", type=int, default=20, help="L0RegressorCV alphas")
    ap.add_argument("--cv-folds", type=int, default=5, help="L0RegressorCV cv")
    ap.add_argument("--no-classification", dest="classification", action="store_false")
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = ap.parse_args()
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
        f"data: Toeplitz rho {args.rho}, (n, p) {args.families}, SNR {args.snr}, "
        f"{N_TEST} test rows; {args.seeds} seeds per setting; L0CV (alphas={args.cv_alphas}, "
        f"cv={args.cv_folds}) on seeds 0..{args.cv_seeds - 1} only"
    )
    print()
    warm_up(args)
    df, warn_counts = run(args)
    print(
        "n_sel: mean number selected; f1: support F1 vs the true support (mean, min over "
        "seeds); exact: seeds with exactly the true support; score: test R^2 (accuracy for "
        "the logistic family); x_abess: fit time / default abess's on the same data, mean "
        "over seeds; fit_s: mean seconds; ebic_prefers_sel: L0 ebic misses whose selected "
        "support has a lower exact EBIC than the true one / misses.\n"
    )
    for setting, g in df.groupby("setting", sort=False):
        print(f"### {setting}\n")
        print(markdown_table(summarize(g), DECIMALS))
        print()
    print("### targets per setting (L0 ebic vs default abess; L0CV vs default abess)\n")
    lines = [
        "| setting | ebic F1 mean | abess F1 mean | F1>=abess | ebic F1 min | min>=0.85 "
        "| L0CV R2 | abess R2 (L0CV seeds) | R2 within 0.02 | L0 k F1 mean/min | ebic x_abess "
        "| ebic prefers sel |",
        "|" + "---|" * 12,
    ]
    for setting, g in df.groupby("setting", sort=False):
        s = summarize(g).set_index("method")
        e, a = s.loc["L0 ebic"], s.loc["abess"] if "abess" in s.index else None
        kk = s.loc["L0 k"]
        k_txt = "-" if kk.seeds == 0 else f"{kk.f1_mean:.3f}/{kk.f1_min:.3f}"
        k_txt += f" ({int(kk.failed)} failed)" if kk.failed else ""
        f1_ok = "-" if a is None else ("PASS" if e.f1_mean >= a.f1_mean - 1e-12 else "FAIL")
        min_ok = "PASS" if e.f1_min >= 0.85 else "FAIL"
        if "L0CV" in s.index and a is not None:
            cv = s.loc["L0CV"]
            # same seeds as L0CV for the abess R^2
            ab = g[(g.method == "abess") & (g.seed < cv.seeds)].score.mean()
            r2_ok = "PASS" if cv.score_mean >= ab - 0.02 else "FAIL"
            cv_txt, ab_txt = f"{cv.score_mean:.3f}", f"{ab:.3f}"
        else:
            r2_ok, cv_txt, ab_txt = "-", "-", "-" if a is None else f"{a.score_mean:.3f}"
        lines.append(
            f"| {setting} | {e.f1_mean:.3f} | {'-' if a is None else f'{a.f1_mean:.3f}'} "
            f"| {f1_ok} | {e.f1_min:.3f} | {min_ok} | {cv_txt} | {ab_txt} | {r2_ok} "
            f"| {k_txt} | {e.x_abess:.1f} | {e.ebic_prefers_sel} |"
        )
    print("\n".join(lines))
    print()
    reg = df[~df.setting.str.startswith("logistic")]
    if len(reg):
        print("### all regression settings (means and mins over every setting and seed)\n")
        print(markdown_table(summarize(reg), DECIMALS))
        print()
    misses = df[df.ebic_gap.notna()]
    if len(misses):
        print("L0 ebic misses: EBIC(selected) - EBIC(true) (negative: EBIC prefers the selection)")
        for r in misses.itertuples():
            print(
                f"  {r.setting:30s} seed {r.seed}: sel {int(r.n_sel):2d} F1 {r.f1:.3f} "
                f"gap {r.ebic_gap:+.1f}"
            )
        print()
    print(
        "failed fits (not scored; the tables count them under 'failed'): "
        + ("none" if not failures else "")
    )
    for msg in failures:
        print(f"  {msg}")
    print()
    print("warnings raised during the timed fits (repeated fits counted):")
    for method in df.method.unique():
        counts = warn_counts[method]
        text = "; ".join(f"{c} x {m}" for m, c in counts.most_common()) or "none"
        print(f"  {method:14s}: {text}")
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
