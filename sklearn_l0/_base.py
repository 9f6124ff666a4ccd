"""Estimator plumbing shared by every estimator of the library.

Data flow of ``fit``: validate (sklearn's helpers) -> standardize X -> tensors
on the device -> build or reuse the gated module -> :func:`~sklearn_l0.training.train`
-> export numpy arrays as fitted attributes. Subclasses say what the target is
(:meth:`L0BaseEstimator._prepare_target`), which module to build
(:meth:`L0BaseEstimator._build_module`) and what to export
(:meth:`L0BaseEstimator._export`); everything else lives here once.
"""

from __future__ import annotations

import functools
import numbers
import secrets
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import _check_sample_weight, validate_data

from .training import (
    Dataset,
    LossFn,
    ScoreFn,
    SparseRows,
    accuracy,
    adam_optimizer,
    binary_log_loss,
    multinomial_log_loss,
    profiled_gaussian_nll,
    r2_score,
    refit,
    squared_loss,
    train,
    user_stacklevel,
)

_DTYPE = torch.float32
_CHUNK = 65536


class AllFeaturesPrunedWarning(UserWarning):
    """Every input feature was pruned: the model predicts a constant."""


CRITERIA = ("aic", "bic", "ebic")


def criterion_price(alpha, n_samples: int, n_features: int) -> float | None:
    """L0 price of one parameter, in mean negative log-likelihood units, of a criterion.

    An information criterion ``-2 log L + c * k`` divided by ``2 n`` is the
    mean negative log-likelihood plus ``c / (2 n)`` per parameter, so a gate
    that controls ``m`` parameters costs ``m * c / (2 n)``. ``c`` is 2 for
    AIC, ``log n`` for BIC and ``log n + 2 log p`` for the extended BIC
    (Chen & Chen, 2008, with their ``gamma = 1``: the ``log p`` term prices
    the search over ``p`` candidate features). Returns None for a numeric
    ``alpha``.
    """
    if not isinstance(alpha, str):
        return None
    n = max(n_samples, 2)
    c = {"aic": 2.0, "bic": np.log(n)}.get(alpha)
    if c is None:  # ebic
        c = np.log(n) + 2.0 * np.log(max(n_features, 2))
    return float(c / (2.0 * n))


# ----------------------------------------------------------------------------- device, seeds


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a ``torch.device``, with clear errors.

    ``"auto"`` is CUDA when available, else the CPU.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or a "
            f"torch.device; got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                "(available: 'cpu'). Use device='cpu' or device='auto'."
            )
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise ValueError(
                f"device={device!r} was requested but this machine has {n} CUDA device(s) "
                f"(available: {', '.join(f'cuda:{i}' for i in range(n))})."
            )
    elif dev.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda' or 'auto'.")
    return dev


def _seed(random_state) -> int:
    """An integer seed from ``random_state``, leaving global random states alone.

    ``None`` takes fresh OS entropy (numpy's global RandomState is *not* drawn
    from); an int is used as is; a ``RandomState`` instance is drawn from.
    """
    if random_state is None:
        return secrets.randbits(63)
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# ----------------------------------------------------------------------------- data


@dataclass
class Standardization:
    """Per-column affine map ``(x - mean) / scale`` applied before training."""

    mean: np.ndarray
    scale: np.ndarray


def _safe_scale(std: np.ndarray, mean: np.ndarray, what: str = "X") -> np.ndarray:
    """Standard deviations, with (numerically) constant columns mapped to ``max(1, |mean|)``.

    Not to 1: the centered values of a constant column are rounding residues of
    ``mean`` (``1e29 - mean`` can be ``1e13``), and a sparse column is scaled
    without being centered, so dividing by ``|mean|`` keeps both near 0 or 1.

    Raises a ValueError naming the columns of ``what`` whose mean or variance
    overflowed float64 (values beyond about 1e154).
    """
    overflow = ~(np.isfinite(std) & np.isfinite(mean))
    if np.any(overflow):
        raise ValueError(
            f"{what} has values too large to standardize: the mean or variance of column(s) "
            f"{np.flatnonzero(overflow)[:10].tolist()} overflows float64. Rescale {what} "
            "(e.g. divide it by a power of 10)."
        )
    std = np.asarray(std, dtype=np.float64).copy()
    floor = np.broadcast_to(np.maximum(1.0, np.abs(mean)), std.shape)
    constant = std <= 1e-10 * floor
    std[constant] = floor[constant]
    return std


@np.errstate(over="ignore", invalid="ignore")  # overflow: see _safe_scale
def column_stats(X, sample_weight: np.ndarray, center: bool = True) -> Standardization:
    """Weighted column means and (constant-safe) standard deviations of X.

    Dense X is read in row chunks in float64, so no full-size temporary is
    made. Without ``center`` the mean is 0 and columns are scaled by their
    root mean square.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)  # float32 X: the weights' dtype must match
        mean, var = mean_variance_axis(X, axis=0, weights=sample_weight)
        if not center:
            mean, var = np.zeros_like(mean), var + mean**2
        return Standardization(mean, _safe_scale(np.sqrt(var), mean))
    total = sample_weight.sum()
    mean = np.zeros(X.shape[1])
    if center:
        for i in range(0, X.shape[0], _CHUNK):
            mean += sample_weight[i : i + _CHUNK] @ np.asarray(X[i : i + _CHUNK], dtype=np.float64)
        mean /= total
    var = np.zeros(X.shape[1])
    for i in range(0, X.shape[0], _CHUNK):
        dev = np.asarray(X[i : i + _CHUNK], dtype=np.float64) - mean
        var += sample_weight[i : i + _CHUNK] @ (dev * dev)
    return Standardization(mean, _safe_scale(np.sqrt(var / total), mean))


def to_device(
    X, stats: Standardization, device: torch.device, dtype: torch.dtype = _DTYPE
) -> torch.Tensor | SparseRows:
    """A standardized copy of X as a torch tensor on ``device``.

    Dense X becomes a dense tensor, standardized in float64 (on the device,
    by row chunks) before the cast to ``dtype``, so that a column such as a
    timestamp (1.7e9 plus small variations) keeps its variations in float32;
    the caller's array is never written. Sparse X becomes a
    :class:`~sklearn_l0.training.SparseRows` that is scaled but *not*
    centered, to stay sparse: the model subtracts ``mean / scale``
    implicitly (see :func:`input_offset`).
    """
    if sp.issparse(X):
        coo = sp.coo_matrix(X, dtype=np.float64).multiply(1.0 / stats.scale).tocoo()
        coo.sum_duplicates()
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        values = torch.from_numpy(coo.data).to(dtype)
        return SparseRows(
            torch.sparse_coo_tensor(
                indices, values, size=coo.shape, is_coalesced=True, check_invariants=False
            ).to(device)
        )
    mean, scale = (torch.as_tensor(a, device=device) for a in (stats.mean, stats.scale))
    Xt = torch.empty(X.shape, dtype=dtype, device=device)
    for i in range(0, X.shape[0], _CHUNK):  # on the device, in float64
        chunk = torch.tensor(np.ascontiguousarray(X[i : i + _CHUNK]), device=device)  # a copy
        Xt[i : i + _CHUNK] = (chunk.double() - mean) / scale
    return Xt


def input_offset(X, stats: Standardization, device, dtype=_DTYPE) -> torch.Tensor | None:
    """What a first layer must subtract from the tensor of :func:`to_device`.

    ``None`` for dense X (already centered); ``mean / scale`` for sparse X.
    """
    if not sp.issparse(X) or not np.any(stats.mean):
        return None
    return torch.as_tensor(stats.mean / stats.scale, dtype=dtype, device=device)


@np.errstate(over="ignore", invalid="ignore")  # overflow: see _safe_scale
def weighted_mean_std(
    y: np.ndarray, sample_weight: np.ndarray, center: bool = True
) -> Standardization:
    """Weighted column mean and (constant-safe) std of a small 2-D array (the target y).

    Without ``center`` the mean is 0 and the std is the root mean square.
    """
    mean = np.average(y, axis=0, weights=sample_weight) if center else np.zeros(y.shape[1])
    std = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=sample_weight))
    return Standardization(mean, _safe_scale(std, mean, what="y"))


# ----------------------------------------------------------------------------- estimator base


def atomic_fit(fit_method):
    """Decorate a fitting method so that it fully succeeds or leaves the estimator as it was.

    On any exception, ``KeyboardInterrupt`` included, the estimator's ``__dict__``
    is restored to its state before the call (validation sets ``n_features_in_``
    early; a failure later must not leave it half-written). Fitting methods
    assign attributes rather than mutate them, so a shallow copy is enough.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        before = self.__dict__.copy()
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


def encode_labels(y, name: str, classes=None) -> Target:
    """Class labels of any type to the target of a binary or multinomial log loss.

    ``classes`` (all the labels there will be, e.g. those given to the first
    ``partial_fit``) defaults to the labels in ``y``.
    """
    check_classification_targets(y)
    if classes is None:
        classes, y_idx = np.unique(y, return_inverse=True)
    else:
        classes = np.unique(classes)
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels that are not in classes={classes.tolist()}: "
                f"{unknown.tolist()[:5]}."
            )
        y_idx = np.searchsorted(classes, y)
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data; got only one class: "
            f"{classes[0]!r}."
        )
    info = {"classes": classes}
    if len(classes) == 2:
        return Target(y_idx.astype(np.float32), 1, binary_log_loss, accuracy, info)
    return Target(y_idx.astype(np.int64), len(classes), multinomial_log_loss, accuracy, info)


@dataclass
class Target:
    """What ``_prepare_target`` tells the shared ``fit``."""

    y: np.ndarray  # encoded target for the loss (float32 values or int64 class indices)
    n_outputs: int  # width of the network's output layer
    loss_fn: LossFn
    score_fn: ScoreFn  # for early stopping; higher is better
    info: dict  # anything ``_export`` needs (classes, target scaling)


class L0BaseEstimator(BaseEstimator):
    """Shared ``fit`` for estimators trained with hard concrete gates.

    Subclasses define ``__init__`` (parameters only) and these hooks:

    - ``_prepare_target(y, sample_weight) -> Target``;
    - ``_build_module(n_features, n_outputs, generator, input_offset, strength)
      -> nn.Module`` (``input_offset``: see :func:`input_offset`; ``strength(m)``
      is the L0 strength of a gate controlling ``m`` parameters, in loss
      units: ``alpha`` itself for a numeric ``alpha``, see :func:`criterion_price`);
    - ``_train_options(n_samples) -> dict`` of :func:`~sklearn_l0.training.train`
      keyword arguments (epochs, learning rate, batch size, stopping rule);
    - ``_export(module, x_std, target_info, refitted)``: set the numpy fitted
      attributes (``refitted`` is the float64 ``(weight, bias)`` of the refit,
      or None). ``_fit`` is :func:`atomic_fit`: a failed or interrupted ``fit``
      leaves the estimator as it was.

    Class attributes ``_multi_output`` and ``_y_numeric`` tell validation what
    ``y`` may be.
    """

    _multi_output = True
    _y_numeric = True

    _parameter_constraints: dict = {
        "alpha": [
            Interval(numbers.Real, 0, None, closed="left"),
            StrOptions(set(CRITERIA)),
        ],
        "n_features_to_select": [
            None,
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="neither"),
        ],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # ---- hooks
    def _prepare_target(self, y, sample_weight, like=None) -> Target:  # pragma: no cover
        """``like``: the ``info`` of an earlier target to encode consistently with."""
        raise NotImplementedError

    def _build_module(
        self, n_features, n_outputs, generator, input_offset, strength
    ):  # pragma: no cover - abstract
        raise NotImplementedError

    def _train_options(self, n_samples: int) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _export(self, module, x_std, target_info, refitted) -> None:  # pragma: no cover
        raise NotImplementedError

    # ---- fit template
    def _validate_fit_data(self, X, y, sample_weight, reset: bool = True):
        """Validated X and y, and sample weights normalised to mean 1."""
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            multi_output=self._multi_output,
            y_numeric=self._y_numeric,
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if not sample_weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero.")
        return X, y, sample_weight / sample_weight.mean()

    @atomic_fit
    def _fit(self, X, y, sample_weight, *, refit_support: bool = False, center: bool = True):
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight)

        n_select = _n_to_select(self.n_features_to_select, X.shape[1])
        price = criterion_price(self.alpha, X.shape[0], X.shape[1])

        def strength(n_params: float) -> float:
            """L0 strength of a gate controlling ``n_params`` parameters (in loss units)."""
            return float(self.alpha) if price is None else price * n_params

        target = self._prepare_target(y, sample_weight)
        device = resolve_device(self.device)
        seed = _seed(self.random_state)
        generator = torch.Generator(device=device).manual_seed(seed)
        x_std = column_stats(X, sample_weight, center=center)
        data = Dataset(
            to_device(X, x_std, device),
            torch.as_tensor(target.y, device=device),
            torch.as_tensor(sample_weight, dtype=_DTYPE, device=device),
        )
        options = self._train_options(X.shape[0])
        validation = None
        if getattr(self, "early_stopping", False):
            data, validation = _split_validation(
                data, target.y, self.validation_fraction, seed, stratify=not self._y_numeric
            )

        module = self._build_module(
            X.shape[1], target.n_outputs, generator, input_offset(X, x_std, device), strength
        ).to(device)
        first_layer = getattr(module, "layers", [module])[0]
        state = getattr(self, "_module_state", None) if self.warm_start else None
        if state is not None:
            if any(
                k not in state or tuple(v.shape) != state[k].shape
                for k, v in module.named_parameters()
            ):
                raise ValueError(
                    "warm_start=True but the data's shape differs from the previous fit "
                    f"({X.shape[1]} features, {target.n_outputs} outputs); "
                    "fit with warm_start=False."
                )
            module.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()}, strict=False)

        history, optimizer = train(
            module,
            target.loss_fn,
            data,
            generator=generator,
            verbose=self.verbose,
            validation=validation,
            score_fn=target.score_fn,
            **options,
        )
        if n_select is not None:
            # From the trained model, move the feature price (a Lagrange multiplier) until
            # the expected count meets the target; keep exactly the n_select most open
            # gates (ties broken by weight norm), frozen; let the rest adapt to them.
            more, optimizer = train(
                module,
                target.loss_fn,
                data,
                generator=generator,
                verbose=self.verbose,
                count_target=(first_layer, n_select),
                **options,
            )
            history.n_iter += more.n_iter
            history.loss_curve += more.loss_curve
            history.n_open_curve += more.n_open_curve
            la = first_layer.gate.log_alpha.detach().cpu().numpy()
            norms = first_layer.weight.detach().norm(dim=1).cpu().numpy()
            chosen = np.lexsort((-norms, -la))[:n_select]
            mask = torch.zeros_like(first_layer.gate.log_alpha)
            mask[torch.as_tensor(chosen, device=mask.device)] = 1.0
            first_layer.gate.freeze(mask)
            if not refit_support:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    train(module, target.loss_fn, data, generator=generator, **options)
        refitted = None
        if refit_support:
            refitted = refit_on_support(module, target.loss_fn, X, x_std, data.y, data.w)
        # Everything below sets attributes; nothing above did.
        if validation is not None:
            self.validation_scores_ = np.asarray(history.validation_scores)
            self.best_validation_score_ = history.best_validation_score
        self._set_fitted(module, x_std, target, refitted, history, optimizer, generator)
        return self

    def _set_fitted(self, module, x_std, target, refitted, history, optimizer, generator):
        """Export the fitted attributes, and keep what a later fit continues from."""
        self._export(module, x_std, target.info, refitted)
        first_layer = getattr(module, "layers", [module])[0]
        with torch.no_grad():
            proba = first_layer.gate.learned_prob_nonzero()
        self.gate_open_proba_ = proba.double().cpu().numpy()
        self.alpha_ = float(first_layer.l0)
        self.n_iter_ = history.n_iter
        self.loss_curve_ = np.asarray(history.loss_curve)
        self.n_gates_open_curve_ = np.asarray(history.n_open_curve, dtype=np.int64)
        # Trained parameters (not buffers), optimizer and noise state, as numpy (they
        # pickle, and load without the training device): warm_start and partial_fit
        # continue from them.
        self._module_state = {k: v.detach().cpu().numpy() for k, v in module.named_parameters()}
        self._continuation = {
            "optimizer": _numpy_tree(optimizer.state_dict()),
            "generator": generator.get_state().numpy(),
            "x_std": x_std,
            "target_info": target.info,
        }
        if not self.support_.any() and self.n_features_in_ > 0:
            warnings.warn(
                f"alpha={self.alpha} pruned every feature: the model predicts a constant "
                "(the intercept). Lower alpha to keep features.",
                AllFeaturesPrunedWarning,
                stacklevel=user_stacklevel(),
            )

    @atomic_fit
    def _partial_fit(self, X, y, sample_weight, classes=None):
        """One epoch over ``X``, continuing from the previous ``fit`` or ``partial_fit``.

        The first call fixes the standardization of X (and of y for
        regression) from its chunk, and the classes; later calls reuse them,
        along with the parameters, the Adam state and the gate-noise state,
        so a sequence of calls is one continued training run.
        """
        if isinstance(self.alpha, str) or self.n_features_to_select is not None:
            raise ValueError(
                "partial_fit needs a numeric alpha and n_features_to_select=None (criteria "
                "and target counts need all the data at once); use fit."
            )
        self._validate_params()
        previous = getattr(self, "_continuation", None)
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight, reset=previous is None)
        if previous is None:
            if not self._y_numeric and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            like = None if classes is None else {"classes": classes}
            target = self._prepare_target(y, sample_weight, like=like)
            x_std = column_stats(X, sample_weight, center=getattr(self, "fit_intercept", True))
        else:
            if classes is not None and not np.array_equal(
                np.unique(classes), previous["target_info"]["classes"]
            ):
                raise ValueError(
                    f"classes={list(classes)} differs from the classes of the first call "
                    f"({previous['target_info']['classes'].tolist()})."
                )
            target = self._prepare_target(y, sample_weight, like=previous["target_info"])
            x_std = previous["x_std"]
        device = resolve_device(self.device)
        generator = torch.Generator(device=device)
        if previous is None:
            generator.manual_seed(_seed(self.random_state))
        else:
            generator.set_state(torch.as_tensor(previous["generator"]))
        module = self._build_module(
            X.shape[1],
            target.n_outputs,
            generator,
            input_offset(X, x_std, device),
            lambda n_params: float(self.alpha),
        ).to(device)
        options = self._train_options(X.shape[0])
        params = [p for p in module.parameters() if p.requires_grad]
        optimizer = adam_optimizer(params, options["learning_rate"])
        if previous is not None:
            module.load_state_dict(
                {k: torch.as_tensor(v) for k, v in self._module_state.items()}, strict=False
            )
            optimizer.load_state_dict(_torch_tree(previous["optimizer"]))
        data = Dataset(
            to_device(X, x_std, device),
            torch.as_tensor(target.y, device=device),
            torch.as_tensor(sample_weight, dtype=_DTYPE, device=device),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch by design
            history, _ = train(
                module,
                target.loss_fn,
                data,
                generator=generator,
                verbose=self.verbose,
                optimizer=optimizer,
                **{**options, "max_iter": 1},
            )
        if previous is not None:  # the curves go on
            history.n_iter += self.n_iter_
            history.loss_curve = [*self.loss_curve_, *history.loss_curve]
            history.n_open_curve = [*self.n_gates_open_curve_, *history.n_open_curve]
        self._set_fitted(module, x_std, target, None, history, optimizer, generator)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def refit_on_support(layer, loss_fn: LossFn, X, x_std: Standardization, y, w):
    """:func:`~sklearn_l0.training.refit` in float64 on the selected columns of the caller's X.

    ``y`` and ``w`` are the tensors the layer was trained on (rows of X).
    """
    cols = np.flatnonzero(layer.gate.deterministic().cpu().numpy() > 0)
    x_cols = to_device(
        X[:, cols],
        Standardization(x_std.mean[cols], x_std.scale[cols]),
        y.device,
        torch.float64,
    )
    return refit(layer, loss_fn, Dataset(x_cols, y, w))


def regression_target(y, sample_weight, *, center: bool, profiled: bool, like=None) -> Target:
    """Standardized float32 targets and the squared (or profiled Gaussian) loss.

    ``like``: an earlier target's info whose standardization to reuse.
    """
    y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if like is not None and like["y_std"].mean.shape[0] != y2.shape[1]:
        raise ValueError(
            f"y has {y2.shape[1]} target(s); the first call had {like['y_std'].mean.shape[0]}."
        )
    y_std = like["y_std"] if like is not None else weighted_mean_std(y2, sample_weight, center)
    y_scaled = ((y2 - y_std.mean) / y_std.scale).astype(np.float32)
    loss = profiled_gaussian_nll if profiled else squared_loss
    info = {"y_std": y_std, "y_1d": np.ndim(y) == 1}
    return Target(y_scaled, y2.shape[1], loss, r2_score, info)


def _can_partial_fit(estimator) -> bool:
    return estimator._partial_fit_available


class RegressorOutputMixin:
    """``predict`` and ``partial_fit`` of a regressor; 1-D predictions when fitted on a 1-D ``y``.

    ``_export`` stores ``_y_1d`` from the target info.
    """

    _partial_fit_available = True

    @available_if(_can_partial_fit)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one more epoch on a chunk of data (for streams or data out of memory).

        The first call fixes the standardization of X and y from its chunk;
        every call continues the same training run (parameters, Adam state,
        gate noise), also after ``fit``. Coefficients are not refitted
        (``refit`` applies to ``fit`` only). Call it repeatedly over the
        chunks, for as many passes as the data need.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predict with the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        out = self._outputs(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LogitClassifierMixin:
    """Prediction methods and ``partial_fit`` of a classifier whose model outputs logits.

    The estimator provides ``_outputs(X)``: one logit column for a binary
    problem (log-odds of ``classes_[1]``) or one column per class.
    """

    _partial_fit_available = True

    @available_if(_can_partial_fit)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one more epoch on a chunk of data (for streams or data out of memory).

        The first call fixes the standardization of X from its chunk and the
        classes; every call continues the same training run (parameters,
        Adam state, gate noise), also after ``fit``. Coefficients are not
        refitted (``refit`` applies to ``fit`` only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.
        classes : array-like of shape (n_classes,), default=None
            Every label there will be; required on the first call, as a chunk
            may not hold them all.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes)

    def decision_function(self, X):
        """Logits of the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Log-odds of the positive class (binary) or unnormalized class
            log-probabilities (multiclass).
        """
        scores = self._outputs(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:  # expit(-s) rather than 1 - expit(s): exact when p is near 1
            return np.column_stack([expit(-scores), expit(scores)])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities (computed stably).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


def _numpy_tree(state):
    """An optimizer ``state_dict`` with its tensors as numpy arrays (device-free)."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().numpy()
    if isinstance(state, dict):
        return {k: _numpy_tree(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_numpy_tree(v) for v in state]
    return state


def _torch_tree(state):
    """The inverse of :func:`_numpy_tree` (``load_state_dict`` moves tensors to the params).

    Copies: on the CPU ``load_state_dict`` keeps the tensors it is given and Adam
    updates them in place, which would write into the stored arrays (an interrupted
    ``partial_fit`` would then leave the estimator half-updated).
    """
    if isinstance(state, np.ndarray):
        return torch.tensor(state)
    if isinstance(state, dict):
        return {k: _torch_tree(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_torch_tree(v) for v in state]
    return state


def _n_to_select(n_features_to_select, n_features: int) -> int | None:
    """The ``n_features_to_select`` parameter as a count (a float is a fraction)."""
    if n_features_to_select is None:
        return None
    if isinstance(n_features_to_select, numbers.Integral):
        if n_features_to_select > n_features:
            raise ValueError(
                f"n_features_to_select={n_features_to_select} exceeds the number of features "
                f"in X ({n_features})."
            )
        return int(n_features_to_select)
    return max(1, int(round(n_features_to_select * n_features)))


def _split_validation(data: Dataset, y: np.ndarray, fraction: float, seed: int, stratify: bool):
    """Hold out ``fraction`` of the rows (stratified for classifiers) for early stopping."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(data.n_samples)
    train_idx, val_idx = train_test_split(
        idx,
        test_size=fraction,
        random_state=seed % (2**32),
        stratify=y if stratify else None,
    )

    def subset(rows):
        rows = torch.as_tensor(rows, device=data.y.device)
        return Dataset(data.X.index_select(0, rows), data.y[rows], data.w[rows])

    return subset(train_idx), subset(val_idx)
