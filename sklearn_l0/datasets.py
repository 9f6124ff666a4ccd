"""Synthetic sparse problems with a known support, for tests, examples and benchmarks."""

from __future__ import annotations

import numpy as np
from scipy.linalg import toeplitz
from sklearn.utils import check_random_state


def _features(rng, n_samples: int, n_features: int, rho: float) -> np.ndarray:
    """Gaussian rows with Toeplitz correlation ``corr(x_i, x_j) = rho**|i - j|``."""
    X = rng.standard_normal((n_samples, n_features))
    if rho:
        X = X @ np.linalg.cholesky(toeplitz(rho ** np.arange(n_features))).T
    return X


def make_sparse_regression(
    n_samples: int = 500,
    n_features: int = 1000,
    *,
    n_informative: int = 10,
    rho: float = 0.0,
    snr: float = 5.0,
    random_state=None,
):
    """Linear regression with ``n_informative`` coefficients of +1 or -1.

    ``y = X @ coef + noise`` with standard Gaussian features (Toeplitz
    correlation ``rho**|i - j|`` between features ``i`` and ``j``) and Gaussian
    noise whose variance makes ``var(X @ coef) / var(noise) == snr``.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    n_informative : int, default=10
        Number of non-zero coefficients, placed at random.
    rho : float, default=0.0
        Correlation between neighbouring features.
    snr : float, default=5.0
        Signal-to-noise ratio.
    random_state : int, RandomState instance or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
        The true coefficients; ``coef != 0`` is the true support.
    """
    rng = check_random_state(random_state)
    coef = np.zeros(n_features)
    idx = rng.choice(n_features, n_informative, replace=False)
    coef[idx] = rng.choice([-1.0, 1.0], n_informative)
    signal_var = coef @ toeplitz(rho ** np.arange(n_features)) @ coef if rho else n_informative
    X = _features(rng, n_samples, n_features, rho)
    y = X @ coef + np.sqrt(signal_var / snr) * rng.standard_normal(n_samples)
    return X, y, coef


def make_sparse_classification(
    n_samples: int = 1000,
    n_features: int = 500,
    *,
    n_informative: int = 10,
    n_classes: int = 2,
    rho: float = 0.0,
    random_state=None,
):
    """Labels drawn from a logistic (softmax) model on ``n_informative`` features.

    Each informative feature has, per class logit, a coefficient of random
    sign and magnitude uniform in [1, 2]; labels are sampled from the
    resulting probabilities (so the Bayes error is not zero).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Integer labels ``0 .. n_classes - 1``.
    coef : ndarray of shape (n_logits, n_features)
        True coefficients, one row for binary problems.
    """
    rng = check_random_state(random_state)
    n_logits = 1 if n_classes == 2 else n_classes
    idx = rng.choice(n_features, n_informative, replace=False)
    coef = np.zeros((n_logits, n_features))
    coef[:, idx] = rng.choice([-1.0, 1.0], (n_logits, n_informative)) * rng.uniform(
        1.0, 2.0, (n_logits, n_informative)
    )
    X = _features(rng, n_samples, n_features, rho)
    logits = X @ coef.T
    if n_classes == 2:
        y = (rng.uniform(size=n_samples) < 1.0 / (1.0 + np.exp(-logits[:, 0]))).astype(int)
    else:
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        y = (prob.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y, coef


def support_f1(selected, true_support) -> float:
    """F1 score of a selected-feature mask against the true support mask."""
    selected = np.asarray(selected, dtype=bool)
    true_support = np.asarray(true_support, dtype=bool)
    tp = np.sum(selected & true_support)
    return 0.0 if tp == 0 else 2.0 * tp / (selected.sum() + true_support.sum())


def make_nonlinear_classification(
    n_samples: int = 2000, n_features: int = 100, *, random_state=None
):
    """A 4-class task that no linear model solves, on 4 informative features.

    The label combines two nonlinear rules, ``y = 2 * XOR(x_a > 0, x_b > 0)
    + (x_c**2 + x_d**2 > median)``: a sign pattern of two features and a
    radius in two others. All features are independent standard Gaussians;
    the informative ones are at random positions.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels 0..3, balanced in expectation.
    support : ndarray of shape (n_features,), dtype=bool
        The 4 informative features.
    """
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    a, b, c, d = rng.choice(n_features, 4, replace=False)
    radius = X[:, c] ** 2 + X[:, d] ** 2
    # The median of a chi-square with 2 degrees of freedom: 2 log 2.
    y = 2 * ((X[:, a] > 0) ^ (X[:, b] > 0)) + (radius > 2 * np.log(2))
    support = np.zeros(n_features, dtype=bool)
    support[[a, b, c, d]] = True
    return X, y, support
