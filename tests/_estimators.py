"""The one registry of estimators for the API-wide tests.

A new estimator is added here, and every API-wide test runs on it:

- ``ESTIMATORS``: every estimator with small settings, for the reliability tests
  (``test_bad_input.py``, ``test_properties.py``, ``test_faults.py``); ``make_data``
  gives a tiny problem each can fit;
- ``CHECKED``: every public estimator with its defaults (CPU), for scikit-learn's own
  checks (``test_common.py``);
- ``ECOSYSTEM``: the four plain estimators by name, with their task, for the tests of
  logging, pickling and joblib (``test_ecosystem.py``);
- ``INCREMENTAL``: the estimators that have ``partial_fit`` (``test_partial_fit.py``).

All use ``device="cpu"`` and, where results are compared, a fixed ``random_state``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_classifier

from sklearn_l0 import (
    L0Classifier,
    L0ClassifierCV,
    L0CoxRegressor,
    L0CoxRegressorCV,
    L0MLPClassifier,
    L0MLPClassifierCV,
    L0MLPRegressor,
    L0MLPRegressorCV,
    L0PoissonRegressor,
    L0PoissonRegressorCV,
    L0Regressor,
    L0RegressorCV,
    L0Selector,
    StabilitySelection,
)

_SMALL = dict(max_iter=10, n_iter_no_change=5, device="cpu", random_state=0)
_SMALL_MLP = dict(hidden_layer_sizes=(4,), **_SMALL)

ESTIMATORS = [
    L0Regressor(**_SMALL),
    L0Classifier(**_SMALL),
    L0MLPRegressor(**_SMALL_MLP),
    L0MLPClassifier(**_SMALL_MLP),
    L0RegressorCV(alphas=3, cv=2, **_SMALL),
    L0ClassifierCV(alphas=3, cv=2, **_SMALL),
    L0MLPRegressorCV(alphas=3, cv=2, **_SMALL_MLP),
    L0MLPClassifierCV(alphas=3, cv=2, **_SMALL_MLP),
    L0PoissonRegressor(**_SMALL),
    L0CoxRegressor(**_SMALL),
    L0PoissonRegressorCV(alphas=3, cv=2, **_SMALL),
    L0CoxRegressorCV(alphas=3, cv=2, **_SMALL),
]
"""Unfitted instances with small settings (fits of ~10 epochs on a few dozen rows)."""


class Pairs:
    """Groups of two adjacent columns, whatever the width of X (a callable ``groups``).

    A class with a fixed repr, so that test ids are the same in every pytest-xdist worker.
    """

    def __call__(self, feature_names):
        return np.arange(len(feature_names)) // 2

    def __repr__(self) -> str:
        return "pairs"


pairs = Pairs()


CHECKED = [
    L0Regressor(device="cpu"),
    L0Regressor(groups=pairs, device="cpu"),
    L0ClassifierCV(groups=pairs, alphas=4, cv=3, max_iter=300, device="cpu"),
    L0Classifier(device="cpu"),
    L0MLPRegressor(device="cpu"),
    L0MLPClassifier(device="cpu"),
    L0RegressorCV(alphas=4, cv=3, max_iter=300, device="cpu"),
    L0ClassifierCV(alphas=4, cv=3, max_iter=300, device="cpu"),
    L0Selector(L0Regressor(device="cpu")),
    L0MLPRegressorCV(alphas=3, cv=2, device="cpu"),
    L0MLPClassifierCV(alphas=3, cv=2, device="cpu"),
    StabilitySelection(L0Regressor(max_iter=300, device="cpu"), alphas=5, n_resamples=6),
    L0PoissonRegressor(alpha=0.01, device="cpu"),  # the default "ebic" has no partial_fit
    L0CoxRegressor(device="cpu"),
    L0PoissonRegressorCV(alphas=4, cv=3, device="cpu"),  # settled gates: weights = repeats
    L0CoxRegressorCV(alphas=4, cv=3, max_iter=300, device="cpu"),
]
"""Every public estimator, for ``parametrize_with_checks`` (defaults; shorter CV grids),
and two with feature groups."""

_ECOSYSTEM_MLP = dict(hidden_layer_sizes=(8,), max_iter=30, device="cpu", random_state=0)
ECOSYSTEM = {
    "L0Regressor": (L0Regressor(device="cpu", random_state=0), "regression"),
    "L0Classifier": (L0Classifier(device="cpu", random_state=0), "classification"),
    "L0MLPRegressor": (L0MLPRegressor(**_ECOSYSTEM_MLP), "regression"),
    "L0MLPClassifier": (L0MLPClassifier(**_ECOSYSTEM_MLP), "classification"),
}
"""Name -> (estimator, task). Small networks and few epochs: plumbing, not selection quality."""

INCREMENTAL = [
    L0Regressor(random_state=0, device="cpu"),
    L0Classifier(random_state=0, device="cpu"),
    L0MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=0, device="cpu"),
    L0MLPClassifier(hidden_layer_sizes=(8, 4), batch_size=16, random_state=0, device="cpu"),
]
"""The estimators with ``partial_fit``."""

LEARNING_RATE_PARAMS = ("learning_rate", "learning_rate_init")
"""Names the estimators give their (Adam) step size."""


def name(estimator) -> str:
    """A test id: the estimator's class name."""
    return type(estimator).__name__


def fresh(estimator, **params):
    """An unfitted clone of ``estimator`` with ``params`` set."""
    return clone(estimator).set_params(**params)


def known(estimator, **params) -> dict:
    """``params`` restricted to those ``estimator`` has (e.g. no ``alpha`` on a CV estimator)."""
    names = estimator.get_params()
    return {k: v for k, v in params.items() if k in names}


def learning_rate_param(estimator) -> str:
    """The name of ``estimator``'s learning-rate parameter."""
    params = estimator.get_params()
    return next(p for p in LEARNING_RATE_PARAMS if p in params)


def make_target(estimator, X, seed: int = 0) -> np.ndarray:
    """A target for ``X`` that ``estimator`` can learn: two balanced classes, a real value,
    counts (Poisson) or event times (Cox).

    Labels split the rows at the median of ``X[:, 0] + noise`` (both classes as soon as
    ``len(X) >= 2``); regression targets are ``X[:, 0] + noise``.
    """
    rng = np.random.RandomState(seed)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if isinstance(estimator, (L0PoissonRegressor, L0PoissonRegressorCV)):
        return rng.poisson(np.exp(0.5 + X[:, 0])).astype(np.float64)
    if isinstance(estimator, (L0CoxRegressor, L0CoxRegressorCV)):  # times, all observed
        return rng.exponential(np.exp(-X[:, 0]))
    noisy = X[:, 0] + 0.5 * rng.randn(n)
    if is_classifier(estimator):
        y = np.zeros(n, dtype=np.int64)
        y[np.argsort(noisy, kind="stable")[n // 2 :]] = 1
        return y
    return X[:, 0] + 0.1 * rng.randn(n)


def make_data(estimator, n_samples: int = 30, n_features: int = 4, seed: int = 0):
    """A small float64 ``(X, y)`` problem suited to ``estimator``."""
    X = np.random.RandomState(seed).randn(n_samples, n_features)
    return X, make_target(estimator, X, seed)
