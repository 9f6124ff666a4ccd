"""Synthetic tasks of the acceptance criteria, generated from fixed seeds."""

from __future__ import annotations

import numpy as np
from scipy.linalg import toeplitz


def sparse_regression(seed, n=500, p=1000, k=10, rho=0.0, snr=5.0, n_test=1000):
    """y = X beta + noise with ``k`` coefficients of +-1, Toeplitz(rho) features.

    Returns ``X, y, X_test, y_test, beta``; the noise variance makes
    ``var(X beta) / var(noise) == snr``.
    """
    rng = np.random.RandomState(seed)
    cov_chol = None
    if rho:
        cov = toeplitz(rho ** np.arange(p))
        cov_chol = np.linalg.cholesky(cov)
    beta = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k)
    signal_var = beta @ (toeplitz(rho ** np.arange(p)) if rho else np.eye(p)) @ beta
    sigma = np.sqrt(signal_var / snr)

    def draw(m):
        X = rng.randn(m, p)
        if cov_chol is not None:
            X = X @ cov_chol.T
        return X, X @ beta + sigma * rng.randn(m)

    X, y = draw(n)
    X_test, y_test = draw(n_test)
    return X, y, X_test, y_test, beta


def sparse_logistic(seed, n=1000, p=500, k=10, n_classes=2, scale=1.0, n_test=1000):
    """Labels from a sparse linear score on ``k`` features (softmax for >2 classes).

    Returns ``X, y, X_test, y_test, support`` where ``support`` is a boolean
    mask of the informative features.
    """
    rng = np.random.RandomState(seed)
    idx = rng.choice(p, k, replace=False)
    n_out = 1 if n_classes == 2 else n_classes
    W = np.zeros((p, n_out))
    W[idx] = scale * rng.choice([-1.0, 1.0], (k, n_out)) * rng.uniform(1.0, 2.0, (k, n_out))

    def draw(m):
        X = rng.randn(m, p)
        logits = X @ W
        if n_classes == 2:
            y = (rng.uniform(size=m) < 1 / (1 + np.exp(-logits[:, 0]))).astype(int)
        else:
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            y = np.array([rng.choice(n_classes, p=pr) for pr in prob])
        return X, y

    X, y = draw(n)
    X_test, y_test = draw(n_test)
    support = np.zeros(p, dtype=bool)
    support[idx] = True
    return X, y, X_test, y_test, support


def f1(selected, truth):
    """F1 score of a selected-feature mask against the true one."""
    selected, truth = np.asarray(selected, bool), np.asarray(truth, bool)
    tp = np.sum(selected & truth)
    if tp == 0:
        return 0.0
    return 2 * tp / (selected.sum() + truth.sum())
