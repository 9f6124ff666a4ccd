"""Gated layers: ``L0Linear`` (gates on input units) and ``L0Conv2d`` (gates on channels).

Both hold a :class:`~sklearn_l0.gates.HardConcreteGate` (the library's one gate
implementation) and share what :mod:`sklearn_l0.nn`'s functions read:

- ``gate``: the layer's gates;
- ``gate_sizes()``: the number of parameters each gate switches off (its group);
- ``gate_sq_norms()``: the squared norm of those parameters, per gate;
- ``regularization()``: the layer's own penalty, from its strengths ``l0`` and
  ``l2`` (0 unless set; the estimators set them, PyTorch users more often add
  :func:`~sklearn_l0.nn.l0_penalty` of the whole network to their loss).
"""

from __future__ import annotations

import math
import weakref

import torch
from torch import nn

from ..gates import BETA, HardConcreteGate


class ColumnPicker:
    """Leaves the columns of ``x`` whose gate is zero out of a CPU matrix product.

    A column of ``x`` whose gate is exactly zero contributes nothing to the
    product, nor to any gradient of the data term, so the product can read
    only the other columns. On the CPU, with dense ``x``, that is worth it
    once at most ``FRACTION`` of the columns remain: gathering them costs a
    pass over part of ``x``, cheap from a transposed copy of ``x`` kept while
    the same ``x`` comes back (full-batch training reads the same ``x`` at
    every step). Not used on other devices (finding the columns would
    synchronise with the host) or for sparse ``x``.
    """

    FRACTION = (0.5, 0.9)
    """Most remaining share of columns worth a gather: from ``x`` itself, from its transpose."""
    MIN_SAVED = 1 << 20
    """Fewest multiply-adds per product the skip must save (else its own few ops cost more)."""

    def __init__(self) -> None:
        self._seen, self._x_t = None, None

    def __call__(self, x, nonzero, width: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(cols, x[:, cols])`` for the columns where ``nonzero()``, or None: use all of ``x``.

        ``nonzero`` is a function returning the boolean mask of the columns to keep
        (called only where the picker applies); ``width`` is the number of columns of
        the matrix that ``x`` multiplies.
        """
        if x.device.type != "cpu" or getattr(x, "is_sparse", False) or x.dim() != 2:
            return None
        n, p = x.shape
        if n * p * width < self.MIN_SAVED:
            return None
        cols = nonzero().nonzero().flatten()
        x_t = self._transposed(x)
        if len(cols) > self.FRACTION[x_t is not None] * p or (
            n * (p - len(cols)) * width < self.MIN_SAVED
        ):
            return None
        return cols, (x.index_select(1, cols) if x_t is None else x_t.index_select(0, cols).T)

    def _transposed(self, x: torch.Tensor) -> torch.Tensor | None:
        """A contiguous ``x.T`` if ``x`` was also the previous input (else None; remember x)."""
        if self._seen is not None and self._seen() is x:
            if self._x_t is None:
                self._x_t = x.T.contiguous()
            return self._x_t
        self._seen, self._x_t = weakref.ref(x), None
        return None

    def __getstate__(self) -> dict:  # the cache is not part of a module's state
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()


class L0Linear(nn.Module):
    """Dense layer ``y = (x * z) @ W + b`` with a hard concrete gate ``z`` per input unit.

    The paper's group sparsity over the rows of ``W`` (Louizos, Welling &
    Kingma, 2018): a closed gate removes an input unit (a feature, or a unit
    of the previous layer) and every weight leaving it. Takes
    ``torch.nn.Linear``'s arguments; in ``train()`` mode the gates are
    sampled, in ``eval()`` mode they are the deterministic test-time gates,
    exactly 0 or not.

    ``weight`` has shape ``(in_features, out_features)``, the transpose of
    ``nn.Linear``'s, so that a gate scales one row;
    :func:`~sklearn_l0.nn.compact` turns the layer into a plain
    ``nn.Linear`` without its closed inputs.

    Parameters
    ----------
    in_features, out_features : int
        Layer shape.
    bias : bool, default=True
        Learn an additive bias (not gated: the gates are on the inputs).
    droprate_init : float, default=0.2
        Initial drop rate of the gates (the paper: 0.2 on input pixels, 0.5
        on hidden units).
    temperature : float, default=2/3
        Temperature of the hard concrete distribution.
    per_sample : bool, default=False
        One gate sample per example instead of one per batch (the authors'
        ``local_rep``).
    generator : torch.Generator, optional
        Draws the initial weights and the gate noise; by default the weights
        come from torch's global generator, as ``nn.Linear``'s do, and the
        noise from a generator seeded from it (see
        :class:`~sklearn_l0.gates.HardConcreteGate`).
    l0 : float, default=0.0
        Strength of the layer's own expected-L0 penalty, per open gate (see
        :meth:`regularization`).
    l2 : float, default=0.0
        Strength of the layer's own expected L2 penalty
        ``l2 / 2 * sum_j P(z_j != 0) * ||W_j||^2`` (paper, eq. 13-14).
    cost : tensor of shape (n_gates,), optional
        Price of each gate relative to ``l0`` (default: 1 each).
    groups : LongTensor of shape (in_features,), optional
        The gate of each input (inputs sharing a gate are kept or dropped
        together); default: one gate per input.
    always_open : BoolTensor of shape (n_gates,), optional
        Gates fixed open (never penalized).
    gated : bool, default=True
        Whether the inputs carry gates at all.
    input_offset : tensor of shape (in_features,), optional
        Subtracted from the inputs, implicitly: the layer computes
        ``(x - offset) @ W`` as ``x @ W - offset @ W``, which centers sparse
        inputs without densifying them.

    With one gate vector per batch, the inputs whose gate is zero are left out
    of the product on the CPU (:class:`ColumnPicker`).

    Examples
    --------
    >>> import torch
    >>> from sklearn_l0.nn import L0Linear
    >>> layer = L0Linear(20, 5)
    >>> layer(torch.randn(8, 20)).shape
    torch.Size([8, 5])
    >>> int(layer.gate.is_open().sum())  # every gate starts open at test time
    20
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        droprate_init: float = 0.2,
        temperature: float = BETA,
        per_sample: bool = False,
        generator: torch.Generator | None = None,
        l0: float = 0.0,
        l2: float = 0.0,
        cost: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
        always_open: torch.Tensor | None = None,
        gated: bool = True,
        input_offset: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.l0, self.l2 = float(l0), float(l2)
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        n_gates = in_features if groups is None else int(groups.max()) + 1
        self.gate = (
            HardConcreteGate(
                n_gates,
                droprate_init=droprate_init,
                temperature=temperature,
                per_sample=per_sample,
                groups=groups,
                always_open=always_open,
                generator=generator,
            )
            if gated
            else None
        )
        self.register_buffer("input_offset", input_offset)
        self.register_buffer("cost", cost)
        self.columns = ColumnPicker()
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Weights uniform in ``+-1/sqrt(in_features)`` (``nn.Linear``'s bound), zero bias."""
        bound = 1.0 / math.sqrt(max(self.in_features, 1))
        device = self.weight.device if generator is None else generator.device
        w = torch.rand(self.weight.shape, generator=generator, device=device).to(self.weight.device)
        self.weight.copy_((2.0 * w - 1.0) * bound)
        if self.bias is not None:
            self.bias.zero_()

    def gates(self, n_samples: int | None = None) -> torch.Tensor | None:
        """Gate values for one pass (sampled in training mode, deterministic in eval)."""
        return None if self.gate is None else self.gate.values(n_samples)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.gates(x.shape[0])
        if z is not None and z.dim() == 2:  # one gate vector per example
            out = (x * z) @ self.weight
            if self.input_offset is not None:
                out = out - (self.input_offset * z) @ self.weight
        else:  # one gate vector per batch: scale the rows of W, cheaper than scaling x
            weight, offset = self.weight, self.input_offset
            if z is not None:
                picked = self.columns(x, lambda: z != 0, self.out_features)
                if picked is not None:  # only the inputs whose gate is non-zero
                    cols, x = picked
                    z, weight = z[cols], weight[cols]
                    offset = None if offset is None else offset[cols]
                weight = z.unsqueeze(1) * weight
            out = x @ weight
            if offset is not None:
                out = out - offset @ weight
        return out if self.bias is None else out + self.bias

    def effective_weight(self) -> torch.Tensor:
        """Test-time weights ``z_hat[:, None] * W`` (exact zeros on closed gates)."""
        with torch.no_grad():
            if self.gate is None:
                return self.weight.detach().clone()
            return self.gate.deterministic().unsqueeze(1) * self.weight

    def regularization(self) -> torch.Tensor:
        """``l0 * sum_j cost_j P(z_j != 0) + l2 / 2 * sum_j P(z_j != 0) * ||W_j||^2``."""
        if self.gate is None:
            return 0.5 * self.l2 * self.weight.square().sum()
        gate = self.gate
        return gate_penalty(
            gate.prob_nonzero(), self.weight, self.l0, self.l2, self.cost, gate.groups
        )

    def expected_cost(self) -> torch.Tensor:
        """``sum_g cost_g * P(z_g != 0)``: the L0 term per unit of ``l0`` (differentiable)."""
        p = self.gate.prob_nonzero()
        return (p if self.cost is None else p * self.cost).sum(dim=-1)

    def gate_sizes(self) -> torch.Tensor:
        """Weights each gate switches: ``out_features`` per input of its group."""
        groups = self.gate.groups
        if groups is None:
            return self.weight.new_full((self.in_features,), float(self.out_features))
        count = self.weight.new_zeros(self.gate.n_gates).index_add_(
            0, groups, self.weight.new_ones(self.in_features)
        )
        return count * self.out_features

    def gate_sq_norms(self) -> torch.Tensor:
        """Squared norm of the weights each gate switches (differentiable), one per gate."""
        sq = self.weight.square().sum(dim=-1)
        groups = self.gate.groups
        if groups is not None:
            sq = sq.new_zeros(self.gate.n_gates).index_add(0, groups, sq)
        return sq

    @torch.no_grad()
    def gate_norms(self) -> torch.Tensor:
        """Norm of the weights each gate switches (its rows of ``W``), one per gate."""
        return self.gate_sq_norms().sqrt()

    @torch.no_grad()
    def narrowed(self) -> tuple[torch.Tensor, L0Linear]:
        """``(cols, layer)``: this frozen layer restricted to the inputs its gates let through.

        ``cols`` are the input columns whose gate value is non-zero, and
        ``layer`` computes on ``x[:, cols]`` what this layer computes on ``x``,
        with the same penalty: it holds the rows ``cols`` of ``weight`` (a
        copy), the open gates (frozen at their values, with their costs,
        groups and ``always_open``) and this layer's own ``bias`` parameter.
        Training it trains this layer's bias; :meth:`widen_from` copies its
        weights back. For the weights' training once the gates are frozen:
        the closed inputs cost nothing then, but full-width products,
        penalties and optimizer updates would still visit them.
        """
        gate = self.gate
        if gate is None or gate.frozen_mask is None:
            raise ValueError("narrowed() needs a layer whose gates are frozen.")
        kept = gate.is_open()
        cols = (kept if gate.groups is None else kept[gate.groups]).nonzero().flatten()
        renumber = torch.cumsum(kept.long(), 0) - 1  # old gate index -> new one
        scratch = torch.Generator(device=self.weight.device)  # for the draws replaced below
        narrow = L0Linear(
            len(cols),
            self.out_features,
            bias=False,
            temperature=gate.temperature,
            per_sample=gate.per_sample,
            generator=scratch,
            l0=self.l0,
            l2=self.l2,
            cost=None if self.cost is None else self.cost[kept],
            groups=None if gate.groups is None else renumber[gate.groups[cols]],
            always_open=None if gate.always_open is None else gate.always_open[kept],
            input_offset=None if self.input_offset is None else self.input_offset[cols],
        ).to(device=self.weight.device, dtype=self.weight.dtype)
        narrow.weight.copy_(self.weight[cols])
        narrow.bias = self.bias
        narrow.gate.generator = gate.generator
        narrow.gate.freeze(gate.frozen_mask[kept])
        return cols, narrow

    @torch.no_grad()
    def widen_from(self, cols: torch.Tensor, narrow: L0Linear) -> None:
        """Copy the weights of ``narrow``, made by :meth:`narrowed`, back into rows ``cols``."""
        self.weight[cols] = narrow.weight

    batch_shape = ()
    """A single model (a grid of models has a non-empty shape)."""

    @property
    def feature_layer(self) -> L0Linear:
        """The layer whose gates select the input features: this one."""
        return self

    def open_mask(self) -> torch.Tensor | None:
        """Test-time open gates per input (None for an ungated layer)."""
        return None if self.gate is None else self.gate.deterministic() > 0

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class L0Conv2d(nn.Conv2d):
    """``nn.Conv2d`` with a hard concrete gate on every output channel (feature map).

    The paper's structured pruning of convolutions: a closed gate removes a
    filter, its bias and the feature map it makes (and so the matching
    input channels of the next layer, which :func:`~sklearn_l0.nn.compact`
    removes too). Takes ``nn.Conv2d``'s arguments and initialization; the
    output of channel ``c`` is ``z_c * conv(x)_c``, with sampled gates in
    ``train()`` mode and deterministic ones, exactly 0 or not, in ``eval()``.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode
        As for ``torch.nn.Conv2d``.
    droprate_init : float, default=0.5
        Initial drop rate of the gates (the paper's LeNet-5: 0.5).
    temperature : float, default=2/3
        Temperature of the hard concrete distribution.
    per_sample : bool, default=False
        One gate sample per example instead of one per batch.
    generator : torch.Generator, optional
        Source of the gate noise (see :class:`~sklearn_l0.gates.HardConcreteGate`);
        the initial weights come from torch's global generator, as ``nn.Conv2d``'s.
    l0, l2 : float, default=0.0
        Strengths of the layer's own penalty (see :meth:`regularization`).

    Examples
    --------
    >>> import torch
    >>> from sklearn_l0.nn import L0Conv2d
    >>> conv = L0Conv2d(1, 6, kernel_size=5)
    >>> conv(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2, 6, 24, 24])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        droprate_init: float = 0.5,
        temperature: float = BETA,
        per_sample: bool = False,
        generator: torch.Generator | None = None,
        l0: float = 0.0,
        l2: float = 0.0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
            device=device,
            dtype=dtype,
        )
        self.l0, self.l2 = float(l0), float(l2)
        self.gate = HardConcreteGate(
            out_channels,
            droprate_init=droprate_init,
            temperature=temperature,
            per_sample=per_sample,
            generator=generator,
        ).to(self.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.gate.values(x.shape[0])
        if z.dim() == 2:  # one gate vector per example: scale the feature maps
            return self._conv_forward(x, self.weight, self.bias) * z[:, :, None, None]
        # one gate vector per batch: scale the filters, cheaper than the maps
        bias = None if self.bias is None else self.bias * z
        return self._conv_forward(x, self.weight * z[:, None, None, None], bias)

    def gate_sizes(self) -> torch.Tensor:
        """Parameters each gate switches: its filter, and its bias."""
        size = self.weight[0].numel() + (self.bias is not None)
        return self.weight.new_full((self.out_channels,), float(size))

    def gate_sq_norms(self) -> torch.Tensor:
        """Squared norm of each filter and its bias (differentiable)."""
        sq = self.weight.square().flatten(1).sum(dim=1)
        return sq if self.bias is None else sq + self.bias.square()

    def regularization(self) -> torch.Tensor:
        """``l0 * sum_c P(z_c != 0) + l2 / 2 * sum_c P(z_c != 0) * ||filter_c||^2``."""
        p = self.gate.prob_nonzero()
        return self.l0 * p.sum() + 0.5 * self.l2 * (p * self.gate_sq_norms()).sum()

    def open_mask(self) -> torch.Tensor:
        """Test-time open gates per output channel."""
        return self.gate.deterministic() > 0


def gate_penalty(
    p: torch.Tensor, weight: torch.Tensor, l0, l2: float, cost=None, groups=None
) -> torch.Tensor:
    """Expected L0 plus expected L2 of gated rows: one value per model of a grid.

    ``p`` (the gates' probabilities of being non-zero) has shape ``(*batch,
    n_gates)`` and ``weight`` ``(*batch, in_features, out_features)``; ``l0``
    is a float or broadcasts to ``batch``; ``cost`` (one per gate) weighs each
    gate's expected L0; ``groups`` maps each row of ``weight`` to its gate
    (default: one gate per row), whose probability weighs the row's expected L2.
    """
    penalty = l0 * (p if cost is None else p * cost).sum(dim=-1)
    rows = p if groups is None else p.index_select(-1, groups)
    return penalty + 0.5 * l2 * (rows * weight.square().sum(dim=-1)).sum(dim=-1)
