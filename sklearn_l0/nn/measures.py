"""What a gated network costs: its expected L0 penalty, its FLOPs, its open gates."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import L0Conv2d, L0Linear


def gated_layers(module: nn.Module) -> list[tuple[str, L0Linear | L0Conv2d]]:
    """``(name, layer)`` of every gated layer of ``module``, in ``named_modules`` order."""
    return [
        (name, m)
        for name, m in module.named_modules()
        if isinstance(m, L0Linear | L0Conv2d) and m.gate is not None
    ]


def l0_penalty(
    module: nn.Module, *, count: str = "weights", weight_decay: float = 0.0
) -> torch.Tensor:
    """The expected L0 norm of a network's gated parameters (differentiable).

    ``sum_g P(z_g != 0) * n_g`` over every gate ``g`` of every
    :class:`L0Linear` and :class:`L0Conv2d` inside ``module``, where ``n_g``
    is the number of parameters the gate switches off (an input unit's row
    of weights, a channel's filter and bias): the paper's eq. 3. The
    training objective of the paper is then ::

        loss = criterion(model(x), y) + lam * l0_penalty(model)

    with ``lam = c / N`` for ``N`` training examples (``c = 0.1`` in its
    MNIST networks) and ``criterion`` averaged over the batch.

    Parameters
    ----------
    module : torch.nn.Module
        Any network; layers other than the gated ones add nothing.
    count : {"weights", "gates"}, default="weights"
        Count the parameters each gate switches (the paper), or the gates
        themselves (every gate costs 1, whatever its size: the expected
        number of kept units, features or channels).
    weight_decay : float, default=0.0
        Adds the paper's expected L2 term (eq. 13-14),
        ``weight_decay / 2 * sum_g P(z_g != 0) * ||theta_g||^2``, inside the
        sum (so it is multiplied by ``lam`` too). The reference code's
        ``model.regularization()`` with ``lamba=1`` and ``weight_decay=wd`` is
        ``l0_penalty(model, weight_decay=wd) / N``.

    Returns
    -------
    penalty : scalar tensor
        On the parameters' device, with gradients to the gate locations (and
        to the weights when ``weight_decay > 0``).
    """
    if count not in ("weights", "gates"):
        raise ValueError(f"count must be 'weights' or 'gates'; got {count!r}.")
    total = None
    for _, layer in gated_layers(module):
        p = layer.gate.prob_nonzero()
        term = p.sum() if count == "gates" else (p * layer.gate_sizes()).sum()
        if weight_decay:
            term = term + 0.5 * weight_decay * (p * layer.gate_sq_norms()).sum()
        total = term if total is None else total + term
    if total is None:
        param = next(module.parameters(), None)
        return torch.zeros((), device=None if param is None else param.device)
    return total


@torch.no_grad()
def expected_flops(module: nn.Module, input_shape) -> float:
    """Expected floating-point operations of one forward pass on one example.

    Counts the linear and convolution layers (``nn.Linear``, ``nn.Conv2d``,
    :class:`L0Linear`, :class:`L0Conv2d`; a multiply and an add per weight
    and position, an add per bias): the rest of a network (activations,
    pooling) costs little beside them. A gated layer counts each gated
    input unit or channel by its probability of being non-zero under the
    training distribution, as the reference code logs; a plain layer counts
    in full, so ``expected_flops(compact(model), shape)`` is the exact count
    of the compacted network.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    input_shape : tuple of int
        Shape of one example, without the batch dimension (``(784,)``,
        ``(1, 28, 28)``).

    Returns
    -------
    flops : float
    """
    total = 0.0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, L0Linear):
            n_in = layer.in_features
            if layer.gate is not None:
                n_in = float(layer.gate.to_columns(layer.gate.prob_nonzero()).sum())
            total += 2.0 * n_in * layer.out_features
            return
        if isinstance(layer, nn.Linear):
            total += 2.0 * layer.in_features * layer.out_features
            return
        # convolutions: per output position, a dot product of length n per kept channel
        positions = output.shape[-1] * output.shape[-2]
        n = layer.weight[0].numel()
        channels = (
            float(layer.gate.prob_nonzero().sum())
            if isinstance(layer, L0Conv2d)
            else (layer.out_channels)
        )
        total += positions * channels * (2.0 * n - 1.0 + (layer.bias is not None))

    hooks = [
        m.register_forward_hook(count)
        for m in module.modules()
        if isinstance(m, L0Linear | nn.Linear | nn.Conv2d)
    ]
    modes = {m: m.training for m in module.modules()}
    param = next(module.parameters(), None)
    try:
        module.eval()
        x = torch.zeros(
            (1, *input_shape),
            device=None if param is None else param.device,
            dtype=None if param is None else param.dtype,
        )
        module(x)
    finally:
        for hook in hooks:
            hook.remove()
        for m, mode in modes.items():
            m.training = mode
    return total


@dataclass
class SparsityReport:
    """Open test-time gates per gated layer; ``str()`` gives the paper's "20-25-45-462".

    Attributes
    ----------
    names : list of str
        The gated layers (names within the network).
    n_open : list of int
        Open gates per layer: kept input units of an :class:`L0Linear`, kept
        output channels of an :class:`L0Conv2d`.
    n_gates : list of int
        Gates per layer.
    """

    names: list[str]
    n_open: list[int]
    n_gates: list[int]

    @property
    def architecture(self) -> str:
        """The open gates of every layer joined by dashes, as the paper writes architectures."""
        return "-".join(str(k) for k in self.n_open)

    def __str__(self) -> str:
        return self.architecture

    def table(self) -> str:
        """One line per layer: name, open gates out of all."""
        width = max((len(n) for n in self.names), default=0)
        return "\n".join(
            f"{name:<{width}}  {k:>6} / {n} open"
            for name, k, n in zip(self.names, self.n_open, self.n_gates, strict=True)
        )


def sparsity_report(module: nn.Module) -> SparsityReport:
    """Which gates of a network are open at test time, per gated layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_l0.nn import L0Linear, sparsity_report
    >>> net = torch.nn.Sequential(L0Linear(784, 300), torch.nn.ReLU(), L0Linear(300, 10))
    >>> str(sparsity_report(net))  # open input units of each gated layer
    '784-300'
    """
    layers = gated_layers(module)
    return SparsityReport(
        names=[name for name, _ in layers],
        n_open=[int(layer.gate.is_open().sum()) for _, layer in layers],
        n_gates=[layer.gate.n_gates for _, layer in layers],
    )
