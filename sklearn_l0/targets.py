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
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from .data import Standardization, weighted_mean_std
from .losses import (
    LossFn,
    ScoreFn,
    accuracy,
    binary_log_loss,
    multinomial_log_loss,
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


CRITERIA = ("aic", "bic", "ebic")


def criterion_price(alpha, n_samples: int, n_features: int) -> float | None:
    """L0 price of one parameter, in mean negative log-likelihood units, of a criterion.

    An information criterion ``-2 log L + c * k`` divided by ``2 n`` is the
    mean negative log-likelihood plus ``c / (2 n)`` per parameter, so a gate
    that controls ``m`` parameters costs ``m * c / (2 n)``. ``c`` is 2 for
    AIC, ``log n`` for BIC and ``log n + 2 log p`` for the extended BIC
    (Chen & Chen, 2008, with their ``gamma = 1``: the ``log p`` term prices
    the search over ``p`` candidate features). Returns None for a numeric
    ``alpha``. :func:`criterion_terms` gives the two parts of ``c``.
    """
    terms = criterion_terms(alpha, n_samples, n_features)
    return None if terms is None else sum(terms)


def criterion_terms(alpha, n_samples: int, n_candidates: int) -> tuple[float, float] | None:
    """``(fit, search)``: the criterion's price per parameter, and per candidate chosen.

    Both in mean negative log-likelihood units (divided by ``2 n``): ``fit`` is
    ``2 / (2 n)`` (AIC) or ``log n / (2 n)`` (BIC, EBIC); ``search`` is
    ``2 log p / (2 n)`` for the extended BIC over ``p`` candidates (features,
    or groups of them), 0 otherwise. None for a numeric ``alpha``.
    """
    if not isinstance(alpha, str):
        return None
    n = max(n_samples, 2)
    fit = 2.0 if alpha == "aic" else float(np.log(n))
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
