"""Torch modules with hard concrete gates on their inputs.

:class:`GatedLinear` is the one building block: a dense layer whose input
units (features for the first layer, hidden units for the next ones) are
multiplied by hard concrete gates. A linear model is a single such layer; an
MLP is a stack of them. Each layer knows its own regularization strengths and
returns its part of the penalty from :meth:`GatedLinear.regularization`.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch
from torch import nn

from .gates import (
    HardConcreteGate,
    deterministic_gates,
    hard_concrete,
    logistic_noise,
    nonzero_threshold,
)


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
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.l0, self.l2 = float(l0), float(l2)
        self.weight = nn.Parameter(torch.zeros(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.gate = HardConcreteGate(in_features, **gate_kwargs) if gated else None
        self.register_buffer("input_offset", input_offset)
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
        return gate_penalty(self.gate.prob_nonzero(), self.weight, self.l0, self.l2)

    def constrain_(self) -> None:
        """Keep the gate locations in their allowed range (after each step)."""
        if self.gate is not None:
            self.gate.constrain_()


ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}
_NUMPY_ACTIVATIONS = {
    "identity": lambda a: a,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}


def gate_penalty(p: torch.Tensor, weight: torch.Tensor, l0, l2: float) -> torch.Tensor:
    """Expected L0 plus expected L2 of gated rows: one value per model of a grid.

    ``p`` has shape ``(*batch, in_features)`` and ``weight`` ``(*batch,
    in_features, out_features)``; ``l0`` is a float or broadcasts to ``batch``.
    """
    return l0 * p.sum(dim=-1) + 0.5 * l2 * (p * weight.square().sum(dim=-1)).sum(dim=-1)


class GatedLinearStack(nn.Module):
    """A grid of independent gated linear models that read the same input.

    Model ``b`` (an index into ``batch_shape``, e.g. ``(alpha, fold)``) computes
    ``((x * scale_b - offset_b) * z_b) @ W_b + bias_b``: the per-model affine
    map re-standardizes inputs that were standardized once for all models
    (each cross-validation fold has its own column means and scales). All
    models' weights are laid side by side into one ``(in_features, n_models *
    out_features)`` matrix, so a forward pass reads ``x`` once, with one matrix
    product, however many models there are.

    Only the models listed in ``active`` (flat indices; None: all) are
    computed, gates, product and penalty alike: the training loop retires
    models as they settle, and the cost of a step falls with them. The
    others output 0 and have no penalty.

    In training mode all models share one draw of the gate noise per step
    (per feature), as separate fits with the same ``random_state`` do: each
    model follows the path of its own separate fit. The zero gates are then
    much the same columns in every model, and a column whose gate is zero in
    every model is left out of the product (:class:`ColumnPicker`): late in
    training, when most gates are shut, the product reads a small part of
    ``x``.

    Parameters
    ----------
    in_features, out_features : int
        Shape of each model.
    batch_shape : tuple of int
        Shape of the grid of models.
    l0 : tensor broadcastable to ``batch_shape``
        L0 strength of each model.
    l2 : float
        Expected-L2 strength (shared).
    scale, offset : tensors broadcastable to ``(*batch_shape, in_features)``, optional
        Per-model input map (default: identity). Stored flat, one row per model.
    bias : bool, default=True
        Learn an intercept per model.
    **gate_kwargs
        Passed to :class:`~sklearn_l0.gates.HardConcreteGate`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        batch_shape: tuple[int, ...],
        *,
        l0: torch.Tensor,
        l2: float = 0.0,
        scale: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
        bias: bool = True,
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.batch_shape = tuple(batch_shape)
        self.n_models = math.prod(self.batch_shape)
        self.l2 = float(l2)
        self.weight = nn.Parameter(torch.zeros(*self.batch_shape, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(*self.batch_shape, out_features)) if bias else None
        self.gate = HardConcreteGate((*self.batch_shape, in_features), **gate_kwargs)
        l0 = torch.as_tensor(l0, dtype=torch.float32)
        self.register_buffer("l0", l0.expand(self.batch_shape).reshape(-1).clone())
        if scale is not None and not bool((scale > 0).all()):
            raise ValueError("GatedLinearStack: every input scale must be positive.")
        self.register_buffer("scale", self._flat(scale))
        # The offset enters as offset * z * W = (offset / scale) * (effective weight).
        shift = None if offset is None else offset / (1.0 if scale is None else scale)
        self.register_buffer("shift", self._flat(shift))
        self.active = None
        self.columns = ColumnPicker()

    def _flat(self, per_feature: torch.Tensor) -> torch.Tensor | None:
        if per_feature is None:
            return None
        full = per_feature.expand(*self.batch_shape, self.in_features)
        return full.reshape(self.n_models, self.in_features).clone()

    @property
    def active(self) -> torch.Tensor | None:
        """Flat indices of the models whose parameters the module holds (None: all of them).

        Set by the training loop (:class:`~sklearn_l0.training.train`), which
        also shrinks the parameters to these models' rows, shape ``(len(active),
        ...)`` instead of ``(*batch_shape, ...)``.
        """
        return self._active

    @active.setter
    def active(self, models: torch.Tensor | None) -> None:
        self._active = models
        rows = (lambda t: t) if models is None else (lambda t: t.index_select(0, models))
        self._rows = {
            name: None if buf is None else rows(buf)
            for name, buf in (("l0", self.l0), ("scale", self.scale), ("shift", self.shift))
        }

    def _apply(self, fn, recurse=True):  # .to(device): move the active rows with the buffers
        super()._apply(fn, recurse)
        self.active = None if self._active is None else fn(self._active)
        return self

    def _scatter(self, values: torch.Tensor, dim: int) -> torch.Tensor:
        """Values of the active models, at their place in the whole grid (zeros elsewhere)."""
        if self._active is not None:
            shape = list(values.shape)
            shape[dim] = self.n_models
            values = values.new_zeros(shape).index_copy(dim, self._active, values)
        return values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, n_in, n_out = self.gate, self.in_features, self.out_features
        log_alpha = gate.log_alpha.reshape(-1, n_in)
        weight = self.weight.reshape(-1, n_in, n_out)
        scale, shift = self._rows["scale"], self._rows["shift"]
        kw = {"beta": gate.beta, "gamma": gate.gamma, "zeta": gate.zeta}
        noise = None
        if self.training:
            noise = logistic_noise(
                n_in, generator=gate.generator, device=x.device, dtype=weight.dtype
            )
        picked = self.columns(
            x,
            lambda: log_alpha.amax(dim=0) > nonzero_threshold(noise, **kw),
            log_alpha.shape[0] * n_out,
        )
        if picked is not None:  # only the columns whose gate is non-zero in some model
            cols, x = picked
            log_alpha, weight = log_alpha[:, cols], weight[:, cols]
            scale = None if scale is None else scale[:, cols]
            shift = None if shift is None else shift[:, cols]
            noise = None if noise is None else noise[cols]
        if noise is None:
            z = deterministic_gates(log_alpha, gamma=gate.gamma, zeta=gate.zeta)
        else:
            z = hard_concrete(log_alpha, noise, **kw)
        effective = (z if scale is None else z * scale).unsqueeze(-1) * weight  # (models, in, out)
        n_models, n_cols = effective.shape[:2]
        side_by_side = effective.permute(1, 0, 2).reshape(n_cols, n_models * n_out)
        out = (x @ side_by_side).view(x.shape[0], n_models, n_out)
        if shift is not None:
            out = out - (shift.unsqueeze(-1) * effective).sum(dim=1)
        if self.bias is not None:
            out = out + self.bias.reshape(-1, n_out)
        return self._scatter(out, 1).view(x.shape[0], *self.batch_shape, n_out)

    def regularization(self) -> torch.Tensor:
        """The penalty of every model, shape ``batch_shape`` (0 for inactive models)."""
        n_in = self.in_features
        penalty = gate_penalty(
            self.gate.prob_nonzero().reshape(-1, n_in),
            self.weight.reshape(-1, n_in, self.out_features),
            self._rows["l0"],
            self.l2,
        )
        return self._scatter(penalty, 0).view(self.batch_shape)

    def open_gates(self) -> torch.Tensor:
        """Test-time open gates of the models the module holds, shape ``(n_held, in_features)``."""
        return self.gate.deterministic().reshape(-1, self.in_features) > 0

    def member(self, index: tuple[int, ...]) -> GatedLinear:
        """Model ``index`` as a :class:`GatedLinear` on its own standardized inputs."""
        layer = GatedLinear(
            self.in_features,
            self.out_features,
            bias=self.bias is not None,
            l0=float(self.l0.view(self.batch_shape)[index]),
            l2=self.l2,
            beta=self.gate.beta,
        ).to(self.weight.device)
        with torch.no_grad():
            layer.weight.copy_(self.weight[index])
            if self.bias is not None:
                layer.bias.copy_(self.bias[index])
            layer.gate.log_alpha.copy_(self.gate.log_alpha[index])
        return layer.eval()


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
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]()
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
                **gate_kwargs,
            )
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )

    @property
    def gate(self):
        """The input-feature gates (those of the first layer)."""
        return self.layers[0].gate

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


def mlp_forward(
    X, coefs, intercepts, activation: str, chunk_size: int = 65536, columns=None
) -> np.ndarray:
    """Numpy forward pass of a plain MLP (``coefs[i]`` of shape (n_in, n_out)), by row chunks.

    ``X`` may be a scipy sparse matrix; ``columns`` (a mask or indices), if given,
    selects the columns of X that the first layer reads, chunk by chunk. Memory
    stays bounded by ``chunk_size`` rows beyond the output (no copy of X, no
    float64 copy of a float32 X). A linear model is the one-layer case.
    """
    from sklearn.utils import gen_batches
    from sklearn.utils.extmath import safe_sparse_dot

    act = _NUMPY_ACTIVATIONS[activation]
    out = np.empty((X.shape[0], coefs[-1].shape[1]))
    for rows in gen_batches(X.shape[0], chunk_size):
        h = X[rows] if columns is None else X[rows][:, columns]
        for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
            h = safe_sparse_dot(h, W, dense_output=True) + b
            if i < len(coefs) - 1:
                h = act(h)
        out[rows] = h
    return out
