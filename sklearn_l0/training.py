"""The one training loop, and the policies it calls at fixed hooks.

:func:`train` minimises ``loss + module.regularization()`` (plus any policy's
penalty) with Adam over mini-batches on the module's device. It reads nothing
back from the device inside an epoch: per-epoch objectives accumulate in a
device buffer copied to the host once per *check* (every few epochs, so that
at least ``CHECK_STEPS`` optimizer steps separate two checks).

What decides when to stop, and what else happens during training, are
:class:`Policy` objects, in the spirit of skorch's callbacks:

- :class:`Convergence`: a model has settled when its objective with test-time
  gates is flat and its open gates have not changed (the default);
- :class:`GatesSettled`: settled when the expected number of open gates has
  stopped moving (the networks add it to :class:`Convergence`);
- :class:`EarlyStopping`: settled when a validation score stops improving;
  the best-scoring parameters are kept;
- :class:`CountTarget`: moves the price of the feature gates until a target
  number of them is open (the linear models; the networks' rising price is
  :class:`~sklearn_l0.path.PricePath`);
- :class:`GridRetirement`: for a grid of models, settled models leave the
  computation (:meth:`~sklearn_l0.grid.GatedLinearStack.retire`);
- :class:`ParameterAveraging`: the model ends with an exponential moving
  average of its parameters (the paper's "Adam with temporal averaging").

The loop stops when every model has been settled for ``n_iter_no_change``
epochs. A module may hold a grid of independent models (``batch_shape``, e.g.
``(n_alphas, n_folds)``): its output is ``(n_samples, *batch_shape,
n_outputs)``, every loss and penalty has one value per model, and the
stopping rule applies to each model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from .data import Dataset
from .gates import LOG_ALPHA_RANGE, HardConcreteGate
from .losses import LossFn, ScoreFn
from .utils import user_stacklevel

CHECK_STEPS = 10
"""Fewest optimizer steps between two convergence checks (a check costs one sync)."""

DIVERGED_RISE = 10.0
"""Training diverged if its final objective exceeds the starting one by this many times
``max(1, |start|)`` (the objectives are in units of a standardized loss: a model that
predicts a constant scores about 1). Generous, so that the transient overshoot of an
aggressive step size over one short epoch is not mistaken for divergence."""

EVAL_ELEMENTS = 1 << 22
"""Entries of X per batch (at least) when a model is evaluated: 16 MB of float32."""

COUNT_RATE = 0.01
"""Step size (log scale, per optimizer step) of the multiplier of a target gate count."""


class TrainingDivergedError(FloatingPointError, ValueError):
    """Training diverged: the objective became non-finite or exploded.

    The remedy is a lower learning rate. It is a ``FloatingPointError`` and, as
    scikit-learn's SGD estimators raise for the same fault, a ``ValueError``.
    """


@dataclass
class History:
    """What one call of :func:`train` did."""

    n_iter: int = 0
    loss_curve: list[float] = field(default_factory=list)
    n_open_curve: list[int] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_validation_score: float | None = None
    converged: bool = False

    def member(self, index: tuple[int, ...]) -> History:
        """The history of model ``index`` of a grid."""

        def pick(curve):
            return np.asarray(curve)[(slice(None), *index)].tolist()

        return History(self.n_iter, pick(self.loss_curve), pick(self.n_open_curve))

    def extend(self, later: History) -> History:
        """This history followed by ``later`` (a continued run; its ``converged`` holds)."""
        self.converged = later.converged
        self.n_iter += later.n_iter
        self.loss_curve += later.loss_curve
        self.n_open_curve += later.n_open_curve
        return self


def adam_optimizer(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where this torch supports it (half the step cost)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older torch: no fused CPU implementation
        return torch.optim.Adam(params, lr=lr)


def own_step(
    optimizer: torch.optim.Optimizer, param: torch.Tensor, factor: float
) -> Callable[[], None]:
    """Give ``param`` a group of its own in ``optimizer``, at ``factor`` times the step.

    Returns the undo: ``param`` back in its place in its group, so that the
    optimizer's ``state_dict`` is laid out as a fresh optimizer's (a later
    ``partial_fit`` loads it into one); the parameter's state moves with it.
    """
    found = [
        (group, i)
        for group in optimizer.param_groups
        for i, p in enumerate(group["params"])
        if p is param
    ]
    if not found:
        raise ValueError("the parameter is not in the optimizer")
    group, place = found[0]
    del group["params"][place]  # a group left empty meanwhile is skipped by the steps
    optimizer.add_param_group({"params": [param], "lr": group["lr"] * factor})
    own = optimizer.param_groups[-1]

    def undo() -> None:
        optimizer.param_groups[:] = [g for g in optimizer.param_groups if g is not own]
        group["params"].insert(place, param)

    return undo


@torch.no_grad()
def mean_over_batches(module: nn.Module, fn: LossFn, data: Dataset, batch_size: int):
    """``fn`` over the data with test-time gates, averaged over batches by size.

    The batches hold at least ``batch_size`` rows and at least
    :data:`EVAL_ELEMENTS` entries of X (no gradient is kept, so a pass
    over the data needs few of them).
    """
    was_training = module.training
    module.eval()
    batch_size = max(batch_size, EVAL_ELEMENTS // max(data.X.shape[1], 1))
    if batch_size >= data.n_samples:
        result = fn(module(data.X), data.y, data.w)
    else:
        result = 0.0
        for Xb, yb, wb in data.batches(batch_size, None, shuffle=False):
            result = result + fn(module(Xb), yb, wb) * (Xb.shape[0] / data.n_samples)
    module.train(was_training)
    return result


def constant_loss(loss_fn: LossFn, data: Dataset, n_outputs: int) -> float:
    """The data loss of the best constant output: what a model that uses no feature scores.

    Found by L-BFGS on one output vector (the loss is convex in it).
    """
    y, w = data.y, data.w
    out = torch.zeros(n_outputs, device=y.device, requires_grad=True)
    solver = torch.optim.LBFGS([out], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        solver.zero_grad()
        loss = loss_fn(out.expand(len(y), n_outputs), y, w)
        loss.backward()
        return loss

    solver.step(closure)
    with torch.no_grad():
        return float(loss_fn(out.expand(len(y), n_outputs), y, w))


def evaluate(module: nn.Module, loss_fn: LossFn, data: Dataset, batch_size: int) -> torch.Tensor:
    """Objective with test-time (deterministic) gates: data loss plus regularization.

    Unlike the training objective it has no gate noise, so it is what the
    stopping rule watches. Returns a device tensor (one value per model).
    """
    with torch.no_grad():
        return mean_over_batches(module, loss_fn, data, batch_size) + module.regularization()


@dataclass
class Run:
    """The state of one :func:`train` call that policies read (and the loop updates)."""

    module: nn.Module
    loss_fn: LossFn
    data: Dataset
    batch_size: int
    optimizer: torch.optim.Optimizer
    tol: float
    patience: int  # n_iter_no_change
    history: History = field(default_factory=History)
    current: np.ndarray | None = None  # objective with test-time gates at the last check
    open_mask: torch.Tensor | None = None  # test-time open gates at the last check
    n_seen: int = 0  # epochs since the previous check

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid of models (``()`` for one model)."""
        return self.module.batch_shape

    @property
    def n_batches(self) -> int:
        """Mini-batches (optimizer steps) an epoch."""
        return math.ceil(self.data.n_samples / self.batch_size)

    def objective(self) -> np.ndarray:
        """The objective with test-time gates, per model (one host sync)."""
        return evaluate(self.module, self.loss_fn, self.data, self.batch_size).cpu().numpy()


class Policy:
    """A training-loop policy. The loop calls the hooks in this order:

    ``begin`` once; ``penalty`` (added to the training objective) and
    ``after_step`` at every optimizer step; at every check ``settle`` (in
    the order of the policies: each receives the previous one's per-model
    verdict and returns its own) then, unless training stops,
    ``after_check``; ``end`` once, also when training fails. ``unmet`` names
    what a policy still waits for when ``max_iter`` stops training.
    """

    restored_best = False
    """True when the policy replaced the last step's parameters (by the best checked ones,
    or an average), so that the last epoch's sampled objective no longer describes them."""

    def begin(self, run: Run) -> None:
        pass

    def penalty(self) -> torch.Tensor | float:
        return 0.0

    def after_step(self, run: Run) -> None:
        pass

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        return settled

    def after_check(self, run: Run, stale: np.ndarray) -> None:
        pass

    def end(self, run: Run) -> None:
        pass

    def unmet(self) -> str | None:
        return None


class Convergence(Policy):
    """Settled: the objective with test-time gates has not improved on its best by ``tol``
    and the set of open test-time gates is unchanged since the previous check."""

    def begin(self, run: Run) -> None:
        self.best = np.full(run.shape, math.inf)
        self.mask = run.module.open_mask()

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        settled = settled & (run.current > self.best - run.tol)
        if run.open_mask is not None:
            settled &= (run.open_mask == self.mask).all(-1).cpu().numpy()
        self.mask, self.best = run.open_mask, np.minimum(self.best, run.current)
        return settled

    def unmet(self) -> str:
        return "the objective and the gates settled"


class GatesSettled(Policy):
    """Settled: the expected number of open gates has moved by less than ``drift`` (one gate)
    since the model was last unsettled.

    At a low price, gates can drift shut for hundreds of epochs while the
    objective rule of :class:`Convergence` already holds: closing one gate
    gains less than ``tol``, and the objective with test-time gates may even
    rise while their values shrink toward zero, so it stops improving on its
    best. Where and when such a fit stopped decided how many features it
    kept (on ISOLET at a price of 3.16e-4: 611 of 617, ``sum_g P(z_g != 0)``
    still falling by one gate every two epochs). The sum of the gates'
    probabilities of being non-zero moves before any gate closes.

    Nor is a gate settled while Adam still steps it one way: a gate far
    inside its open range (``log_alpha`` up to the clamp of
    :data:`~sklearn_l0.gates.LOG_ALPHA_RANGE`, where ``P(z != 0)`` and the
    test-time gate no longer move) travels hundreds of steps toward closing,
    about one learning rate a step, before anything the rules above watch
    changes. Adam's moment estimates tell: under a gradient of one sign the
    bias-corrected ``m / sqrt(v)`` is about 1, under noise about
    ``0.23 N(0, 1)``; a gate above ``consistency`` (0.9), stepped toward
    closing and not yet at the bottom of its range, is still moving (a gate
    pushed open may be held at a cap). Single models only (a grid's gates
    share one parameter).
    """

    def __init__(self, drift: float = 1.0, consistency: float = 0.9) -> None:
        self.drift, self.consistency = drift, consistency

    def begin(self, run: Run) -> None:
        self.gates = [m for m in run.module.modules() if isinstance(m, HardConcreteGate)]
        self.optimizer = run.optimizer
        self.reference = self._expected_open()
        self.drifting = False

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        expected = self._expected_open()
        steady = np.abs(expected - self.reference) < self.drift
        if not run.shape:
            steady = steady & ~self._stepping()
        self.drifting = not np.all(steady)
        settled = settled & steady
        self.reference = np.where(settled, self.reference, expected)
        return settled

    @torch.no_grad()
    def _stepping(self) -> bool:
        """Whether Adam steps some gate toward closing, step after step (see the class
        docstring)."""
        groups = {id(p): g for g in self.optimizer.param_groups for p in g["params"]}
        low = LOG_ALPHA_RANGE[0]
        for gate in self.gates:
            la = gate.log_alpha
            state = self.optimizer.state.get(la, {})
            if gate.frozen_mask is not None or "exp_avg" not in state or id(la) not in groups:
                continue
            beta1, beta2 = groups[id(la)]["betas"]
            t = float(state["step"])
            m = state["exp_avg"] / (1 - beta1**t)
            v = state["exp_avg_sq"] / (1 - beta2**t)
            ratio = m / (v.sqrt() + 1e-12)  # > 0: a step down (toward closing)
            if bool(((ratio > self.consistency) & (la > low + 1e-6)).any()):
                return True
        return False

    def unmet(self) -> str | None:
        if not self.drifting:
            return None
        return f"the gates settled (the expected number of open gates moving by < {self.drift:g})"

    @torch.no_grad()
    def _expected_open(self) -> np.ndarray:
        """``sum_g P(z_g != 0)`` over every gate of the module, per model."""
        if not self.gates:
            return np.zeros(())
        return sum(gate.prob_nonzero().sum(-1) for gate in self.gates).double().cpu().numpy()


class EarlyStopping(Policy):
    """Settled: ``score_fn`` on held-out data has not improved by ``tol``.

    Keeps the parameters of the best-scoring check and puts them back at the end.
    """

    def __init__(self, validation: Dataset, score_fn: ScoreFn) -> None:
        self.validation, self.score_fn = validation, score_fn

    def begin(self, run: Run) -> None:
        self.best, self.best_state = math.inf, None

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        score = float(mean_over_batches(run.module, self.score_fn, self.validation, run.batch_size))
        run.history.validation_scores.extend([score] * run.n_seen)
        if -score < self.best:
            self.best_state = {k: v.detach().clone() for k, v in run.module.state_dict().items()}
            run.history.best_validation_score = score
        settled = settled & (-score > self.best - run.tol)
        self.best = min(self.best, -score)
        return settled

    def end(self, run: Run) -> None:
        if self.best_state is not None:
            run.module.load_state_dict(self.best_state)
            self.restored_best = True

    def unmet(self) -> str:
        return "the validation score settled"


class OwnPrice(Policy):
    """A policy that charges ``layer``'s gates itself, with a price it moves.

    The price is this policy's term, ``multiplier * sum_g cost_g P(z_g != 0)``;
    the layer's own ``l0`` is 0 meanwhile (:meth:`take_price`).
    """

    def __init__(self, layer: nn.Module) -> None:
        self.layer = layer

    def take_price(self, start: float) -> None:
        """Charge ``start`` per gate from now on, in place of the layer's ``l0``."""
        self.multiplier = torch.tensor(start, device=self.layer.weight.device)
        self.layer.l0 = 0.0

    def penalty(self) -> torch.Tensor:
        return self.multiplier * self.layer.expected_cost()


class CountTarget(OwnPrice):
    """Move the price of ``layer``'s gates, as a multiplier, until ``count`` of them are open.

    The price is this policy's term (see :class:`OwnPrice`). After every step
    the multiplier is multiplied by ``exp(COUNT_RATE * e)`` with ``e`` the
    relative excess ``(n_open - count) / count`` of open test-time gates,
    clipped to [-1, 1]: it rises (at most 1% a step) while more gates are open
    and falls while fewer are. (The count, not the expected L0, is targeted:
    the expected L0 of a closed gate at the clamp is still about 0.05, which
    adds up over thousands of features.) A model is settled only while the
    count is within 10% (at least 1) of ``count``. The price found is
    :attr:`price`.
    """

    def __init__(self, layer: nn.Module, count: float) -> None:
        super().__init__(layer)
        self.count = count

    def begin(self, run: Run) -> None:
        self.take_price(max(float(self.layer.l0), 1e-4))

    @torch.no_grad()
    def after_step(self, run: Run) -> None:
        excess = (self._n_open() - self.count) / self.count
        self.multiplier.mul_(torch.exp(COUNT_RATE * excess.clamp(-1.0, 1.0))).clamp_(1e-8, 1e3)

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        return settled & self._met()

    @property
    def price(self) -> float:
        """The multiplier: the price per gate at which about ``count`` gates are open."""
        return float(self.multiplier)

    def unmet(self) -> str | None:
        if self._met():
            return None
        n_open = int(self._n_open())
        return (
            f"about {self.count:g} feature gates were open ({n_open} are; the most open are kept)"
        )

    def _n_open(self) -> torch.Tensor:
        return self.layer.gate.is_open().sum()

    def _met(self) -> bool:
        return abs(int(self._n_open()) - self.count) <= max(1, 0.1 * self.count)


class GridRetirement(Policy):
    """Models of a grid that have settled for good leave the computation (they stay settled)."""

    def begin(self, run: Run) -> None:
        self.retired = np.zeros(run.shape, bool)

    def settle(self, run: Run, settled: np.ndarray) -> np.ndarray:
        return settled | self.retired

    def after_check(self, run: Run, stale: np.ndarray) -> None:
        done = stale >= run.patience
        run.module.retire(done, run.optimizer)
        self.retired |= done

    def end(self, run: Run) -> None:
        run.module.restore(run.optimizer)


class ParameterAveraging(Policy):
    """Keep an exponential moving average of the parameters; the module ends with it.

    The paper evaluates its networks with "Adam with temporal averaging": the
    average, updated after every step with weight ``1 - decay`` (0.999 in the
    authors' code), smooths the noise that the sampled gates put into the last
    steps. The average covers every parameter, gate locations included, and
    replaces them when training ends (the stopping rule watches the raw
    parameters).
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def begin(self, run: Run) -> None:
        self.params = list(run.module.parameters())
        self.mean = [p.detach().clone() for p in self.params]
        self.n_steps = 0  # a host count: no device read per step

    @torch.no_grad()
    def after_step(self, run: Run) -> None:
        if self.n_steps == 0:  # the first step's parameters start the average
            for mean, param in zip(self.mean, self.params, strict=True):
                mean.copy_(param)
        else:
            torch._foreach_lerp_(self.mean, self.params, 1.0 - self.decay)
        self.n_steps += 1

    @torch.no_grad()
    def end(self, run: Run) -> None:
        if self.n_steps == 0:  # failed before the first step
            return
        for param, mean in zip(self.params, self.mean, strict=True):
            param.copy_(mean)
        self.restored_best = True  # the final parameters are not the last step's


def train(
    module: nn.Module,
    loss_fn: LossFn,
    data: Dataset,
    *,
    max_iter: int,
    tol: float,
    n_iter_no_change: int,
    learning_rate: float,
    batch_size: int,
    generator: torch.Generator | None = None,
    shuffle: bool = True,
    verbose: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    policies: list[Policy] | None = None,
) -> tuple[History, torch.optim.Optimizer]:
    """Minimise ``loss_fn(module(X), y, w) + module.regularization()`` with Adam.

    Training stops once every model has been settled (see ``policies``,
    default ``[Convergence()]``) for ``n_iter_no_change`` epochs, or after
    ``max_iter`` epochs with a ``ConvergenceWarning``. Raises
    :class:`TrainingDivergedError` when the objective becomes non-finite or
    ends far above where it started. Returns the history and the optimizer
    (its state allows the run to be continued).
    """
    from tqdm.auto import tqdm

    policies = [Convergence()] if policies is None else list(policies)
    gates = [m for m in module.modules() if isinstance(m, HardConcreteGate)]
    if generator is not None:  # else each gate draws from its own generator
        for gate in gates:
            gate.generator = generator
    if optimizer is None:
        optimizer = adam_optimizer(
            [p for p in module.parameters() if p.requires_grad], learning_rate
        )
    run = Run(module, loss_fn, data, batch_size, optimizer, tol, n_iter_no_change)
    window = max(1, min(math.ceil(CHECK_STEPS / run.n_batches), n_iter_no_change, max_iter))
    epoch_obj = torch.zeros((window, *run.shape), device=data.y.device)
    stale = np.zeros(run.shape, int)
    for policy in policies:
        policy.begin(run)
    penalizing = [p for p in policies if type(p).penalty is not Policy.penalty]
    start = run.objective().astype(float)
    bar = tqdm(total=max_iter, disable=verbose <= 0, desc="fit", unit="epoch", leave=False)
    module.train()
    try:
        for epoch in range(max_iter):
            epoch_obj[epoch % window] = _epoch(run, policies, penalizing, generator, shuffle)
            run.history.n_iter = epoch + 1
            if run.history.n_iter % window and run.history.n_iter != max_iter:
                continue
            run.n_seen = (epoch % window) + 1
            losses, n_open = _check(run, epoch_obj, learning_rate)
            settled = np.ones(run.shape, bool)
            for policy in policies:
                settled = policy.settle(run, settled)
            stale = np.where(settled, stale + run.n_seen, 0)
            bar.n += run.n_seen  # then one redraw per check, with this check's figures
            bar.set_postfix(objective=f"{run.current.sum():.4g}", open_gates=int(n_open.sum()))
            if np.all(stale >= n_iter_no_change):
                run.history.converged = True
                break
            for policy in policies:
                policy.after_check(run, stale)
    finally:
        bar.close()
        module.eval()
        for policy in policies:
            policy.end(run)
    final = run.objective().astype(float)
    # and the sampled gates' objective, unless it holds a policy's own term: a Lagrange
    # multiplier's (CountTarget) grows by design and is not the model's objective
    if not any(policy.restored_best for policy in policies) and not penalizing:
        final = np.maximum(final, losses[-1])
    _check_not_diverged(start, final, learning_rate)
    if not run.history.converged:
        _warn_max_iter(policies, max_iter, tol)
    return run.history, optimizer


def _epoch(run: Run, policies, penalizing, generator, shuffle: bool) -> torch.Tensor:
    """One pass over the data: an optimizer step per batch. Returns the mean objective.

    ``penalizing``: the policies that add a term to the objective (the others are skipped).
    """
    module, optimizer = run.module, run.optimizer
    total, n_batches = 0.0, 0
    for Xb, yb, wb in run.data.batches(run.batch_size, generator, shuffle):
        optimizer.zero_grad(set_to_none=True)
        objective = run.loss_fn(module(Xb), yb, wb) + module.regularization()
        for policy in penalizing:
            objective = objective + policy.penalty()
        objective.sum().backward()  # independent models: the sum separates
        optimizer.step()
        for policy in policies:
            policy.after_step(run)
        total, n_batches = total + objective.detach(), n_batches + 1
    return total / n_batches


def _check(run: Run, epoch_obj: torch.Tensor, learning_rate: float):
    """A convergence check: the only host-device synchronisation of the loop.

    Reads the objectives of the epochs since the previous check and the
    objective with test-time gates (``run.current``) and the open gates
    (``run.open_mask``), and records them. Returns the epochs' objectives and
    the number of open gates per model.
    """
    losses = epoch_obj[: run.n_seen].cpu().numpy().astype(float)
    run.current = run.objective().astype(float)
    if not (np.all(np.isfinite(losses)) and np.all(np.isfinite(run.current))):
        raise TrainingDivergedError(
            f"The training objective became non-finite by epoch {run.history.n_iter}: "
            f"training diverged. Lower the learning rate (currently {learning_rate})."
        )
    run.history.loss_curve.extend(losses.tolist())
    run.open_mask = run.module.open_mask()
    shape = run.shape
    n_open = np.zeros(shape, int) if run.open_mask is None else run.open_mask.sum(-1).cpu().numpy()
    run.history.n_open_curve.extend([n_open.tolist()] * run.n_seen)
    return losses, n_open


def _check_not_diverged(start: np.ndarray, final: np.ndarray, learning_rate: float) -> None:
    """Raise TrainingDivergedError where training ended far above its start (DIVERGED_RISE).

    A step size far too large sends the weights to huge values where the
    objective stays finite but the model is garbage, or every gate shuts and
    the test-time model is a constant while the sampled gates still see huge
    weights: ``final`` is the larger of the two objectives.
    """
    excess = final - (start + DIVERGED_RISE * np.maximum(1.0, np.abs(start)))
    if np.any(excess > 0):
        i = int(np.argmax(excess))
        raise TrainingDivergedError(
            f"Training diverged: the objective rose from {start.flat[i]:.4g} at the start to "
            f"{final.flat[i]:.4g} at the end. Lower the learning rate (currently "
            f"{learning_rate})."
        )


def _warn_max_iter(policies: list[Policy], max_iter: int, tol: float) -> None:
    """The ConvergenceWarning of a run that ``max_iter`` stopped: what it still waited for."""
    waiting = [policy.unmet() for policy in policies]
    what = next((w for w in reversed(waiting) if w), "the objective and the gates settled")
    warnings.warn(
        f"Training stopped at max_iter={max_iter} epochs before {what} (tol={tol}). "
        "Increase max_iter or the learning rate.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )
