"""``compact``: a gated network as a plain torch network without its closed parts.

A chain of layers is walked once. Each weight layer (``nn.Linear``,
``nn.Conv2d`` or their gated versions) feeds the next through modules that
act on every unit or channel separately (activations, pooling, dropout,
batch norm, ``nn.Flatten``). A unit or channel can leave the network when
the next weight layer ignores it (its input gate is closed) or when it is
*dead*: its producer's output gate is closed, so it carries a constant,
which the next layer folds into its bias. Gate values are folded into the
weights, so the compact network computes in eval mode what the gated one
computes in eval mode, with fewer parameters and FLOPs.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from .layers import L0Conv2d, L0Linear

_WEIGHT_LAYERS = (L0Linear, nn.Linear, nn.Conv2d)
_ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout,
)  # fmt: skip
_POOLING = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
_MONOTONE = (
    nn.ReLU, nn.ReLU6, nn.ELU, nn.SELU, nn.CELU, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Hardtanh,
    nn.Hardsigmoid,
)  # fmt: skip
"""Non-decreasing activations: ``f(max(x)) == max(f(x))``, so they commute with max pooling."""
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d)
SUPPORTED = (
    "nn.Linear, nn.Conv2d, L0Linear, L0Conv2d, element-wise activations, dropout, pooling, "
    "batch norm and nn.Flatten"
)


def _chain(module: nn.Module) -> list[nn.Module]:
    """The layers of a (nested) ``nn.Sequential``, or the one layer given."""
    if isinstance(module, nn.Sequential):
        return [m for child in module for m in _chain(child)]
    return [module]


def _check(layers: list[nn.Module]) -> None:
    for m in layers:
        if isinstance(m, _WEIGHT_LAYERS + _ELEMENTWISE + _POOLING + _BATCHNORM):
            if isinstance(m, nn.Conv2d) and (m.groups != 1 or m.padding_mode != "zeros"):
                raise NotImplementedError(
                    f"compact() handles convolutions with groups=1 and zero padding; got {m}."
                )
            continue
        if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
            continue
        raise NotImplementedError(
            f"compact() cannot compact {type(m).__name__} ({m}): it handles nn.Sequential "
            f"chains of {SUPPORTED} (nn.Flatten with its default dims). Compact the "
            "nn.Sequential parts of a network with other structure (residual connections, "
            "attention) one by one."
        )


def _eval_weight(layer) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Eval-mode weight and bias in torch's own layouts, gates folded in.

    ``nn.Linear`` layout ``(out, in)`` for dense layers, ``nn.Conv2d``'s for convolutions.
    """
    w = layer.weight.detach()
    b = None if layer.bias is None else layer.bias.detach()
    if isinstance(layer, L0Linear):
        w = layer.effective_weight().T
        if layer.input_offset is not None:
            shift = layer.input_offset @ layer.effective_weight()
            b = -shift if b is None else b - shift
    elif isinstance(layer, L0Conv2d):
        z = layer.gate.deterministic()
        w = w * z[:, None, None, None]
        b = None if b is None else b * z
    return w.clone(), None if b is None else b.clone()


def _input_ignored(layer) -> torch.Tensor | None:
    """Inputs the layer multiplies by a closed gate (mask over its input units), or None."""
    if isinstance(layer, L0Linear) and layer.gate is not None:
        return layer.gate.deterministic() == 0
    return None


def _output_dead(layer, n_out: int) -> torch.Tensor:
    """Outputs that are exactly zero in eval mode (closed output gates)."""
    if isinstance(layer, L0Conv2d):
        return layer.gate.deterministic() == 0
    return torch.zeros(n_out, dtype=torch.bool, device=layer.weight.device)


def _apply_per_channel(m: nn.Module, const: torch.Tensor, spatial: bool) -> torch.Tensor:
    """What the channel-wise module ``m`` makes of channels holding the constants ``const``."""
    if isinstance(m, _POOLING):
        return const  # a constant map pools to the same constant (zero padding aside, below)
    x = const[None, :, None, None] if spatial else const[None, :]
    return m(x).flatten()


@torch.no_grad()
def compact(module: nn.Module) -> nn.Module:
    """A plain torch copy of a gated network, without its closed units and channels.

    Gate values are folded into the weights (an open gate's value, in (0, 1]
    at test time, scales its row or filter), and every input unit, hidden
    unit or channel that no longer matters is removed: a unit whose
    :class:`L0Linear` input gate is closed; a channel whose :class:`L0Conv2d`
    gate is closed, with the matching input channels of the next
    convolution, or the matching block of columns of the next linear layer
    after an ``nn.Flatten`` (and single columns of kept channels there whose
    input gate is closed). What a removed unit still adds (a closed channel
    followed by a bias-shifting batch norm or a sigmoid carries a constant)
    goes into the next layer's bias. A max pooling that follows a
    non-decreasing activation (ReLU, sigmoid, tanh, ...) moves before it:
    same values, the activation on a map a fraction of the size. The
    result, in eval mode, computes what
    ``module.eval()`` computes (to float rounding) with fewer parameters and
    FLOPs, and holds only ``nn.Linear``, ``nn.Conv2d``, the modules
    between them and, after an ``nn.Flatten`` whose next layer reads only
    some columns of a kept channel, a :class:`SelectColumns` that gathers
    the columns it reads.

    The network's own inputs and outputs keep their size: input features
    whose first-layer gate is closed stay as zero columns (the estimators
    select the columns themselves).

    Parameters
    ----------
    module : torch.nn.Module
        An ``nn.Sequential`` (nested ones are flattened) of ``nn.Linear``,
        ``nn.Conv2d`` (``groups=1``), :class:`L0Linear`, :class:`L0Conv2d`,
        element-wise activations, dropout, pooling, batch norm and
        ``nn.Flatten``, or a single gated layer. Anything else raises
        ``NotImplementedError`` naming the module.

    Returns
    -------
    compact : torch.nn.Sequential
        In eval mode, on the device and dtype of ``module``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_l0.nn import L0Linear, compact
    >>> net = torch.nn.Sequential(L0Linear(10, 8), torch.nn.ReLU(), L0Linear(8, 2))
    >>> with torch.no_grad():
    ...     net[2].gate.log_alpha[:5] = -5.0  # close 5 of the 8 hidden units
    >>> plain = compact(net)
    >>> plain
    Sequential(
      (0): Linear(in_features=10, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=2, bias=True)
    )
    >>> x = torch.randn(4, 10)
    >>> torch.allclose(plain(x), net.eval()(x), atol=1e-6)
    True
    """
    layers = _chain(module)
    _check(layers)
    weights = [i for i, m in enumerate(layers) if isinstance(m, _WEIGHT_LAYERS)]
    if not weights:
        raise NotImplementedError("compact() found no nn.Linear, nn.Conv2d or gated layer.")
    # Each weight layer's outputs are removable where the next weight layer ignores them
    # or can fold their constant into its bias; the last layer keeps every output.
    plans = []  # per weight layer: kept outputs, constant of each output, flatten plan
    for k, i in enumerate(weights):
        layer = layers[i]
        w, b = _eval_weight(layer)
        n_out = w.shape[0]
        dead = _output_dead(layer, n_out)
        if k + 1 == len(weights):
            plans.append((torch.ones(n_out, dtype=torch.bool, device=w.device), None, None))
            continue
        nxt = layers[weights[k + 1]]
        between = layers[i + 1 : weights[k + 1]]
        spatial = isinstance(layer, nn.Conv2d)
        const = torch.zeros(n_out, dtype=w.dtype, device=w.device)  # value of a dead unit
        exact = True  # the constant survives the modules between unchanged in shape
        for m in between:
            if isinstance(m, nn.Flatten):
                spatial = False
            elif isinstance(m, _POOLING):
                padded = getattr(m, "padding", 0) not in (0, (0, 0))
                if isinstance(m, nn.AvgPool2d) and padded and m.count_include_pad:
                    exact = False
                const = _apply_per_channel(m, const, spatial)
            else:
                const = _apply_per_channel(copy.deepcopy(m).eval(), const, spatial)
        columns = _input_ignored(nxt)  # per input column of the next layer
        ignored = columns
        if ignored is not None and ignored.numel() != n_out:  # after a flatten: per block
            ignored = ignored.view(n_out, -1).all(dim=1)
        foldable = isinstance(nxt, L0Linear | nn.Linear) or all(p == 0 for p in _pair(nxt.padding))
        removable = dead & (const.eq(0) | (foldable & exact))
        if ignored is not None:
            removable |= ignored
        flatten = None  # after a flatten: (columns per channel, kept columns)
        if any(isinstance(m, nn.Flatten) for m in between):
            block = nxt.in_features // n_out
            kept_columns = (~removable).repeat_interleave(block)
            if columns is not None:
                kept_columns &= ~columns  # a kept channel's single closed inputs go too
            flatten = (block, kept_columns)
        plans.append((~removable, torch.where(dead, const, 0.0), flatten))
    # Build: slice every layer to the kept units of its input and output.
    out: list[nn.Module] = []
    kept_in, const_in, flatten = None, None, None
    for idx, m in enumerate(layers):
        if idx in weights:
            k = weights.index(idx)
            keep, const, flatten = plans[k]
            out.append(_sliced(m, kept_in, const_in, keep))
            kept_in, const_in = keep, const
        elif isinstance(m, nn.Flatten) and flatten is not None:
            # from here on the units are columns: those of the kept channels, less the
            # columns the next layer ignores (gathered by SelectColumns)
            block, kept_columns = flatten
            out.append(copy.deepcopy(m))
            channel_columns = kept_in.repeat_interleave(block)
            if not torch.equal(kept_columns, channel_columns):
                out.append(SelectColumns(kept_columns[channel_columns].nonzero().flatten()))
            kept_in, const_in = kept_columns, const_in.repeat_interleave(block)
            flatten = None
        elif isinstance(m, _BATCHNORM):
            out.append(_sliced_norm(m, kept_in))
        else:
            out.append(copy.deepcopy(m).eval())
    return nn.Sequential(*_pool_first(out)).eval()


def _pool_first(layers: list[nn.Module]) -> list[nn.Module]:
    """Max pooling moved before the non-decreasing activation that precedes it.

    The values are the same (the largest input gives the largest output) and
    the activation then runs on the pooled map, a fraction of the size.
    """
    layers = list(layers)
    for i in range(len(layers) - 1):
        act, pool = layers[i], layers[i + 1]
        monotone = isinstance(act, _MONOTONE) or (
            isinstance(act, nn.LeakyReLU) and act.negative_slope >= 0
        )
        if monotone and isinstance(pool, nn.MaxPool2d | nn.AdaptiveMaxPool2d):
            layers[i], layers[i + 1] = pool, act
    return layers


class SelectColumns(nn.Module):
    """Keeps the given columns of a batch of flat inputs: ``x[:, index]``.

    :func:`compact` puts one after an ``nn.Flatten`` where the next linear
    layer reads only some columns of a kept channel (its other input gates are
    closed), so that layer shrinks to the columns it reads.

    Parameters
    ----------
    index : tensor of int64
        Positions of the kept columns.
    """

    def __init__(self, index: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("index", index.to(torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.index)

    def extra_repr(self) -> str:
        return f"n_columns={self.index.numel()}"


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, tuple | list) else (v, v)


def _sliced(layer, kept_in, const_in, kept_out) -> nn.Module:
    """``layer`` as a plain layer on its kept inputs and outputs; removed inputs' constants
    folded into the bias (per input unit, or per channel over the kernel)."""
    w, b = _eval_weight(layer)
    if kept_in is not None:
        n_units = kept_in.numel()
        per_unit = w.view(w.shape[0], n_units, -1)  # (out, unit, block or kernel)
        removed = ~kept_in
        if const_in is not None and bool((const_in[removed] != 0).any()):
            shift = (per_unit[:, removed] * const_in[removed][None, :, None]).sum(dim=(1, 2))
            b = shift if b is None else b + shift
        w = per_unit[:, kept_in].reshape(w.shape[0], -1, *w.shape[2:])
    w, b = w[kept_out], None if b is None else b[kept_out]
    with warnings.catch_warnings():  # a layer left with no unit is built empty, on purpose
        warnings.filterwarnings("ignore", "Initializing zero-element tensors", UserWarning)
        if isinstance(layer, nn.Conv2d):
            plain = nn.Conv2d(
                w.shape[1],
                w.shape[0],
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                dilation=layer.dilation,
                bias=b is not None,
                device=w.device,
                dtype=w.dtype,
            )
        else:
            plain = nn.Linear(
                w.shape[1], w.shape[0], bias=b is not None, device=w.device, dtype=w.dtype
            )
    plain.weight.copy_(w)
    if b is not None:
        plain.bias.copy_(b)
    return plain.eval()


def _sliced_norm(norm, kept) -> nn.Module:
    """A batch norm restricted to the kept channels."""
    norm = copy.deepcopy(norm).eval()
    if kept is None or bool(kept.all()):
        return norm
    sliced = type(norm)(
        int(kept.sum()),
        eps=norm.eps,
        momentum=norm.momentum,
        affine=norm.affine,
        track_running_stats=norm.track_running_stats,
        device=kept.device,
    )
    state = {k: (v[kept] if v.dim() == 1 else v) for k, v in norm.state_dict().items()}
    sliced.load_state_dict(state)
    return sliced.eval()
