"""Losses and validation scores on torch tensors.

Every function takes ``(output, target, weight)``. Losses return the weighted
mean over the rows (weights are normalised to mean 1 over the training set
beforehand); with a grid of models (``output`` of shape ``(n, *batch, k)``)
they return one value per model. Scores (higher is better) serve early
stopping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
ScoreFn = LossFn  # (output, target, weight) -> scalar score, higher is better


def squared_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error, averaged over outputs."""
    return (w * (out - y).square().mean(dim=-1)).mean(dim=0)


def profiled_gaussian_nll(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Gaussian negative log-likelihood per sample with the noise variance profiled out.

    ``0.5 * log(weighted MSE)`` per output (averaged over outputs), up to an
    additive constant: with it, ``loss + price * k`` is an information
    criterion divided by ``2 n``. The MSE is floored at 1e-12.
    """
    mse = (w.unsqueeze(-1) * (out - y).square()).mean(dim=0)
    return 0.5 * torch.log(mse.clamp_min(1e-12)).mean(dim=-1)


def binary_log_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean logistic loss (nats) of one logit per example."""
    logit = out[..., 0]
    loss = F.binary_cross_entropy_with_logits(logit, y.expand(logit.shape), reduction="none")
    return (w * loss).mean(dim=0)


def multinomial_log_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean softmax cross-entropy (nats); ``y`` holds class indices."""
    loss = F.cross_entropy(out.movedim(-1, 1), y.expand(out.shape[:-1]), reduction="none")
    return (w * loss).mean(dim=0)


def poisson_nll(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean Poisson negative log-likelihood ``exp(eta) - y * eta`` (log link).

    ``y[..., 0]`` holds the counts and ``y[..., 1]`` an offset: ``eta = out +
    offset`` is the log of the expected count. The ``log(y!)`` term, which no
    parameter moves, is left out; half the mean Poisson deviance differs from
    the result by a constant.
    """
    eta = out[..., 0] + y[..., 1]
    return (w * (torch.exp(eta) - y[..., 0] * eta)).mean(dim=0)


def cox_nll(
    out: torch.Tensor, y: torch.Tensor, w: torch.Tensor, efron: bool = False
) -> torch.Tensor:
    """Weighted negative log partial likelihood of Cox's model, divided by the number of rows.

    ``out[..., 0]`` is the log relative risk ``eta``; ``y[..., 0]`` an
    order-preserving code of the time (equal codes: tied times) and
    ``y[..., 1]`` the event indicator, the same in every model of a grid. Each
    event contributes ``w_i (eta_i - log sum_{j at risk} w_j exp(eta_j))``;
    the rows at risk at time ``t`` are those whose time is at least ``t``
    (Breslow's handling of ties). With ``efron``, Efron's: the ``d`` events
    tied at a time remove ``0, 1/d, ..., (d-1)/d`` of their weighted risk from
    the risk set in turn, and each of them is charged the mean of those ``d``
    log risks (so that, with weights, the order of tied rows does not matter).
    """
    n = out.shape[0]
    code = y.reshape(n, -1, y.shape[-1])[:, 0, 0]
    event = y.reshape(n, -1, y.shape[-1])[:, 0, 1]
    order = torch.argsort(code, descending=True, stable=True)
    eta = out[..., 0]
    w = w.expand(eta.shape)
    shape = (n,) + (1,) * (eta.dim() - 1)
    eta_s, w_s, event_s = eta[order], w[order], event[order].reshape(shape)
    # the log of each row's risk set: a running log-sum over the rows of later times
    log_risk = torch.logcumsumexp(eta_s + torch.log(w_s.clamp_min(1e-30)), dim=0)
    _, counts = torch.unique_consecutive(code[order], return_counts=True)
    tie = torch.repeat_interleave(torch.arange(len(counts), device=out.device), counts)
    ends = torch.cumsum(counts, 0) - 1
    log_risk = log_risk[ends][tie]  # every tied row sees the whole tie group at risk
    if efron:
        groups = (len(counts),) + eta.shape[1:]
        is_event = event_s > 0
        flat_event = is_event.reshape(-1).to(eta.dtype)
        d = torch.zeros(len(counts), dtype=eta.dtype, device=out.device).index_add(
            0, tie, flat_event
        )
        rank = torch.cumsum(flat_event, 0)  # each event's rank in its tie group: 0, ..., d - 1
        before = torch.cat([rank.new_zeros(1), rank[ends][:-1]])
        share = ((rank - 1 - before[tie]) / d[tie].clamp_min(1)).reshape(shape)
        top = eta_s.detach().amax(dim=0, keepdim=True)
        tied = torch.zeros(groups, dtype=eta.dtype, device=out.device)
        tied = tied.index_add(0, tie, event_s * w_s * torch.exp(eta_s - top))
        removed = (share * tied[tie] * torch.exp(top - log_risk)).clamp_max(1 - 1e-7)
        terms = torch.where(is_event, log_risk + torch.log1p(-removed), 0.0)
        mean = torch.zeros(groups, dtype=eta.dtype, device=out.device).index_add(0, tie, terms)
        log_risk = mean[tie] / d[tie].clamp_min(1).reshape(shape)
    return -(w_s * event_s * (eta_s - log_risk)).sum(dim=0) / n


def cox_nll_efron(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """:func:`cox_nll` with Efron's handling of tied times."""
    return cox_nll(out, y, w, efron=True)


def r2_score(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted R^2 averaged over outputs (``y`` is standardized: variance about 1)."""
    wn = w / w.sum()
    resid = (wn[:, None] * (out - y).square()).sum(dim=0)
    mean = (wn[:, None] * y).sum(dim=0)
    total = (wn[:, None] * (y - mean).square()).sum(dim=0).clamp_min(1e-12)
    return (1.0 - resid / total).mean()


@dataclass(frozen=True)
class NegativeLoss:
    """The score ``-loss_fn`` (higher is better), for early stopping on any loss.

    A dataclass, not a closure: it pickles, and copies compare equal.
    """

    loss_fn: LossFn

    def __call__(self, out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return -self.loss_fn(out, y, w)


def accuracy(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted accuracy of logits (one logit: binary; several: multinomial)."""
    pred = (out[:, 0] > 0).to(y.dtype) if out.shape[1] == 1 else out.argmax(dim=1)
    return (w * (pred == y)).sum() / w.sum()
