"""The estimators' torch modules: a gated dense layer and a gated MLP.

:class:`GatedLinear` is the one building block: a dense layer whose input
units (features for the first layer, hidden units for the next ones) are
multiplied by hard concrete gates. A linear model is a single such layer; an
MLP (:class:`GatedMLP`) is a stack of them; a grid of linear models trained
together is :class:`~sklearn_l0.grid.GatedLinearStack`. Each module knows its
regularization strengths and returns its penalty from ``regularization()``,
its test-time open gates from ``open_mask()`` and the layer whose gates
select the input features as ``feature_layer``.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch
from torch import nn

from .gates import HardConcreteGate


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
    cost : tensor of shape (n_gates,), optional
        Price of each gate relative to ``l0`` (default: 1 each): the L0 term
        is ``l0 * sum_g cost_g * P(z_g != 0)``.
    groups : LongTensor of shape (in_features,), optional
        The gate of each input (inputs sharing a gate are kept or dropped
        together); default: one gate per input.
    **gate_kwargs
        Passed to :class:`~sklearn_l0.gates.HardConcreteGate`.

    With one gate vector per batch, the inputs whose gate is zero are left out
    of the product on the CPU (:class:`ColumnPicker`).
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
        cost: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.l0, self.l2 = float(l0), float(l2)
        self.weight = nn.Parameter(torch.zeros(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        n_gates = in_features if groups is None else int(groups.max()) + 1
        self.gate = HardConcreteGate(n_gates, groups=groups, **gate_kwargs) if gated else None
        self.register_buffer("input_offset", input_offset)
        self.register_buffer("cost", cost)
        self.columns = ColumnPicker()

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
        """``l0 * sum_j P(z_j != 0) + l2 / 2 * sum_j P(z_j != 0) * ||W_j||^2``."""
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

    @torch.no_grad()
    def gate_norms(self) -> torch.Tensor:
        """Norm of the weights each gate switches (its rows of ``W``), one per gate."""
        sq = self.weight.square().sum(dim=-1)
        groups = self.gate.groups
        if groups is not None:
            sq = sq.new_zeros(self.gate.n_gates).index_add_(0, groups, sq)
        return sq.sqrt()

    batch_shape = ()
    """A single model (a grid of models has a non-empty shape)."""

    @property
    def feature_layer(self) -> GatedLinear:
        """The layer whose gates select the input features: this one."""
        return self

    def open_mask(self) -> torch.Tensor | None:
        """Test-time open gates (None for an ungated layer)."""
        return None if self.gate is None else self.gate.deterministic() > 0


ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


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


class GatedMLP(nn.Module):
    """A multilayer perceptron whose every layer gates its inputs.

    The first layer's gates select input features (strength ``l0_input``);
    the gates of the next layers switch whole hidden units off (strength
    ``l0_hidden``), the paper's group sparsity. The output layer gates its
    inputs too, i.e. the last hidden layer's units.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden-layer activation.
    l0_input : float
        L0 strength per open gate on the input features.
    l0_hidden : float or sequence of float
        L0 strength per open gate on hidden units; a sequence gives one per
        hidden layer (the gates on layer ``i``'s outputs live in layer ``i + 1``).
    l2 : float
        Expected-L2 strength of every layer.
    input_offset : tensor, optional
        Implicit centering of sparse inputs (see :class:`GatedLinear`).
    input_drop_rate, hidden_drop_rate : float
        Initial gate drop rates (the paper's 0.2 for inputs, 0.5 for hidden units).
    feature_options : dict, optional
        Extra arguments of the first layer only (``cost``, ``groups``,
        ``always_open``: the structure of the input-feature gates).
    **gate_kwargs
        Passed to every :class:`~sklearn_l0.gates.HardConcreteGate`.
    """

    def __init__(
        self,
        sizes,
        *,
        activation: str = "relu",
        l0_input: float = 0.0,
        l0_hidden: float | list[float] = 0.0,
        l2: float = 0.0,
        input_offset: torch.Tensor | None = None,
        input_drop_rate: float = 0.2,
        hidden_drop_rate: float = 0.5,
        feature_options: dict | None = None,
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.activation = ACTIVATIONS[activation]()
        first = feature_options or {}
        n_hidden = len(sizes) - 2
        hidden = list(l0_hidden) if np.ndim(l0_hidden) else [l0_hidden] * n_hidden
        l0 = [l0_input, *hidden]
        self.layers = nn.ModuleList(
            GatedLinear(
                n_in,
                n_out,
                l0=l0[i],
                l2=l2,
                input_offset=input_offset if i == 0 else None,
                drop_rate=input_drop_rate if i == 0 else hidden_drop_rate,
                **(first if i == 0 else {}),
                **gate_kwargs,
            )
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )

    batch_shape = ()
    """A single model."""

    @property
    def feature_layer(self) -> GatedLinear:
        """The layer whose gates select the input features: the first."""
        return self.layers[0]

    @property
    def gate(self):
        """The input-feature gates (those of the first layer)."""
        return self.layers[0].gate

    def open_mask(self) -> torch.Tensor:
        """Test-time open gates of every layer (features, then hidden units), concatenated."""
        return torch.cat([layer.open_mask() for layer in self.layers])

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for layer in self.layers:
            layer.reset_parameters(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def regularization(self) -> torch.Tensor:
        return sum(layer.regularization() for layer in self.layers)

    @torch.no_grad()
    def compact(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Plain float64 weights of the test-time network without its pruned parts.

        Returns ``(kept_features, coefs, intercepts)``: the mask of input
        features whose gate is open, and per layer a weight matrix of shape
        ``(n_kept_inputs, n_kept_outputs)`` (gates folded in) and a bias. A
        hidden unit is removed when the gate on it in the next layer is
        closed; the compact network computes exactly what the gated network
        computes in eval mode, on centered inputs (a first-layer
        ``input_offset`` is left for the caller to fold in with the rest of
        the standardization).
        """
        keeps = [layer.gate.deterministic() > 0 for layer in self.layers]
        keeps.append(torch.ones(self.layers[-1].out_features, dtype=torch.bool))
        coefs, intercepts = [], []
        for i, layer in enumerate(self.layers):
            rows, cols = keeps[i].cpu(), keeps[i + 1].cpu()
            weight = layer.effective_weight().double().cpu()[rows][:, cols]
            bias = layer.bias.detach().double().cpu()[cols]
            coefs.append(weight.numpy())
            intercepts.append(bias.numpy())
        return keeps[0].cpu().numpy(), coefs, intercepts
