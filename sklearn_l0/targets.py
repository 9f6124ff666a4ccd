"""Targets: how ``y`` is encoded for a loss, and the prices of information criteria.

:class:`Target` is what an estimator's ``_prepare_target`` hands to the shared
``fit``: the encoded ``y`` for the loss, the width of the output layer, the
loss and the validation score, and what is needed to decode predictions
(``classes`` or the target's standardization ``y_std``).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from .data import Standardization, weighted_mean_std
from .losses import (
    LossFn,
    NegativeLoss,
    ScoreFn,
    accuracy,
    binary_log_loss,
    cox_nll,
    cox_nll_efron,
    multinomial_log_loss,
    poisson_nll,
    profiled_gaussian_nll,
    r2_score,
    squared_loss,
)


@dataclass
class Target:
    """An encoded target, its loss, and how to decode predictions."""

    y: np.ndarray | None  # float32 values (standardized) or int64 class indices
    n_outputs: int  # width of the network's output layer
    loss_fn: LossFn
    score_fn: ScoreFn  # for early stopping; higher is better
    classes: np.ndarray | None = None  # classifiers: the labels, sorted
    y_std: Standardization | None = None  # regressors: the standardization of y
    y_1d: bool = False  # regressors: y was 1-D, so predictions are too

    def encoding(self) -> Target:
        """This target without its values: what a later ``partial_fit`` encodes alike with."""
        return dataclasses.replace(self, y=None)


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
    if len(classes) == 2:
        return Target(y_idx.astype(np.float32), 1, binary_log_loss, accuracy, classes=classes)
    return Target(
        y_idx.astype(np.int64), len(classes), multinomial_log_loss, accuracy, classes=classes
    )


def regression_target(
    y, sample_weight, *, center: bool, profiled: bool, y_std: Standardization | None = None
) -> Target:
    """Standardized float32 targets and the squared (or profiled Gaussian) loss.

    ``y_std``: an earlier target's standardization to reuse (``partial_fit``).
    """
    y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if y_std is not None and y_std.mean.shape[0] != y2.shape[1]:
        raise ValueError(
            f"y has {y2.shape[1]} target(s); the first call had {y_std.mean.shape[0]}."
        )
    if y_std is None:
        y_std = weighted_mean_std(y2, sample_weight, center)
    y_scaled = ((y2 - y_std.mean) / y_std.scale).astype(np.float32)
    loss = profiled_gaussian_nll if profiled else squared_loss
    return Target(y_scaled, y2.shape[1], loss, r2_score, y_std=y_std, y_1d=np.ndim(y) == 1)


def count_target(y, sample_weight, log_base: float | None = None) -> Target:
    """Counts (or rates, with the exposures as ``sample_weight``) for the Poisson loss.

    ``y`` must be finite and non-negative, with a positive weighted mean.
    The encoded ``y`` has two columns: the value and the log of the weighted
    mean value, the offset of the linear predictor (so that a model with zero
    weights starts at the intercept-only fit); ``log_base``: an earlier
    target's offset to reuse (``partial_fit``). ``y_std.mean`` holds the offset.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if np.any(y < 0):
        raise ValueError(
            f"y must be non-negative counts (or rates) for a Poisson model; got "
            f"{int(np.sum(y < 0))} negative value(s), the smallest {y.min():.4g}."
        )
    if log_base is None:
        mean = float(np.average(y, weights=sample_weight))
        if not mean > 0:
            raise ValueError(
                "y is zero on every row (of positive weight): a Poisson model needs some "
                "positive counts."
            )
        if not 1e-30 < mean < 1e30:
            raise ValueError(
                f"y's weighted mean is {mean:.3g}: rescale y (counts or rates this small or "
                "this large lose their precision in the float32 training)."
            )
        log_base = float(np.log(mean))
    encoded = np.column_stack([y, np.full(len(y), log_base)]).astype(np.float32)
    std = Standardization(np.array([log_base]), np.ones(1))
    return Target(encoded, 1, poisson_nll, NegativeLoss(poisson_nll), y_std=std, y_1d=True)


def survival_arrays(y) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` from survival targets in the forms scikit-survival and lifelines use.

    ``y`` is a structured array with a boolean event field and a time field
    (scikit-survival's ``Surv.from_arrays``; the event field is the one of
    boolean dtype, else the first), a two-column array ``(time, event)``, or a
    1-D array of times, all events observed. Times must be finite and
    non-negative, events 0/1 or boolean, and at least one event observed.
    """
    if y is None:
        raise ValueError(
            "A survival model requires y to be passed, but the target y is None: give the "
            "times and events."
        )
    if getattr(y, "dtype", None) is not None and y.dtype.names is not None:
        if len(y.dtype.names) != 2:
            raise ValueError(
                f"a structured survival y needs two fields (event, time); got {y.dtype.names}."
            )
        kinds = [y.dtype[name].kind for name in y.dtype.names]
        event_field = y.dtype.names[kinds.index("b") if "b" in kinds else 0]
        time_field = next(name for name in y.dtype.names if name != event_field)
        time, event = y[time_field], y[event_field]
    else:
        y = np.asarray(y)
        if y.ndim == 1:
            time, event = y, np.ones(len(y))
        elif y.ndim == 2 and y.shape[1] == 2:
            time, event = y[:, 0], y[:, 1]
        else:
            raise ValueError(
                f"survival y must be a structured array (event, time), an array of shape "
                f"(n_samples, 2) holding (time, event), or 1-D times; got shape {y.shape}."
            )
    if np.iscomplexobj(time) or np.iscomplexobj(event):
        raise ValueError("Complex data not supported: survival times and events must be real.")
    try:
        time = np.asarray(time, dtype=np.float64)
        event = np.asarray(event, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"survival times and events must be numbers: {err}") from None
    assert_all_finite(time, input_name="y")
    if np.any(time < 0):
        raise ValueError(
            f"survival times must be non-negative; got {int(np.sum(time < 0))} negative "
            f"value(s), the smallest {time.min():.4g}."
        )
    if not np.all(np.isin(event, (0.0, 1.0))):
        raise ValueError("the event indicator must be boolean or 0/1 (1: the event was observed).")
    if len(event) and not event.any():
        raise ValueError(
            "no event is observed (every time is censored): the partial likelihood has no "
            "information about the coefficients."
        )
    return time, event


def survival_target(time, event, efron: bool) -> Target:
    """Times and events for Cox's partial likelihood (Breslow's ties, or Efron's).

    The encoded ``y`` has two columns: the time's rank among the distinct
    times (exact in float32, and all the loss needs) and the event indicator.
    """
    code = np.unique(time, return_inverse=True)[1].reshape(-1)
    encoded = np.column_stack([code, event]).astype(np.float32)
    loss = cox_nll_efron if efron else cox_nll
    return Target(encoded, 1, loss, NegativeLoss(loss), y_1d=True)


CRITERIA = ("aic", "bic", "ebic")


def criterion_price(
    alpha, n_samples: int, n_features: int, sample_size: float | None = None
) -> float | None:
    """L0 price of one parameter, in mean negative log-likelihood units, of a criterion.

    An information criterion ``-2 log L + c * k`` divided by ``2 n`` is the
    mean negative log-likelihood plus ``c / (2 n)`` per parameter, so a gate
    that controls ``m`` parameters costs ``m * c / (2 n)``. ``c`` is 2 for
    AIC, ``log n`` for BIC and ``log n + 2 log p`` for the extended BIC
    (Chen & Chen, 2008, with their ``gamma = 1``: the ``log p`` term prices
    the search over ``p`` candidate features). Returns None for a numeric
    ``alpha``. :func:`criterion_terms` gives the two parts of ``c``.
    """
    terms = criterion_terms(alpha, n_samples, n_features, sample_size)
    return None if terms is None else sum(terms)


def criterion_terms(
    alpha, n_samples: int, n_candidates: int, sample_size: float | None = None
) -> tuple[float, float] | None:
    """``(fit, search)``: the criterion's price per parameter, and per candidate chosen.

    Both in mean negative log-likelihood units (divided by ``2 n``, ``n`` the
    rows the loss averages over): ``fit`` is ``2 / (2 n)`` (AIC) or
    ``log s / (2 n)`` (BIC, EBIC), ``s`` the ``sample_size`` (default ``n``;
    a Cox model's number of events, Volinsky & Raftery, 2000); ``search`` is
    ``2 log p / (2 n)`` for the extended BIC over ``p`` candidates (features,
    or groups of them), 0 otherwise. None for a numeric ``alpha``.
    """
    if not isinstance(alpha, str):
        return None
    n = max(n_samples, 2)
    fit = 2.0 if alpha == "aic" else float(np.log(max(sample_size or n, 2)))
    search = 2.0 * float(np.log(max(n_candidates, 2))) if alpha == "ebic" else 0.0
    return fit / (2.0 * n), search / (2.0 * n)


def n_to_select(n_features_to_select, n_features: int, unit: str = "features") -> int | None:
    """The ``n_features_to_select`` parameter as a count (a float is a fraction).

    ``n_features`` is the number of candidates (features, or groups: the ``unit``).
    """
    if n_features_to_select is None:
        return None
    if isinstance(n_features_to_select, numbers.Integral):
        if n_features_to_select > n_features:
            raise ValueError(
                f"n_features_to_select={n_features_to_select} exceeds the number of {unit} "
                f"in X ({n_features})."
            )
        return int(n_features_to_select)
    return max(1, int(round(n_features_to_select * n_features)))


CLASS_WEIGHT_DOC = """\
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as in scikit-learn: ``{label: weight}`` (labels
        left out weigh 1), or ``"balanced"`` for ``n_samples / (n_classes *
        np.bincount(y))``. They multiply ``sample_weight``, so
        ``class_weight="balanced"`` is the same fit as passing those weights
        as ``sample_weight``. ``partial_fit`` takes a dict, not ``"balanced"``
        (a chunk's class frequencies are not the data's).
"""


class ClassWeightMixin:
    """``class_weight`` for a classifier: folded into the sample weights at the top of fit."""

    _class_weight_constraints = {"class_weight": [dict, StrOptions({"balanced"}), None]}

    def _weigh_samples(self, y, sample_weight: np.ndarray, incremental: bool) -> np.ndarray:
        if self.class_weight is None:
            return sample_weight
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                'class_weight="balanced" is not supported by partial_fit (a chunk\'s class '
                "frequencies are not the data's); pass a dict of class weights."
            )
        if isinstance(self.class_weight, dict):
            values = np.asarray(list(self.class_weight.values()), dtype=np.float64)
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(
                    f"class_weight values must be finite and non-negative; got {self.class_weight}."
                )
        weights = sample_weight * compute_sample_weight(self.class_weight, y)
        if not weights.sum() > 0:
            raise ValueError("class_weight and sample_weight give every sample a zero weight.")
        return weights / weights.mean()
