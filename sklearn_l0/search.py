"""Local search on a trained linear model's support, with the exact objective.

The gates of a trained :class:`~sklearn_l0.nn.L0Linear` give a
support. For least squares and binary logistic regression the exact
objective of a support is cheap: a ridge fit (or a few Newton steps) on its
columns. Where the training objective is an information criterion, or a
fixed count of features, :func:`polish_support` then moves one gate in, one
out, or swaps two, while that lowers the exact objective (the "swap" and
"splicing" steps of best-subset solvers such as L0Learn and abess). It
repairs what the stochastic training can leave: a useless feature whose gate
was still closing when training stopped, or one of two correlated features
closed before the other showed its worth.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from scipy.special import expit, log_expit
from sklearn.utils.extmath import safe_sparse_dot

from .data import Standardization
from .gates import LOG_ALPHA_RANGE
from .losses import cox_nll, cox_nll_efron, poisson_nll
from .nn.layers import L0Linear
from .targets import Target

MAX_CANDIDATES = 20
"""Gates outside the support tried per move: those whose columns best fit the residual."""
MAX_SWAPS = 5
"""Gates on each side of the swaps tried per move (see :func:`_best_move`)."""
MAX_MOVES = 100
"""Most moves of one search."""
MAX_POLISHED = 50
"""Largest support a fit at a given alpha polishes (a swap search costs its size cubed)."""


class _LeastSquares:
    """Ridge fits of standardized, centered y on standardized columns of X (weighted rows).

    The same normal equations as the refit (``refit._ridge_solve``), in float64;
    X is never standardized whole: only the columns of the supports tried are
    (``columns``). On the CPU the fits run in numpy (its calls on small arrays
    cost about half of torch's), on an accelerator in torch; :class:`_Ops`
    gives both one code. Every column is scored against a residual on the
    host, or on the device from ``standardized``: X already standardized there
    as a dense tensor (the training data), which then gives the columns too,
    so that a GPU fit reads X from its own memory. The loss of a fit is
    ``0.5 * mean_k log(MSE_k)``, the profiled Gaussian likelihood that
    information criteria price (and, for a fixed count, a monotone function of
    the squared error).
    """

    def __init__(self, X, x_std: Standardization, y, w, l2: float, device, standardized=None):
        self.X, self.x_std, self.l2, self.standardized = X, x_std, l2, standardized
        self.ops = _Ops(device)
        self.w = self.ops.array(w)
        self.y = self.ops.array(np.asarray(y, dtype=np.float64).reshape(len(w), -1))
        self.n, self.k = self.y.shape

    def columns(self, cols: np.ndarray):
        """The standardized columns ``cols`` of X, dense float64 (on the device)."""
        if self.standardized is not None:  # a gather in the device's memory, not the host's
            return self.standardized[:, torch.as_tensor(cols, device=self.ops.device)].double()
        part = self.X[:, cols]
        part = part.toarray() if sp.issparse(part) else np.asarray(part, dtype=np.float64)
        return self.ops.array((part - self.x_std.mean[cols]) / self.x_std.scale[cols])

    def scores(self, residual) -> np.ndarray:
        """Squared weighted correlation of every column with the residual (mean over outputs)."""
        wr = self.w[:, None] * residual
        if self.standardized is not None:
            corr = (self.standardized.T @ wr.to(self.standardized.dtype)).double().cpu().numpy()
        else:
            wr = wr.cpu().numpy() if torch.is_tensor(wr) else wr
            corr = safe_sparse_dot(self.X.T, wr, dense_output=True)
            corr = (corr - np.outer(self.x_std.mean, wr.sum(axis=0))) / self.x_std.scale[:, None]
        return np.square(corr / self.n).mean(axis=1)

    def fit(self, Z):
        """``(loss, residual)`` of the ridge fit on the columns ``Z``."""
        residual = self.y
        if Z.shape[1]:
            scale = 2.0 / (self.n * self.k)
            gram = Z.T @ (self.w[:, None] * Z) * scale + self.l2 * self.ops.eye(Z.shape[1])
            rhs = Z.T @ (self.w[:, None] * self.y) * scale
            residual = self.y - Z @ self.ops.solve(gram, rhs)
        mse = (self.w[:, None] * residual**2).mean(axis=0)
        return 0.5 * float(self.ops.log(mse.clip(min=1e-12)).mean()), residual


class _Logistic(_LeastSquares):
    """Binary logistic fits on standardized columns of X, by Newton's method.

    Minimises the refit's objective, ``mean_i w_i logloss_i + l2 / 2 ||w||^2``
    (no penalty on the intercept); the loss of a fit is its weighted mean
    log-loss, and its "residual" is ``y - p``, whose correlation with a column
    is the score test of adding it.
    """

    NEWTON_STEPS = 30

    def __init__(self, X, x_std, y, w, l2: float, device, standardized, intercept: bool):
        super().__init__(X, x_std, y, w, l2, device, standardized)
        self.ones = self.ops.array(np.ones((self.n, 1))) if intercept else None
        self.intercept = intercept

    def _design(self, Z):
        """``(A, ridge, beta, damping)``: the columns with the intercept's, the ridge on
        each coefficient (none on the intercept), zero coefficients, the Hessian's ridge."""
        ops = self.ops
        A = ops.hstack([Z, self.ones]) if self.intercept else Z
        ridge = np.full(A.shape[1], self.l2)
        if self.intercept:
            ridge[-1] = 0.0
        ridge = ops.array(ridge)
        return A, ridge, 0.0 * ridge, ops.diag(ridge) + 1e-10 * ops.eye(len(ridge))

    def fit(self, Z):
        ops = self.ops
        A, ridge, beta, damping = self._design(Z)
        y, w = self.y[:, 0], self.w
        for _ in range(self.NEWTON_STEPS if A.shape[1] else 0):
            p = ops.sigmoid(A @ beta)
            grad = A.T @ (w * (p - y)) / self.n + ridge * beta
            hess = A.T @ ((w * p * (1 - p))[:, None] * A) / self.n + damping
            step = ops.solve(hess, grad)
            beta -= step
            if float(abs(step).max()) < 1e-8:
                break
        logit = A @ beta
        loss = (w * (-y * ops.log_sigmoid(logit) - (1 - y) * ops.log_sigmoid(-logit))).mean()
        return float(loss), (y - ops.sigmoid(logit))[:, None]


class _Poisson(_Logistic):
    """Poisson fits (log link, with the target's offset) on standardized columns, by Newton.

    Minimises the refit's objective, the mean Poisson negative log-likelihood
    plus ``l2 / 2 ||w||^2`` (no penalty on the intercept); the "residual" is
    ``y - mu``, whose correlation with a column is the score test of adding it.
    """

    NEWTON_STEPS = 50

    def __init__(self, X, x_std, y, w, l2: float, device, standardized, intercept: bool):
        y = np.asarray(y, dtype=np.float64)
        super().__init__(X, x_std, y[:, 0], w, l2, device, standardized, intercept)
        self.offset = self.ops.array(y[:, 1])

    def fit(self, Z):
        ops = self.ops
        A, ridge, beta, damping = self._design(Z)
        y, w = self.y[:, 0], self.w

        def objective(beta):
            eta = A @ beta + self.offset
            return float((w * (ops.exp(eta) - y * eta)).mean() + 0.5 * (ridge * beta**2).sum())

        value = objective(beta)
        for _ in range(self.NEWTON_STEPS if A.shape[1] else 0):
            mu = ops.exp(A @ beta + self.offset)
            grad = A.T @ (w * (mu - y)) / self.n + ridge * beta
            hess = A.T @ ((w * mu)[:, None] * A) / self.n + damping
            step = ops.solve(hess, grad)
            for _ in range(30):  # halve the step while it does not lower the objective
                trial = objective(beta - step)
                if trial <= value:
                    break
                step = 0.5 * step
            else:
                break
            beta, value = beta - step, trial
            if float(abs(step).max()) < 1e-9:
                break
        mu = ops.exp(A @ beta + self.offset)
        loss = (w * (mu - y * ops.log(mu))).mean()
        return float(loss), (y - mu)[:, None]


class _Cox(_LeastSquares):
    """Cox fits on standardized columns by Newton's method on the partial likelihood.

    Minimises the training loss itself (:func:`~sklearn_l0.losses.cox_nll`)
    plus ``l2 / 2 ||w||^2`` (numpy on the CPU, torch elsewhere, as the other
    fits). For Breslow's ties the loss, its gradient and its Hessian come in
    closed form from running sums over the rows sorted by time once
    (:meth:`_breslow`); for Efron's the loss and its gradient come from
    automatic differentiation of the training loss, the step from Breslow's
    Hessian, halved until the objective falls. The "residual" is the
    martingale residual (minus the gradient of the loss in each row's risk
    score, over its weight): its correlation with a column is the score test
    of adding it. Rows of zero weight (another fold's) are left out.
    """

    NEWTON_STEPS = 50

    def __init__(self, X, x_std, y, w, l2: float, device, standardized, loss_fn):
        super().__init__(X, x_std, np.zeros(len(w)), w, l2, device, standardized)
        y, w = np.asarray(y, dtype=np.float64), np.asarray(w, dtype=np.float64)
        rows = np.flatnonzero(w > 0)
        self.order = rows[np.argsort(-y[rows, 0], kind="stable")]
        code = y[self.order, 0]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        counts = np.diff(np.r_[starts, len(code)])
        self.tied = len(starts) < len(code)  # without ties, no gathers to tie groups
        self.tie = np.repeat(np.arange(len(starts)), counts)
        self.ends, self.starts = starts + counts - 1, starts
        self.w_sorted = self.ops.array(w[self.order])
        self.a = self.ops.array(w[self.order] * y[self.order, 1] / self.n)  # event weight / n
        self.y_sorted = torch.as_tensor(y[self.order], device=device)
        self.loss_fn = loss_fn
        self.efron = loss_fn is cox_nll_efron

    def _at_tie_end(self, running):
        """Running sums read at the end of each row's tie group (the whole group is at risk)."""
        return running[self.ends][self.tie] if self.tied else running

    def _breslow(self, A, beta):
        """``(loss, gradient, Hessian, residual)`` of Breslow's loss; ``A``'s rows sorted.

        With ``S_k`` the weighted moments of the risk set and ``a_i = w_i d_i / n``:
        loss ``-sum_i a_i (eta_i - log S0_i)``, gradient ``-sum_i a_i (x_i - S1_i /
        S0_i)``, Hessian ``sum_i a_i (S2_i / S0_i - S1_i S1_i^T / S0_i^2)``; the
        ``S2`` part is summed row by row as ``A^T diag(e b) A``, ``b_j`` the sum of
        ``a_i / S0_i`` over the events whose risk set holds row ``j``.
        """
        ops, a = self.ops, self.a
        eta = A @ beta
        top = eta.max() if len(eta) else 0.0
        rel = ops.exp(eta - top)
        e = self.w_sorted * rel
        s0 = ops.floor(self._at_tie_end(ops.cumsum(e)))
        loss = -(a * (eta - top - ops.log(s0))).sum()
        s1 = self._at_tie_end(ops.cumsum(e[:, None] * A))
        q = a / s0
        b = q.sum() - ops.cumsum(q) + q  # the sum of q over the rows from each on
        if self.tied:
            b = b[self.starts][self.tie]
        grad = s1.T @ q - A.T @ a
        hess = A.T @ ((e * b)[:, None] * A) - s1.T @ ((q / s0)[:, None] * s1)
        residual = self.n * (a / ops.floor(self.w_sorted) - rel * b)
        return float(loss), grad, hess, residual

    def _efron(self, A, beta):
        """The same four for Efron's ties: autograd of the loss, Breslow's Hessian."""
        At = torch.as_tensor(A, device=self.y_sorted.device)
        bt = torch.as_tensor(beta, device=At.device).requires_grad_(True)
        eta = At @ bt
        w = torch.as_tensor(self.w_sorted, device=At.device)
        loss = self.loss_fn(eta[:, None], self.y_sorted, w) * (len(self.order) / self.n)
        grad, deta = torch.autograd.grad(loss, (bt, eta))
        residual = -self.n * deta / w.clamp_min(1e-300)
        if self.ops.np:
            grad, residual = grad.cpu().numpy(), residual.cpu().numpy()
        return float(loss.detach()), grad, self._breslow(A, beta)[2], residual

    def fit(self, Z):
        ops, l2 = self.ops, self.l2
        A = Z[self.order] if self.ops.np else Z[torch.as_tensor(self.order, device=Z.device)]
        evaluate = self._efron if self.efron else self._breslow
        beta = ops.array(np.zeros(A.shape[1]))
        loss, grad, hess, residual = evaluate(A, beta)
        value = loss
        eye = ops.eye(A.shape[1])
        for _ in range(self.NEWTON_STEPS if A.shape[1] else 0):
            step = ops.solve(hess + (l2 + 1e-10) * eye, grad + l2 * beta)
            for _ in range(30):  # halve the step while it does not lower the objective
                trial = evaluate(A, beta - step)
                if trial[0] + 0.5 * l2 * float((beta - step) @ (beta - step)) <= value:
                    break
                step = 0.5 * step
            else:
                break
            beta = beta - step
            loss, grad, hess, residual = trial
            value = loss + 0.5 * l2 * float(beta @ beta)
            if float(abs(step).max()) < 1e-9:
                break
        full = ops.array(np.zeros(self.n))
        full[self.order if ops.np else torch.as_tensor(self.order, device=full.device)] = residual
        return loss, full[:, None]


class _Ops:
    """The array functions of the fits, from numpy on the CPU, torch (float64) elsewhere."""

    def __init__(self, device: torch.device) -> None:
        self.device = None if device.type == "cpu" else device
        self.np = self.device is None

    def array(self, a):
        a = np.asarray(a, dtype=np.float64)
        return a if self.np else torch.as_tensor(a, device=self.device)

    def eye(self, k: int):
        return self.array(np.eye(k))

    def diag(self, v):
        return np.diag(v) if self.np else torch.diag(v)

    def hstack(self, arrays):
        return np.hstack(arrays) if self.np else torch.hstack(arrays)

    def log(self, a):
        return np.log(a) if self.np else torch.log(a)

    def exp(self, a):
        return np.exp(a) if self.np else torch.exp(a)

    def cumsum(self, a):
        return np.cumsum(a, axis=0) if self.np else torch.cumsum(a, dim=0)

    def floor(self, a, tiny: float = 1e-300):
        """``a`` raised to ``tiny`` where smaller (a divisor that may be zero)."""
        return np.maximum(a, tiny) if self.np else a.clamp_min(tiny)

    def sigmoid(self, a):
        return expit(a) if self.np else torch.sigmoid(a)

    def log_sigmoid(self, a):
        return log_expit(a) if self.np else F.logsigmoid(a)

    def solve(self, a, b):
        """``a^-1 b``; least squares for singular ``a`` (collinear columns without ridge)."""
        if self.np:
            try:
                return np.linalg.solve(a, b)
            except np.linalg.LinAlgError:
                return np.linalg.lstsq(a, b, rcond=None)[0]
        x, info = torch.linalg.solve_ex(a, b)
        return x if int(info) == 0 else torch.linalg.pinv(a) @ b


def searchable(target: Target) -> bool:
    """Whether :func:`polish_support` can search for this target: all but multinomial."""
    return target.classes is None or len(target.classes) == 2


def polish_support(
    layer: L0Linear,
    X,
    x_std,
    target: Target,
    w,
    *,
    keep_count: bool,
    adds: bool = True,
    standardized: torch.Tensor | None = None,
) -> int:
    """Improve the support of ``layer`` by single moves; returns the number of moves made.

    The objective is the loss of the support's fit (``0.5 * mean_k
    log(MSE_k)`` for regression, the log-loss for a binary ``target``) plus
    ``l0`` times the open gates' costs: the training objective of the
    information criteria. With ``keep_count`` only swaps are tried and the
    price is left out (a fixed number of gates: the best fit of that size).
    Without ``adds`` the support never grows (drops and swaps only): the choice
    for a criterion with no price on the search among candidates (AIC, BIC)
    when the candidates outnumber the samples, where adding the best of many
    candidates would overfit. Gates fixed open stay open. The gates are set to
    the result: log_alpha at the top of its range for gates that enter, at the
    bottom for those that leave. The fits run in float64 on the layer's
    device; ``standardized`` (X standardized by ``x_std``, dense, on that
    device) lets every column be scored there too, instead of on the host.
    """
    problem, index, cost, fixed = _setup(layer, X, x_std, target, w, standardized)
    price = 0.0 if keep_count else float(layer.l0)

    def objective(loss: float, support: np.ndarray) -> float:
        return loss + price * cost[support].sum()

    support = layer.gate.is_open().cpu().numpy().copy()
    start = support.copy()
    for _ in range(MAX_MOVES):
        move = _best_move(problem, support, index, cost, fixed, objective, keep_count, adds)
        if move is None:
            break
        support = move
    if not np.array_equal(support, start):
        _set_gates(layer.gate, support, start)
    return int(np.count_nonzero(support != start))


def swaps_keep_penalty(layer: L0Linear) -> bool:
    """Whether every gate of ``layer`` that a swap can move has the same price.

    Then a swap leaves the L0 penalty as it is, and a lower loss is a lower
    training objective at any ``alpha``.
    """
    _, cost, fixed = _gate_structure(layer)
    free = cost[~fixed]
    return free.size == 0 or bool(np.all(free == free[0]))


def resize_support(layer: L0Linear, X, x_std, target: Target, w, size: int) -> None:
    """Give ``layer`` a support of ``size`` gates: the best of that size that moves reach.

    Gates enter one at a time (the add that fits best, among the outside
    gates that best fit the residual) or leave one at a time (the drop that
    costs least), until ``size`` gates are open (or no move is left: gates
    fixed open stay); then :func:`polish_support` swaps at that size.
    """
    problem, index, cost, fixed = _setup(layer, X, x_std, target, w)
    support = layer.gate.is_open().cpu().numpy().copy()
    start = support.copy()
    while (n_open := int(support.sum())) != size:
        step = 1.0 if n_open > size else -1.0  # a huge price, or reward, per open gate

        def objective(loss: float, trial: np.ndarray, step=step) -> float:
            return loss + step * 1e6 * trial.sum()

        move = _best_move(problem, support, index, cost, fixed, objective, False, step < 0)
        if move is None:
            break
        support = move
    if not np.array_equal(support, start):
        _set_gates(layer.gate, support, start)
    polish_support(layer, X, x_std, target, w, keep_count=True)


def _setup(layer: L0Linear, X, x_std, target: Target, w, standardized=None):
    """The exact problem of ``layer``'s supports, each gate's columns, costs and fixed gates."""
    problem = (X, x_std, target.y, w, layer.l2, layer.weight.device, standardized)
    loss = target.loss_fn
    if loss is poisson_nll:
        problem = _Poisson(*problem, intercept=layer.bias is not None)
    elif loss is cox_nll or loss is cox_nll_efron:
        problem = _Cox(*problem, loss_fn=target.loss_fn)
    elif target.classes is None:
        problem = _LeastSquares(*problem)
    else:
        problem = _Logistic(*problem, intercept=layer.bias is not None)
    return (problem, *_gate_structure(layer))


def _gate_structure(layer: L0Linear):
    """``(index, cost, fixed)``: each column's gate, each gate's price, the fixed gates."""
    gate = layer.gate
    n_gates = gate.n_gates
    index = np.arange(n_gates) if gate.groups is None else gate.groups.cpu().numpy()
    cost = np.ones(n_gates) if layer.cost is None else layer.cost.double().cpu().numpy()
    fixed = np.zeros(n_gates, bool)
    if gate.always_open is not None:
        fixed = gate.always_open.cpu().numpy()
    return index, cost, fixed


def _best_move(problem, support, index, cost, fixed, objective, keep_count, adds):
    """The support one move away with the lowest objective, if lower than ``support``'s.

    Every single drop and every add of the :data:`MAX_CANDIDATES` outside gates
    that best fit the residual is evaluated; swaps replace each of the
    :data:`MAX_SWAPS` gates whose drop costs least by the :data:`MAX_SWAPS`
    outside gates that best fit the residual without it (so a correlated
    neighbour of a kept feature can take its place). Where several single
    drops each lower the objective, they are also tried together, then the
    better half of them, and so on: from a support far too large (gates that
    had not settled) one move can then remove many gates, each move still
    taken only if its exact objective is the lowest. A move costs at most
    ``|support| + log2 |support| + MAX_CANDIDATES + MAX_SWAPS**2`` fits.
    """
    inside = np.flatnonzero(support)
    outside = np.flatnonzero(~support)

    def best_fitting(residual, k):  # the k outside gates that best fit a residual
        gains = np.bincount(index, weights=problem.scores(residual), minlength=len(cost))
        order = np.argsort(-gains[outside] / np.maximum(cost[outside], 1e-12), kind="stable")
        return outside[order[:k]]

    def evaluate(trial, Z, gate_of):
        loss, residual = problem.fit(Z[:, trial[gate_of]])
        return objective(loss, trial), residual

    def moved(out=None, into=None):
        trial = support.copy()
        if out is not None:
            trial[out] = False
        if into is not None:
            trial[into] = True
        return trial

    in_cols = np.flatnonzero(support[index])
    Z_in, in_gates = problem.columns(in_cols), index[in_cols]
    current, residual = evaluate(support, Z_in, in_gates)
    candidates = best_fitting(residual, MAX_CANDIDATES)
    leaving = [g for g in inside if not fixed[g]]
    drops = [(d, *evaluate(moved(out=d), Z_in, in_gates)) for d in leaving]
    weakest = sorted(drops, key=lambda drop: drop[1])[:MAX_SWAPS]
    swaps = [(d, a) for d, _, r in weakest for a in best_fitting(r, MAX_SWAPS)]

    pool = np.union1d(inside, np.concatenate([candidates, [a for _, a in swaps]]))
    pool_cols = np.flatnonzero(np.isin(index, pool))
    Z_pool, pool_gates = problem.columns(pool_cols), index[pool_cols]
    moves = [] if keep_count else [(v, moved(out=d)) for d, v, _ in drops]
    if not keep_count:  # drops that each lower the objective, tried together (best half, ...)
        helpful = [d for d, v, _ in sorted(drops, key=lambda drop: drop[1]) if v < current - 1e-9]
        while len(helpful) > 1:
            trial = support.copy()
            trial[helpful] = False
            moves.append((evaluate(trial, Z_in, in_gates)[0], trial))
            helpful = helpful[: len(helpful) // 2]
    trials = [moved(into=a) for a in candidates] if adds and not keep_count else []
    trials += [moved(d, a) for d, a in swaps]
    moves += [(evaluate(t, Z_pool, pool_gates)[0], t) for t in trials]
    best, best_value = None, current - 1e-9
    for v, trial in moves:
        if v < best_value:
            best, best_value = trial, v
    return best


@torch.no_grad()
def _set_gates(gate, support: np.ndarray, before: np.ndarray) -> None:
    """Open the gates that enter the support and close those that leave it."""
    log_alpha = gate.log_alpha
    device = log_alpha.device
    entering = torch.as_tensor(support & ~before, device=device)
    leaving = torch.as_tensor(before & ~support, device=device)
    log_alpha[entering] = LOG_ALPHA_RANGE[1]
    log_alpha[leaving] = LOG_ALPHA_RANGE[0]
    if gate.frozen_mask is not None:
        gate.frozen_mask = torch.as_tensor(support, device=device).to(gate.frozen_mask)
