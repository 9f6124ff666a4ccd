"""The local search on a trained linear support (sklearn_l0.search)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from sklearn_l0 import L0Regressor, search
from sklearn_l0.data import column_stats
from sklearn_l0.gates import LOG_ALPHA_RANGE
from sklearn_l0.nn import L0Linear
from sklearn_l0.search import polish_support
from sklearn_l0.targets import criterion_price, encode_labels, regression_target


def problem(n=120, p=10, seed=0):
    """Columns 0-4 matter, 3 and 4 weakly; columns 5-9 are noise, 5 correlated with 0."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    X[:, 5] = X[:, 0] + 0.5 * rng.randn(n)
    y = X[:, :5] @ np.array([1.0, -1.0, 0.8, 0.3, -0.25]) + 0.7 * rng.randn(n)
    w = np.ones(n)
    target = regression_target(y, w, center=True, profiled=True)
    return X, column_stats(X, w), target, w


def exact_objective(X, target, columns, price):
    """0.5 log(MSE) of least squares on standardized ``columns``, plus the price of each."""
    y = target.y
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    Z = Z[:, list(columns)]
    residual = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0] if columns else y
    return 0.5 * np.log(np.mean(residual**2)) + price * len(columns)


def best_subset(X, target, price, size=None, objective=exact_objective):
    sizes = range(X.shape[1] + 1) if size is None else [size]
    subsets = [c for k in sizes for c in itertools.combinations(range(X.shape[1]), k)]
    return list(min(subsets, key=lambda c: objective(X, target, c, price)))


def layer_open_on(columns, p, **kwargs):
    layer = L0Linear(p, 1, **kwargs)
    with torch.no_grad():
        layer.gate.log_alpha.fill_(LOG_ALPHA_RANGE[0])
        layer.gate.log_alpha[list(columns)] = LOG_ALPHA_RANGE[1]
    return layer


def open_gates(layer):
    return np.flatnonzero(layer.gate.is_open().numpy()).tolist()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("start", [[], [0, 5, 8], list(range(10))])
def test_moves_reach_the_best_subset_under_the_criterion(start, sparse):
    X, x_std, target, w = problem()
    price = criterion_price("bic", *X.shape)
    layer = layer_open_on(start, X.shape[1], l0=price)
    Xin = sp.csr_matrix(X) if sparse else X
    moves = polish_support(layer, Xin, x_std, target, w, keep_count=False)
    best = best_subset(X, target, price)
    assert open_gates(layer) == best
    assert moves == len(set(start) ^ set(best))
    entering = sorted(set(best) - set(start))
    if entering:  # opened at the top of log_alpha's range
        assert float(layer.gate.log_alpha[entering[0]].detach()) == pytest.approx(
            LOG_ALPHA_RANGE[1]
        )


@pytest.mark.parametrize("size", [1, 3, 6])
def test_a_count_is_kept_by_swaps(size):
    X, x_std, target, w = problem()
    layer = layer_open_on(range(10 - size, 10), X.shape[1])  # the worst start: noise columns
    polish_support(layer, X, x_std, target, w, keep_count=True)
    assert open_gates(layer) == best_subset(X, target, 0.0, size)


def test_fixed_gates_and_groups_are_respected():
    X, x_std, target, w = problem()
    groups = torch.as_tensor(np.repeat(np.arange(5), 2))  # (0, 1), (2, 3), ..., (8, 9)
    always = torch.zeros(5, dtype=torch.bool)
    always[4] = True  # columns 8 and 9, pure noise, always kept
    price = criterion_price("bic", 120, 5)
    layer = L0Linear(10, 1, l0=price, groups=groups, always_open=always)
    with torch.no_grad():
        layer.gate.log_alpha.fill_(LOG_ALPHA_RANGE[0])
    polish_support(layer, X, x_std, target, w, keep_count=False)
    # by groups of two columns, each priced at two coefficients, with (8, 9) always in
    pairs = [c for k in range(5) for c in itertools.combinations(range(4), k)]
    columns = lambda c: [j for g in (*c, 4) for j in (2 * g, 2 * g + 1)]  # noqa: E731
    best = min(pairs, key=lambda c: exact_objective(X, target, columns(c), price))
    assert open_gates(layer) == [*best, 4]


def logistic_objective(X, target, columns, price):
    """Mean log-loss of the (nearly) unpenalized logistic fit on ``columns``, plus prices."""
    y = target.y
    if not columns:
        p = y.mean()
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    Z = ((X - X.mean(axis=0)) / X.std(axis=0))[:, list(columns)]
    model = LogisticRegression(C=1e8, tol=1e-10, max_iter=10_000).fit(Z, y)
    return log_loss(y, model.predict_proba(Z)) + price * len(columns)


@pytest.mark.parametrize("start", [[], [0, 5, 7]])
def test_binary_logistic_moves_reach_the_best_subset(start):
    rng = np.random.RandomState(1)
    X = rng.randn(300, 8)
    logit = X[:, :4] @ np.array([1.5, -1.2, 0.8, 0.3])
    labels = (rng.rand(300) < 1 / (1 + np.exp(-logit))).astype(int)
    target = encode_labels(labels, "test")
    w = np.ones(300)
    price = criterion_price("bic", *X.shape)
    layer = layer_open_on(start, X.shape[1], l0=price)
    polish_support(layer, X, column_stats(X, w), target, w, keep_count=False)
    assert open_gates(layer) == best_subset(X, target, price, objective=logistic_objective)


def test_criterion_fits_recover_a_correlated_support():
    """Toeplitz-correlated features (rho 0.7), n = 150 < p = 300: the EBIC fit keeps
    exactly the 5 true features, and so does n_features_to_select=5."""
    rng = np.random.RandomState(0)
    n, p = 150, 300
    cov = 0.7 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.randn(n, p) @ np.linalg.cholesky(cov).T
    true = np.array([10, 50, 51, 120, 200])
    y = X[:, true] @ np.array([1.0, -1.0, 1.0, 0.8, -0.8]) + 0.8 * rng.randn(n)
    for params in (dict(alpha="ebic"), dict(n_features_to_select=5)):
        est = L0Regressor(random_state=0, device="cpu", **params).fit(X, y)
        np.testing.assert_array_equal(np.flatnonzero(est.support_), true, err_msg=str(params))


def test_without_adds_the_support_never_grows():
    """AIC and BIC do not price the search among candidates: no add moves for them."""
    X, x_std, target, w = problem()
    price = criterion_price("bic", *X.shape)
    layer = layer_open_on([], X.shape[1], l0=price)
    assert polish_support(layer, X, x_std, target, w, keep_count=False, adds=False) == 0
    layer = layer_open_on([0, 5, 8, 9], X.shape[1], l0=price)
    polish_support(layer, X, x_std, target, w, keep_count=False, adds=False)
    kept = open_gates(layer)
    assert len(kept) <= 4 and {0, 1}.issubset(kept)  # 8 and 9 (noise) go, swapped or dropped
    assert not {8, 9} & set(kept)


class _TorchOnCPU(search._Ops):
    """The accelerator's path (torch float64 fits), run on the CPU."""

    def __init__(self, device):
        self.device, self.np = torch.device("cpu"), False


@pytest.mark.parametrize("task", ["regression", "logistic"])
def test_the_accelerator_path_reaches_the_same_subsets(task, monkeypatch):
    """On a GPU the fits run in torch and every column is scored from the standardized
    float32 training tensor on the device: the moves and the subset reached are the same."""
    if task == "regression":
        X, x_std, target, w = problem()
    else:
        rng = np.random.RandomState(1)
        X = rng.randn(300, 8)
        logit = X[:, :4] @ np.array([1.5, -1.2, 0.8, 0.3])
        target = encode_labels((rng.rand(300) < 1 / (1 + np.exp(-logit))).astype(int), "test")
        w = np.ones(300)
        x_std = column_stats(X, w)
    price = criterion_price("bic", *X.shape)
    standardized = torch.as_tensor((X - x_std.mean) / x_std.scale, dtype=torch.float32)
    reached = []
    for ops, on_device in ((search._Ops, None), (_TorchOnCPU, standardized)):
        monkeypatch.setattr(search, "_Ops", ops)
        layer = layer_open_on([0, 5, 7], X.shape[1], l0=price)
        moves = polish_support(layer, X, x_std, target, w, keep_count=False, standardized=on_device)
        problem_ = search._setup(layer, X, x_std, target, w, on_device)[0]
        assert isinstance(problem_.w, torch.Tensor) == (ops is _TorchOnCPU)
        reached.append((moves, open_gates(layer)))
    assert reached[0] == reached[1]


def test_a_support_far_too_large_shrinks_in_a_few_moves(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 60)
    y = X[:, :3] @ np.array([1.0, -1.0, 0.8]) + 0.5 * rng.randn(200)
    w = np.ones(200)
    target = regression_target(y, w, center=True, profiled=True)
    layer = layer_open_on(range(60), 60, l0=criterion_price("ebic", 200, 60))
    calls = []
    best_move = search._best_move
    monkeypatch.setattr(search, "_best_move", lambda *a: calls.append(1) or best_move(*a))
    polish_support(layer, X, column_stats(X, w), target, w, keep_count=False)
    assert open_gates(layer) == [0, 1, 2]
    assert len(calls) <= 6  # one drop at a time would take 57 moves
