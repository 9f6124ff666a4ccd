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

from .utils import indexed

BETA = 2.0 / 3.0
"""Temperature of the concrete distribution (paper's default)."""
GAMMA = -0.1
"""Lower end of the stretched interval (paper's default)."""
ZETA = 1.1
"""Upper end of the stretched interval (paper's default)."""
LOG_ALPHA_RANGE = (math.log(1e-2), math.log(1e2))
"""Range of ``log_alpha``, clamped before each training-mode draw (the authors: after each step)."""
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

    In training mode the gates are samples of the hard concrete distribution
    (:func:`sample_gates`); in eval mode they are the test-time
    :func:`deterministic_gates`, exactly 0 or not, as torch's train and eval
    modes switch ``nn.Dropout``. :meth:`freeze` fixes them to a 0/1 mask.

    Calling the module on a tensor multiplies it by the gates along one
    dimension: ``gate(x, dim=1)`` gates the features of ``(batch, features)``
    inputs, or the channels of ``(batch, channels, height, width)`` ones, so a
    gate can switch any group of a network. :meth:`values` gives the gates
    themselves.

    Before drawing training-mode gates the module clamps ``log_alpha`` to
    :data:`LOG_ALPHA_RANGE`, as the authors' code does after every optimizer
    step (so both exact 0 and exact 1 stay reachable and gradients stay
    alive). The noise comes from the module's own ``generator``, never from
    torch's global one.

    Parameters
    ----------
    n_gates : int or tuple of int
        Number of gates (prunable groups), or the shape of a grid of gate
        vectors (one vector per model of a :class:`~sklearn_l0.grid.GatedLinearStack`).
    droprate_init : float, default=0.2
        Initial drop rate: ``log_alpha`` starts at ``log(1 - droprate_init) -
        log(droprate_init)``, where a sampled gate is 0 with about that
        probability (the paper uses 0.2 on inputs, 0.5 on hidden units).
    temperature : float, default=2/3
        Temperature ``beta`` of the concrete distribution.
    gamma, zeta : float
        Stretch interval; the paper's values by default.
    per_sample : bool, default=False
        Draw an independent gate vector per example (lower-variance
        gradients; the authors' ``local_rep``) instead of one per mini-batch
        (the paper's default, cheaper).
    groups : LongTensor of shape (n_columns,), optional
        The gate of each column the gates switch (group sparsity: columns
        sharing a gate are kept or dropped together). Gate values then come
        one per column; ``log_alpha``, :meth:`prob_nonzero` and
        :meth:`is_open` stay one per gate.
    always_open : BoolTensor of shape (n_gates,), optional
        Gates fixed open (value 1, probability 1, no gradient): features
        that are never penalized.
    generator : torch.Generator, optional
        Source of the gate noise. By default the module makes its own,
        seeded from torch's global generator when it is built (as torch
        layers draw their initial weights), so ``torch.manual_seed`` before
        building a network makes its training reproducible. On another
        device the noise comes from a generator there, seeded from this one.
    """

    def __init__(
        self,
        n_gates: int | tuple[int, ...],
        *,
        droprate_init: float = 0.2,
        temperature: float = BETA,
        gamma: float = GAMMA,
        zeta: float = ZETA,
        per_sample: bool = False,
        groups: torch.Tensor | None = None,
        always_open: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 < droprate_init < 1.0:
            raise ValueError(f"droprate_init must be in (0, 1); got {droprate_init!r}.")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive; got {temperature!r}.")
        self.temperature, self.gamma, self.zeta = float(temperature), float(gamma), float(zeta)
        self.per_sample = per_sample
        if generator is None:
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
        self.generator: torch.Generator = generator
        shape = (n_gates,) if isinstance(n_gates, int) else tuple(n_gates)
        self.log_alpha = nn.Parameter(torch.full(shape, log_alpha_for_drop_rate(droprate_init)))
        self.register_buffer("frozen_mask", None)
        self.register_buffer("groups", groups)
        self.register_buffer("always_open", always_open)

    @property
    def n_gates(self) -> int:
        """Gates per model (the last dimension of ``log_alpha``)."""
        return self.log_alpha.shape[-1]

    @property
    def n_columns(self) -> int:
        """Columns the gates switch (``n_gates`` without ``groups``)."""
        return self.n_gates if self.groups is None else len(self.groups)

    def to_columns(self, z: torch.Tensor) -> torch.Tensor:
        """Gate values (last dimension: one per gate) as the values of the columns they switch.

        Applies :attr:`always_open`, then repeats each group's value over its columns.
        """
        if self.always_open is not None:
            z = z.masked_fill(self.always_open, 1.0)
        return z if self.groups is None else z.index_select(-1, self.groups)

    def forward(self, x: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """``x`` multiplied by the gates along ``dim`` (of size :attr:`n_columns`)."""
        if x.shape[dim] != self.n_columns:
            raise ValueError(
                f"HardConcreteGate: dimension {dim} of the input has size {x.shape[dim]}, "
                f"but there are {self.n_columns} gated columns."
            )
        z = self.values(x.shape[0])
        shape = [1] * x.dim()
        shape[dim] = self.n_columns
        if z.dim() == 2:  # one gate vector per example
            shape[0] = x.shape[0]
        return x * z.reshape(shape)

    def values(self, n_samples: int | None = None) -> torch.Tensor:
        """Gates per column for one pass: sampled (training), deterministic (eval) or frozen.

        Sampled gates come one vector per call, or ``(n_samples, n_columns)``
        with ``per_sample``.
        """
        if self.frozen_mask is not None:
            return self.to_columns(self.frozen_mask)
        if not self.training:
            return self.to_columns(
                deterministic_gates(self.log_alpha, gamma=self.gamma, zeta=self.zeta)
            )
        self.constrain_()
        return self.to_columns(
            sample_gates(
                self.log_alpha,
                beta=self.temperature,
                gamma=self.gamma,
                zeta=self.zeta,
                generator=self.noise_generator(),
                n_samples=n_samples if self.per_sample else None,
            )
        )

    def noise_generator(self) -> torch.Generator:
        """The generator of the gate noise, on ``log_alpha``'s device."""
        device = self.log_alpha.device
        if indexed(self.generator.device) != device:  # moved: continue on a generator there
            seed = torch.randint(2**62, (), generator=self.generator, device=self.generator.device)
            self.generator = torch.Generator(device=device).manual_seed(int(seed))
        return self.generator

    def prob_nonzero(self) -> torch.Tensor:
        """Probability that each gate is non-zero (differentiable); the mask when frozen."""
        if self.frozen_mask is not None:
            return self.frozen_mask
        p = self.learned_prob_nonzero()
        return p if self.always_open is None else p.masked_fill(self.always_open, 1.0)

    def learned_prob_nonzero(self) -> torch.Tensor:
        """``P(z != 0)`` of the learned distribution, whether or not the gate is frozen."""
        return prob_nonzero(self.log_alpha, beta=self.temperature, gamma=self.gamma, zeta=self.zeta)

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
        """Clamp ``log_alpha`` to :data:`LOG_ALPHA_RANGE` (done before every training-mode draw)."""
        self.log_alpha.clamp_(*LOG_ALPHA_RANGE)

    def freeze(self, mask: torch.Tensor | None) -> None:
        """Fix the gates to ``mask`` (values in [0, 1], one per gate), or unfreeze with ``None``."""
        self.frozen_mask = None if mask is None else mask.to(self.log_alpha)
        self.log_alpha.requires_grad_(mask is None)

    def freeze_at_test_values(self) -> None:
        """Fix every gate at its test-time value: no more noise, closed gates stay at zero."""
        with torch.no_grad():
            self.freeze(self._deterministic_gates().clone())

    def extra_repr(self) -> str:
        return (
            f"n_gates={tuple(self.log_alpha.shape) if self.log_alpha.dim() > 1 else self.n_gates}, "
            f"temperature={self.temperature:.4g}, per_sample={self.per_sample}"
        )
