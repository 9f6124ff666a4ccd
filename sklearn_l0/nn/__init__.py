"""L0 gates for your own PyTorch networks (Louizos, Welling & Kingma, ICLR 2018).

The estimators of :mod:`sklearn_l0` are built from these same modules. For a
network of your own:

- :class:`L0Linear` and :class:`L0Conv2d` take the arguments of ``nn.Linear``
  and ``nn.Conv2d`` and put a hard concrete gate on every input unit or
  output channel; :class:`HardConcreteGate` gates any dimension of any tensor;
- :func:`l0_penalty` is the expected number of non-zero parameters, to add to
  the loss as ``loss + lam * l0_penalty(model)`` with ``lam = c / N``;
- :func:`compact` returns the plain ``nn.Linear`` / ``nn.Conv2d`` network
  without the closed units and channels; :func:`sparsity_report` and
  :func:`expected_flops` say what is left.

Sampled gates in ``train()`` mode, deterministic ones (exactly 0 or not) in
``eval()`` mode, as torch's own layers switch behaviour.
"""

from ..gates import HardConcreteGate
from .compaction import SelectColumns, compact
from .layers import L0Conv2d, L0Linear
from .measures import SparsityReport, expected_flops, l0_penalty, sparsity_report

__all__ = [
    "HardConcreteGate",
    "L0Conv2d",
    "L0Linear",
    "SelectColumns",
    "SparsityReport",
    "compact",
    "expected_flops",
    "l0_penalty",
    "sparsity_report",
]
