"""The refit: a gated linear layer's weights re-estimated on its selected inputs.

Once the gates have settled, the kept coefficients are shrunk a little by
the gate noise; the refit removes that bias with the gates frozen at 0/1,
in float64: the exact ridge solution for the squared loss, full-batch
L-BFGS for the log losses.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Dataset, Standardization, to_device
from .losses import LossFn, binary_log_loss, multinomial_log_loss, squared_loss
from .nn.layers import L0Linear


def refit_on_support(layer: L0Linear, loss_fn: LossFn, X, x_std: Standardization, y, w):
    """:func:`refit` in float64 on the selected columns of the caller's X.

    ``y`` is the target tensor the layer was trained on (rows of X); ``w`` the
    float64 sample weights of those rows (mean 1), not their float32 copy: a
    weight such as 27/15 rounded to float32 moves the refit's minimiser by
    about 1e-8.
    """
    cols = np.flatnonzero(layer.gate.deterministic().cpu().numpy() > 0)
    x_cols = to_device(X[:, cols], x_std.columns(cols), y.device, torch.float64)
    w = torch.as_tensor(w, dtype=torch.float64, device=y.device)
    return refit(layer, loss_fn, Dataset(x_cols, y, w))


def refit(
    layer: nn.Module,
    loss_fn: LossFn,
    data: Dataset,
    *,
    max_iter: int = 2000,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Re-estimate a gated linear layer's weights on its selected inputs only.

    ``data.X`` holds only the columns whose test-time gate is open (in
    float64). The gates are frozen at their 0/1 state, so the L0 penalty is a
    constant and this is the plain fit on the support: ridge (or least
    squares) for the squared loss, logistic regression for the log losses,
    with the layer's ``l2`` as the ridge strength. Full-batch L-BFGS in
    float64 from the trained weights, finished by Newton steps where the refit
    is small (:func:`_newton_polish`); for the squared loss, the exact solution
    of the normal equations. The result depends on the training only through
    the selected support. (Of the equivalent multinomial solutions, the one
    whose weights and biases sum to zero over the classes is kept.)

    Returns the float64 weight of shape ``(in_features, out_features)`` (zero
    rows for closed gates) and bias; the layer's own float32 parameters and
    frozen gates are updated too.
    """
    mask = layer.gate.deterministic() > 0
    idx = mask.nonzero().flatten()
    dense = torch.float64
    offset = None if layer.input_offset is None else layer.input_offset[idx].to(dense)
    compact = L0Linear(
        len(idx),
        layer.out_features,
        bias=layer.bias is not None,
        l2=layer.l2,
        gated=False,
        input_offset=offset,
    ).to(device=idx.device, dtype=dense)
    with torch.no_grad():
        compact.weight.copy_(layer.weight[idx])
        if layer.bias is not None:
            compact.bias.copy_(layer.bias)
    X = data.X
    y = data.y.to(dense) if data.y.is_floating_point() else data.y
    w = data.w.to(dense)
    if loss_fn is squared_loss:
        _ridge_solve(compact, X, y, w)
    else:
        _lbfgs(compact, loss_fn, X, y, w, max_iter)
        if loss_fn is binary_log_loss or loss_fn is multinomial_log_loss:
            _newton_polish(compact, loss_fn, X, y, w)
    weight = torch.zeros(layer.weight.shape, dtype=dense, device=idx.device)
    weight[idx] = compact.weight.detach()
    bias = None if compact.bias is None else compact.bias.detach()
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    layer.gate.freeze(layer.gate.is_open().float())
    return weight, bias


@torch.no_grad()
def _ridge_solve(layer: nn.Module, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> None:
    """Set ``layer`` to the exact minimiser of the squared loss plus its ridge penalty.

    The normal equations of ``mean_i w_i ||x_i W + b - y_i||^2 / k + l2 / 2 ||W||^2``.
    """
    X = X.to_dense() if X.is_sparse else X
    if layer.input_offset is not None:
        X = X - layer.input_offset
    n, k = X.shape[0], y.shape[1]
    if layer.bias is not None:  # center with the weights; the intercept absorbs the means
        x_mean, y_mean = (w @ X) / w.sum(), (w @ y) / w.sum()
        X, y = X - x_mean, y - y_mean
    gram = X.T @ (w[:, None] * X) * (2.0 / (n * k))
    gram.diagonal().add_(layer.l2)
    rhs = X.T @ (w[:, None] * y) * (2.0 / (n * k))
    try:
        weight = torch.linalg.solve(gram, rhs)
    except torch.linalg.LinAlgError:  # collinear columns without ridge: minimum-norm solution
        weight = torch.linalg.pinv(gram, hermitian=True) @ rhs
    layer.weight.copy_(weight)
    if layer.bias is not None:
        layer.bias.copy_(y_mean - x_mean @ weight)


def _lbfgs(layer: nn.Module, loss_fn: LossFn, X, y, w, max_iter: int) -> None:
    """Minimise ``loss_fn + layer.regularization()`` by full-batch L-BFGS from ``layer``'s state."""
    optimizer = torch.optim.LBFGS(
        list(layer.parameters()),
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=1e-12,
        tolerance_change=1e-16,
        history_size=50,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        objective = loss_fn(layer(X), y, w) + layer.regularization()
        objective.backward()
        return objective

    if layer.in_features or layer.bias is not None:
        optimizer.step(closure)


NEWTON_MAX_PARAMS = 2048
"""Most parameters (``(selected features + 1) * outputs``) of a logistic refit that
:func:`_newton_polish` finishes: it forms and factorizes their Hessian."""

NEWTON_MAX_ELEMENTS = 1 << 24
"""Most elements of the dense float64 design matrix it forms (128 MiB)."""


@torch.no_grad()
def _newton_polish(layer: nn.Module, loss_fn: LossFn, X, y, w, max_steps: int = 5) -> None:
    """Newton steps with the exact Hessian, from the L-BFGS solution of a logistic refit.

    L-BFGS stops at a relative accuracy of about 1e-7 on nearly separable data;
    from there Newton's method converges quadratically, to rounding, so that
    equivalent problems (integer weights or repeated rows) give the same
    coefficients. A step is kept only while the gradient shrinks. The
    multinomial model is over-parameterised (adding the same vector to every
    class's weights changes no probability): its weights and biases are
    centered over the classes, and a step is the minimum-norm solution. Only
    for small refits (:data:`NEWTON_MAX_PARAMS`, :data:`NEWTON_MAX_ELEMENTS`).
    """
    multinomial = loss_fn is multinomial_log_loss
    if multinomial:
        _center_classes(layer)
    n, d = X.shape
    k, has_bias = layer.out_features, layer.bias is not None
    width = d + has_bias
    if width == 0 or width * k > NEWTON_MAX_PARAMS or n * width > NEWTON_MAX_ELEMENTS:
        return
    Z = X.to_dense() if X.is_sparse else X
    if layer.input_offset is not None:
        Z = Z - layer.input_offset
    if has_bias:
        Z = torch.cat([Z, Z.new_ones(n, 1)], dim=1)
    ridge = torch.full((width, 1), layer.l2, dtype=Z.dtype, device=Z.device)
    ridge[d:] = 0.0  # not the bias
    target = F.one_hot(y, k).to(Z.dtype) if multinomial else y.reshape(n, 1)
    wn = w[:, None] / n  # the losses are means over the rows

    def gradient(theta):
        logits = Z @ theta
        p = torch.softmax(logits, dim=1) if multinomial else torch.sigmoid(logits)
        return Z.T @ (wn * (p - target)) + ridge * theta, p

    theta = torch.cat([layer.weight, layer.bias[None]]) if has_bias else layer.weight.clone()
    grad, p = gradient(theta)
    for _ in range(max_steps):
        size = grad.abs().max()
        if not size > 0:
            break
        step = _solve(_log_loss_hessian(Z, p, wn, ridge), grad.reshape(-1)).reshape(width, k)
        new_theta = theta - step
        new_grad, new_p = gradient(new_theta)
        if not (torch.isfinite(new_grad).all() and new_grad.abs().max() < size):
            break
        theta, grad, p = new_theta, new_grad, new_p
    layer.weight.copy_(theta[:d])
    if has_bias:
        layer.bias.copy_(theta[d])
    if multinomial:
        _center_classes(layer)


def _log_loss_hessian(Z, p, wn, ridge) -> torch.Tensor:
    """Hessian of the mean log loss (probabilities ``p``) plus ridge, in the weights ``Z``-side.

    Block ``(a, b)`` is ``Z^T diag(w p_a (1[a = b] - p_b)) Z``; binary: ``p (1 - p)``.
    """
    width, k = Z.shape[1], p.shape[1]
    hess = Z.new_zeros(width, k, width, k)
    for a in range(k):
        for b in range(a, k):
            c = p[:, a] * (float(a == b) - p[:, b])
            block = Z.T @ ((wn[:, 0] * c)[:, None] * Z)
            hess[:, a, :, b] = block
            hess[:, b, :, a] = block
    hess = hess.reshape(width * k, width * k)
    hess.diagonal().add_(ridge.expand(width, k).reshape(-1))
    return hess


def _solve(hess: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``hess^-1 grad`` by Cholesky; the minimum-norm solution where ``hess`` is singular."""
    chol, info = torch.linalg.cholesky_ex(hess)
    if int(info) == 0:
        return torch.cholesky_solve(grad[:, None], chol)[:, 0]
    return torch.linalg.pinv(hess, hermitian=True) @ grad


@torch.no_grad()
def _center_classes(layer: nn.Module) -> None:
    """Center a multinomial layer's weights and biases over the classes (same probabilities)."""
    layer.weight.sub_(layer.weight.mean(dim=1, keepdim=True))
    if layer.bias is not None:
        layer.bias.sub_(layer.bias.mean())
