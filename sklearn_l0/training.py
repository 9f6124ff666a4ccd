"""The one training loop, its losses, and the refit on a selected support.

``train`` minimises ``data loss + module.regularization()`` with Adam over
mini-batches on the module's device. It reads nothing back from the device
inside an epoch: per-epoch objectives accumulate in a device buffer that is
copied to the host once per convergence check (every ``n_iter_no_change``
epochs).

Losses take ``(output, target, weight)`` and return the weighted mean over the
batch; weights are normalised to mean 1 over the training set beforehand.

A module may hold a whole grid of independent models (``batch_shape``, e.g.
``(n_alphas, n_folds)``, see :class:`~sklearn_l0.networks.GatedLinearStack`):
its output then has shape ``(n_samples, *batch_shape, n_outputs)``, the
weights broadcast to ``(n_samples, *batch_shape)``, every loss and penalty is
one value per model, and the stopping rule is applied to each model (training
ends when all have settled). One pass over the data serves every model.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from .gates import HardConcreteGate

CHECK_STEPS = 10
"""Fewest optimizer steps between two convergence checks (a check costs one sync)."""

DIVERGED_RISE = 10.0
"""Training diverged if its final objective exceeds the starting one by this many times
``max(1, |start|)`` (the objectives are in units of a standardized loss: a model that
predicts a constant scores about 1). Generous, so that the transient overshoot of an
aggressive step size over one short epoch is not mistaken for divergence."""


class TrainingDivergedError(FloatingPointError, ValueError):
    """Training diverged: the objective became non-finite or exploded.

    The remedy is a lower learning rate. It is a ``FloatingPointError`` and, as
    scikit-learn's SGD estimators raise for the same fault, a ``ValueError``.
    """


COUNT_RATE = 0.01
"""Step size (log scale, per optimizer step) of the multiplier of a target gate count."""

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
ScoreFn = LossFn  # (output, target, weight) -> scalar score, higher is better


def squared_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error, averaged over outputs."""
    return (w * (out - y).square().mean(dim=-1)).mean(dim=0)


def profiled_gaussian_nll(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Gaussian negative log-likelihood per sample with the noise variance profiled out.

    ``0.5 * log(weighted MSE)`` per output (averaged over outputs), up to an
    additive constant: with it, ``loss + price * k`` is an information
    criterion divided by ``2 n``. The MSE is floored at 1e-12.
    """
    mse = (w.unsqueeze(-1) * (out - y).square()).mean(dim=0)
    return 0.5 * torch.log(mse.clamp_min(1e-12)).mean(dim=-1)


def binary_log_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean logistic loss (nats) of one logit per example."""
    logit = out[..., 0]
    loss = F.binary_cross_entropy_with_logits(logit, y.expand(logit.shape), reduction="none")
    return (w * loss).mean(dim=0)


def multinomial_log_loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean softmax cross-entropy (nats); ``y`` holds class indices."""
    loss = F.cross_entropy(out.movedim(-1, 1), y.expand(out.shape[:-1]), reduction="none")
    return (w * loss).mean(dim=0)


class _SparseMatmul(torch.autograd.Function):
    """``X @ W`` for a constant sparse X, with X and X^T both kept in CSR.

    torch's own gradient of a sparse-dense product transposes and sorts X at
    every call (about 20x the cost of the product on a 20,000 x 100,000
    matrix with 0.1% non-zeros); here both directions are one CSR product.
    """

    @staticmethod
    def forward(ctx, csr: torch.Tensor, csr_t: torch.Tensor, weight: torch.Tensor):
        ctx.csr_t = csr_t
        return csr @ weight

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, ctx.csr_t @ grad


class SparseRows:
    """A sparse design matrix on the device: ``X @ W`` (differentiable in W) and row subsets.

    What :func:`~sklearn_l0._base.to_device` makes of scipy sparse input. It
    keeps the COO tensor (for row subsets, :meth:`index_select`) and CSR
    copies of X and X^T for fast products in both directions.
    """

    is_sparse = True

    def __init__(self, coo: torch.Tensor) -> None:
        self.coo = coo.coalesce()
        with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
            warnings.filterwarnings("ignore", "Sparse CSR", UserWarning)
            self.csr = self.coo.to_sparse_csr()
            self.csr_t = self.coo.t().coalesce().to_sparse_csr()

    @property
    def shape(self) -> torch.Size:
        return self.coo.shape

    @property
    def device(self) -> torch.device:
        return self.coo.device

    def __matmul__(self, weight: torch.Tensor) -> torch.Tensor:
        return _SparseMatmul.apply(self.csr, self.csr_t, weight)

    def index_select(self, dim: int, index: torch.Tensor) -> SparseRows:
        return SparseRows(self.coo.index_select(dim, index))

    def to_dense(self) -> torch.Tensor:
        return self.coo.to_dense()


@dataclass
class Dataset:
    """Training data on the device: ``X`` dense or :class:`SparseRows`, targets, weights."""

    X: torch.Tensor | SparseRows
    y: torch.Tensor
    w: torch.Tensor

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def batches(
        self, batch_size: int, generator: torch.Generator | None, shuffle: bool
    ) -> Iterator:
        """Yield ``(X, y, w)`` mini-batches covering the data once."""
        n = self.n_samples
        if batch_size >= n:
            yield self.X, self.y, self.w
            return
        order = (
            torch.randperm(n, generator=generator, device=self.y.device)
            if shuffle
            else torch.arange(n, device=self.y.device)
        )
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield (
                self.X.index_select(0, idx),
                self.y.index_select(0, idx),
                self.w.index_select(0, idx),
            )


@dataclass
class History:
    """What one call of :func:`train` did."""

    n_iter: int = 0
    loss_curve: list[float] = field(default_factory=list)
    n_open_curve: list[int] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_validation_score: float | None = None
    converged: bool = False


def _gates(module: nn.Module) -> list[HardConcreteGate]:
    return [m for m in module.modules() if isinstance(m, HardConcreteGate)]


def adam_optimizer(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where this torch supports it (half the step cost)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older torch: no fused CPU implementation
        return torch.optim.Adam(params, lr=lr)


def r2_score(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted R^2 averaged over outputs (``y`` is standardized: variance about 1)."""
    wn = w / w.sum()
    resid = (wn[:, None] * (out - y).square()).sum(dim=0)
    mean = (wn[:, None] * y).sum(dim=0)
    total = (wn[:, None] * (y - mean).square()).sum(dim=0).clamp_min(1e-12)
    return (1.0 - resid / total).mean()


def accuracy(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted accuracy of logits (one logit: binary; several: multinomial)."""
    pred = (out[:, 0] > 0).to(y.dtype) if out.shape[1] == 1 else out.argmax(dim=1)
    return (w * (pred == y)).sum() / w.sum()


@torch.no_grad()
def _mean_over_batches(
    module: nn.Module, fn: LossFn, data: Dataset, batch_size: int
) -> torch.Tensor:
    """``fn`` over the data with test-time gates, averaged over batches by size."""
    was_training = module.training
    module.eval()
    if batch_size >= data.n_samples:
        result = fn(module(data.X), data.y, data.w)
    else:
        result = 0.0
        for Xb, yb, wb in data.batches(batch_size, None, shuffle=False):
            result = result + fn(module(Xb), yb, wb) * (Xb.shape[0] / data.n_samples)
    module.train(was_training)
    return result


def evaluate(module: nn.Module, loss_fn: LossFn, data: Dataset, batch_size: int) -> torch.Tensor:
    """Objective with test-time (deterministic) gates: data loss plus regularization.

    Unlike the training objective it has no gate noise, so it is what the
    stopping rule watches. Returns a device scalar.
    """
    with torch.no_grad():
        return _mean_over_batches(module, loss_fn, data, batch_size) + module.regularization()


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
    validation: Dataset | None = None,
    score_fn: ScoreFn | None = None,
    count_target: tuple[nn.Module, float] | None = None,
) -> tuple[History, torch.optim.Optimizer]:
    """Minimise ``loss_fn(module(X), y, w) + module.regularization()`` with Adam.

    At regular *checks* (every epoch, or every few epochs so that at least
    ``CHECK_STEPS`` optimizer steps separate two checks) the objective is
    evaluated with the test-time gates, which has no gate noise. Training
    stops when that objective has not improved on its best value by more than
    ``tol`` for ``n_iter_no_change`` epochs *and* the set of open test-time
    gates has not changed in those epochs: the gates have settled and the
    loss is flat. A ``ConvergenceWarning`` is issued when ``max_iter`` epochs
    end training first.

    With ``validation`` (early stopping), the rule watches ``score_fn`` on
    the validation data instead (stop when it has not improved by ``tol`` for
    ``n_iter_no_change`` epochs), and the module ends with the parameters of
    the best-scoring check.

    With ``count_target=(layer, k)``, the L0 strength of ``layer`` becomes a
    multiplier for the constraint "``k`` test-time gates of ``layer`` open":
    after every step it is multiplied by ``exp(COUNT_RATE * e)`` with ``e``
    the relative excess ``(n_open - k) / k`` clipped to [-1, 1], so it rises
    (at most 1% a step) while more than ``k`` gates are open and falls while
    fewer are. (The count, not the expected L0, is targeted: the expected L0
    of a closed gate at the clamp is still about 0.05, which adds up over
    thousands of features.) Training then only stops once the open count is
    within 10% of ``k`` (or at ``max_iter``). ``layer.l0`` holds its final value.

    Between checks nothing is read back from the device: the per-epoch
    training objectives accumulate in a device buffer copied at each check.

    Returns the history and the optimizer (its state allows warm starts).
    """
    from tqdm.auto import tqdm

    gates = _gates(module)
    for gate in gates:
        gate.generator = generator
    params = [p for p in module.parameters() if p.requires_grad]
    if optimizer is None:
        optimizer = adam_optimizer(params, learning_rate)
    device = params[0].device
    n_batches = math.ceil(data.n_samples / batch_size)
    window = max(1, min(math.ceil(CHECK_STEPS / n_batches), n_iter_no_change, max_iter))
    shape = tuple(getattr(module, "batch_shape", ()))  # one objective per model
    epoch_obj = torch.zeros((window, *shape), device=device)
    history = History()
    best, stale_epochs, best_state = np.full(shape, math.inf), np.zeros(shape, int), None
    grid = _Grid(module, shape, optimizer) if shape else None
    open_mask = _open_mask(module, grid)
    if count_target is not None:
        count_layer, count = count_target
        multiplier = torch.tensor(max(float(count_layer.l0), 1e-4), device=device)
        count_layer.l0 = multiplier

    def checked_objective() -> np.ndarray:
        """The objective with test-time gates, per model: what the stopping rule watches."""
        value = evaluate(module, loss_fn, data, batch_size)
        if count_target is not None:  # the primal objective, not the multiplier's term
            with torch.no_grad():
                value = value - multiplier * count_layer.gate.prob_nonzero().sum()
        return value.cpu().numpy().astype(float)

    start = checked_objective()
    bar = tqdm(total=max_iter, disable=verbose <= 0, desc="fit", unit="epoch", leave=False)
    module.train()
    try:
        for epoch in range(max_iter):
            total = torch.zeros(shape, device=device)
            for Xb, yb, wb in data.batches(batch_size, generator, shuffle):
                optimizer.zero_grad(set_to_none=True)
                objective = loss_fn(module(Xb), yb, wb) + module.regularization()
                objective.sum().backward()  # independent models: the sum separates
                optimizer.step()
                for gate in gates:
                    gate.constrain_()
                if count_target is not None:
                    with torch.no_grad():
                        n_open = (count_layer.gate.deterministic() > 0).sum()
                        excess = (n_open - count) / count
                        step = COUNT_RATE * excess.clamp(-1.0, 1.0)
                        multiplier.mul_(torch.exp(step)).clamp_(1e-8, 1e3)
                total += objective.detach()
            epoch_obj[epoch % window] = total / n_batches
            history.n_iter = epoch + 1
            if history.n_iter % window and history.n_iter != max_iter:
                continue
            # Convergence check: the only host-device synchronisation.
            n_seen = (epoch % window) + 1
            losses = epoch_obj[:n_seen].cpu().numpy().astype(float)
            current = checked_objective()
            if not (np.all(np.isfinite(losses)) and np.all(np.isfinite(current))):
                raise TrainingDivergedError(
                    f"The training objective became non-finite by epoch {epoch + 1}: "
                    f"training diverged. Lower the learning rate (currently {learning_rate})."
                )
            history.loss_curve.extend(losses.tolist())
            new_mask = _open_mask(module, grid)
            n_open = np.zeros(shape, int) if new_mask is None else new_mask.sum(-1).cpu().numpy()
            history.n_open_curve.extend([n_open.tolist()] * n_seen)
            if validation is not None:
                score = float(_mean_over_batches(module, score_fn, validation, batch_size))
                history.validation_scores.extend([score] * n_seen)
                if -score < best:
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                    history.best_validation_score = score
                stale_epochs = stale_epochs + n_seen if -score > best - tol else 0
                best = np.minimum(best, -score)
            else:  # per model: flat objective and unchanged open gates
                settled = current > best - tol
                if new_mask is not None:
                    settled &= (new_mask == open_mask).all(-1).cpu().numpy()
                if count_target is not None:
                    settled &= _count_met(count_layer, count)
                if grid is not None:  # a retired model stays retired (it is not trained)
                    settled |= grid.retired
                stale_epochs = np.where(settled, stale_epochs + n_seen, 0)
                open_mask = new_mask  # unchanged where settled
                best = np.minimum(best, current)
            bar.n += n_seen  # then one redraw per check, with this check's figures
            bar.set_postfix(objective=f"{current.sum():.4g}", open_gates=int(n_open.sum()))
            if np.all(stale_epochs >= n_iter_no_change):
                history.converged = True
                break
            if grid is not None:
                grid.retire(stale_epochs >= n_iter_no_change)
    finally:
        bar.close()
        module.eval()
        if grid is not None:
            grid.restore()
    if best_state is not None:
        module.load_state_dict(best_state)
    final = checked_objective()
    if best_state is None:  # and the last epoch's objective with sampled gates
        final = np.maximum(final, losses[-1])
    _check_not_diverged(start, final, learning_rate)
    if count_target is not None:
        count_layer.l0 = float(multiplier)
    if not history.converged:
        what = "the objective and the gates settled"
        if count_target is not None and not _count_met(count_layer, count):
            n_open = int((count_layer.gate.deterministic() > 0).sum())
            what = f"about {count:g} feature gates were open ({n_open} are; the most open are kept)"
        warnings.warn(
            f"Training stopped at max_iter={max_iter} epochs before {what} (tol={tol}). "
            "Increase max_iter or the learning rate.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return history, optimizer


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the caller's code.

    Counts the frames, from the function that calls this one, that belong to
    this package or to scikit-learn (fit wrappers, ``GridSearchCV``).
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "sklearn_l0",
        "sklearn",
    ):
        frame, level = frame.f_back, level + 1
    return level


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


class _Grid:
    """Per-model stopping for a module that holds a grid of models (``batch_shape``).

    A model that has settled *retires*: its parameters (and optimizer state)
    are put aside as they were at that check, and the module's parameters
    shrink to the rows of the models still training (``module.active``, their
    flat indices), so the cost of a step, optimizer included, falls as models
    settle. :meth:`restore` puts the whole grid back at the end.
    """

    def __init__(
        self, module: nn.Module, shape: tuple[int, ...], optimizer: torch.optim.Optimizer
    ) -> None:
        self.module, self.shape, self.optimizer = module, shape, optimizer
        self.n_models = math.prod(shape)
        self.kept = {k: v.detach().clone() for k, v in module.named_parameters()}
        self.kept_state: dict[str, dict] = {}
        self.retired = np.zeros(shape, bool)
        self.rows = np.arange(self.n_models)  # the models the module holds, in order
        self.open = module.open_gates().view(*shape, -1).clone()  # see open_mask

    def _flat(self, name: str, t: torch.Tensor) -> torch.Tensor:
        """``t`` (a parameter or its optimizer state) as ``(models, ...)``."""
        return t.reshape(-1, *self.kept[name].shape[len(self.shape) :])

    def _swap(self, name: str, old: nn.Parameter, new: nn.Parameter, state: dict) -> None:
        owner, _, attr = name.rpartition(".")
        setattr(self.module.get_submodule(owner), attr, new)
        for group in self.optimizer.param_groups:
            group["params"] = [new if p is old else p for p in group["params"]]
        self.optimizer.state.pop(old, None)
        if state:
            self.optimizer.state[new] = state

    @staticmethod
    def _per_element(old: nn.Parameter, state: dict) -> dict:
        """The entries of an optimizer state that hold one value per parameter element."""
        return {k: v for k, v in state.items() if torch.is_tensor(v) and v.shape == old.shape}

    def open_mask(self) -> torch.Tensor:
        """Test-time open gates of every model of the grid, shape ``(*shape, in_features)``.

        The rows of retired models keep the gates they had at their last check,
        which are the ones they retired with (retirement follows the check).
        """
        held = torch.as_tensor(self.rows, device=self.open.device)
        self.open.view(self.n_models, -1)[held] = self.module.open_gates()
        return self.open.clone()

    @torch.no_grad()
    def retire(self, settled: np.ndarray) -> None:
        new = settled.ravel() & ~self.retired.ravel()
        if not new.any():
            return
        leaving = new[self.rows]
        device = self.kept["gate.log_alpha"].device
        keep = torch.as_tensor(np.flatnonzero(~leaving), device=device)
        gone = torch.as_tensor(np.flatnonzero(leaving), device=device)
        gone_ids = torch.as_tensor(self.rows[leaving], device=device)
        for name, old in list(self.module.named_parameters()):
            self._flat(name, self.kept[name])[gone_ids] = self._flat(name, old)[gone]
            state = self.optimizer.state.get(old, {})
            per_model = self._per_element(old, state)
            saved = self.kept_state.setdefault(
                name, {k: torch.zeros_like(self.kept[name]) for k in per_model}
            )
            for k, v in per_model.items():
                self._flat(name, saved[k])[gone_ids] = self._flat(name, v)[gone]
            new_param = nn.Parameter(self._flat(name, old).index_select(0, keep))
            new_state = dict(state)
            new_state.update(
                {k: self._flat(name, v).index_select(0, keep) for k, v in per_model.items()}
            )
            self._swap(name, old, new_param, new_state)
        self.retired.ravel()[new] = True
        self.rows = self.rows[~leaving]
        self.module.active = torch.as_tensor(self.rows, device=device)

    @torch.no_grad()
    def restore(self) -> None:
        """Put every model back, whole grid shape; the models still training keep their state."""
        device = self.kept["gate.log_alpha"].device
        held = torch.as_tensor(self.rows, device=device)
        for name, old in list(self.module.named_parameters()):
            full = self.kept[name]
            self._flat(name, full)[held] = self._flat(name, old)
            state = self.optimizer.state.get(old, {})
            new_state = dict(state)
            for k, v in self._per_element(old, state).items():
                whole = self.kept_state.get(name, {}).get(k, torch.zeros_like(full))
                self._flat(name, whole)[held] = self._flat(name, v)
                new_state[k] = whole
            self._swap(name, old, nn.Parameter(full), new_state)
        self.module.active = None


def _count_met(layer: nn.Module, count: float) -> bool:
    """Whether the open test-time gates of ``layer`` are within 10% (at least 1) of ``count``.

    The caller then keeps exactly ``count`` gates; this only says the price is right.
    """
    n_open = int((layer.gate.deterministic() > 0).sum())
    return abs(n_open - count) <= max(1, 0.1 * count)


def _open_mask(module: nn.Module, grid: _Grid | None = None) -> torch.Tensor | None:
    if grid is not None:
        return grid.open_mask()
    gates = _gates(module)
    if not gates:
        return None
    return torch.cat([g.deterministic() > 0 for g in gates])


def refit(
    layer: nn.Module,
    loss_fn: LossFn,
    data: Dataset,
    *,
    max_iter: int = 2000,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Re-estimate a gated linear layer's weights on its selected inputs only.

    ``data.X`` holds only the columns whose test-time gate is open (in
    float64). The gates are frozen at their 0/1 state, so the L0 penalty is a
    constant and this is the plain fit on the support: ridge (or least
    squares) for the squared loss, logistic regression for the log losses,
    with the layer's ``l2`` as the ridge strength. Full-batch L-BFGS in
    float64 from the trained weights (for the squared loss, the exact solution
    of the normal equations): the result depends on the training only
    through the selected support.

    Returns the float64 weight of shape ``(in_features, out_features)`` (zero
    rows for closed gates) and bias; the layer's own float32 parameters and
    frozen gates are updated too.
    """
    from .networks import GatedLinear

    mask = layer.gate.deterministic() > 0
    idx = mask.nonzero().flatten()
    dense = torch.float64
    offset = None if layer.input_offset is None else layer.input_offset[idx].to(dense)
    compact = GatedLinear(
        len(idx),
        layer.out_features,
        bias=layer.bias is not None,
        l2=layer.l2,
        gated=False,
        input_offset=offset,
    ).to(device=idx.device, dtype=dense)
    with torch.no_grad():
        compact.weight.copy_(layer.weight[idx])
        if layer.bias is not None:
            compact.bias.copy_(layer.bias)
    X = data.X
    y = data.y.to(dense) if data.y.is_floating_point() else data.y
    w = data.w.to(dense)
    if loss_fn is squared_loss:
        _ridge_solve(compact, X, y, w)
    else:
        _lbfgs(compact, loss_fn, X, y, w, max_iter)
    weight = torch.zeros(layer.weight.shape, dtype=dense, device=idx.device)
    weight[idx] = compact.weight.detach()
    bias = None if compact.bias is None else compact.bias.detach()
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    layer.gate.freeze(mask.float())
    return weight, bias


@torch.no_grad()
def _ridge_solve(layer: nn.Module, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> None:
    """Set ``layer`` to the exact minimiser of the squared loss plus its ridge penalty.

    The normal equations of ``mean_i w_i ||x_i W + b - y_i||^2 / k + l2 / 2 ||W||^2``.
    """
    X = X.to_dense() if X.is_sparse else X
    if layer.input_offset is not None:
        X = X - layer.input_offset
    n, k = X.shape[0], y.shape[1]
    if layer.bias is not None:  # center with the weights; the intercept absorbs the means
        x_mean, y_mean = (w @ X) / w.sum(), (w @ y) / w.sum()
        X, y = X - x_mean, y - y_mean
    gram = X.T @ (w[:, None] * X) * (2.0 / (n * k))
    gram.diagonal().add_(layer.l2)
    rhs = X.T @ (w[:, None] * y) * (2.0 / (n * k))
    try:
        weight = torch.linalg.solve(gram, rhs)
    except torch.linalg.LinAlgError:  # collinear columns without ridge: minimum-norm solution
        weight = torch.linalg.pinv(gram, hermitian=True) @ rhs
    layer.weight.copy_(weight)
    if layer.bias is not None:
        layer.bias.copy_(y_mean - x_mean @ weight)


def _lbfgs(layer: nn.Module, loss_fn: LossFn, X, y, w, max_iter: int) -> None:
    """Minimise ``loss_fn + layer.regularization()`` by full-batch L-BFGS from ``layer``'s state."""
    optimizer = torch.optim.LBFGS(
        list(layer.parameters()),
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=1e-12,
        tolerance_change=1e-16,
        history_size=50,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        objective = loss_fn(layer(X), y, w) + layer.regularization()
        objective.backward()
        return objective

    if layer.in_features or layer.bias is not None:
        optimizer.step(closure)
