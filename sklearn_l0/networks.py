"""Torch modules with hard concrete gates on their inputs.

:class:`GatedLinear` is the one building block: a dense layer whose input
units (features for the first layer, hidden units for the next ones) are
multiplied by hard concrete gates. A linear model is a single such layer; an
MLP is a stack of them. Each layer knows its own regularization strengths and
returns its part of the penalty from :meth:`GatedLinear.regularization`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .gates import HardConcreteGate


class GatedLinear(nn.Module):
    """Dense layer ``y = (x * z) @ W + b`` with a hard concrete gate per input.

    Parameters
    ----------
    in_features, out_features : int
        Layer shape. ``W`` has shape ``(in_features, out_features)`` so that a
        gate scales one row of ``W``.
    bias : bool, default=True
        Learn an additive bias (the intercept of a linear model).
    l0 : float, default=0.0
        Strength of the expected-L0 penalty, per open gate.
    l2 : float, default=0.0
        Strength of the expected L2 penalty ``l2 / 2 * sum_j P(z_j != 0) * ||W_j||^2``
        (paper, eq. 13-14).
    gated : bool, default=True
        Whether the inputs carry gates at all (an output layer of an MLP does
        not need them when its inputs are already gated upstream).
    input_offset : tensor of shape (in_features,), optional
        Subtracted from the inputs, implicitly: the layer computes
        ``(x - offset) @ W`` as ``x @ W - offset @ W``, which centers sparse
        inputs without densifying them.
    **gate_kwargs
        Passed to :class:`~sklearn_l0.gates.HardConcreteGate`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        l0: float = 0.0,
        l2: float = 0.0,
        gated: bool = True,
        input_offset: torch.Tensor | None = None,
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.l0, self.l2 = float(l0), float(l2)
        self.weight = nn.Parameter(torch.zeros(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.gate = HardConcreteGate(in_features, **gate_kwargs) if gated else None
        self.register_buffer("input_offset", input_offset)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Kaiming-uniform weights (as ``nn.Linear``), zero bias, drawn from ``generator``."""
        bound = 1.0 / math.sqrt(max(self.in_features, 1))
        w = torch.rand(self.weight.shape, generator=generator, device=self.weight.device)
        self.weight.copy_((2.0 * w - 1.0) * bound)
        if self.bias is not None:
            self.bias.zero_()

    def gates(self, n_samples: int | None = None) -> torch.Tensor | None:
        """Gate values for one pass (sampled in training mode, deterministic in eval)."""
        return None if self.gate is None else self.gate(n_samples)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.gates(x.shape[0])
        if z is not None and z.dim() == 2:  # one gate vector per example
            out = (x * z) @ self.weight
            if self.input_offset is not None:
                out = out - (self.input_offset * z) @ self.weight
        else:  # one gate vector per batch: scale the rows of W, cheaper than scaling x
            weight = self.weight if z is None else z.unsqueeze(1) * self.weight
            out = x @ weight
            if self.input_offset is not None:
                out = out - self.input_offset @ weight
        return out if self.bias is None else out + self.bias

    def effective_weight(self) -> torch.Tensor:
        """Test-time weights ``z_hat[:, None] * W`` (exact zeros on closed gates)."""
        with torch.no_grad():
            if self.gate is None:
                return self.weight.detach().clone()
            return self.gate.deterministic().unsqueeze(1) * self.weight

    def regularization(self) -> torch.Tensor:
        """``l0 * sum_j P(z_j != 0) + l2 / 2 * sum_j P(z_j != 0) * ||W_j||^2``."""
        reg = self.weight.new_zeros(())
        if self.gate is None:
            if self.l2:
                reg = reg + 0.5 * self.l2 * self.weight.square().sum()
            return reg
        p = self.gate.prob_nonzero()
        if self.l0:
            reg = reg + self.l0 * p.sum()
        if self.l2:
            reg = reg + 0.5 * self.l2 * (p * self.weight.square().sum(dim=1)).sum()
        return reg

    def constrain_(self) -> None:
        """Keep the gate locations in their allowed range (after each step)."""
        if self.gate is not None:
            self.gate.constrain_()
