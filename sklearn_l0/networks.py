"""The estimators' own torch modules beyond single layers: the gated MLP.

The building block is :class:`~sklearn_l0.nn.L0Linear` (public, in
:mod:`sklearn_l0.nn`): a dense layer whose input units (features for the
first layer, hidden units for the next ones) are multiplied by hard concrete
gates. A linear model is a single such layer; an MLP (:class:`GatedMLP`) is a
stack of them; a grid of linear models trained together is
:class:`~sklearn_l0.grid.GatedLinearStack`. Each module knows its
regularization strengths and returns its penalty from ``regularization()``,
its test-time open gates from ``open_mask()`` and the layer whose gates
select the input features as ``feature_layer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from .data import Dataset
from .nn.compaction import compact
from .nn.layers import L0Linear

NARROW_FRACTION = 0.5
"""Most share of input columns left open for :func:`open_inputs_only` to narrow the data."""

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


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
    l0_hidden : float, None or sequence of them
        L0 strength per open gate on hidden units; a sequence gives one per
        hidden layer (the gates on layer ``i``'s outputs live in layer ``i + 1``).
        None leaves that layer's units without gates (always kept).
    l2 : float
        Expected-L2 strength of every layer.
    input_offset : tensor, optional
        Implicit centering of sparse inputs (see :class:`L0Linear`).
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
        l0_hidden: float | None | list[float | None] = 0.0,
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
        hidden = (
            [l0_hidden] * n_hidden
            if l0_hidden is None or np.ndim(l0_hidden) == 0
            else list(l0_hidden)
        )
        l0 = [l0_input, *hidden]
        self.layers = nn.ModuleList(
            L0Linear(
                n_in,
                n_out,
                l0=l0[i] or 0.0,
                l2=l2,
                input_offset=input_offset if i == 0 else None,
                droprate_init=input_drop_rate if i == 0 else hidden_drop_rate,
                gated=l0[i] is not None,
                **(first if i == 0 else {}),
                **gate_kwargs,
            )
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )

    batch_shape = ()
    """A single model."""

    @property
    def feature_layer(self) -> L0Linear:
        """The layer whose gates select the input features: the first."""
        return self.layers[0]

    @property
    def gate(self):
        """The input-feature gates (those of the first layer)."""
        return self.layers[0].gate

    def open_mask(self) -> torch.Tensor:
        """Test-time open gates of every layer (features, then hidden units), concatenated."""
        return torch.cat([m for layer in self.layers if (m := layer.open_mask()) is not None])

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
        features whose gate is open (none when a hidden layer has no unit
        left: the output then depends on no feature), and per layer a weight matrix of shape
        ``(n_kept_inputs, n_kept_outputs)`` (gates folded in) and a bias. A
        hidden unit is removed when the gate on it in the next layer is
        closed (:func:`sklearn_l0.nn.compact`); the compact network computes
        what the gated network computes in eval mode, on centered inputs (a first-layer
        ``input_offset`` is left for the caller to fold in with the rest of
        the standardization).
        """
        first = self.layers[0]
        chain = [m for layer in self.layers[:-1] for m in (layer, self.activation)]
        offset, first.input_offset = first.input_offset, None  # the caller folds it in
        try:
            plain = compact(nn.Sequential(*chain, self.layers[-1]))
        finally:
            first.input_offset = offset
        kept = (first.gate.deterministic() > 0).cpu().numpy()
        dense = [m for m in plain if isinstance(m, nn.Linear)]
        if any(m.out_features == 0 for m in dense[:-1]):  # a hidden layer lost every unit:
            kept[:] = False  # the output depends on no feature
        coefs = [m.weight.detach().T.double().cpu().numpy() for m in dense]
        intercepts = [m.bias.detach().double().cpu().numpy() for m in dense]
        coefs[0] = coefs[0][kept]  # the estimators select the input columns themselves
        return kept, coefs, intercepts


@contextmanager
def open_inputs_only(module: nn.Module, *datasets: Dataset) -> Iterator[tuple]:
    """``(module, *datasets)`` to train once the gates are frozen: on the open input columns only.

    For a :class:`GatedMLP` whose frozen first-layer gates let through at
    most :data:`NARROW_FRACTION` of the input columns, yields a network that
    reads only those columns (its first layer from
    :meth:`~sklearn_l0.nn.L0Linear.narrowed`, the other layers this
    network's own) and each data set restricted to them (one copy each), and
    on exit copies the first layer's trained weights back: the same objective
    and gradients as training ``module`` on the data, without the products,
    penalties and optimizer updates of the closed columns. Anything else is
    yielded unchanged.
    """
    first = module.feature_layer if isinstance(module, GatedMLP) else None
    if first is None or first.gate.deterministic().count_nonzero() > (
        NARROW_FRACTION * first.in_features
    ):
        yield (module, *datasets)
        return
    cols, layer = first.narrowed()
    narrow = GatedMLP.__new__(GatedMLP)
    nn.Module.__init__(narrow)
    narrow.activation = module.activation
    narrow.layers = nn.ModuleList([layer, *module.layers[1:]])
    yield (narrow, *(data.columns(cols) for data in datasets))
    first.widen_from(cols, layer)
