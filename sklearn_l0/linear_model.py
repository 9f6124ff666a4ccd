"""Linear models with an L0 penalty on the input features: L0Regressor, L0Classifier.

Both fit ``output = X @ coef_.T + intercept_`` with one hard concrete gate per
input feature, shared by every output (a feature is either used for all
targets/classes or for none). The cross-validated versions are in ``_cv.py``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import ClassifierMixin, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import L0BaseEstimator
from ._predict import (
    CoxOutputsMixin,
    LogitClassifierMixin,
    PoissonOutputsMixin,
    RegressorOutputMixin,
    mlp_forward,
)
from .data import Standardization
from .gates import BETA
from .groups import GROUP_ATTRS_DOC, GROUPS_DOC
from .nn.layers import L0Linear
from .search import MAX_POLISHED, searchable, swaps_keep_penalty
from .targets import (
    CLASS_WEIGHT_DOC,
    ClassWeightMixin,
    count_target,
    encode_labels,
    regression_target,
    survival_arrays,
    survival_target,
)
from .threads import N_THREADS_DOC

_ALPHA_DOC = """
    alpha : float or {"aic", "bic", "ebic"}, default=0.01
        Strength of the L0 penalty (the paper's lambda): the price of keeping
        one feature, in units of the data loss. For :class:`L0Regressor` the
        loss is the mean squared error on the internally standardized target,
        so ``alpha=0.01`` keeps a feature only if it lowers the mean squared
        error by about 1% of the target's variance. For :class:`L0Classifier`
        the loss is the mean log-loss in nats, so ``alpha=0.01`` keeps a
        feature only if it lowers the mean log-loss by about 0.01 nats. The
        meaning does not depend on the number of samples or on the units of
        X and y. ``alpha=0`` keeps every feature. Pick it by cross-validation
        (:class:`L0RegressorCV` / :class:`L0ClassifierCV`, or ``GridSearchCV``
        over a log grid such as ``np.logspace(-3, -1, 10)``),
        or let one fit minimise an information criterion: ``"aic"``,
        ``"bic"`` or ``"ebic"`` (extended BIC, for p much larger than n) set
        the price of a feature to ``c / (2 n)`` per coefficient it carries
        (``c`` = 2, ``log n``, ``log n + 2 log p``), and for regression
        the loss becomes the Gaussian negative log-likelihood with the noise
        variance profiled out, ``0.5 * log(MSE)``, so that the training
        objective is the criterion divided by ``2 n``. ``alpha_`` reports the
        strength used. With ``refit=True``, :class:`L0Regressor` and a
        binary :class:`L0Classifier` then polish the support by local search
        on the exact criterion: single moves in, out or swaps, while the
        criterion of the refitted support decreases. At a numeric alpha they
        try swaps only, on a support of at most 50 features whose gates all
        have the same price (no ``penalty_factor`` or cost that differs): the
        same count at a lower loss lowers the training objective itself.
"""

_COUNT_DOC = """\
    n_features_to_select : int, float or None, default=None
        If set, train to keep exactly this many features (a float in (0, 1)
        is a fraction of the features): the L0 strength becomes a Lagrange
        multiplier adapted during training so that the expected number of
        open gates meets the target, then the features with the most open
        gates are kept (exactly this many) and the model is refitted on them
        (:class:`L0Regressor` and a binary :class:`L0Classifier` first swap
        features in and out while that lowers the loss). ``alpha`` is then only the multiplier's
        starting value.
"""

_SELECTION_PARAMS_DOC = _ALPHA_DOC + _COUNT_DOC + GROUPS_DOC

_TRAINING_PARAMS_DOC = (
    """\
    weight_decay : float, default=1e-3
        L2 strength on the coefficients of standardized features. During
        training it is the paper's expected L2 under the gates,
        ``weight_decay / 2 * sum_j P(z_j != 0) * ||w_j||^2``; during the refit
        it is a plain ridge penalty.
    fit_intercept : bool, default=True
        Whether to fit an intercept. When False, X and y are scaled but not
        centered, and the model passes through the origin.
    refit : bool, default=True
        After the gates settle, re-estimate the coefficients on the selected
        support without the L0 penalty (ridge with ``weight_decay``; least
        squares or logistic regression when it is 0), by full-batch L-BFGS.
        This removes the shrinkage that the stochastic gates put on the kept
        coefficients, so predictions are usually better; with ``refit=False``
        the coefficients are the trained weights times the test-time gates,
        which can be slightly shrunk but are exactly what the gated model
        learned. :class:`L0Regressor` and a binary :class:`L0Classifier`
        polish the support by local search only when refitting (see
        ``alpha``).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the data). With the default
        full-batch training an epoch is one optimizer step.
    tol : float, default=1e-4
        Training stops when the objective evaluated with the test-time gates
        has not improved by at least ``tol`` for ``n_iter_no_change`` epochs
        and the set of selected features has not changed in that time.
    n_iter_no_change : int, default=50
        Patience of the stopping rule, in epochs (checked every 10 optimizer
        steps).
    learning_rate : float, default=0.05
        Step size of the Adam optimizer.
    batch_size : int or "auto", default="auto"
        Mini-batch size. ``"auto"`` trains full batch (the data are moved to
        the device once).
    temperature : float, default=2/3
        Temperature ``beta`` of the hard concrete distribution.
    device : str or torch.device, default="auto"
        Where to train: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
        ``"cuda"``, ``"cuda:1"`` or a ``torch.device``. Fitted attributes are
        numpy arrays whatever the device, so a fitted model predicts anywhere.
    random_state : int, RandomState instance or None, default=None
        Seeds the gate noise. An int gives identical results on the CPU
        across calls. Global numpy and torch random states are never used.
    verbose : int, default=0
        If positive, show a progress bar with the objective and the number of
        open gates.
"""
    + N_THREADS_DOC
)

_COMMON_PARAMS_DOC = (
    _SELECTION_PARAMS_DOC
    + _TRAINING_PARAMS_DOC
    + """    warm_start : bool, default=False
        Start from the gates and coefficients of the previous fit.
"""
)

_COMMON_ATTRS_DOC = (
    """
    alpha_ : float
        The L0 strength per feature that was used: ``alpha`` itself, the
        criterion's price, or the final multiplier with
        ``n_features_to_select``.
    support_ : ndarray of shape (n_features_in_,), dtype=bool
        Selected features; ``coef_`` is exactly zero outside them.
    gate_open_proba_ : ndarray of shape (n_features_in_,)
        Probability, under the trained hard concrete distribution, that each
        feature's gate is non-zero. Useful to rank features; the selected
        ones have the highest values.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of training epochs run.
    loss_curve_ : ndarray of shape (n_iter_,)
        Training objective (loss plus penalties) at each epoch.
    n_gates_open_curve_ : ndarray of shape (n_iter_,)
        Number of open test-time gates, recorded at each convergence check.
"""
    + GROUP_ATTRS_DOC
)


def linear_coef(module: L0Linear, x_std: Standardization, refitted, y_scale=1.0, y_mean=0.0):
    """``coef`` (n_outputs, n_features) and ``intercept`` (n_outputs,) in the user's units.

    From the trained layer (weights times test-time gates) or, when given, the
    float64 ``(weight, bias)`` of its refit, undoing the standardization of X
    (``x_std``) and of y (``y_scale``, ``y_mean``).
    """
    weight, bias = refitted or (module.effective_weight(), module.bias)
    weight = weight.detach().double().cpu().numpy() / x_std.scale[:, None]
    bias = 0.0 if bias is None else bias.detach().double().cpu().numpy()
    coef = (weight * y_scale).T
    intercept = y_mean + y_scale * (bias - x_std.mean @ weight)
    coef[:, module.gate.deterministic().cpu().numpy() <= 0] = 0.0
    return coef, np.broadcast_to(intercept, (coef.shape[0],)).astype(np.float64)


class LinearOutputsMixin:
    """``_outputs`` and ``_export`` of a fitted linear model (plain or cross-validated)."""

    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        # By row chunks: no float64 copy of a float32 X (10M x 20 rows: 1.5 GB saved).
        coef = [np.atleast_2d(self.coef_).T]
        return mlp_forward(X, coef, [self._intercept()], "identity", n_threads=self.n_threads)

    def _intercept(self):
        """What ``_outputs`` adds to ``X @ coef_.T`` (a Cox model: minus its ``offset_``)."""
        return self.intercept_

    def _export(self, module: L0Linear, x_std: Standardization, target, refitted) -> None:
        """Set ``support_``, ``coef_``, ``intercept_`` (and the classes or the output shape)."""
        self.support_ = (module.gate.deterministic() > 0).cpu().numpy()
        if target.classes is not None:
            self.classes_ = target.classes
            self.coef_, self.intercept_ = linear_coef(module, x_std, refitted)
            return
        y_std = target.y_std
        coef, intercept = linear_coef(module, x_std, refitted, y_std.scale, y_std.mean)
        self._y_1d = target.y_1d
        if self._y_1d:
            coef, intercept = coef[0], float(intercept[0])
        self.coef_, self.intercept_ = coef, intercept


class _L0LinearModel(LinearOutputsMixin, L0BaseEstimator):
    """Parameters, module and export shared by the two linear estimators."""

    _parameter_constraints: dict = {
        **L0BaseEstimator._parameter_constraints,
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "refit": ["boolean"],
    }

    def __init__(
        self,
        alpha: float | str = 0.01,
        *,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        weight_decay: float = 1e-3,
        fit_intercept: bool = True,
        refit: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 50,
        learning_rate: float = 0.05,
        batch_size: int | str = "auto",
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.n_features_to_select = n_features_to_select
        self.groups = groups
        self.penalty_factor = penalty_factor
        self.weight_decay = weight_decay
        self.fit_intercept = fit_intercept
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.temperature = temperature
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_threads = n_threads

    def _build_module(
        self, n_features, n_outputs, generator, input_offset, strength, feature_options
    ):
        layer = L0Linear(
            n_features,
            n_outputs,
            bias=self.fit_intercept,
            l0=strength(self._params_per_feature(n_outputs)),
            l2=self.weight_decay,
            input_offset=input_offset,
            temperature=self.temperature,
            **feature_options,
        )
        with torch.no_grad():  # weights start at zero: a convex start for a linear model
            layer.weight.zero_()
        return layer

    def _params_per_feature(self, n_outputs: int) -> float:
        """Coefficients per feature, in units of the mean loss (for information criteria)."""
        raise NotImplementedError

    def _train_options(self, n_samples):
        return dict(
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            learning_rate=self.learning_rate,
            batch_size=n_samples if self.batch_size == "auto" else min(self.batch_size, n_samples),
        )

    @property
    def _center_X(self) -> bool:
        return self.fit_intercept

    @property
    def _refits(self) -> bool:
        return self.refit

    def _support_search(self, n_select, target, layer, n_candidates, n_samples):
        # The exact objective of a support is one ridge fit (or a few Newton steps) away.
        if not (self.refit and searchable(target)):
            return None
        if n_select is None and isinstance(self.alpha, str):
            # AIC and BIC do not price the search among candidates: with more
            # candidates than samples, adding the best of them overfits.
            return {"keep_count": False, "adds": self.alpha == "ebic" or n_candidates < n_samples}
        # A count, or a numeric alpha: swaps at the size the gates chose lower the loss
        # and, where every gate that can move has the same price, leave the penalty as
        # it is (for a large support, a swap search is slow).
        if n_select is None and (
            int(layer.gate.is_open().sum()) > MAX_POLISHED or not swaps_keep_penalty(layer)
        ):
            return None
        return {"keep_count": True}


class L0Regressor(RegressorOutputMixin, MultiOutputMixin, RegressorMixin, _L0LinearModel):
    __doc__ = f"""Linear regression with L0-regularized feature selection.

    Least squares with one hard concrete gate per feature (Louizos, Welling
    & Kingma, 2018): the gates and the coefficients train together by
    gradient descent and, at the end, each gate is exactly open or closed.
    Multi-output targets share the gates, so a feature is kept for all
    outputs or for none.

    Parameters
    ----------{_COMMON_PARAMS_DOC}
    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,) or (n_targets, n_features_in_)
        Coefficients in the units of X and y.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept in the units of y.
{_COMMON_ATTRS_DOC}
    See Also
    --------
    L0Classifier : The same penalty for classification.
    sklearn.linear_model.Lasso : The L1-penalized analogue.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0Regressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 20)
    >>> y = 3 * X[:, 0] - 2 * X[:, 5] + 0.1 * rng.randn(200)
    >>> reg = L0Regressor(alpha=0.01, random_state=0).fit(X, y)
    >>> np.flatnonzero(reg.support_)
    array([0, 5])
    >>> reg.coef_[[0, 5]].round(1)
    array([ 3., -2.])
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data. Sparse matrices (CSR/CSC) are scaled, never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : L0Regressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _params_per_feature(self, n_outputs):
        return 1.0  # n_outputs coefficients, and the loss is averaged over the outputs

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        return regression_target(
            y,
            sample_weight,
            center=self.fit_intercept,
            profiled=isinstance(self.alpha, str),
            y_std=None if like is None else like.y_std,
        )


class L0Classifier(ClassWeightMixin, LogitClassifierMixin, ClassifierMixin, _L0LinearModel):
    __doc__ = f"""Logistic regression with L0-regularized feature selection.

    Binary logistic or multinomial (softmax) regression with one hard
    concrete gate per feature, shared across classes: the coefficient
    columns of a pruned feature are zero for every class.

    Parameters
    ----------{_COMMON_PARAMS_DOC}{CLASS_WEIGHT_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features_in_) or (n_classes, n_features_in_)
        Coefficients in the units of X; one row for a binary problem.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
{_COMMON_ATTRS_DOC}
    See Also
    --------
    L0Regressor : The same penalty for regression.
    sklearn.linear_model.LogisticRegression : L1/L2-penalized logistic regression.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0Classifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(500, 20)
    >>> y = np.where(2 * X[:, 1] - 3 * X[:, 4] + 0.5 * rng.randn(500) > 0, "yes", "no")
    >>> clf = L0Classifier(alpha=0.01, random_state=0).fit(X, y)
    >>> np.flatnonzero(clf.support_)
    array([1, 4])
    >>> clf.classes_
    array(['no', 'yes'], dtype='<U3')
    """

    _multi_output = False  # y must be 1-D labels
    _y_numeric = False
    _parameter_constraints: dict = {
        **_L0LinearModel._parameter_constraints,
        **ClassWeightMixin._class_weight_constraints,
    }

    def __init__(
        self,
        alpha: float | str = 0.01,
        *,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        class_weight=None,
        weight_decay: float = 1e-3,
        fit_intercept: bool = True,
        refit: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 50,
        learning_rate: float = 0.05,
        batch_size: int | str = "auto",
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            alpha,
            n_features_to_select=n_features_to_select,
            groups=groups,
            penalty_factor=penalty_factor,
            weight_decay=weight_decay,
            fit_intercept=fit_intercept,
            refit=refit,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            learning_rate=learning_rate,
            batch_size=batch_size,
            temperature=temperature,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            n_threads=n_threads,
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data. Sparse matrices (CSR/CSC) are scaled, never densified.
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : L0Classifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _params_per_feature(self, n_outputs):
        return max(n_outputs - 1, 1)  # softmax: one coefficient per class, one redundant

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        classes = classes if like is None else like.classes
        return encode_labels(y, type(self).__name__, classes)


_GLM_ALPHA_DOC = """
    alpha : float or {"aic", "bic", "ebic"}, default="ebic"
        Strength of the L0 penalty: the price of keeping one feature, in
        units of the mean negative log-likelihood per row (Poisson: per count
        row; Cox: the partial likelihood divided by the number of rows). A
        criterion prices each coefficient at ``c / (2 n)``, with ``c`` = 2
        (``"aic"``), ``log n`` (``"bic"``) or ``log n + 2 log p``
        (``"ebic"``, the default: this loss has no standard scale, so a fixed
        number means different things on different data); choose a numeric
        alpha by cross-validation (the ``CV`` estimator). With ``refit=True``
        the support is then polished by single moves on the exact objective,
        as :class:`L0Regressor`'s.
"""


_BASELINE_ATTRS_DOC = """\
    unique_times_ : ndarray of shape (n_unique_times,)
        The distinct event times of the training rows.
    cum_baseline_hazard_ : ndarray of shape (n_unique_times,)
        Breslow's cumulative baseline hazard at ``unique_times_`` (of a row
        of risk score 0), from which ``predict_survival_function`` and
        ``predict_cumulative_hazard_function`` scale each row's.
"""


def _without(doc: str, *names: str) -> str:
    """A numpydoc parameter block without the entries of ``names``."""
    kept, skipping = [], False
    for line in doc.splitlines(keepends=True):
        if line.startswith("    ") and not line.startswith("     "):
            skipping = line.strip().split(" : ")[0] in names
        if not skipping:
            kept.append(line)
    return "".join(kept)


POISSON_LEARNING_RATE = 0.02
"""The Poisson models' default Adam step: smaller than the others' 0.05 for the exp link."""

_POISSON_TRAINING_PARAMS_DOC = _TRAINING_PARAMS_DOC.replace(
    """    learning_rate : float, default=0.05
        Step size of the Adam optimizer.
""",
    f"""    learning_rate : float, default={POISSON_LEARNING_RATE}
        Step size of the Adam optimizer; smaller than the other models' 0.05
        because the log link amplifies steps: a step moves every open
        coefficient at once, so ``X @ coef`` by up to ``learning_rate``
        times the sum of a row's ``|x|``, and ``exp`` of that. With more
        candidates than rows 0.05 can leave every gate open or diverge
        where 0.02 settles (``benchmarks/README.md``).
""",
)


class L0PoissonRegressor(PoissonOutputsMixin, RegressorMixin, _L0LinearModel):
    __doc__ = f"""Poisson regression (log link) with L0-regularized feature selection.

    The expected count is ``exp(X @ coef_ + intercept_)``; each feature has
    one hard concrete gate. ``y`` holds non-negative counts, or rates with
    the exposures as ``sample_weight`` (as for
    :class:`sklearn.linear_model.PoissonRegressor`: fit ``y / exposure`` with
    ``sample_weight=exposure``).

    Parameters
    ----------{_GLM_ALPHA_DOC}{_COUNT_DOC}{GROUPS_DOC}{_POISSON_TRAINING_PARAMS_DOC}\
    warm_start : bool, default=False
        Start from the gates and coefficients of the previous fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Coefficients of the log expected count, in the units of X.
    intercept_ : float
        Intercept of the log expected count.
{_COMMON_ATTRS_DOC}
    See Also
    --------
    L0PoissonRegressorCV : alpha chosen by cross-validation.
    sklearn.linear_model.PoissonRegressor : The L2-penalized analogue.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0PoissonRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(500, 20)
    >>> y = rng.poisson(np.exp(0.5 + 0.6 * X[:, 2] - 0.4 * X[:, 7]))
    >>> reg = L0PoissonRegressor(random_state=0).fit(X, y)
    >>> np.flatnonzero(reg.support_)
    array([2, 7])
    >>> reg.coef_[[2, 7]].round(1)
    array([ 0.6, -0.4])
    """

    _multi_output = False

    def __init__(
        self,
        alpha: float | str = "ebic",
        *,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        weight_decay: float = 1e-3,
        fit_intercept: bool = True,
        refit: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 50,
        learning_rate: float = POISSON_LEARNING_RATE,
        batch_size: int | str = "auto",
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            alpha,
            n_features_to_select=n_features_to_select,
            groups=groups,
            penalty_factor=penalty_factor,
            weight_decay=weight_decay,
            fit_intercept=fit_intercept,
            refit=refit,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            learning_rate=learning_rate,
            batch_size=batch_size,
            temperature=temperature,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            n_threads=n_threads,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data. Sparse matrices (CSR/CSC) are scaled, never densified.
        y : array-like of shape (n_samples,)
            Non-negative counts (or rates, with exposures as ``sample_weight``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (exposures, for rates).

        Returns
        -------
        self : L0PoissonRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """Train one more epoch on a chunk of data (for streams or data out of memory).

        The first call fixes the standardization of X and the offset of the
        log rate from its chunk; every call continues the same training run.
        Coefficients are not refitted (``refit`` applies to ``fit`` only).

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its counts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : L0PoissonRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _params_per_feature(self, n_outputs):
        return 1.0

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        return count_target(y, sample_weight, None if like is None else float(like.y_std.mean[0]))


class L0CoxRegressor(CoxOutputsMixin, _L0LinearModel):
    __doc__ = f"""Cox proportional hazards regression with L0-regularized feature selection.

    The hazard of a row is ``h0(t) exp(X @ coef_)``; the coefficients
    maximise the partial likelihood (Breslow's handling of tied times, or
    Efron's) less the L0 price of the features kept, each feature having
    one hard concrete gate. There is no intercept (the baseline hazard
    absorbs it). ``y`` follows scikit-survival: a structured array of
    (event, time) (``sksurv.util.Surv.from_arrays``), a two-column array of
    (time, event), or 1-D times when every event is observed. ``predict``
    gives risk scores and ``score`` Harrell's concordance index, so
    ``GridSearchCV`` and ``cross_val_score`` work as with scikit-survival's
    models. Training is full batch (a row's partial likelihood involves
    every row at risk), and there is no ``partial_fit``: a chunk's risk sets
    are not the data's.

    Parameters
    ----------{_GLM_ALPHA_DOC}{_COUNT_DOC}{GROUPS_DOC}\
    ties : {{"breslow", "efron"}}, default="breslow"
        How tied event times share the risk set: Breslow's approximation
        (every tied event sees the whole risk set), or Efron's (closer to
        the exact likelihood when many times are tied).
{_without(_TRAINING_PARAMS_DOC, "fit_intercept", "batch_size")}\
    warm_start : bool, default=False
        Start from the gates and coefficients of the previous fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Log hazard ratios per unit of each feature.
    offset_ : float
        The mean risk score ``X @ coef_`` of the training rows, which
        ``predict`` subtracts (risk scores relative to an average row).
{_BASELINE_ATTRS_DOC}{_COMMON_ATTRS_DOC}
    See Also
    --------
    L0CoxRegressorCV : alpha chosen by cross-validation.
    sksurv.linear_model.CoxnetSurvivalAnalysis : The elastic-net analogue.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0CoxRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(1000, 20)
    >>> time = rng.exponential(np.exp(-(0.8 * X[:, 3] - 0.6 * X[:, 11])))
    >>> censor = rng.exponential(2.0, size=1000)
    >>> y = np.column_stack([np.minimum(time, censor), time <= censor])
    >>> cox = L0CoxRegressor(random_state=0).fit(X, y)
    >>> np.flatnonzero(cox.support_)
    array([ 3, 11])
    >>> cox.coef_[[3, 11]].round(1)
    array([ 0.8, -0.6])
    """

    _partial_fit_available = False
    _multi_output = True  # y is (time, event)
    _parameter_constraints: dict = {
        **_L0LinearModel._parameter_constraints,
        "ties": [StrOptions({"breslow", "efron"})],
    }
    fit_intercept = False  # not parameters: the baseline hazard absorbs an intercept,
    batch_size = "auto"  # and risk sets need every row

    def __init__(
        self,
        alpha: float | str = "ebic",
        *,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        ties: str = "breslow",
        weight_decay: float = 1e-3,
        refit: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 50,
        learning_rate: float = 0.05,
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.n_features_to_select = n_features_to_select
        self.groups = groups
        self.penalty_factor = penalty_factor
        self.ties = ties
        self.weight_decay = weight_decay
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.learning_rate = learning_rate
        self.temperature = temperature
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_threads = n_threads

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data. Sparse matrices (CSR/CSC) are scaled, never densified.
        y : structured array, array of shape (n_samples, 2), or of shape (n_samples,)
            Survival times and events: (event, time) records, (time, event)
            columns, or times alone (every event observed).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (case weights of the partial
            likelihood).

        Returns
        -------
        self : L0CoxRegressor
            The fitted estimator.
        """
        time, event = survival_arrays(y)
        self._fit(X, np.column_stack([time, event]), sample_weight)
        self._fit_baseline(X, time, event, sample_weight)
        return self

    @property
    def _center_X(self) -> bool:
        return True  # a shift of every risk score changes nothing: centering is free

    def _params_per_feature(self, n_outputs):
        return 1.0

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        return survival_target(y[:, 0], y[:, 1], efron=self.ties == "efron")

    def _sample_size(self, target):
        return float(np.count_nonzero(target.y[:, 1]))  # the events carry the information

    def _export(self, module, x_std, target, refitted) -> None:
        self.support_ = (module.gate.deterministic() > 0).cpu().numpy()
        coef, intercept = linear_coef(module, x_std, refitted)
        self.coef_, self.offset_ = coef[0], -float(intercept[0])


__all__ = ["L0Classifier", "L0CoxRegressor", "L0PoissonRegressor", "L0Regressor"]
