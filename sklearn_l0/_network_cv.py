"""Cross-validated networks: one price path per fold, the price chosen on held-out rows.

:class:`L0MLPClassifierCV` and :class:`L0MLPRegressorCV` are the plain
network estimators with ``alpha`` replaced by a grid. Each fold trains one
network along the price path (:mod:`~sklearn_l0.path`), which settles at
every price of the grid in turn, from the lowest up, and is scored there on
the fold's held-out rows; the price with the best mean score (or the
sparsest within one standard error of it) is chosen, and one more path on
all rows, walked through the whole grid, gives the final model at that price,
the support at every price (``support_path_``) and the order in which every
feature left (``feature_importances_``). As scikit-learn's ``LinearModelCV``
does, the CV estimator builds its plain estimator from the parameters they
share (:meth:`_NetworkCV._plain`) and lets it do the fitting.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions

from ._cv import PlainSettings, given_alphas
from .data import validate_fit_data
from .gates import BETA
from .neural_network import (
    _MLP_ATTRS_DOC,
    _MLP_SHAPE_DOC,
    _MLP_TRAINING_DOC,
    L0MLPClassifier,
    L0MLPRegressor,
)
from .targets import CLASS_WEIGHT_DOC
from .utils import atomic_fit

_CV_PARAMS_DOC = """
    alphas : int or array-like, default=12
        The grid of prices. An int gives that many values on a log scale
        from ``alpha_max`` down to ``eps * alpha_max``, where ``alpha_max``
        is the data loss of the best constant prediction (1 for regression on
        the standardized target, the entropy of the classes in nats): no
        feature is worth more. An array-like is used as given.
    eps : float, default=3e-3
        Ratio of the smallest to the largest alpha of an automatic grid.
    cv : int, cross-validation generator or iterable, default=5
        Folds, as in :func:`sklearn.model_selection.check_cv` (stratified for
        the classifier).
    scoring : str, callable or None, default=None
        Held-out score at each (alpha, fold), as in ``GridSearchCV``; None
        uses the estimator's ``score`` (accuracy or R^2).
    selection : {"best", "one_se"}, default="best"
        ``"best"``: the alpha with the highest mean score (ties: the larger
        alpha). ``"one_se"``: the largest alpha whose mean score is within
        one standard error (over folds) of the best, a sparser model.
"""

_CV_ATTRS_DOC = """
    alpha_ : float
        The chosen price.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, largest first.
    score_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out score of each fold's path at each alpha (a path stops once
        it has closed every feature gate; its last score stands for the
        larger alphas).
    support_path_ : ndarray of shape (n_alphas, n_features_in_), dtype=bool
        Features kept at each alpha by the path on all the rows.
"""


_WARM_START_DOC = """\
    warm_start : bool, default=False
        Start from the parameters (before compaction) of the previous fit.
"""
_TRAINING_DOC = _MLP_TRAINING_DOC.replace(_WARM_START_DOC, "")
_FITTED_DOC = _MLP_ATTRS_DOC.replace(
    """    alpha_ : float
        The L0 strength per input feature that was used (``alpha``, or the
        price at which the count was met with ``n_features_to_select``).
""",
    "",
)


def walk_supports(network, X, y, sample_weight, rising, **fit_params) -> np.ndarray:
    """Fit ``network`` along the price path through ``rising``; its support at every price.

    Shape ``(len(rising), n_features)``, largest price first; the prices past
    the one where the path closed every gate get the empty support.
    ``fit_params`` go to the network's ``_fit`` (``walk_only``, ``classes``).
    """
    supports = []
    network._fit(
        X,
        y,
        sample_weight,
        stops=rising,
        on_stop=lambda alpha, snapshot: supports.append(snapshot().support_),
        **fit_params,
    )
    supports += [np.zeros(X.shape[1], dtype=bool)] * (rising.size - len(supports))
    return np.stack(supports[::-1])


class _NetworkCV(PlainSettings):
    """``fit`` of the network CV estimators (mixed in before the plain estimator)."""

    _partial_fit_available = False  # the grid needs all the data at once
    _cv_constraints: dict = {
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "selection": [StrOptions({"best", "one_se"})],
    }

    def _alpha_grid(self, plain, y, sample_weight) -> np.ndarray:
        """The alphas, largest first: ``alphas`` as given, or a log grid below alpha_max."""
        if isinstance(self.alphas, numbers.Integral):
            if is_classifier(self):
                _, counts = np.unique(y, return_inverse=True)
                share = np.bincount(counts, weights=sample_weight) / sample_weight.sum()
                share = share[share > 0]
                top = float(-(share * np.log(share)).sum())
            else:
                top = 1.0
            top /= plain._gate_price(1.0)
            return top * np.logspace(0, np.log10(self.eps), self.alphas)
        return given_alphas(self.alphas)

    @_fit_context(prefer_skip_nested_validation=True)
    @atomic_fit
    def fit(self, X, y, sample_weight=None):
        """Walk one price path per fold, choose alpha, and fit the path on all rows.

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
        X, y, sample_weight = validate_fit_data(self, X, y, sample_weight)
        plain = self._plain()
        plain._prepare_target(y, sample_weight)  # errors in y: named for all rows, first
        classes = {"classes": np.unique(y)} if is_classifier(self) else {}
        alphas = self._alpha_grid(plain, y, sample_weight)
        rising = np.sort(alphas)
        scorer = check_scoring(plain, self.scoring)
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        scores = np.empty((alphas.size, len(folds)))
        for f, (train, test) in enumerate(folds):
            held_out = []

            def score(alpha, snapshot, test=test, held_out=held_out):
                held_out.append(scorer(snapshot(), X[test], y[test]))

            clone(plain).set_params(alpha=rising[-1])._fit(
                X[train],
                y[train],
                sample_weight[train],
                stops=rising,
                on_stop=score,
                walk_only=True,
                **classes,
            )
            held_out += held_out[-1:] * (alphas.size - len(held_out))  # past an empty support
            scores[:, f] = held_out[::-1]
        best = self._choose(scores)
        final = plain.set_params(alpha=float(alphas[best]))
        support_path = walk_supports(final, X, y, sample_weight, rising)
        params = final.get_params(deep=False)
        vars(self).update({k: v for k, v in vars(final).items() if k not in params})
        self.alpha_ = float(alphas[best])
        self.alphas_ = alphas
        self.score_path_ = scores
        self.support_path_ = support_path
        return self

    def _choose(self, scores: np.ndarray) -> int:
        """The row of the chosen alpha (``scores``: alphas largest first, by folds)."""
        mean = scores.mean(axis=1)
        best = int(np.argmax(mean))  # first of ties: the larger alpha
        if self.selection == "one_se" and scores.shape[1] > 1:
            error = scores[best].std(ddof=1) / math.sqrt(scores.shape[1])
            best = int(np.flatnonzero(mean >= mean[best] - error)[0])
        return best


class L0MLPRegressorCV(_NetworkCV, L0MLPRegressor):
    __doc__ = f"""L0MLPRegressor with the price chosen by cross-validation along one path per fold.

    Parameters
    ----------{_MLP_SHAPE_DOC}{_CV_PARAMS_DOC}{_TRAINING_DOC}
    Attributes
    ----------{_CV_ATTRS_DOC}{_FITTED_DOC}
    See Also
    --------
    L0MLPRegressor : The network at a given alpha.
    L0RegressorCV : The cross-validated linear model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0MLPRegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(600, 8))
    >>> y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    >>> reg = L0MLPRegressorCV((16,), alphas=5, cv=3, random_state=0).fit(X, y)
    >>> np.flatnonzero(reg.support_)
    array([0, 1])
    """

    _plain_class = L0MLPRegressor

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alphas=12,
        eps=3e-3,
        cv=5,
        scoring=None,
        selection="best",
        groups=None,
        penalty_factor=None,
        hidden_alpha=0.0,
        price_per="gate",
        schedule=None,
        weight_decay=1e-4,
        standardize=True,
        ema_decay=None,
        batch_size="auto",
        learning_rate_init=0.01,
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        temperature=BETA,
        device="auto",
        random_state=None,
        verbose=0,
        n_threads=None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.groups = groups
        self.penalty_factor = penalty_factor
        self.hidden_alpha = hidden_alpha
        self.price_per = price_per
        self.schedule = schedule
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.ema_decay = ema_decay
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.temperature = temperature
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads


class L0MLPClassifierCV(_NetworkCV, L0MLPClassifier):
    __doc__ = f"""L0MLPClassifier with the price chosen by cross-validation along one path per fold.

    Parameters
    ----------{_MLP_SHAPE_DOC}{_CV_PARAMS_DOC}{_TRAINING_DOC}{CLASS_WEIGHT_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.{_CV_ATTRS_DOC}{_FITTED_DOC}
    See Also
    --------
    L0MLPClassifier : The network at a given alpha.
    L0ClassifierCV : The cross-validated linear model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0MLPClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(600, 8)
    >>> y = (X[:, 2] * X[:, 7] > 0).astype(int)  # XOR of two signs
    >>> clf = L0MLPClassifierCV((16,), alphas=5, cv=3, random_state=0).fit(X, y)
    >>> np.flatnonzero(clf.support_)
    array([2, 7])
    """

    _plain_class = L0MLPClassifier

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alphas=12,
        eps=3e-3,
        cv=5,
        scoring=None,
        selection="best",
        groups=None,
        penalty_factor=None,
        class_weight=None,
        hidden_alpha=0.0,
        price_per="gate",
        schedule=None,
        weight_decay=1e-4,
        standardize=True,
        ema_decay=None,
        batch_size="auto",
        learning_rate_init=0.01,
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        temperature=BETA,
        device="auto",
        random_state=None,
        verbose=0,
        n_threads=None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.groups = groups
        self.penalty_factor = penalty_factor
        self.class_weight = class_weight
        self.hidden_alpha = hidden_alpha
        self.price_per = price_per
        self.schedule = schedule
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.ema_decay = ema_decay
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.temperature = temperature
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads


__all__ = ["L0MLPClassifierCV", "L0MLPRegressorCV"]
