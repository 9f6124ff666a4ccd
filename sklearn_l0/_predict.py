"""Prediction from the fitted numpy arrays: numpy products, no training machinery.

:func:`mlp_forward` is the numpy forward pass of a compacted network (a linear
model is its one-layer case). The mixins give regressors and classifiers their
public prediction methods (and the public ``partial_fit`` signatures), built
on the estimator's ``_outputs(X)``. The thread policy (:mod:`~sklearn_l0.threads`)
bounds the BLAS threads of the products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.metrics import mean_poisson_deviance
from sklearn.utils import gen_batches
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .metrics import concordance_index
from .targets import survival_arrays
from .threads import limited_threads, threads_for

ACTIVATIONS = {
    "identity": lambda a: a,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}
"""The hidden-layer activations, in numpy."""


def mlp_forward(
    X, coefs, intercepts, activation: str, chunk_size: int = 65536, columns=None, n_threads=-1
) -> np.ndarray:
    """Numpy forward pass of a plain MLP (``coefs[i]`` of shape (n_in, n_out)), by row chunks.

    ``X`` may be a scipy sparse matrix; ``columns`` (a mask or indices), if given,
    selects the columns of X that the first layer reads, chunk by chunk. Memory
    stays bounded by ``chunk_size`` rows beyond the output (no copy of X, no
    float64 copy of a float32 X). A linear model is the one-layer case.
    ``n_threads``: the BLAS threads, as the estimators' parameter (-1: as set).
    """
    act = ACTIVATIONS[activation]
    out = np.empty((X.shape[0], coefs[-1].shape[1]))
    work = min(X.shape[0], chunk_size) * sum(W.size for W in coefs)
    with limited_threads(threads_for(n_threads, work)):
        for rows in gen_batches(X.shape[0], chunk_size):
            h = X[rows] if columns is None else X[rows][:, columns]
            for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
                h = safe_sparse_dot(h, W, dense_output=True) + b
                if i < len(coefs) - 1:
                    h = act(h)
            out[rows] = h
    return out


def _can_partial_fit(estimator) -> bool:
    return estimator._partial_fit_available


class RegressorOutputMixin:
    """``predict`` and ``partial_fit`` of a regressor; 1-D predictions when fitted on a 1-D ``y``.

    ``_export`` stores ``_y_1d`` from the target info.
    """

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
        return self._fit(X, y, sample_weight, incremental=True)

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
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

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


class PoissonOutputsMixin:
    """``predict`` (expected counts) and ``score`` (deviance explained) of a Poisson model."""

    def predict(self, X):
        """Expected counts (or rates) ``exp(X @ coef_ + intercept_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted means.
        """
        return np.exp(self._outputs(X)[:, 0])

    def score(self, X, y, sample_weight=None):
        """D^2, the fraction of the Poisson deviance explained (as ``PoissonRegressor``'s).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            True counts.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            1 for a perfect fit, 0 for the mean's, negative for worse.
        """
        y = np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        deviance = mean_poisson_deviance(y, self.predict(X), sample_weight=w)
        mean = np.average(y, weights=w)
        null = mean_poisson_deviance(y, np.full(len(y), mean), sample_weight=w) if mean > 0 else 0
        if not null > 0:  # a constant y: as r2_score, 1 if fitted exactly, else 0
            return 1.0 if deviance <= 1e-12 else 0.0
        return float(1.0 - deviance / null)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags


@dataclass(frozen=True, eq=False)
class StepFunction:
    """A right-continuous step function of time: ``y[i]`` on ``[x[i], x[i + 1])``.

    ``before`` is its value before ``x[0]``; after ``x[-1]`` it keeps ``y[-1]``.
    Call it on times: ``fn(t)``. A Cox model's survival and cumulative hazard
    functions are of this kind (``x`` the training event times).
    """

    x: np.ndarray
    y: np.ndarray
    before: float

    def __call__(self, t):
        step = np.searchsorted(self.x, np.asarray(t, dtype=np.float64), side="right") - 1
        return np.where(step < 0, self.before, self.y[np.maximum(step, 0)])


def _step_functions(times: np.ndarray, values: np.ndarray, before: float) -> np.ndarray:
    """An object array of one :class:`StepFunction` per row of ``values``."""
    functions = np.empty(len(values), dtype=object)
    functions[:] = [StepFunction(times, row, before) for row in values]
    return functions


class CoxOutputsMixin:
    """``predict`` (risk scores) and ``score`` (concordance index) of a Cox model."""

    def predict(self, X):
        """Risk scores ``X @ coef_ - offset_`` (log relative hazards; higher: earlier events).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        risk : ndarray of shape (n_samples,)
            Risk scores.
        """
        return self._outputs(X)[:, 0]

    def _intercept(self):
        return np.full(1, -self.offset_)

    def _fit_baseline(self, X, time, event, sample_weight) -> None:
        """Breslow's cumulative baseline hazard at the distinct event times of the training rows.

        ``H0(t) = sum over event times s <= t of d(s) / sum_{rows at risk at s} w exp(risk)``,
        ``d(s)`` the weighted events at ``s``; the baseline is that of a row of
        risk score 0 (``predict`` is centred by ``offset_``: an average row).
        """
        w = _check_sample_weight(sample_weight, time)
        times, at = np.unique(time, return_inverse=True)
        weighted_risk = np.bincount(at, w * np.exp(self.predict(X)), len(times))
        at_risk = np.cumsum(weighted_risk[::-1])[::-1]
        events = np.bincount(at, w * event, len(times))
        observed = np.bincount(at, event, len(times)) > 0
        self.unique_times_ = times[observed]
        self.cum_baseline_hazard_ = np.cumsum(events[observed] / at_risk[observed])

    def predict_cumulative_hazard_function(self, X, return_array: bool = False):
        """Each row's cumulative hazard ``H0(t) exp(risk)``, from Breslow's baseline.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        return_array : bool, default=False
            Return the values at ``unique_times_`` (the distinct event times
            of the training rows) as an array, instead of step functions.

        Returns
        -------
        cum_hazard : ndarray of StepFunction of shape (n_samples,), or \
ndarray of shape (n_samples, n_unique_times)
            As scikit-survival's models: step functions of time (``fn(t)``;
            0 before the first event time, the last value after the last),
            or their values at ``unique_times_``.
        """
        check_is_fitted(self)
        hazards = np.exp(self.predict(X))[:, None] * self.cum_baseline_hazard_
        if return_array:
            return hazards
        return _step_functions(self.unique_times_, hazards, before=0.0)

    def predict_survival_function(self, X, return_array: bool = False):
        """Each row's survival function ``exp(-H0(t) exp(risk))``, from Breslow's baseline.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        return_array : bool, default=False
            Return the values at ``unique_times_`` (the distinct event times
            of the training rows) as an array, instead of step functions.

        Returns
        -------
        survival : ndarray of StepFunction of shape (n_samples,), or \
ndarray of shape (n_samples, n_unique_times)
            As scikit-survival's models: step functions of time (``fn(t)``;
            1 before the first event time, the last value after the last),
            or their values at ``unique_times_``.
        """
        survival = np.exp(-self.predict_cumulative_hazard_function(X, return_array=True))
        if return_array:
            return survival
        return _step_functions(self.unique_times_, survival, before=1.0)

    def score(self, X, y, sample_weight=None):
        """Harrell's concordance index of the risk scores (as scikit-survival's models).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : structured array, array of shape (n_samples, 2), or of shape (n_samples,)
            True survival times and events (as in ``fit``).
        sample_weight : array-like of shape (n_samples,), default=None
            Ignored (Harrell's index is unweighted); accepted for the API.

        Returns
        -------
        score : float
            The share of comparable pairs whose risk scores are in the order of
            their times (0.5 for random scores).
        """
        time, event = survival_arrays(y)
        return concordance_index(time, event, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.positive_only = True
        return tags
