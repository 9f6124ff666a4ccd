"""A grid of gated linear models trained as one module, and its retirement of settled models.

:class:`GatedLinearStack` holds every (alpha, fold) model of a cross-validated
fit: one pass over X per step serves them all. As models settle, the training
loop *retires* them (:meth:`GatedLinearStack.retire`): their parameters and
optimizer state are put aside and the module's parameters shrink to the models
still training, so the cost of a step falls with them;
:meth:`GatedLinearStack.restore` puts the whole grid back.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .gates import (
    HardConcreteGate,
    deterministic_gates,
    hard_concrete,
    logistic_noise,
)
from .nn.layers import ColumnPicker, L0Linear, gate_penalty


class GatedLinearStack(nn.Module):
    """A grid of independent gated linear models that read the same input.

    Model ``b`` (an index into ``batch_shape``, e.g. ``(alpha, fold)``) computes
    ``((x * scale_b - offset_b) * z_b) @ W_b + bias_b``: the per-model affine
    map re-standardizes inputs that were standardized once for all models
    (each cross-validation fold has its own column means and scales). All
    models' weights are laid side by side into one ``(in_features, n_models *
    out_features)`` matrix, so a forward pass reads ``x`` once, with one matrix
    product, however many models there are.

    Only the models still training (:attr:`active`) are computed, gates,
    product and penalty alike; retired models output 0 and have no penalty.

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
    cost : tensor of shape (n_gates,), optional
        Price of each gate relative to the model's ``l0`` (see :class:`L0Linear`).
    groups : LongTensor of shape (in_features,), optional
        The gate of each input (default: one per input), shared by every model.
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
        cost: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
        **gate_kwargs,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.batch_shape = tuple(batch_shape)
        self.n_models = math.prod(self.batch_shape)
        self.l2 = float(l2)
        self.weight = nn.Parameter(torch.zeros(*self.batch_shape, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(*self.batch_shape, out_features)) if bias else None
        n_gates = in_features if groups is None else int(groups.max()) + 1
        self.gate = HardConcreteGate((*self.batch_shape, n_gates), groups=groups, **gate_kwargs)
        self.register_buffer("cost", cost)
        l0 = torch.as_tensor(l0, dtype=torch.float32)
        self.register_buffer("l0", l0.expand(self.batch_shape).reshape(-1).clone())
        if scale is not None and not bool((scale > 0).all()):
            raise ValueError("GatedLinearStack: every input scale must be positive.")
        self.register_buffer("scale", self._flat(scale))
        # The offset enters as offset * z * W = (offset / scale) * (effective weight).
        shift = None if offset is None else offset / (1.0 if scale is None else scale)
        self.register_buffer("shift", self._flat(shift))
        self._set_active(None)
        self._retired: _Retired | None = None
        self.columns = ColumnPicker()

    def _flat(self, per_feature: torch.Tensor) -> torch.Tensor | None:
        if per_feature is None:
            return None
        full = per_feature.expand(*self.batch_shape, self.in_features)
        return full.reshape(self.n_models, self.in_features).clone()

    @property
    def active(self) -> torch.Tensor | None:
        """Flat indices of the models whose parameters the module holds (None: all of them).

        After :meth:`retire` the parameters have shape ``(len(active), ...)``
        instead of ``(*batch_shape, ...)``.
        """
        return self._active

    def _set_active(self, models: torch.Tensor | None) -> None:
        self._active = models
        rows = (lambda t: t) if models is None else (lambda t: t.index_select(0, models))
        self._rows = {
            name: None if buf is None else rows(buf)
            for name, buf in (("l0", self.l0), ("scale", self.scale), ("shift", self.shift))
        }

    def _apply(self, fn, recurse=True):  # .to(device): move the active rows with the buffers
        super()._apply(fn, recurse)
        self._set_active(None if self._active is None else fn(self._active))
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
        log_alpha = gate.log_alpha.reshape(-1, gate.n_gates)
        weight = self.weight.reshape(-1, n_in, n_out)
        scale, shift = self._rows["scale"], self._rows["shift"]
        if self.training:
            gate.constrain_()  # as HardConcreteGate.values does before drawing
            noise = logistic_noise(
                gate.n_gates, generator=gate.noise_generator(), device=x.device, dtype=weight.dtype
            )
            z = hard_concrete(
                log_alpha, noise, beta=gate.temperature, gamma=gate.gamma, zeta=gate.zeta
            )
        else:
            z = deterministic_gates(log_alpha, gamma=gate.gamma, zeta=gate.zeta)
        z = gate.to_columns(z)  # (models, in_features)
        picked = self.columns(x, lambda: (z != 0).any(dim=0), z.shape[0] * n_out)
        if picked is not None:  # only the columns whose gate is non-zero in some model
            cols, x = picked
            z, weight = z[:, cols], weight[:, cols]
            scale = None if scale is None else scale[:, cols]
            shift = None if shift is None else shift[:, cols]
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
        """The penalty of every model, shape ``batch_shape`` (0 for retired models)."""
        gate = self.gate
        penalty = gate_penalty(
            gate.prob_nonzero().reshape(-1, gate.n_gates),
            self.weight.reshape(-1, self.in_features, self.out_features),
            self._rows["l0"],
            self.l2,
            self.cost,
            gate.groups,
        )
        return self._scatter(penalty, 0).view(self.batch_shape)

    def open_mask(self) -> torch.Tensor:
        """Test-time open gates of every model, shape ``(*batch_shape, in_features)``.

        Retired models keep the gates they retired with.
        """
        live = self.gate.deterministic().reshape(-1, self.in_features) > 0
        if self._retired is None:
            return live.view(*self.batch_shape, -1)
        mask = self._retired.open.clone()
        mask[self._active] = live
        return mask.view(*self.batch_shape, -1)

    def member(self, index: tuple[int, ...]) -> L0Linear:
        """Model ``index`` as a :class:`L0Linear` on its own standardized inputs."""
        layer = L0Linear(
            self.in_features,
            self.out_features,
            bias=self.bias is not None,
            l0=float(self.l0.view(self.batch_shape)[index]),
            l2=self.l2,
            cost=self.cost,
            groups=self.gate.groups,
            always_open=self.gate.always_open,
            temperature=self.gate.temperature,
        ).to(self.weight.device)
        with torch.no_grad():
            layer.weight.copy_(self.weight[index])
            if self.bias is not None:
                layer.bias.copy_(self.bias[index])
            layer.gate.log_alpha.copy_(self.gate.log_alpha[index])
        return layer.eval()

    # ---- retirement: called by the training loop (its GridRetirement policy)

    def _parameter_slots(self) -> list[tuple[str, nn.Module, str]]:
        """``(name, owner, attribute)`` of every trained parameter of the grid."""
        slots = [("weight", self, "weight"), ("log_alpha", self.gate, "log_alpha")]
        return slots + ([("bias", self, "bias")] if self.bias is not None else [])

    @torch.no_grad()
    def retire(self, settled: np.ndarray, optimizer: torch.optim.Optimizer) -> None:
        """Put aside the models where ``settled`` (shape ``batch_shape``) and shrink to the rest.

        Their parameters, Adam state and open gates are kept as they are now;
        ``optimizer`` follows the module's new, smaller parameters.
        """
        if self._retired is None:
            self._retired = _Retired(self)
        retired = self._retired
        new = settled.ravel() & ~retired.mask
        if not new.any():
            return
        leaving = new[retired.rows]
        device = self.weight.device
        keep = torch.as_tensor(np.flatnonzero(~leaving), device=device)
        gone = torch.as_tensor(np.flatnonzero(leaving), device=device)
        gone_ids = torch.as_tensor(retired.rows[leaving], device=device)
        retired.open[gone_ids] = (self.gate.deterministic().reshape(-1, self.in_features) > 0)[gone]
        for name, owner, attr in self._parameter_slots():
            old = getattr(owner, attr)
            state = optimizer.state.get(old, {})
            per_model = _per_element(old, state)
            retired.put_aside(name, old, per_model, gone, gone_ids)
            new_state = dict(state)
            new_state.update(
                {k: retired.flat(name, v).index_select(0, keep) for k, v in per_model.items()}
            )
            new_param = nn.Parameter(retired.flat(name, old).index_select(0, keep))
            _swap(optimizer, owner, attr, new_param, new_state)
        retired.mask[new] = True
        retired.rows = retired.rows[~leaving]
        self._set_active(torch.as_tensor(retired.rows, device=device))

    @torch.no_grad()
    def restore(self, optimizer: torch.optim.Optimizer) -> None:
        """Put every model back, whole grid shape; the models still training keep their state."""
        retired, self._retired = self._retired, None
        if retired is None:
            return
        held = torch.as_tensor(retired.rows, device=self.weight.device)
        for name, owner, attr in self._parameter_slots():
            old = getattr(owner, attr)
            full = retired.kept[name]
            retired.flat(name, full)[held] = retired.flat(name, old)
            state = optimizer.state.get(old, {})
            new_state = dict(state)
            for k, v in _per_element(old, state).items():
                whole = retired.kept_state.get(name, {}).get(k, torch.zeros_like(full))
                retired.flat(name, whole)[held] = retired.flat(name, v)
                new_state[k] = whole
            _swap(optimizer, owner, attr, nn.Parameter(full), new_state)
        self._set_active(None)


class _Retired:
    """What :meth:`GatedLinearStack.retire` puts aside: grid-shaped copies, filled as models go."""

    def __init__(self, stack: GatedLinearStack) -> None:
        self.n_batch_dims = len(stack.batch_shape)
        self.kept = {
            name: getattr(owner, attr).detach().clone()
            for name, owner, attr in stack._parameter_slots()
        }
        self.kept_state: dict[str, dict[str, torch.Tensor]] = {}
        self.open = torch.zeros(
            stack.n_models, stack.in_features, dtype=torch.bool, device=stack.weight.device
        )
        self.mask = np.zeros(stack.n_models, bool)  # retired models
        self.rows = np.arange(stack.n_models)  # the models the module holds, in order

    def flat(self, name: str, t: torch.Tensor) -> torch.Tensor:
        """``t`` (a parameter or its optimizer state) as ``(models, ...)``."""
        return t.reshape(-1, *self.kept[name].shape[self.n_batch_dims :])

    def put_aside(self, name, param, per_model: dict, gone, gone_ids) -> None:
        """Copy rows ``gone`` of ``param`` and of its state to the grid rows ``gone_ids``."""
        self.flat(name, self.kept[name])[gone_ids] = self.flat(name, param)[gone]
        saved = self.kept_state.setdefault(
            name, {k: torch.zeros_like(self.kept[name]) for k in per_model}
        )
        for k, v in per_model.items():
            self.flat(name, saved[k])[gone_ids] = self.flat(name, v)[gone]


def _per_element(param: nn.Parameter, state: dict) -> dict:
    """The entries of an optimizer state that hold one value per parameter element."""
    return {k: v for k, v in state.items() if torch.is_tensor(v) and v.shape == param.shape}


def _swap(optimizer, owner: nn.Module, attr: str, new: nn.Parameter, state: dict) -> None:
    """Replace ``owner.attr`` by ``new`` in the module and in ``optimizer`` (with ``state``)."""
    old = getattr(owner, attr)
    setattr(owner, attr, new)
    for group in optimizer.param_groups:
        group["params"] = [new if p is old else p for p in group["params"]]
    optimizer.state.pop(old, None)
    if state:
        optimizer.state[new] = state
