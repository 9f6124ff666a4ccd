"""Stability selection: the features an L0 model selects on most halves of the data.

:class:`StabilitySelection` refits an sklearn-l0 estimator on many subsamples
at every price of a grid and keeps the features selected on at least a
fraction ``threshold`` of them (Meinshausen & Bühlmann, 2010). The expected
number of false positives among those is bounded by :func:`pfer_bound`, with
Shah & Samworth's (2013) tighter bound when the subsamples come in
complementary pairs. The linear models train every (price, subsample) model
as one :class:`~sklearn_l0.grid.GatedLinearStack`, as their CV estimators train
the folds (a subsample is a column of sample weights); the networks walk one
price path per subsample (:mod:`~sklearn_l0.path`), in parallel with joblib.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._cv import L0ClassifierCV, L0RegressorCV, _L0LinearCV, given_alphas
from ._network_cv import L0MLPClassifierCV, L0MLPRegressorCV, walk_supports
from .data import validate_fit_data
from .linear_model import L0Classifier, L0Regressor
from .neural_network import L0MLPClassifier, L0MLPRegressor
from .utils import DocLinkMixin, seed_from

AUTO_THRESHOLD_CAP = 0.9
"""With only ``pfer`` given, the price grid is cut where the threshold the bound
requires would pass this (the top of Meinshausen & Bühlmann's recommended
range 0.6-0.9): below it, more prices add candidates faster than they add
evidence."""

_CV_OF = [  # each plain estimator and the estimator that trains its price grid
    (L0RegressorCV, L0RegressorCV),
    (L0ClassifierCV, L0ClassifierCV),
    (L0MLPRegressorCV, L0MLPRegressorCV),
    (L0MLPClassifierCV, L0MLPClassifierCV),
    (L0Regressor, L0RegressorCV),
    (L0Classifier, L0ClassifierCV),
    (L0MLPRegressor, L0MLPRegressorCV),
    (L0MLPClassifier, L0MLPClassifierCV),
]


def pfer_bound(q: float, n_features: int, threshold: float, n_pairs: int | None = None) -> float:
    """Upper bound on the expected number of false positives of stability selection.

    Parameters
    ----------
    q : float
        Average number of features one subsample's selection keeps (over
        every price used).
    n_features : int
        Number of candidate features.
    threshold : float
        Selection frequency a feature needs to be kept.
    n_pairs : int or None, default=None
        None: Meinshausen & Bühlmann's bound ``q**2 / ((2 * threshold - 1) *
        n_features)`` (assumes the noise features are exchangeable and the
        selection no worse than random guessing). An int: the number of
        complementary pairs of half-samples, and the smaller of that bound and
        Shah & Samworth's (2013, eq. 8), which further assumes that each noise
        feature's selection frequency has a unimodal distribution.

    Returns
    -------
    bound : float
        ``inf`` for a threshold of at most 0.5.
    """
    if threshold <= 0.5:
        return math.inf
    mb = q * q / ((2 * threshold - 1) * n_features)
    if n_pairs is None:
        return mb
    theta, half = q / n_features, 1 / (2 * n_pairs)
    if threshold > 0.75:
        ss = q * q * 4 * (1 - threshold + half) / (n_features * (1 + 1 / n_pairs))
    elif threshold > 0.5 + min(theta**2, half + 0.75 * theta**2) and 2 * threshold - 1 > half:
        ss = q * q / (n_features * 2 * (2 * threshold - 1 - half))
    else:  # outside the range where the unimodal bound holds
        ss = math.inf
    return min(mb, ss)


def subsample_rows(
    n_samples: int,
    n_resamples: int,
    sample_fraction: float,
    complementary_pairs: bool,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean ``(n_samples, n_resamples)``: the rows of each subsample.

    Each subsample holds ``floor(sample_fraction * n)`` rows of every stratum
    (``strata``: the classes, or None for one). With ``complementary_pairs``,
    subsamples ``2b`` and ``2b + 1`` are disjoint.
    """
    strata = np.zeros(n_samples, dtype=int) if strata is None else strata
    rows = np.zeros((n_samples, n_resamples), dtype=bool)
    for label in np.unique(strata):
        members = np.flatnonzero(strata == label)
        size = int(sample_fraction * len(members))
        if complementary_pairs:
            for b in range(n_resamples // 2):
                order = rng.permutation(members)
                rows[order[:size], 2 * b] = True
                rows[order[size : 2 * size], 2 * b + 1] = True
        else:
            for r in range(n_resamples):
                rows[rng.permutation(members)[:size], r] = True
    return rows


def _network_path(plain, X, y, sample_weight, rows, rising, fit_params) -> np.ndarray:
    """Supports of one price path on ``rows`` at every price of ``rising`` (largest first)."""
    walker = clone(plain).set_params(alpha=rising[-1])
    rows_only = (X[rows], y[rows], sample_weight[rows])
    return walk_supports(walker, *rows_only, rising, walk_only=True, **fit_params)


def _fitted_support(estimator) -> np.ndarray:
    """Features a fitted estimator uses: ``support_``, non-zero ``coef_`` or importances."""
    if hasattr(estimator, "support_"):
        return np.asarray(estimator.support_, dtype=bool)
    if hasattr(estimator, "coef_"):
        coef = np.asarray(estimator.coef_)
        return np.any(coef.reshape(-1, coef.shape[-1]) != 0, axis=0)
    return np.asarray(estimator.feature_importances_) > 0


def _alpha_path(estimator, X, y, sample_weight, rows, alphas) -> np.ndarray:
    """Supports of ``estimator`` fitted on ``rows`` at every alpha (a foreign estimator)."""
    model, supports = clone(estimator), []
    if "warm_start" in model.get_params(deep=False):
        model.set_params(warm_start=True)  # each alpha starts from the previous one's fit
    weights = {} if sample_weight is None else {"sample_weight": sample_weight[rows]}
    for alpha in alphas:
        model.set_params(alpha=alpha).fit(X[rows], y[rows], **weights)
        supports.append(_fitted_support(model))
    return np.stack(supports)


def _count_fit(estimator, X, y, sample_weight, rows) -> np.ndarray:
    """Support of one fit of ``estimator`` (a count fit) on ``rows``, shape (1, n_features)."""
    return clone(estimator).fit(X[rows], y[rows], sample_weight=sample_weight[rows]).support_[None]


class StabilitySelection(SelectorMixin, MetaEstimatorMixin, DocLinkMixin, BaseEstimator):
    """Keep the features an L0 model selects on most subsamples, with a false-positive bound.

    The estimator is fitted on ``n_resamples`` subsamples of the rows at every
    price of ``alphas``; a feature's selection frequency at a price is the
    share of subsamples whose model keeps it (``stability_scores_``). The
    selected features are those that a share ``threshold_`` of the
    subsamples keep at some price used (``max_stability_``: a subsample's
    selection is the union of its supports over those prices, the selection
    procedure the bounds are stated for). With ``pfer``, the threshold and the prices used
    are chosen so that the expected number of false positives among the
    selected features is at most ``pfer`` (see :func:`pfer_bound` for what
    the bound assumes): the prices run from the largest down to the last one
    at which the bound can still be met, with at most
    :data:`AUTO_THRESHOLD_CAP` as threshold, and ``threshold_`` is the
    smallest frequency that meets it there.

    The linear models train all (price, subsample) models as one computation;
    the networks walk one price path per subsample (``n_jobs`` in parallel),
    or, when the estimator has ``n_features_to_select``, make one count fit
    per subsample (then ``alphas_`` is ``[nan]``). The linear models' supports
    are polished by the swap search of ``refit`` as their fits' are, at the
    prices a bound can use (below the price where ``q`` passes what ``pfer``
    allows at the given threshold, or at :data:`AUTO_THRESHOLD_CAP`, supports
    are the gates as trained).

    Parameters
    ----------
    estimator : estimator, default=None
        An sklearn-l0 estimator, linear or network (a CV estimator gives its
        settings, its ``alphas`` included); its ``alpha`` is replaced by the
        grid. None: ``L0Classifier()`` for class targets, ``L0Regressor()``
        otherwise. Any other estimator with an ``alpha`` parameter and
        ``coef_`` or ``feature_importances_`` after fit (for example
        :class:`~sklearn.linear_model.Lasso`) is fitted at every alpha of a
        given ``alphas`` array in turn (warm-started where it can be).
    alphas : int or array-like, default=None
        The price grid, as the estimator's CV class takes it (an int: that
        many prices on a log scale down from the one that closes every gate;
        for the linear models, on every subsample). None: that class's
        default.
    n_resamples : int, default=50
        Number of subsamples (even with ``complementary_pairs``).
    sample_fraction : float, default=0.5
        Share of the rows (of each class, for a classifier) in each
        subsample. The bounds hold for 0.5 only.
    complementary_pairs : bool, default=True
        Draw the subsamples as disjoint pairs (Shah & Samworth, 2013), which
        gives the tighter bound.
    threshold : float, default=None
        Selection frequency a feature needs, in (0, 1]. None: the smallest
        that meets ``pfer``.
    pfer : float, default=None
        Bound on the expected number of false positives. None: 1 when
        ``threshold`` is None too; otherwise no bound is imposed (every price
        is used and ``pfer_bound_`` reports the bound at ``threshold``).
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples, and seeds the estimator where its own
        ``random_state`` is None.
    n_jobs : int, default=None
        Subsamples fitted in parallel by the networks (joblib; None is 1).
    verbose : int, default=0
        joblib's progress messages for the networks' subsamples.

    Attributes
    ----------
    estimator_ : estimator
        The estimator whose fits were run: the CV class that trains the grid,
        or a clone of ``estimator`` for count fits (unfitted).
    alphas_ : ndarray of shape (n_alphas,)
        The prices, largest first.
    stability_scores_ : ndarray of shape (n_alphas, n_features_in_)
        Share of subsamples whose model keeps each feature, at each price.
    union_scores_ : ndarray of shape (n_alphas, n_features_in_)
        Share of subsamples that keep each feature at some price down to each
        alpha (at least the highest of ``stability_scores_`` over those prices).
    max_stability_ : ndarray of shape (n_features_in_,)
        Share of subsamples that keep each feature at some price used:
        ``union_scores_[n_alphas_used_ - 1]``.
    q_path_ : ndarray of shape (n_alphas,)
        Average number of features one subsample keeps at some price down to
        each alpha: the ``q`` of the bounds when the prices used stop there.
    n_alphas_used_ : int
        The prices used: ``alphas_[:n_alphas_used_]``.
    q_ : float
        Average number of features one subsample keeps at some price used
        (the ``q`` of the bounds).
    threshold_ : float
        The frequency a feature needs.
    pfer_bound_ : float
        The bound on the expected number of false positives at ``threshold_``
        and ``q_`` (NaN when ``sample_fraction`` is not 0.5).
    support_ : ndarray of shape (n_features_in_,), dtype=bool
        The selected features: ``max_stability_ >= threshold_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    References
    ----------
    N. Meinshausen and P. Bühlmann, "Stability selection", JRSS B 72 (2010).
    R. D. Shah and R. J. Samworth, "Variable selection with error control:
    another look at stability selection", JRSS B 75 (2013).

    Examples
    --------
    >>> from sklearn_l0 import L0Regressor, StabilitySelection
    >>> from sklearn_l0.datasets import make_sparse_regression
    >>> X, y, coef = make_sparse_regression(200, 50, n_informative=3, random_state=0)
    >>> selection = StabilitySelection(L0Regressor(random_state=0), alphas=8,
    ...                                n_resamples=20, random_state=0).fit(X, y)
    >>> bool((selection.get_support() == (coef != 0)).all())
    True
    >>> selection.pfer_bound_ <= 1
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like", None],
        "n_resamples": [Interval(numbers.Integral, 2, None, closed="left")],
        "sample_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "complementary_pairs": ["boolean"],
        "threshold": [Interval(numbers.Real, 0, 1, closed="right"), None],
        "pfer": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        alphas=None,
        n_resamples: int = 50,
        sample_fraction: float = 0.5,
        complementary_pairs: bool = True,
        threshold: float | None = None,
        pfer: float | None = None,
        random_state=None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.alphas = alphas
        self.n_resamples = n_resamples
        self.sample_fraction = sample_fraction
        self.complementary_pairs = complementary_pairs
        self.threshold = threshold
        self.pfer = pfer
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the estimator on every subsample at every price and select the stable features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in every fit.

        Returns
        -------
        self : object
            The fitted selector.
        """
        self._check_settings()
        estimator = self._resolve_estimator(y)
        runner = self._runner(estimator)
        if runner is None:  # a foreign estimator: fitted at every alpha in turn
            X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), multi_output=True)
            if sample_weight is not None:
                sample_weight = _check_sample_weight(sample_weight, X)
            runner, classify = clone(estimator), is_classifier(estimator)
        else:
            X, y, sample_weight = validate_fit_data(runner, X, y, sample_weight)
            self.n_features_in_ = runner.n_features_in_
            if hasattr(runner, "feature_names_in_"):
                self.feature_names_in_ = runner.feature_names_in_
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            classify = is_classifier(runner)
        strata = np.unique(y, return_inverse=True)[1] if classify else None
        rng = np.random.default_rng(seed_from(self.random_state))
        if runner.get_params(deep=False).get("random_state", 0) is None:
            runner.set_params(random_state=int(rng.integers(np.iinfo(np.int32).max)))
        rows = subsample_rows(
            X.shape[0],
            self.n_resamples,
            self.sample_fraction,
            self.complementary_pairs,
            rng,
            strata,
        )
        if not rows.any(axis=0).all():
            raise ValueError(
                f"n_samples={X.shape[0]}: sample_fraction={self.sample_fraction} leaves a "
                "subsample empty; raise it or give more rows."
            )
        alphas, selected = self._selections(runner, X, y, sample_weight, rows)
        self.estimator_ = runner
        self.alphas_ = alphas
        self.stability_scores_ = selected.mean(axis=1)
        union = np.logical_or.accumulate(selected, axis=0)
        self.union_scores_ = union.mean(axis=1)
        self.q_path_ = union.sum(axis=2).mean(axis=1)
        self._choose()
        return self

    def _check_settings(self) -> None:
        if self.complementary_pairs and self.n_resamples % 2:
            raise ValueError(
                f"n_resamples must be even with complementary_pairs=True (pairs of "
                f"subsamples); got {self.n_resamples}."
            )
        if self.complementary_pairs and self.sample_fraction > 0.5:
            raise ValueError(
                f"complementary pairs are disjoint subsamples: sample_fraction must be at "
                f"most 0.5 with complementary_pairs=True; got {self.sample_fraction}."
            )
        if self.sample_fraction != 0.5 and (self.pfer is not None or self.threshold is None):
            raise ValueError(
                f"the false-positive bounds hold for subsamples of half the rows: with "
                f"sample_fraction={self.sample_fraction}, give a threshold and no pfer."
            )

    def _resolve_estimator(self, y):
        if self.estimator is not None:
            return self.estimator
        if type_of_target(y) in ("binary", "multiclass"):
            return L0Classifier()
        return L0Regressor()

    def _runner(self, estimator):
        """The estimator that fits one subsample (unfitted); None for a foreign estimator."""
        if getattr(estimator, "n_features_to_select", None) is not None:
            return clone(estimator)
        cv_class = next((cv for kind, cv in _CV_OF if isinstance(estimator, kind)), None)
        if cv_class is None:
            return self._check_foreign(estimator)
        if isinstance(estimator, cv_class):
            runner = clone(estimator)
        else:
            shared = set(cv_class._get_param_names())
            params = estimator.get_params(deep=False)
            runner = cv_class(**{k: v for k, v in params.items() if k in shared})
        if self.alphas is not None:
            runner.set_params(alphas=self.alphas)
        return runner

    def _check_foreign(self, estimator) -> None:
        """Refuse a foreign estimator unless it has ``alpha`` and ``alphas`` are given."""
        if "alpha" not in estimator.get_params(deep=False):
            names = ", ".join(cls.__name__ for cls, _ in _CV_OF[4:])
            raise TypeError(
                f"estimator must be an sklearn-l0 estimator ({names} or their CV classes), or "
                f"one with an 'alpha' parameter and coef_ or feature_importances_ after fit; "
                f"got {type(estimator).__name__}."
            )
        if self.alphas is None or isinstance(self.alphas, numbers.Integral):
            raise ValueError(
                f"{type(estimator).__name__} is not an sklearn-l0 estimator: give its grid "
                f"as alphas=[...] (an array, largest first); got alphas={self.alphas!r}."
            )

    def _selections(self, runner, X, y, sample_weight, rows):
        """The prices (largest first) and the supports, shape (n_alphas, n_resamples, p)."""
        columns = [rows[:, r] for r in range(rows.shape[1])]
        parallel = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)
        if getattr(runner, "n_features_to_select", None) is not None:
            supports = parallel(
                delayed(_count_fit)(runner, X, y, sample_weight, c) for c in columns
            )
            return np.full(1, np.nan), np.stack(supports, axis=1)
        if isinstance(runner, _L0LinearCV):
            with warnings.catch_warnings():
                # the grid stops at max_iter while its smallest prices' models still move;
                # their supports are past what any bound uses (see polish_until)
                warnings.simplefilter("ignore", ConvergenceWarning)
                grid = runner._train_on_rows(X, y, sample_weight, rows, top_of_every_column=True)
            q_stop = self._largest_usable_q(X.shape[1])
            union = np.zeros((rows.shape[1], X.shape[1]), dtype=bool)

            def polish_until(row):  # past the prices any bound can use, polishing is wasted
                union[:] |= [m.gate.is_open().cpu().numpy() for m in row[:-1]]
                return union.sum(axis=1).mean() > q_stop

            members = runner._members(
                grid.plain,
                grid.stack,
                X,
                grid.fold_w,
                grid.targets,
                grid.stats,
                grid.features,
                polish_until,
            )
            supports = [[m.gate.is_open().cpu().numpy() for m in row[:-1]] for row in members]
            return grid.alphas, np.array(supports, dtype=bool)
        if isinstance(runner, (L0MLPRegressorCV, L0MLPClassifierCV)):
            plain = runner._plain()
            alphas = runner._alpha_grid(plain, y, sample_weight)
            fit_params = {"classes": np.unique(y)} if is_classifier(runner) else {}
            rising = np.sort(alphas)
            paths = parallel(
                delayed(_network_path)(plain, X, y, sample_weight, c, rising, fit_params)
                for c in columns
            )
            return alphas, np.stack(paths, axis=1)
        alphas = given_alphas(self.alphas)
        paths = parallel(
            delayed(_alpha_path)(runner, X, y, sample_weight, c, alphas) for c in columns
        )
        return alphas, np.stack(paths, axis=1)

    def _largest_usable_q(self, n_features: int) -> float:
        """The largest ``q`` at which the threshold (the given one, or the cap) meets ``pfer``.

        Infinite where every price is used (a threshold and no ``pfer``).
        """
        if self.pfer is None and self.threshold is not None:
            return math.inf
        pfer = 1.0 if self.pfer is None else self.pfer
        threshold = AUTO_THRESHOLD_CAP if self.threshold is None else self.threshold
        n_pairs = self.n_resamples // 2 if self.complementary_pairs else None
        low, high = 0.0, float(n_features)  # the bound grows with q: bisect
        for _ in range(60):
            mid = (low + high) / 2
            low, high = (
                (mid, high)
                if pfer_bound(mid, n_features, threshold, n_pairs) <= pfer
                else (low, mid)
            )
        return low

    def _choose(self) -> None:
        """Set the prices used, the threshold, the bound and the support.

        From ``union_scores_`` and ``q_path_`` and the parameters alone:
        another ``threshold`` or ``pfer`` needs no new fits.
        """
        q = self.q_path_
        n_alphas, n_features = self.stability_scores_.shape
        n_resamples = self.n_resamples
        n_pairs = n_resamples // 2 if self.complementary_pairs else None
        halves = self.sample_fraction == 0.5

        def bound(k, threshold):
            return pfer_bound(q[k], n_features, threshold, n_pairs) if halves else math.nan

        if self.threshold is not None:
            threshold = float(self.threshold)
            last = n_alphas - 1
            if self.pfer is not None:
                met = np.array([bound(k, threshold) <= self.pfer for k in range(n_alphas)])
                if not met[0]:
                    raise ValueError(self._unmet(q[0], n_features, n_pairs, threshold))
                last = int(np.argmin(met)) - 1 if not met.all() else n_alphas - 1
        else:
            pfer = 1.0 if self.pfer is None else float(self.pfer)
            grid = np.arange(n_resamples // 2 + 1, n_resamples + 1) / n_resamples
            need = np.array(
                [next((t for t in grid if bound(k, t) <= pfer), math.inf) for k in range(n_alphas)]
            )
            if not need[0] <= 1:
                raise ValueError(self._unmet(q[0], n_features, n_pairs, None, pfer))
            cap = AUTO_THRESHOLD_CAP if need[0] <= AUTO_THRESHOLD_CAP else 1.0
            last = int(np.flatnonzero(need <= cap)[-1])
            threshold = float(need[last])
        self.n_alphas_used_ = last + 1
        self.q_ = float(q[last])
        self.threshold_ = threshold
        self.pfer_bound_ = float(bound(last, threshold))
        self.max_stability_ = self.union_scores_[last]
        self.support_ = self.max_stability_ >= threshold - 1e-12

    def _unmet(self, q0, n_features, n_pairs, threshold, pfer=None) -> str:
        pfer = self.pfer if pfer is None else pfer
        at = "any threshold in (0.5, 1]" if threshold is None else f"threshold={threshold}"
        best = pfer_bound(q0, n_features, 1.0 if threshold is None else threshold, n_pairs)
        return (
            f"pfer={pfer} cannot be met at {at}: at the largest alpha the subsamples already "
            f"keep {q0:.3g} of {n_features} features on average, for a bound of {best:.3g}. "
            "Raise pfer, or start alphas at a larger price."
        )

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self)
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags


def plot_stability_path(
    selection: StabilitySelection, true_features=None, ax=None, *, scores="union"
):
    """Plot each feature's selection frequency against the price.

    Parameters
    ----------
    selection : StabilitySelection
        A fitted selector (with a price grid, not count fits).
    scores : {"union", "price"}, default="union"
        ``"union"``: the share of halves that keep the feature at some price
        down to each alpha (``union_scores_``): a feature is selected where
        its line ends above the threshold in the shaded prices. ``"price"``:
        the share at each price alone (``stability_scores_``), the classic
        stability path.
    true_features : array-like of int or bool, default=None
        Features to draw in colour (for example the true support of
        simulated data); the others are grey.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    check_is_fitted(selection)
    if ax is None:
        _, ax = plt.subplots()
    if scores not in ("union", "price"):
        raise ValueError(f"scores must be 'union' or 'price'; got {scores!r}.")
    union = scores == "union"
    scores = selection.union_scores_ if union else selection.stability_scores_
    highlight = np.zeros(scores.shape[1], dtype=bool)
    if true_features is not None:
        highlight[np.asarray(true_features)] = True
    alphas = selection.alphas_
    ax.plot(alphas, scores[:, ~highlight], color="0.75", lw=0.8)
    if highlight.any():
        ax.plot(alphas, scores[:, highlight], lw=1.5)
    ax.axhline(selection.threshold_, color="k", ls="--", lw=1, label="threshold")
    used = alphas[: selection.n_alphas_used_]
    ax.axvspan(used[-1], used[0], color="C0", alpha=0.08, label="prices used")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha (price of a feature)")
    ax.set_ylabel("share of halves keeping it" + (" at some price >= alpha" if union else ""))
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    return ax
