"""The networks' price path: its schedule, the supports recorded along it, and the walk.

Every network fit is one warm-started path. Training starts with every
feature gate open at a price too low to close any (``PriceSchedule.start``),
so the network first learns what the features do; the price then rises
while the network trains, and the features leave in the order of their
worth. The path stops where the fit asks:

- at a price (``alpha``), where the model settles and is returned;
- at a count (``n_features_to_select``): the first support of at most that
  many features;
- at each price of a grid in turn (the CV estimators), each settled and
  scored on held-out rows, the model at the chosen price kept.

Along the way :class:`PricePath` records every distinct support (the price at
which it appeared and the training loss there) and, for every gate, the
highest price at which it was still open: the order in which the features
left, i.e. their importances.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from .training import OwnPrice, Run, own_step


@dataclass(frozen=True)
class PriceSchedule:
    """How the price of the feature gates rises along a network's path.

    Every field is a positive number; pass an instance (or a dict of the
    fields to change) as the ``schedule`` parameter of the network
    estimators. The defaults and the measurements behind them are in the
    user guide's design notes.

    Parameters
    ----------
    start : float, default=1e-3
        Lowest price per feature gate (loss units) that the path starts from,
        low enough that no gate closes before the network has learned what
        the features do. A fit whose ``alpha`` is below it starts at ``alpha``.
    span : float, default=10.0
        Largest ratio of the first price the path stops at (``alpha``, or the
        lowest price of a CV grid) to the price it starts from: a path to
        ``alpha=0.05`` starts at 0.005, not lower; a count (no price to stop
        at) starts at ``start``. See the user guide for what was measured.
    step_rise : float, default=0.01
        Largest rise of the price per optimizer step, on a log scale (0.01:
        1% a step).
    epoch_rise : float, default=0.1
        Largest rise of the price over one epoch, on a log scale: with more
        than ``epoch_rise / step_rise`` mini-batches an epoch the steps are
        smaller, so that every gate is weighed on every training row before
        the price has moved much (a gate lags the price).
    wide_gate_step : float, default=5.0
        Where the feature gates outnumber the training rows, the gates step
        at this many times the learning rate (1: the common rate), so that
        they close while the data still rank them, before the network has
        fitted every row.
    max_log_alpha : float, default=log(4)
        Highest ``log_alpha`` of a feature gate along the path: no gate opens
        further than the input gates start (drop rate 0.2). Far inside its
        open range a gate answers the price only at many times the feature's
        worth (the gradient of ``P(z != 0)`` vanishes there faster than the
        data's, by ``exp(-3.2)``), so features the network used at a low
        price would stay at any price.

    Examples
    --------
    >>> from sklearn_l0 import L0MLPClassifier, PriceSchedule
    >>> clf = L0MLPClassifier(schedule=PriceSchedule(step_rise=0.005))
    >>> clf.set_params(schedule={"start": 1e-4}).schedule
    {'start': 0.0001}
    """

    start: float = 1e-3
    span: float = 10.0
    step_rise: float = 0.01
    epoch_rise: float = 0.1
    wide_gate_step: float = 5.0
    max_log_alpha: float = math.log(4.0)

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(
                    f"PriceSchedule.{field.name} must be a positive finite number; got {value!r}."
                )

    def rate(self, n_batches: int) -> float:
        """The rise per step (log scale) with ``n_batches`` mini-batches an epoch."""
        return min(self.step_rise, self.epoch_rise / n_batches)


def resolve_schedule(schedule: PriceSchedule | Mapping | None) -> PriceSchedule:
    """The ``schedule`` parameter as a :class:`PriceSchedule` (None: the defaults).

    A mapping changes the fields it names; an unknown name is refused with
    the list of fields.
    """
    if schedule is None:
        return PriceSchedule()
    if isinstance(schedule, PriceSchedule):
        return schedule
    names = [field.name for field in fields(PriceSchedule)]
    unknown = sorted(set(schedule) - set(names))
    if unknown:
        raise ValueError(
            f"schedule has no field {unknown[0]!r}; the fields of PriceSchedule are "
            f"{', '.join(names)}."
        )
    return PriceSchedule(**schedule)


class PricePath(OwnPrice):
    """The rising price of ``layer``'s gates, as a training-loop policy that lasts a whole path.

    The path starts at ``start``, or where ``schedule`` says (from the first
    price it is aimed at).

    The price is this policy's term (see
    :class:`~sklearn_l0.training.OwnPrice`); one instance serves every
    :func:`~sklearn_l0.training.train` call of a path, each aimed (:meth:`aim`)
    at a price or at a count. Within a call the price rises by ``exp(rate)``
    a step (``schedule.rate``) until it reaches the price aimed at, or, for a
    count, scaled down by the relative excess of open gates (clipped to
    [0, 1]) until at most ``count`` gates are open; from then on the price
    stays, and the model is settled as far as this policy goes. After every
    step the gates' ``log_alpha`` is clamped to ``schedule.max_log_alpha``.

    Records, at every convergence check, each support that differs from the
    last one recorded (:attr:`prices`, :attr:`supports`, :attr:`losses`), and
    after every step, on the device, the highest price at which each gate
    was open (:attr:`open_price`).
    """

    def __init__(
        self, layer: nn.Module, schedule: PriceSchedule, start: float | None = None
    ) -> None:
        super().__init__(layer)
        self.schedule, self.start = schedule, start
        self.multiplier = None
        self.cap, self.count = math.inf, None
        self.prices: list[float] = []
        self.supports: list[np.ndarray] = []
        self.losses: list[float] = []

    def aim(self, *, price: float | None = None, count: int | None = None) -> None:
        """Rise until ``price`` (at most), or until at most ``count`` gates are open."""
        self.cap = math.inf if price is None else float(price)
        self.count = count

    def begin(self, run: Run) -> None:
        if self.multiplier is None:  # the path starts: every gate open, at a low price
            start = self.start
            if start is None:
                start = self.schedule.start
                if math.isfinite(self.cap):
                    start = max(start, self.cap / self.schedule.span)
            self.take_price(min(start, self.cap))
            self.open_price = torch.zeros_like(self.layer.gate.log_alpha.detach())
        self.rate = self.schedule.rate(run.n_batches)
        self.reached = torch.zeros((), dtype=torch.bool, device=self.multiplier.device)
        log_alpha = self.layer.gate.log_alpha
        self.rejoin = None
        if log_alpha.numel() > run.data.n_samples and self.schedule.wide_gate_step != 1:
            self.rejoin = own_step(run.optimizer, log_alpha, self.schedule.wide_gate_step)

    def end(self, run: Run) -> None:
        if self.rejoin is not None:
            self.rejoin()

    @torch.no_grad()
    def after_step(self, run: Run) -> None:
        self.layer.gate.log_alpha.clamp_(max=self.schedule.max_log_alpha)
        is_open = self.layer.gate.is_open()
        torch.where(is_open, self.multiplier, self.open_price, out=self.open_price)
        if self.count is None:
            self.multiplier.mul_(math.exp(self.rate)).clamp_(max=self.cap)
            self.reached = self.multiplier >= self.cap
            return
        n_open = is_open.sum()
        self.reached |= n_open <= self.count
        excess = ((n_open - self.count) / self.count).clamp(0.0, 1.0)
        self.multiplier.mul_(torch.exp(torch.where(self.reached, 0.0, self.rate * excess)))

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        support = self.layer.gate.is_open().cpu().numpy()
        if not self.supports or not np.array_equal(support, self.supports[-1]):
            self.prices.append(self.price)
            self.supports.append(support)
            self.losses.append(float(np.sum(run.current)))
        return settled & bool(self.reached)

    def hand_back(self) -> None:
        """Charge the gates at the path's current price through the layer's own ``l0`` again."""
        self.layer.l0 = self.price

    @property
    def price(self) -> float:
        """The price per gate where the path stands."""
        return float(self.multiplier)

    def any_open(self) -> bool:
        """Whether any feature gate is open at test time."""
        return bool(self.layer.gate.is_open().any())

    def unmet(self) -> str | None:
        if bool(self.reached):
            return None
        if self.count is None:
            return f"the price rose to alpha ({self.cap:.4g}; it is {self.price:.4g})"
        n_open = int(self.layer.gate.is_open().sum())
        return f"at most {self.count} feature gates were open ({n_open} are; the most open kept)"


def importances(
    path: PricePath, kept: torch.Tensor, model_price: float, at_model: torch.Tensor
) -> np.ndarray:
    """Per column: the highest price at which its gate was open; kept features above the rest.

    ``kept``: the gates of the returned model, taken at ``model_price``
    with ``at_model`` the path's :attr:`~PricePath.open_price` then; the path
    may have gone on past it (the CV estimators walk their grid to the end).
    A gate left out scores its closing price (at most ``model_price``); a
    kept gate scores the price where it closed later, at least
    ``model_price``, or, still open where the path ended, that price times
    ``1 + P(z != 0)``. Call it before the gates are frozen.
    """
    gate = path.layer.gate
    with torch.no_grad():
        proba = gate.learned_prob_nonzero()
        if gate.always_open is not None:
            proba = proba.masked_fill(gate.always_open, 1.0)
        closed_later = path.open_price.clamp(min=model_price)
        top = torch.where(gate.is_open(), path.price * (1.0 + proba), closed_later)
        score = torch.where(kept, top, at_model)
        if gate.groups is not None:
            score = score.index_select(-1, gate.groups)
    return score.double().cpu().numpy()
