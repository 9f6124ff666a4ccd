"""Hard concrete gates (Louizos, Welling & Kingma, ICLR 2018, section 3).

Every prunable group ``j`` (an input feature, a hidden unit) is multiplied by a
gate ``z_j`` in ``[0, 1]``. During training the gate is a sample of the *hard
concrete* distribution with a learned location ``log_alpha_j``::

    u ~ U(0, 1)
    s = sigmoid((log u - log(1 - u) + log_alpha) / beta)
    z = clamp(s * (zeta - gamma) + gamma, 0, 1)

The stretch to ``(gamma, zeta)`` followed by the clamp puts a point mass on
exactly 0 and exactly 1, and the probability that a gate is non-zero has the
closed form ``sigmoid(log_alpha - beta * log(-gamma / zeta))``: a
differentiable surrogate of the L0 norm. At test time the gate is the
deterministic ``clamp(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1)``,
which is exactly zero when ``log_alpha`` is low enough.

The functions here are plain torch; :class:`HardConcreteGate` holds the
parameters and is what the networks use.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BETA = 2.0 / 3.0
"""Temperature of the concrete distribution (paper's default)."""
GAMMA = -0.1
"""Lower end of the stretched interval (paper's default)."""
ZETA = 1.1
"""Upper end of the stretched interval (paper's default)."""
LOG_ALPHA_RANGE = (math.log(1e-2), math.log(1e2))
"""Range ``log_alpha`` is clamped to after every step, as the authors do."""
_EPS = 1e-6


def logistic_noise(
    shape, *, generator: torch.Generator | None = None, device=None, dtype=None
) -> torch.Tensor:
    """``logit(u)`` with ``u ~ U(0, 1)``: the noise of the concrete distribution."""
    u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return torch.logit(u, eps=_EPS)


def hard_concrete(
    log_alpha: torch.Tensor,
    noise: torch.Tensor,
    *,
    beta: float = BETA,
    gamma: float = GAMMA,
    zeta: float = ZETA,
) -> torch.Tensor:
    """Hard concrete gates for given logistic ``noise`` (broadcast against ``log_alpha``).

    ``clamp(sigmoid((noise + log_alpha) / beta) * (zeta - gamma) + gamma, 0, 1)``,
    differentiable in ``log_alpha``.
    """
    s = torch.sigmoid(torch.add(noise / beta, log_alpha, alpha=1.0 / beta))
    # hardtanh is clamp to [0, 1] with a one-kernel gradient (clamp's takes three).
    return F.hardtanh(s * (zeta - gamma) + gamma, 0.0, 1.0)


def sample_gates(
    log_alpha: torch.Tensor,
    *,
    beta: float = BETA,
    gamma: float = GAMMA,
    zeta: float = ZETA,
    generator: torch.Generator | None = None,
    n_samples: int | None = None,
) -> torch.Tensor:
    """Draw hard concrete gates (training mode), differentiable in ``log_alpha``.

    Parameters
    ----------
    log_alpha : tensor of shape (n_gates,)
        Location parameters.
    beta, gamma, zeta : float
        Temperature and stretch interval.
    generator : torch.Generator, optional
        Source of the uniform noise (on ``log_alpha``'s device).
    n_samples : int, optional
        If given, draw that many independent gate vectors, shape
        ``(n_samples, n_gates)``; otherwise one vector of shape ``(n_gates,)``.

    Returns
    -------
    z : tensor with values in [0, 1]
    """
    shape = log_alpha.shape if n_samples is None else (n_samples, *log_alpha.shape)
    noise = logistic_noise(
        shape, generator=generator, device=log_alpha.device, dtype=log_alpha.dtype
    )
    return hard_concrete(log_alpha, noise, beta=beta, gamma=gamma, zeta=zeta)


def deterministic_gates(
    log_alpha: torch.Tensor, *, gamma: float = GAMMA, zeta: float = ZETA
) -> torch.Tensor:
    """Test-time gates ``clamp(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1)``.

    Exactly zero where ``log_alpha <= log(-gamma / zeta)`` (about -2.398 with
    the default constants) and exactly one where ``log_alpha`` is high enough.
    """
    return F.hardtanh(torch.sigmoid(log_alpha) * (zeta - gamma) + gamma, 0.0, 1.0)


def prob_nonzero(
    log_alpha: torch.Tensor,
    *,
    beta: float = BETA,
    gamma: float = GAMMA,
    zeta: float = ZETA,
) -> torch.Tensor:
    """Closed-form probability that a sampled gate is non-zero (expected L0 per gate).

    ``P(z != 0) = sigmoid(log_alpha - beta * log(-gamma / zeta))``; summed over
    gates it is the differentiable L0 penalty of the paper (eq. 12).
    """
    return torch.sigmoid(log_alpha - beta * math.log(-gamma / zeta))


def log_alpha_for_drop_rate(drop_rate: float) -> float:
    """Initial ``log_alpha`` that opens a gate with probability ``1 - drop_rate``.

    The authors initialise ``log_alpha = log(1 - p) - log(p)`` with drop rate
    ``p`` (0.2 for inputs, 0.5 for hidden units in their MLP).
    """
    return math.log(1.0 - drop_rate) - math.log(drop_rate)


class HardConcreteGate(nn.Module):
    """A vector of hard concrete gates with learned locations.

    In training mode calling the module draws gates with :func:`sample_gates`;
    in eval mode it returns :func:`deterministic_gates`. :meth:`freeze` fixes
    the gates to a given 0/1 mask (used to refit on a selected support).

    Parameters
    ----------
    n_gates : int or tuple of int
        Number of gates (prunable groups), or the shape of a grid of gate
        vectors (one vector per model of a :class:`~sklearn_l0.networks.GatedLinearStack`).
    drop_rate : float, default=0.2
        Initial probability-like drop rate used to set ``log_alpha``.
    beta, gamma, zeta : float
        Temperature and stretch interval; the paper's values by default.
    per_sample : bool, default=False
        Draw an independent gate vector per example (lower-variance
        gradients) instead of one per mini-batch (the paper's default).
    groups : LongTensor of shape (n_columns,), optional
        The gate of each column the gates switch (group sparsity: columns
        sharing a gate are kept or dropped together). Calling the module and
        :meth:`deterministic` then give one value per column; ``log_alpha``,
        :meth:`prob_nonzero` and :meth:`is_open` stay one per gate.
    always_open : BoolTensor of shape (n_gates,), optional
        Gates fixed open (value 1, probability 1, no gradient): features
        that are never penalized.
    """

    def __init__(
        self,
        n_gates: int | tuple[int, ...],
        *,
        drop_rate: float = 0.2,
        beta: float = BETA,
        gamma: float = GAMMA,
        zeta: float = ZETA,
        per_sample: bool = False,
        groups: torch.Tensor | None = None,
        always_open: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.beta, self.gamma, self.zeta = float(beta), float(gamma), float(zeta)
        self.per_sample = per_sample
        self.generator: torch.Generator | None = None
        shape = (n_gates,) if isinstance(n_gates, int) else tuple(n_gates)
        self.log_alpha = nn.Parameter(torch.full(shape, log_alpha_for_drop_rate(drop_rate)))
        self.register_buffer("frozen_mask", None)
        self.register_buffer("groups", groups)
        self.register_buffer("always_open", always_open)

    @property
    def n_gates(self) -> int:
        """Gates per model (the last dimension of ``log_alpha``)."""
        return self.log_alpha.shape[-1]

    def to_columns(self, z: torch.Tensor) -> torch.Tensor:
        """Gate values (last dimension: one per gate) as the values of the columns they switch.

        Applies :attr:`always_open`, then repeats each group's value over its columns.
        """
        if self.always_open is not None:
            z = z.masked_fill(self.always_open, 1.0)
        return z if self.groups is None else z.index_select(-1, self.groups)

    def forward(self, n_samples: int | None = None) -> torch.Tensor:
        """Gates per column for one pass: sampled (training), deterministic (eval) or frozen."""
        if self.frozen_mask is not None:
            return self.to_columns(self.frozen_mask)
        if not self.training:
            return self.to_columns(
                deterministic_gates(self.log_alpha, gamma=self.gamma, zeta=self.zeta)
            )
        return self.to_columns(
            sample_gates(
                self.log_alpha,
                beta=self.beta,
                gamma=self.gamma,
                zeta=self.zeta,
                generator=self.generator,
                n_samples=n_samples if self.per_sample else None,
            )
        )

    def prob_nonzero(self) -> torch.Tensor:
        """Probability that each gate is non-zero (differentiable); the mask when frozen."""
        if self.frozen_mask is not None:
            return self.frozen_mask
        p = self.learned_prob_nonzero()
        return p if self.always_open is None else p.masked_fill(self.always_open, 1.0)

    def learned_prob_nonzero(self) -> torch.Tensor:
        """``P(z != 0)`` of the learned distribution, whether or not the gate is frozen."""
        return prob_nonzero(self.log_alpha, beta=self.beta, gamma=self.gamma, zeta=self.zeta)

    def deterministic(self) -> torch.Tensor:
        """Test-time gate values per column (no gradient); the 0/1 mask when frozen."""
        with torch.no_grad():
            return self.to_columns(self._deterministic_gates())

    def is_open(self) -> torch.Tensor:
        """Which gates are open at test time (one per gate, not per column)."""
        with torch.no_grad():
            z = self._deterministic_gates()
            return (z > 0) if self.always_open is None else (z > 0) | self.always_open

    def _deterministic_gates(self) -> torch.Tensor:
        if self.frozen_mask is not None:
            return self.frozen_mask
        return deterministic_gates(self.log_alpha, gamma=self.gamma, zeta=self.zeta)

    @torch.no_grad()
    def constrain_(self) -> None:
        """Clamp ``log_alpha`` to :data:`LOG_ALPHA_RANGE` (call after each step)."""
        self.log_alpha.clamp_(*LOG_ALPHA_RANGE)

    def freeze(self, mask: torch.Tensor | None) -> None:
        """Fix the gates to ``mask`` (0/1 floats, one per gate), or unfreeze with ``None``."""
        self.frozen_mask = None if mask is None else mask.to(self.log_alpha)
        self.log_alpha.requires_grad_(mask is None)
