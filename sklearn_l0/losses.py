"""Losses and validation scores on torch tensors.

Every function takes ``(output, target, weight)``. Losses return the weighted
mean over the rows (weights are normalised to mean 1 over the training set
beforehand); with a grid of models (``output`` of shape ``(n, *batch, k)``)
they return one value per model. Scores (higher is better) serve early
stopping.
"""

from __future__ import annotations

from collections.abc import Callable

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


def r2_score(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted R^2 averaged over outputs (``y`` is standardized: variance about 1)."""
    wn = w / w.sum()
    resid = (wn[:, None] * (out - y).square()).sum(dim=0)
    mean = (wn[:, None] * y).sum(dim=0)
    total = (wn[:, None] * (y - mean).square()).sum(dim=0).clamp_min(1e-12)
    return (1.0 - resid / total).mean()


def accuracy(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted accuracy of logits (one logit: binary; several: multinomial)."""
    pred = (out[:, 0] > 0).to(y.dtype) if out.shape[1] == 1 else out.argmax(dim=1)
    return (w * (pred == y)).sum() / w.sum()
