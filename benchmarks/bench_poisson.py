"""L0 Poisson regression against scikit-learn's PoissonRegressor, skglm's L1 Poisson and abess.

Two families, each split 70/30 per seed; the table gives the support F1, the number of
features kept, the test mean Poisson deviance (lower is better) and the fit time as a ratio
to abess's on the same run (median), over seeds:

- ``synthetic``: Toeplitz 0.5 features, 10 true log-rate coefficients of +-0.2 to +-0.5,
  intercept 0 (about one count per row), n x p of 500 x 200 and 1,000 x 1,000;
- ``insurance-like``: a claim-frequency model of the kind actuaries fit (a documented
  simulation, no download): policy exposure in years (0.1-1), the claims a Poisson count
  with mean ``exposure * exp(eta)``; 6 numeric rating factors (driver age, vehicle age,
  power, density, bonus-malus, and a pure-noise one) plus three categorical ones as dummy
  columns (region: 10 levels, brand: 8, fuel: 2) and 30 noise columns; ``eta`` uses driver
  age, bonus-malus, density and two regions. Rates ``claims / exposure`` are fitted with
  the exposures as sample weights (scikit-learn's convention), and the deviance is that
  of the rates, weighted by exposure.

Methods, each tuned as its documentation does:

- ``L0 Poisson (ebic)``: :class:`~sklearn_l0.L0PoissonRegressor` with its defaults;
- ``L0 Poisson (CV)``: :class:`~sklearn_l0.L0PoissonRegressorCV` with its defaults;
- ``abess``: ``abess.linear.PoissonRegression`` with its defaults (its extended BIC);
- ``sklearn L2 (CV)``: ``PoissonRegressor``, ``alpha`` on a log grid of 10 chosen by
  5-fold ``GridSearchCV`` (its ``score``, D^2) -- it keeps every feature;
- ``skglm L1 (CV)``: ``GeneralizedLinearEstimator(Poisson(), L1(alpha))``, alpha of 12
  values below ``alpha_max`` chosen by 5-fold CV on the held-out Poisson deviance (its
  datafit takes no sample weights: the rates are fitted unweighted).

One thread each. Run: ``python benchmarks/bench_poisson.py`` (``--quick``, ``--seeds``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, limit_threads, markdown_table  # noqa: E402

from sklearn_l0 import L0PoissonRegressor, L0PoissonRegressorCV  # noqa: E402
from sklearn_l0.datasets import _features as toeplitz_features  # noqa: E402
from sklearn_l0.datasets import support_f1  # noqa: E402


def synthetic(seed: int, n: int, p: int, rho: float = 0.5, k: int = 10):
    rng = np.random.default_rng(seed)
    X = toeplitz_features(rng, n, p, rho)
    coef = np.zeros(p)
    true = rng.choice(p, k, replace=False)
    coef[true] = rng.choice([-1, 1], k) * rng.uniform(0.2, 0.5, k)
    return X, rng.poisson(np.exp(X @ coef)).astype(np.float64), np.ones(n), coef != 0


def insurance(seed: int, n: int = 5000):
    """Claim counts over exposures; returns X, rates, exposures and the true columns."""
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n, 6))  # age, vehicle age, power, density, bonus, noise
    region = rng.integers(0, 10, n)
    brand = rng.integers(0, 8, n)
    fuel = rng.integers(0, 2, n)
    dummies = [np.eye(10)[region][:, 1:], np.eye(8)[brand][:, 1:], np.eye(2)[fuel][:, 1:]]
    noise = rng.standard_normal((n, 30))
    X = np.hstack([numeric, *dummies, noise])
    eta = -2.0 - 0.3 * numeric[:, 0] + 0.4 * numeric[:, 4] + 0.2 * numeric[:, 3]
    eta += 0.5 * (region == 3) - 0.4 * (region == 7)
    exposure = rng.uniform(0.1, 1.0, n)
    claims = rng.poisson(exposure * np.exp(eta))
    true = np.zeros(X.shape[1], dtype=bool)
    true[[0, 3, 4, 6 + 2, 6 + 6]] = True  # region 3 and 7 are dummy columns 2 and 6
    return X, claims / exposure, exposure, true


def fit_abess(X, y, w):
    from abess.linear import PoissonRegression

    return PoissonRegression().fit(X, y, sample_weight=w)


def fit_sklearn(X, y, w):
    grid = {"alpha": np.logspace(-4, 0, 10)}
    search = GridSearchCV(PoissonRegressor(max_iter=1000), grid, cv=KFold(5, shuffle=True))
    return search.fit(X, y, sample_weight=w).best_estimator_


def fit_skglm(X, y, w):
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Poisson
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    # skglm's Poisson datafit takes no sample weights: on the insurance-like family it fits
    # the rates unweighted (the CV's held-out deviance is weighted, as every method's)
    def make(alpha):
        return GeneralizedLinearEstimator(Poisson(), L1(alpha), ProxNewton(fit_intercept=True))

    top = np.max(np.abs(X.T @ (y - y.mean()))) / len(y)
    alphas = top * np.logspace(0, -2, 13)[1:]
    scores = np.zeros(len(alphas))
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        for i, alpha in enumerate(alphas):
            model = make(alpha).fit(X[train], y[train])
            mu = np.exp(X[test] @ model.coef_ + model.intercept_)
            scores[i] -= mean_poisson_deviance(y[test], mu, sample_weight=w[test])
    model = make(alphas[int(np.argmax(scores))]).fit(X, y)
    model.predict = lambda Z, m=model: np.exp(Z @ m.coef_ + m.intercept_)
    return model


def methods(seed: int):
    return {
        "L0 Poisson (ebic)": lambda X, y, w: L0PoissonRegressor(random_state=seed, n_threads=1).fit(
            X, y, sample_weight=w
        ),
        "L0 Poisson (CV)": lambda X, y, w: L0PoissonRegressorCV(random_state=seed, n_threads=1).fit(
            X, y, sample_weight=w
        ),
        "abess": fit_abess,
        "sklearn L2 (CV)": fit_sklearn,
        "skglm L1 (CV)": fit_skglm,
    }


def run(dataset, X, y, w, true, seed) -> list[dict]:
    train, test = train_test_split(np.arange(len(X)), test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    rows = []
    for method, fit in methods(seed).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fit(X_train, y[train], w[train])
        seconds = time.perf_counter() - start
        support = np.asarray(model.coef_).reshape(-1) != 0
        mu = np.clip(model.predict(X_test), 1e-12, None)
        rows.append(
            dict(
                dataset=dataset,
                seed=seed,
                method=method,
                kept=int(support.sum()),
                f1=support_f1(support, true),
                deviance=mean_poisson_deviance(y[test], mu, sample_weight=w[test]),
                seconds=seconds,
            )
        )
    return rows


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    abess = frame[frame["method"] == "abess"].set_index(["dataset", "seed"])["seconds"]
    index = pd.MultiIndex.from_frame(frame[["dataset", "seed"]])
    frame = frame.assign(x_abess=frame["seconds"].to_numpy() / abess.reindex(index).to_numpy())
    return (
        frame.groupby(["dataset", "method"], sort=False)
        .agg(
            runs=("seed", "nunique"),
            kept=("kept", "mean"),
            f1=("f1", "mean"),
            f1_min=("f1", "min"),
            deviance=("deviance", "mean"),
            x_abess=("x_abess", "median"),
        )
        .reset_index()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 seed, the small setting")
    parser.add_argument("--out", default=None, help="write every run as CSV here")
    args = parser.parse_args()
    settings = [(500, 200)] if args.quick else [(500, 200), (1000, 1000)]
    seeds = 1 if args.quick else args.seeds
    print(environment(limit_threads(1)))
    runs = []
    for seed in range(seeds):
        for n, p in settings:
            X, y, w, true = synthetic(seed, n, p)
            runs += run(f"synthetic n={n} p={p}", X, y, w, true, seed)
        X, y, w, true = insurance(seed, 2000 if args.quick else 5000)
        runs += run(f"insurance-like n={len(X)} p={X.shape[1]}", X, y, w, true, seed)
        print(f"seed {seed} done", flush=True)
        if args.out:
            pd.DataFrame(runs).to_csv(args.out, index=False)
    print()
    print(markdown_table(summarize(pd.DataFrame(runs)), {"kept": 1, "x_abess": 1}))


if __name__ == "__main__":
    main()
