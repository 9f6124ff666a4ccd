"""Linear models with an L0 penalty on the input features.

Both estimators fit ``output = X @ coef_.T + intercept_`` with one hard
concrete gate per input feature, shared by every output (a feature is either
used for all targets/classes or for none).
"""

from __future__ import annotations

import numbers
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    AllFeaturesPrunedWarning,
    L0BaseEstimator,
    LogitClassifierMixin,
    RegressorOutputMixin,
    Standardization,
    _seed,
    atomic_fit,
    column_stats,
    encode_labels,
    refit_on_support,
    regression_target,
    resolve_device,
    to_device,
)
from .gates import BETA
from .networks import GatedLinear, GatedLinearStack, mlp_forward
from .training import Dataset, train, user_stacklevel

_SELECTION_PARAMS_DOC = """
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
        strength used.
    n_features_to_select : int, float or None, default=None
        If set, train to keep exactly this many features (a float in (0, 1)
        is a fraction of the features): the L0 strength becomes a Lagrange
        multiplier adapted during training so that the expected number of
        open gates meets the target, then the features with the most open
        gates are kept (exactly this many) and the model is refitted on them.
        ``alpha`` is then only the multiplier's starting value.
"""

_TRAINING_PARAMS_DOC = """\
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
        learned. Selection (``support_``) is the same either way.
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

_COMMON_PARAMS_DOC = (
    _SELECTION_PARAMS_DOC
    + _TRAINING_PARAMS_DOC
    + """    warm_start : bool, default=False
        Start from the gates and coefficients of the previous fit.
"""
)

_COMMON_ATTRS_DOC = """
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


def linear_coef(module: GatedLinear, x_std: Standardization, refitted, y_scale=1.0, y_mean=0.0):
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


class _L0LinearModel(L0BaseEstimator):
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
    ) -> None:
        self.alpha = alpha
        self.n_features_to_select = n_features_to_select
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

    def _build_module(self, n_features, n_outputs, generator, input_offset, strength):
        # Weights start at zero (a convex start for the linear model); gates mostly open.
        return GatedLinear(
            n_features,
            n_outputs,
            bias=self.fit_intercept,
            l0=strength(self._params_per_feature(n_outputs)),
            l2=self.weight_decay,
            input_offset=input_offset,
            beta=self.temperature,
        )

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

    def _export_linear(
        self, module: GatedLinear, x_std: Standardization, refitted, y_scale=1.0, y_mean=0.0
    ):
        """Set ``support_``; return ``coef`` and ``intercept`` in the user's units."""
        self.support_ = (module.gate.deterministic() > 0).cpu().numpy()
        return linear_coef(module, x_std, refitted, y_scale, y_mean)

    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        # By row chunks: no float64 copy of a float32 X (10M x 20 rows: 1.5 GB saved).
        return mlp_forward(X, [np.atleast_2d(self.coef_).T], [self.intercept_], "identity")


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
        return self._fit(X, y, sample_weight, refit_support=self.refit, center=self.fit_intercept)

    def _params_per_feature(self, n_outputs):
        return 1.0  # n_outputs coefficients, and the loss is averaged over the outputs

    def _prepare_target(self, y, sample_weight, like=None):
        profiled = isinstance(self.alpha, str)
        center = self.fit_intercept
        return regression_target(y, sample_weight, center=center, profiled=profiled, like=like)

    def _export(self, module, x_std, target_info, refitted):
        y_std = target_info["y_std"]
        coef, intercept = self._export_linear(
            module, x_std, refitted, y_scale=y_std.scale, y_mean=y_std.mean
        )
        self._y_1d = target_info["y_1d"]
        if self._y_1d:
            coef, intercept = coef[0], float(intercept[0])
        self.coef_, self.intercept_ = coef, intercept


class L0Classifier(LogitClassifierMixin, ClassifierMixin, _L0LinearModel):
    __doc__ = f"""Logistic regression with L0-regularized feature selection.

    Binary logistic or multinomial (softmax) regression with one hard
    concrete gate per feature, shared across classes: the coefficient
    columns of a pruned feature are zero for every class.

    Parameters
    ----------{_COMMON_PARAMS_DOC}
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
        return self._fit(X, y, sample_weight, refit_support=self.refit, center=self.fit_intercept)

    def _params_per_feature(self, n_outputs):
        return max(n_outputs - 1, 1)  # softmax: one coefficient per class, one redundant

    def _prepare_target(self, y, sample_weight, like=None):
        classes = None if like is None else like["classes"]
        return encode_labels(y, type(self).__name__, classes)

    def _export(self, module, x_std, target_info, refitted):
        self.classes_ = target_info["classes"]
        self.coef_, self.intercept_ = self._export_linear(module, x_std, refitted)


# ----------------------------------------------------------------------------- CV estimators

_CV_PARAMS_DOC = """
    alphas : int or array-like, default=20
        The grid of L0 strengths. An int gives that many values on a log
        scale from ``alpha_max``, where every feature is pruned, down to
        ``eps * alpha_max``: for regression ``alpha_max`` is twice the
        largest squared correlation of a feature with the target (that
        correlation squared is the most that one feature alone lowers the
        standardized mean squared error; the factor 2 leaves a margin for
        the gate noise); for
        classification it is the entropy of the classes (the most that any
        set of features lowers the mean log-loss). An array-like is used as
        given (sorted, largest first).
    eps : float, default=1e-3
        Ratio of the smallest to the largest alpha of an automatic grid.
    cv : int, cross-validation generator or iterable, default=5
        Folds, as in :func:`sklearn.model_selection.check_cv` (stratified for
        the classifier).
    scoring : str, callable or None, default=None
        Validation score of each (alpha, fold) model, as in ``GridSearchCV``;
        None uses the estimator's ``score`` (R^2 or accuracy). The best alpha
        has the highest mean over folds (ties go to the larger alpha).
"""

_CV_ATTRS_DOC = """
    alpha_ : float
        The chosen L0 strength.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, largest first.
    score_path_ : ndarray of shape (n_alphas, n_folds)
        Validation score of each alpha on each fold (higher is better).
    support_path_ : ndarray of shape (n_alphas, n_features_in_), dtype=bool
        Features selected at each alpha by the fits on all the data.
    support_ : ndarray of shape (n_features_in_,), dtype=bool
        Selected features of the final model (``support_path_[best]``).
    gate_open_proba_ : ndarray of shape (n_features_in_,)
        Probability that each feature's gate is non-zero, in the final model.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs of the joint training of all models.
    loss_curve_ : ndarray of shape (n_iter_,)
        Training objective of the final model at each epoch.
    n_gates_open_curve_ : ndarray of shape (n_iter_,)
        Open test-time gates of the final model at each convergence check.
"""


class _L0LinearCV:
    """``fit`` of the CV estimators: every (alpha, fold) model trained as one computation.

    The training rows of fold ``f`` get weights, not copies of X: the models
    are a :class:`~sklearn_l0.networks.GatedLinearStack` of shape
    ``(n_alphas, n_folds + 1)`` whose last column trains on all rows (the
    support path, and the final model at the chosen alpha). Each fold keeps
    its own standardization of X and y, so that every member is the model the
    plain estimator would fit on that fold's training rows.
    """

    _cv_constraints: dict = {
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    }

    def _alpha_max(self, X, x_std, target, sample_weight) -> float:  # pragma: no cover
        raise NotImplementedError

    def _fold_targets(self, y, fold_weights, full_target) -> list:  # pragma: no cover
        raise NotImplementedError

    _partial_fit_available = False  # cross-validation needs all the data at once

    def _plain(self):
        """The plain estimator with these settings (what GridSearchCV would clone)."""
        params = {k: v for k, v in self.get_params().items() if k in _CV_PARAMS}
        return self._plain_class(**params)

    @_fit_context(prefer_skip_nested_validation=True)
    @atomic_fit
    def fit(self, X, y, sample_weight=None):
        """Fit every (alpha, fold) model together, choose alpha, keep its all-data fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (used in training, not in scoring).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight)
        center = self.fit_intercept
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        n_samples, n_features = X.shape
        rows = np.zeros((n_samples, len(folds) + 1))
        for f, (train_rows, _) in enumerate(folds):
            rows[train_rows, f] = 1.0
        rows[:, -1] = 1.0
        full = self._prepare_target(y, sample_weight)  # first: its errors (one class) come first
        fold_w = sample_weight[:, None] * rows
        empty = np.flatnonzero(~(fold_w.sum(axis=0) > 0))
        if empty.size:
            raise ValueError(
                f"sample_weight is zero on every training row of fold(s) {empty.tolist()}; "
                "give those rows positive weights or use other folds (cv)."
            )
        fold_w /= fold_w.mean(axis=0)  # mean 1 over all rows: the loss is a mean over rows
        targets = self._fold_targets(y, fold_w, full)
        stats = [column_stats(X, fold_w[:, f], center=center) for f in range(rows.shape[1])]
        x_std = stats[-1]

        if isinstance(self.alphas, numbers.Integral):
            top = self._alpha_max(X, x_std, full, sample_weight)
            alphas = top * np.logspace(0, np.log10(self.eps), self.alphas)
        else:
            alphas = -np.sort(-np.asarray(self.alphas, dtype=np.float64).ravel())
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] < 0:
                raise ValueError(
                    f"alphas must be finite non-negative numbers; got {self.alphas!r}."
                )

        device = resolve_device(self.device)
        generator = torch.Generator(device=device).manual_seed(_seed(self.random_state))
        as_tensor = partial(torch.as_tensor, dtype=torch.float32, device=device)
        dense_mean = 0.0 if sp.issparse(X) else x_std.mean  # what to_device subtracted
        scale = np.stack([x_std.scale / st.scale for st in stats])
        offset = np.stack([(st.mean - dense_mean) / st.scale for st in stats])
        stack = GatedLinearStack(
            n_features,
            full.n_outputs,
            (len(alphas), rows.shape[1]),
            l0=as_tensor(alphas[:, None]),
            l2=self.weight_decay,
            scale=as_tensor(scale[None]),
            offset=as_tensor(offset[None]) if np.any(offset) else None,
            bias=self.fit_intercept,
            beta=self.temperature,
        ).to(device)
        if all(t is full for t in targets):  # classes: one target, broadcast over the folds
            y_all = full.y[:, None]
        else:  # regression: y standardized per fold, (n, folds + 1, k)
            y_all = np.stack([t.y for t in targets], axis=1)
        data = Dataset(
            to_device(X, x_std, device),
            torch.as_tensor(y_all, device=device).unsqueeze(1),
            as_tensor(fold_w).unsqueeze(1),
        )
        history, _ = train(
            stack,
            full.loss_fn,
            data,
            generator=generator,
            verbose=self.verbose,
            **self._train_options(n_samples),
        )

        # Score every (alpha, fold) member as the plain estimator fitted on the fold.
        scorer = check_scoring(self._plain(), scoring=self.scoring)
        scores = np.empty((len(alphas), len(folds)))
        refits = {}
        for f, (train_rows, test_rows) in enumerate(folds):
            for a in range(len(alphas)):
                member = stack.member((a, f))
                key = (f, (member.gate.deterministic() > 0).cpu().numpy().tobytes())
                if key not in refits:
                    w = fold_w[train_rows, f]
                    refits[key] = self._member_model(
                        member, X[train_rows], targets[f], stats[f], train_rows, w / w.mean()
                    )
                scores[a, f] = scorer(refits[key], X[test_rows], y[test_rows])
        best = int(np.argmax(scores.mean(axis=1)))  # first of ties: the larger alpha

        final = stack.member((best, -1))
        refitted = None
        if self.refit:
            y_all_rows, w_all_rows = data.y[:, 0, -1], data.w[:, 0, -1]
            refitted = refit_on_support(final, full.loss_fn, X, x_std, y_all_rows, w_all_rows)
        self._export(final, x_std, targets[-1].info, refitted)
        with torch.no_grad():
            self.gate_open_proba_ = final.gate.learned_prob_nonzero().double().cpu().numpy()
        self.alpha_ = float(alphas[best])
        self.alphas_ = alphas
        self.score_path_ = scores
        self.support_path_ = (stack.gate.deterministic()[:, -1] > 0).cpu().numpy()
        self.n_iter_ = history.n_iter
        self.loss_curve_ = np.asarray(history.loss_curve)[:, best, -1]
        self.n_gates_open_curve_ = np.asarray(history.n_open_curve, dtype=np.int64)[:, best, -1]
        if not self.support_.any() and n_features > 0:
            warnings.warn(
                f"The chosen alpha={self.alpha_:.4g} pruned every feature: the model predicts "
                "a constant (the intercept). Extend alphas to smaller values.",
                AllFeaturesPrunedWarning,
                stacklevel=user_stacklevel(),
            )
        return self

    def _member_model(self, member, X_train, target, x_std, train_rows, weights):
        """The plain estimator holding ``member`` (refitted on its fold when ``refit``)."""
        refitted = None
        if self.refit:
            device = member.weight.device
            y = torch.as_tensor(target.y[train_rows], device=device)
            w = torch.as_tensor(weights, dtype=torch.float32, device=device)
            refitted = refit_on_support(member, target.loss_fn, X_train, x_std, y, w)
        model = self._plain()
        model.n_features_in_ = X_train.shape[1]
        model._export(member, x_std, target.info, refitted)
        return model


_CV_PARAMS = (
    "weight_decay",
    "fit_intercept",
    "refit",
    "max_iter",
    "tol",
    "n_iter_no_change",
    "learning_rate",
    "batch_size",
    "temperature",
    "device",
    "random_state",
    "verbose",
)


class L0RegressorCV(_L0LinearCV, L0Regressor):
    __doc__ = f"""L0-regularized linear regression with alpha chosen by cross-validation.

    Like :class:`sklearn.linear_model.LassoCV`: every (alpha, fold) model,
    and the fits on all the data along the grid, train together as one torch
    computation (one pass over X per step serves all of them; folds are
    sample weights, not copies of X). Each is scored as the
    :class:`L0Regressor` with those settings would be on the held-out fold,
    the alpha with the best mean score is chosen, and its fit on all the data
    is the final model.

    Parameters
    ----------{_CV_PARAMS_DOC}{_TRAINING_PARAMS_DOC}
    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,) or (n_targets, n_features_in_)
        Coefficients of the final model.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the final model.
{_CV_ATTRS_DOC}
    See Also
    --------
    L0Regressor : One fit at a given alpha.
    sklearn.linear_model.LassoCV : The L1 analogue.

    Examples
    --------
    >>> from sklearn_l0 import L0RegressorCV
    >>> from sklearn_l0.datasets import make_sparse_regression
    >>> X, y, coef = make_sparse_regression(200, 50, n_informative=5, random_state=0)
    >>> reg = L0RegressorCV(alphas=10, cv=3, random_state=0).fit(X, y)
    >>> bool((reg.support_ == (coef != 0)).all())
    True
    """

    _plain_class = L0Regressor
    _parameter_constraints: dict = {
        **L0Regressor._parameter_constraints,
        **_L0LinearCV._cv_constraints,
    }

    def __init__(
        self,
        *,
        alphas=20,
        eps: float = 1e-3,
        cv=5,
        scoring=None,
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
    ) -> None:
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
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

    def _prepare_target(self, y, sample_weight, like=None):
        return regression_target(y, sample_weight, center=self.fit_intercept, profiled=False)

    def _fold_targets(self, y, fold_weights, full):
        return [self._prepare_target(y, w) for w in fold_weights.T]

    def _alpha_max(self, X, x_std, full, sample_weight):
        """Twice the largest decrease of the loss that one feature alone brings.

        For standardized X and y that decrease is the largest squared
        correlation (averaged over targets) of a feature with the target.
        """
        residual = sample_weight[:, None] * full.y
        corr = safe_sparse_dot(X.T, residual, dense_output=True)
        corr -= np.outer(x_std.mean, residual.sum(axis=0))  # center sparse or dense X alike
        corr /= x_std.scale[:, None] * X.shape[0]
        return 2.0 * float(np.max(np.square(corr).mean(axis=1), initial=0.0))


class L0ClassifierCV(_L0LinearCV, L0Classifier):
    __doc__ = f"""L0-regularized logistic regression with alpha chosen by cross-validation.

    Like :class:`sklearn.linear_model.LogisticRegressionCV`: every (alpha,
    fold) model, and the fits on all the data along the grid, train together
    as one torch computation. Each is scored as the :class:`L0Classifier`
    with those settings would be on the held-out fold (stratified folds by
    default), the alpha with the best mean score is chosen, and its fit on
    all the data is the final model.

    Parameters
    ----------{_CV_PARAMS_DOC}{_TRAINING_PARAMS_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features_in_) or (n_classes, n_features_in_)
        Coefficients of the final model.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the final model.
{_CV_ATTRS_DOC}
    See Also
    --------
    L0Classifier : One fit at a given alpha.
    sklearn.linear_model.LogisticRegressionCV : The L1/L2 analogue.
    """

    _plain_class = L0Classifier
    _parameter_constraints: dict = {
        **L0Classifier._parameter_constraints,
        **_L0LinearCV._cv_constraints,
    }
    __init__ = L0RegressorCV.__init__

    def _fold_targets(self, y, fold_weights, full):
        return [full] * fold_weights.shape[1]

    def _alpha_max(self, X, x_std, full, sample_weight):
        """The entropy of the classes (nats): the log-loss of the intercept-only model.

        No set of features can lower the mean log-loss by more, so above it
        every feature is pruned.
        """
        freq = np.bincount(full.y.astype(np.int64), weights=sample_weight) / sample_weight.sum()
        freq = freq[freq > 0]
        return float(-(freq * np.log(freq)).sum())


__all__ = ["L0Classifier", "L0ClassifierCV", "L0Regressor", "L0RegressorCV"]
