"""L0 Cox regression against the Cox models of abess, skglm, scikit-survival and lifelines.

Synthetic data with a known support (Toeplitz 0.5 features, 10 true log hazard ratios of
+-0.5 to +-1, Weibull times, about 30% censored) at several (n, p), and real sets shipped
with scikit-survival (no download). Each run splits the rows 70/30; the table gives the
support F1 (synthetic only), the number of features kept, the test concordance index
(Harrell's) and the fit time as a ratio to abess's on the same run (medians), over seeds.

Every method is tuned as its documentation does:

- ``L0 Cox (ebic)``: :class:`~sklearn_l0.L0CoxRegressor` with its defaults (extended BIC);
- ``L0 Cox (CV)``: :class:`~sklearn_l0.L0CoxRegressorCV` with its defaults (5 folds, 20
  prices, folds scored by the cross-validated partial likelihood);
- ``abess``: ``abess.linear.CoxPHSurvivalAnalysis`` with its defaults (support sizes chosen
  by its extended BIC);
- ``Coxnet (CV)``: scikit-survival's ``CoxnetSurvivalAnalysis(l1_ratio=1)``, the alpha of
  its path (30 values) chosen by 5-fold ``GridSearchCV`` on the concordance index, as in
  scikit-survival's user guide;
- ``skglm L1 (CV)``: ``skglm.CoxEstimator(l1_ratio=1, method="breslow")``, alpha on a grid
  of 15 from ``alpha_max`` down to ``alpha_max / 100`` chosen by 5-fold CV on the held-out
  concordance index;
- ``lifelines (CV)``: ``lifelines.CoxPHFitter(penalizer, l1_ratio=1)``, penalizer of 5
  values chosen by 3-fold CV on the concordance index; its L1 penalty is smoothed, so its
  coefficients are thresholded at 1e-3 (in standardized units) for the support; a time
  budget per fit (a timeout is reported as such).

Every library runs on one thread. Run: ``python benchmarks/bench_survival.py`` (``--quick``
for a smoke run, ``--seeds``, ``--settings``, ``--real``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import call_with_budget, environment, limit_threads, markdown_table  # noqa: E402

from sklearn_l0 import L0CoxRegressor, L0CoxRegressorCV  # noqa: E402
from sklearn_l0.datasets import _features as toeplitz_features  # noqa: E402
from sklearn_l0.datasets import support_f1  # noqa: E402
from sklearn_l0.metrics import concordance_index  # noqa: E402

SETTINGS = [(200, 100), (500, 1000), (1000, 2000)]  # (n, p)
LIFELINES_BUDGET = 120.0  # seconds for lifelines' whole tuned fit (16 fits)


def synthetic(seed: int, n: int, p: int, rho: float = 0.5, k: int = 10):
    """Toeplitz ``rho`` features, ``k`` log hazard ratios, Weibull times, ~30% censored."""
    rng = np.random.default_rng(seed)
    X = toeplitz_features(rng, n, p, rho)
    coef = np.zeros(p)
    true = rng.choice(p, k, replace=False)
    coef[true] = rng.choice([-1, 1], k) * rng.uniform(0.5, 1.0, k)
    shape = 1.5  # Weibull baseline hazard: S(t) = exp(-t^shape exp(eta))
    time_ = (rng.exponential(size=n) * np.exp(-X @ coef)) ** (1 / shape)
    censor = rng.uniform(0, np.quantile(time_, 0.9) * 2.2, n)  # about 30% censored
    return X, np.column_stack([np.minimum(time_, censor), time_ <= censor]), coef != 0


def real_sets():
    """Real sets shipped with scikit-survival: X (dummies for categoricals), (time, event)."""
    from sksurv import datasets

    sets = {}
    for name, loader in [
        ("whas500", datasets.load_whas500),
        ("gbsg2", datasets.load_gbsg2),
        ("breast_cancer", datasets.load_breast_cancer),
        ("veterans", datasets.load_veterans_lung_cancer),
    ]:
        X, y = loader()
        X = pd.get_dummies(X, drop_first=True).astype(np.float64)
        event_field, time_field = y.dtype.names
        sets[name] = (X.to_numpy(), np.column_stack([y[time_field], y[event_field]]))
    return sets


def cv_concordance(make, alphas, X, y, folds: int = 5, seed: int = 0) -> float:
    """The alpha of ``alphas`` whose models ``make(alpha)`` order held-out rows best."""
    scores = np.zeros(len(alphas))
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(X):
        for i, alpha in enumerate(alphas):
            risk = make(alpha).fit(X[train], y[train]).predict(X[test])
            try:
                scores[i] += concordance_index(y[test, 0], y[test, 1], risk)
            except ValueError:  # a fold without a comparable pair
                pass
    return alphas[int(np.argmax(scores))]


class _Fitted:
    """A peer's fitted model as the table reads it: ``coef_`` and ``predict``."""

    def __init__(self, coef, predict) -> None:
        self.coef_, self.predict = np.asarray(coef), predict


class _Lifelines:
    """lifelines' penalized Cox model with fit(X, y) / predict(X) / coef_."""

    def __init__(self, penalizer: float) -> None:
        self.penalizer = penalizer

    def fit(self, X, y):
        from lifelines import CoxPHFitter

        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        frame["T"], frame["E"] = y[:, 0], y[:, 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CoxPHFitter(penalizer=self.penalizer, l1_ratio=1.0).fit(frame, "T", "E")
        self.coef_ = model.params_.to_numpy()
        return self

    def predict(self, X):
        return X @ self.coef_


def fit_lifelines(X, y):
    penalizer = cv_concordance(_Lifelines, [0.3, 0.1, 0.03, 0.01, 0.003], X, y, folds=3)
    model = _Lifelines(penalizer).fit(X, y)
    model.coef_ = np.where(np.abs(model.coef_) > 1e-3, model.coef_, 0.0)
    return model


def fit_coxnet(X, y):
    from sklearn.model_selection import GridSearchCV
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.util import Surv

    ys = Surv.from_arrays(y[:, 1].astype(bool), y[:, 0])
    ratio = 0.01 if X.shape[1] > X.shape[0] else 1e-4
    path = CoxnetSurvivalAnalysis(l1_ratio=1.0, n_alphas=30, alpha_min_ratio=ratio).fit(X, ys)
    search = GridSearchCV(
        CoxnetSurvivalAnalysis(l1_ratio=1.0),
        {"alphas": [[a] for a in path.alphas_]},
        cv=KFold(5, shuffle=True, random_state=0),
        error_score=0.5,
    ).fit(X, ys)
    model = search.best_estimator_
    return _Fitted(model.coef_[:, 0], model.predict)


def fit_skglm(X, y):
    from skglm import CoxEstimator

    def make(alpha):
        return CoxEstimator(alpha=alpha, l1_ratio=1.0, method="breslow")

    events = y[:, 1] > 0
    order = np.argsort(y[:, 0])
    # the null model's gradient: the largest alpha that keeps a feature
    at_risk = len(y) - np.searchsorted(y[order, 0], y[:, 0], side="left")
    martingale = events - np.array(
        [np.sum(events[y[:, 0] <= t] / at_risk[y[:, 0] <= t]) for t in y[:, 0]]
    )
    top = np.max(np.abs(X.T @ martingale)) / len(y)
    alpha = cv_concordance(make, top * np.logspace(0, -2, 15)[1:], X, y)
    return make(alpha).fit(X, y)


def fit_abess(X, y):
    from abess.linear import CoxPHSurvivalAnalysis

    return CoxPHSurvivalAnalysis().fit(X, y)


def methods(seed: int):
    return {
        "L0 Cox (ebic)": lambda X, y: L0CoxRegressor(random_state=seed, n_threads=1).fit(X, y),
        "L0 Cox (CV)": lambda X, y: L0CoxRegressorCV(random_state=seed, n_threads=1).fit(X, y),
        "abess": fit_abess,
        "Coxnet (CV)": fit_coxnet,
        "skglm L1 (CV)": fit_skglm,
        "lifelines (CV)": fit_lifelines,
    }


def run(dataset: str, X, y, true, seed: int, skip: set) -> list[dict]:
    train, test = train_test_split(np.arange(len(X)), test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    rows = []
    for method, fit in methods(seed).items():
        if method in skip:
            continue
        start = time.perf_counter()
        try:
            if method.startswith("lifelines"):
                model = call_with_budget(fit, (X_train, y[train]), budget=LIFELINES_BUDGET)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = fit(X_train, y[train])
        except TimeoutError as err:
            rows.append(dict(dataset=dataset, seed=seed, method=method, status=f"timeout {err}"))
            continue
        except Exception as err:  # a peer that fails on this split (e.g. lifelines' Newton)
            if method.startswith("L0"):
                raise
            status = f"error {type(err).__name__}"
            rows.append(dict(dataset=dataset, seed=seed, method=method, status=status))
            continue
        seconds = time.perf_counter() - start
        support = np.asarray(model.coef_).reshape(-1) != 0
        row = dict(
            dataset=dataset,
            seed=seed,
            method=method,
            status="ok",
            kept=int(support.sum()),
            cindex=concordance_index(y[test, 0], y[test, 1], model.predict(X_test)),
            seconds=seconds,
        )
        if true is not None:
            row["f1"] = support_f1(support, true)
        rows.append(row)
    return rows


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    ok = frame[frame["status"] == "ok"].copy()
    abess = ok[ok["method"] == "abess"].set_index(["dataset", "seed"])["seconds"]
    ok["x_abess"] = (
        ok["seconds"].to_numpy()
        / abess.reindex(pd.MultiIndex.from_frame(ok[["dataset", "seed"]])).to_numpy()
    )
    aggregations = dict(
        runs=("seed", "nunique"),
        kept=("kept", "mean"),
        cindex=("cindex", "mean"),
        cindex_min=("cindex", "min"),
        x_abess=("x_abess", "median"),
    )
    if "f1" in ok:
        aggregations.update(f1=("f1", "mean"), f1_min=("f1", "min"))
    table = ok.groupby(["dataset", "method"], sort=False).agg(**aggregations).reset_index()
    failed = frame[frame["status"] != "ok"].groupby(["dataset", "method"]).size()
    table["timeouts_or_errors"] = [
        failed.get((d, m), 0) for d, m in zip(table.dataset, table.method, strict=True)
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--settings", default="all", help="e.g. 200x100,500x1000, or none")
    parser.add_argument("--real", default="all", help="comma-separated names, all, or none")
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out")
    parser.add_argument("--quick", action="store_true", help="1 seed, the smallest settings")
    parser.add_argument("--out", default=None, help="write every run as CSV here")
    args = parser.parse_args()
    settings = SETTINGS
    if args.settings == "none":
        settings = []
    elif args.settings != "all":
        settings = [tuple(map(int, s.split("x"))) for s in args.settings.split(",")]
    if args.quick:
        args.seeds, settings = 1, settings[:1]
    skip = set(filter(None, args.skip.split(",")))
    print(environment(limit_threads(1)))
    runs = []

    def save():
        if args.out:
            pd.DataFrame(runs).to_csv(args.out, index=False)

    for n, p in settings:
        for seed in range(args.seeds):
            X, y, true = synthetic(seed, n, p)
            runs += run(f"synthetic n={n} p={p}", X, y, true, seed, skip)
            print(f"synthetic n={n} p={p} seed {seed} done", flush=True)
            save()
    if args.real != "none":
        sets = real_sets()
        names = list(sets) if args.real == "all" else args.real.split(",")
        for name in names:
            X, y = sets[name]
            for seed in range(args.seeds):
                runs += run(f"{name} (n={len(X)}, p={X.shape[1]})", X, y, None, seed, skip)
                print(f"{name} seed {seed} done", flush=True)
                save()
    frame = pd.DataFrame(runs)
    save()
    print()
    print(markdown_table(summarize(frame), {"kept": 1, "x_abess": 1}))


if __name__ == "__main__":
    main()
