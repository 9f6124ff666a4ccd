"""Cross-validated linear models: every (alpha, fold) model trained as one computation.

:class:`L0RegressorCV` and :class:`L0ClassifierCV` follow scikit-learn's
``LinearModelCV``: they hold the parameters they share with the plain
estimator, build it through one method (:meth:`_L0LinearCV._plain`, with
those parameters read from ``get_params()``), and use it to encode the
target, to score every (alpha, fold) model as the plain estimator fitted on
that fold, and to export the final model. The grid trains as one
:class:`~sklearn_l0.grid.GatedLinearStack`.
"""

from __future__ import annotations

import copy
import numbers
from functools import partial
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
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

from ._predict import (
    CoxOutputsMixin,
    LogitClassifierMixin,
    PoissonOutputsMixin,
    RegressorOutputMixin,
)
from .data import Dataset, column_stats, to_device, validate_fit_data
from .gates import BETA
from .grid import GatedLinearStack
from .groups import GROUP_ATTRS_DOC, GROUPS_DOC, FeatureGroups, resolve_groups
from .linear_model import (
    _BASELINE_ATTRS_DOC,
    _POISSON_TRAINING_PARAMS_DOC,
    _TRAINING_PARAMS_DOC,
    POISSON_LEARNING_RATE,
    L0Classifier,
    L0CoxRegressor,
    L0PoissonRegressor,
    L0Regressor,
    LinearOutputsMixin,
    _without,
)
from .refit import refit_on_support
from .search import MAX_POLISHED, polish_support, resize_support
from .targets import CLASS_WEIGHT_DOC, survival_arrays
from .threads import limited_threads, threads_for
from .training import Convergence, GridRetirement, train
from .utils import DocLinkMixin, atomic_fit, resolve_device, seed_from, warn_if_all_pruned

_CV_PARAMS_DOC = (
    """
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
        Folds, as in :func:`sklearn.model_selection.check_cv` (stratified by
        class for the classifier, by the event indicator for the Cox model).
    scoring : str, callable or None, default=None
        Validation score of each (alpha, fold) model, as in ``GridSearchCV``;
        None uses the estimator's ``score`` (R^2 or accuracy). The best alpha
        has the highest mean over folds (ties go to the larger alpha).
"""
    + GROUPS_DOC
)

_CV_ATTRS_DOC = (
    """
    alpha_ : float
        The chosen L0 strength.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, largest first.
    score_path_ : ndarray of shape (n_alphas, n_folds)
        Validation score of each alpha on each fold (higher is better).
    support_path_ : ndarray of shape (n_alphas, n_features_in_), dtype=bool
        Features selected at each alpha by the fits on all the data.
    support_ : ndarray of shape (n_features_in_,), dtype=bool
        Selected features of the final model: ``support_path_[best]``, or,
        with ``refit`` for least squares and binary classification, the
        all-data support of the size that cross-validates best among the sizes
        of the models at ``alpha_`` and its two neighbours (each size's best
        support by local search, in every fold).
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
    + GROUP_ATTRS_DOC
)


def given_alphas(alphas) -> np.ndarray:
    """An explicit ``alphas`` grid, largest first; refused unless finite and non-negative."""
    grid = -np.sort(-np.asarray(alphas, dtype=np.float64).ravel())
    if grid.size == 0 or not np.all(np.isfinite(grid)) or grid[-1] < 0:
        raise ValueError(f"alphas must be finite non-negative numbers; got {alphas!r}.")
    return grid


class PlainSettings:
    """What a CV estimator shares with its plain estimator (``_plain_class``).

    Its parameter constraints are the plain estimator's for the parameters
    they share, plus its own ``_cv_constraints``; :meth:`_plain` builds the
    plain estimator with the shared settings (what ``GridSearchCV`` would
    clone), as scikit-learn's ``LinearModelCV`` does.
    """

    _plain_class: type = None
    _cv_constraints: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._plain_class is None:
            return
        shared = cls._get_param_names()
        plain = cls._plain_class._parameter_constraints
        cls._parameter_constraints = {
            **{k: v for k, v in plain.items() if k in shared},
            **cls._cv_constraints,
        }

    def _plain(self):
        names = self._plain_class._get_param_names()
        params = self.get_params(deep=False)
        return self._plain_class(**{k: v for k, v in params.items() if k in names})


class _L0LinearCV(PlainSettings, LinearOutputsMixin, DocLinkMixin, BaseEstimator):
    """``fit`` of the CV estimators: every (alpha, fold) model trained as one computation.

    The training rows of fold ``f`` get weights, not copies of X: the models
    are a :class:`~sklearn_l0.grid.GatedLinearStack` of shape
    ``(n_alphas, n_folds + 1)`` whose last column trains on all rows (the
    support path, and the final model at the chosen alpha). Each fold keeps
    its own standardization of X and y, so that every member is the model the
    plain estimator would fit on that fold's training rows.
    """

    _multi_output = True
    _y_numeric = True
    _partial_fit_available = False  # cross-validation needs all the data at once
    _cv_constraints: dict = {
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    }

    def __init__(
        self,
        *,
        alphas=20,
        eps: float = 1e-3,
        cv=5,
        scoring=None,
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
        n_threads: int | None = None,
    ) -> None:
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
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
        self.n_threads = n_threads

    def _plain(self):
        """The plain estimator; a criterion as its default alpha becomes a price (any: each
        member's price is the grid's), so that members are searched as at a given alpha."""
        plain = super()._plain()
        return plain.set_params(alpha=0.0) if isinstance(plain.alpha, str) else plain

    def _alpha_max(self, X, x_std, target, sample_weight, features) -> float:
        raise NotImplementedError  # pragma: no cover

    def _fold_targets(self, plain, y, fold_weights, full_target) -> list:
        raise NotImplementedError  # pragma: no cover

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
        X, y, sample_weight = validate_fit_data(self, X, y, sample_weight)
        folds = self._folds(X, y)
        rows = np.zeros((X.shape[0], len(folds)), dtype=bool)
        for f, (train_rows, _) in enumerate(folds):
            rows[train_rows, f] = True
        grid = self._train_on_rows(X, y, sample_weight, rows)
        plain, stack, history = grid.plain, grid.stack, grid.history
        fold_w, targets, stats, features = grid.fold_w, grid.targets, grid.stats, grid.features
        alphas = grid.alphas
        with limited_threads(grid.threads):
            members = self._members(plain, stack, X, fold_w, targets, stats, features)
            score = self._fold_scorer(plain, X, y, folds, fold_w, targets, stats)
            scores = np.array([[score(m, f) for f, m in enumerate(row[:-1])] for row in members])
            best = int(np.argmax(scores.mean(axis=1)))  # first of ties: the larger alpha
            final_member = self._best_size(
                plain, members, best, X, fold_w, targets, stats, features, score
            )
        support_path = np.stack([m.gate.is_open().cpu().numpy() for m in members[:, -1]])

        final = self._member_model(
            final_member,
            X,
            targets[-1],
            stats[-1],
            slice(None),
            fold_w[:, -1],
            history=history.member((best, -1)),
            features=features,
        )
        params = plain.get_params(deep=False)
        vars(self).update({k: v for k, v in vars(final).items() if k not in params})
        self.alpha_ = float(alphas[best])
        self.alphas_ = alphas
        self.score_path_ = scores
        self.support_path_ = support_path
        warn_if_all_pruned(
            self.support_, f"The chosen alpha={self.alpha_:.4g}", "Extend alphas to smaller values."
        )
        return self

    def _folds(self, X, y) -> list:
        """The (train, test) rows of each fold, as ``check_cv`` splits them."""
        return list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))

    def _train_on_rows(
        self, X, y, sample_weight, rows: np.ndarray, *, top_of_every_column: bool = False
    ) -> SimpleNamespace:
        """Train one model per (alpha, column of ``rows``) and one per alpha on all rows.

        ``rows`` is a boolean ``(n_samples, n_columns)`` matrix: column ``c``
        holds the training rows of the models of column ``c`` (a fold's, or a
        resample's). X and y are validated. Returns the plain estimator, the
        groups, the encoded target (``full``) and each column's (``targets``),
        the columns' sample weights (``fold_w``, all rows last), their column
        statistics, the alphas, the trained stack, its history and the thread
        count the work calls for. With ``top_of_every_column``, an automatic
        grid starts at the largest ``alpha_max`` of the columns' rows (where
        every column's models close every gate), not at all rows'.
        """
        plain = self._plain()
        sample_weight = plain._weigh_samples(y, sample_weight, incremental=False)
        features = resolve_groups(self, X.shape[1])
        full = plain._prepare_target(y, sample_weight)  # first: its errors (one class) come first
        fold_w = _column_weights(rows, sample_weight)
        targets = self._fold_targets(plain, y, fold_w, full)
        device = resolve_device(self.device)
        stats = [column_stats(X, w, center=plain._center_X, device=device) for w in fold_w.T]
        alphas = self._alpha_grid(X, stats[-1], full, sample_weight, features)
        if top_of_every_column and isinstance(self.alphas, numbers.Integral):
            tops = [
                self._alpha_max(X, stats[c], targets[c], fold_w[:, c], features)
                for c in range(rows.shape[1])
            ]
            alphas *= max(max(tops), alphas[0]) / alphas[0]
        work = X.shape[0] * (X.shape[1] + 1) * full.n_outputs * alphas.size * fold_w.shape[1]
        threads = threads_for(self.n_threads, work)
        with limited_threads(threads):
            stack, history = self._train_grid(
                plain, X, alphas, fold_w, full, targets, stats, features
            )
        return SimpleNamespace(
            plain=plain,
            features=features,
            full=full,
            targets=targets,
            fold_w=fold_w,
            stats=stats,
            alphas=alphas,
            stack=stack,
            history=history,
            threads=threads,
        )

    def _alpha_grid(self, X, x_std, full, sample_weight, features) -> np.ndarray:
        """The alphas, largest first: ``alphas`` as given, or a log grid below alpha_max."""
        if isinstance(self.alphas, numbers.Integral):
            top = self._alpha_max(X, x_std, full, sample_weight, features)
            return top * np.logspace(0, np.log10(self.eps), self.alphas)
        return given_alphas(self.alphas)

    def _train_grid(self, plain, X, alphas, fold_w, full, targets, stats, features):
        """Train the (alpha, fold) models as one stack; returns it and the history."""
        device = resolve_device(self.device)
        generator = torch.Generator(device=device).manual_seed(seed_from(self.random_state))
        as_tensor = partial(torch.as_tensor, dtype=torch.float32, device=device)
        x_std = stats[-1]
        dense_mean = 0.0 if sp.issparse(X) else x_std.mean  # what to_device subtracted
        scale = np.stack([x_std.scale / st.scale for st in stats])
        offset = np.stack([(st.mean - dense_mean) / st.scale for st in stats])
        stack = GatedLinearStack(
            X.shape[1],
            full.n_outputs,
            (len(alphas), fold_w.shape[1]),
            l0=as_tensor(alphas[:, None]),
            l2=self.weight_decay,
            scale=as_tensor(scale[None]),
            offset=as_tensor(offset[None]) if np.any(offset) else None,
            bias=self.fit_intercept,
            temperature=self.temperature,
            **plain._feature_options(features, X.shape[0], device),
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
            policies=[Convergence(), GridRetirement()],
            **plain._train_options(X.shape[0]),
        )
        return stack, history

    def _members(
        self, plain, stack, X, fold_w, targets, stats, features, polish_until=None
    ) -> np.ndarray:
        """The trained (alpha, fold) models, their supports polished as the plain fit's are.

        With ``refit`` (and a target the search handles), the plain estimator
        replaces a support of at most :data:`~sklearn_l0.search.MAX_POLISHED`
        gates by the best of its size that single swaps reach (see
        :func:`~sklearn_l0.search.polish_support`); each member does the same
        on its training rows, so that the grid compares, at each size, the
        best subset found. Members with the same support on the same rows
        share one search. ``polish_until(row)`` is called with each alpha's
        members, largest alpha first, once they are polished: when it returns
        True, the members of the smaller alphas are left as trained.
        """
        members = np.empty(stack.batch_shape, dtype=object)
        polished = {}
        polishing = True
        for a in range(stack.batch_shape[0]):
            for f in range(stack.batch_shape[1]):
                member = members[a, f] = stack.member((a, f))
                n_rows = int(np.count_nonzero(fold_w[:, f]))
                search = polishing and plain._support_search(
                    None, targets[f], member, features.n_candidates, n_rows
                )
                if not search:
                    continue
                key = (f, member.gate.is_open().cpu().numpy().tobytes())
                if key not in polished:
                    polish_support(member, X, stats[f], targets[f], fold_w[:, f], **search)
                    polished[key] = member.gate.log_alpha.detach().clone()
                with torch.no_grad():
                    member.gate.log_alpha.copy_(polished[key])
            if polish_until is not None and polishing:
                polishing = not polish_until(members[a])
        return members

    def _best_size(self, plain, members, best, X, fold_w, targets, stats, features, score):
        """The all-data model near alpha ``best`` whose number of gates validates best.

        A grid of alphas lets gates enter in steps (the all-data fit can jump
        from 4 features to 6 between two alphas, and the folds' fits jump at
        other alphas). Where supports are searched (see :meth:`_members`),
        every number of gates up to ``MAX_POLISHED`` that the models at
        ``best`` and its two neighbours span gets, in each fold and on all the
        rows, the best support of that size that moves reach from the nearest
        model; each size is scored by cross-validation like an alpha, and the
        all-data support of the best size (the smallest of ties) is the final
        one. Where the model at ``best`` is too large to search, it stays the
        final one unless a searched size validates better than it.
        ``score(member, fold)`` is :meth:`_fold_scorer`'s.
        """
        member = members[best, -1]
        near = members[max(best - 1, 0) : best + 2]
        n_open = np.vectorize(lambda m: int(m.gate.is_open().sum()))(near)
        smallest = near[np.argmin(n_open[:, -1]), -1]
        searchable = plain._support_search(
            None, targets[-1], smallest, features.n_candidates, X.shape[0]
        )
        sizes = np.arange(n_open.min(), min(n_open.max(), MAX_POLISHED) + 1)
        if searchable is None or sizes.size <= 1:
            return member

        def of_size(column, size):  # the column's support of that size, from the nearest model
            start = near[np.argmin(np.abs(n_open[:, column] - size)), column]
            resized = copy.deepcopy(start)
            resize_support(resized, X, stats[column], targets[column], fold_w[:, column], size)
            return resized

        n_folds = fold_w.shape[1] - 1
        scores = [[score(of_size(f, size), f) for f in range(n_folds)] for size in sizes]
        scores = np.mean(scores, axis=1)
        if n_open[best - max(best - 1, 0), -1] > MAX_POLISHED:
            own = np.mean([score(members[best, f], f) for f in range(n_folds)])
            if own >= scores.max():
                return member
        return of_size(-1, sizes[int(np.argmax(scores))])

    def _fold_scorer(self, plain, X, y, folds, fold_w, targets, stats):
        """``score(member, fold)``: the member as the plain estimator fitted on the fold's
        training rows, scored on its held-out rows (with ``refit``, one model per support and
        fold: the refit depends on nothing else; without, each member is its own model)."""
        scorer = check_scoring(plain, scoring=self.scoring)
        refits = {}

        def score(member, f):
            train_rows, test_rows = folds[f]
            support = (member.gate.deterministic() > 0).cpu().numpy().tobytes()
            key = (f, support if self.refit else id(member))
            if key not in refits:
                w = fold_w[train_rows, f]
                refits[key] = self._member_model(
                    member, X[train_rows], targets[f], stats[f], train_rows, w / w.mean()
                )
            return self._held_out_score(refits[key], scorer, X, y, train_rows, test_rows)

        return score

    def _held_out_score(self, model, scorer, X, y, train_rows, test_rows) -> float:
        """The score of ``model``, fitted on ``train_rows``, on its held-out rows."""
        return scorer(model, X[test_rows], y[test_rows])

    def _member_model(
        self, member, X_train, target, x_std, train_rows, weights, history=None, features=None
    ):
        """The plain estimator holding ``member`` (refitted on its rows when ``refit``).

        With ``history`` (and ``features``), every fitted attribute of a plain fit is exported.
        """
        refitted = None
        if self.refit:
            device = member.weight.device
            y = torch.as_tensor(target.y[train_rows], device=device)
            refitted = refit_on_support(member, target.loss_fn, X_train, x_std, y, weights)
        model = self._plain()
        model.n_features_in_ = X_train.shape[1]
        if history is None:
            model._export(member, x_std, target, refitted)
        else:
            model._export_fitted(member, x_std, target, refitted, history, features)
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _column_weights(rows: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
    """Sample weights of each column's training rows (zero elsewhere), then of all rows.

    ``rows``: boolean ``(n_samples, n_columns)``. Returns shape
    ``(n_samples, n_columns + 1)``, each column of mean 1 (the loss is a mean
    over rows).
    """
    rows = np.column_stack([rows, np.ones(len(sample_weight), dtype=bool)])
    fold_w = sample_weight[:, None] * rows
    empty = np.flatnonzero(~(fold_w.sum(axis=0) > 0))
    if empty.size:
        raise ValueError(
            f"sample_weight is zero on every training row of fold(s) or resample(s) "
            f"{empty.tolist()}; give those rows positive weights or split the rows otherwise."
        )
    return fold_w / fold_w.mean(axis=0)


def _per_unit_cost(gain: np.ndarray, features: FeatureGroups) -> np.ndarray:
    """Per-column ``gain`` summed over each penalized gate's columns, per unit of its price."""
    per_gate = np.bincount(features.index, weights=gain, minlength=features.n_gates)
    cost = features.alpha_costs
    penalized = cost > 0
    return per_gate[penalized] / cost[penalized]


class L0RegressorCV(RegressorOutputMixin, MultiOutputMixin, RegressorMixin, _L0LinearCV):
    __doc__ = f"""L0-regularized linear regression with alpha chosen by cross-validation.

    Like :class:`sklearn.linear_model.LassoCV`: every (alpha, fold) model,
    and the fits on all the data along the grid, train together as one torch
    computation (one pass over X per step serves all of them; folds are
    sample weights, not copies of X). Each is scored as the
    :class:`L0Regressor` with those settings would be on the held-out fold,
    and the alpha with the best mean score is chosen. With ``refit`` (the
    default), the final model is the support of all the data whose size
    cross-validates best among the sizes of the models at that alpha and its
    two neighbours (so a size that the grid steps over is not missed);
    otherwise it is the fit on all the data at that alpha.

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

    def _fold_targets(self, plain, y, fold_weights, full):
        return [plain._prepare_target(y, w) for w in fold_weights.T]

    def _alpha_max(self, X, x_std, full, sample_weight, features):
        """Twice the largest decrease of the loss that one feature (or group) alone brings.

        For standardized X and y that decrease is the largest squared
        correlation (averaged over targets) of a feature with the target; a
        group is taken to bring the sum over its columns, per unit of its cost.
        """
        residual = sample_weight[:, None] * full.y
        corr = safe_sparse_dot(X.T, residual, dense_output=True)
        corr -= np.outer(x_std.mean, residual.sum(axis=0))  # center sparse or dense X alike
        corr /= x_std.scale[:, None] * X.shape[0]
        gain = np.square(corr).mean(axis=1)
        return 2.0 * float(np.max(_per_unit_cost(gain, features), initial=0.0))


class L0ClassifierCV(LogitClassifierMixin, ClassifierMixin, _L0LinearCV):
    __doc__ = f"""L0-regularized logistic regression with alpha chosen by cross-validation.

    Like :class:`sklearn.linear_model.LogisticRegressionCV`: every (alpha,
    fold) model, and the fits on all the data along the grid, train together
    as one torch computation. Each is scored as the :class:`L0Classifier`
    with those settings would be on the held-out fold (stratified folds by
    default), and the alpha with the best mean score is chosen. For two
    classes with ``refit`` (the default), the final model is the support of
    all the data whose size cross-validates best among the sizes of the
    models at that alpha and its two neighbours; otherwise it is the fit on
    all the data at that alpha.

    Parameters
    ----------{_CV_PARAMS_DOC}{CLASS_WEIGHT_DOC}{_TRAINING_PARAMS_DOC}
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
    _multi_output = False  # y must be 1-D labels
    _y_numeric = False

    def __init__(
        self,
        *,
        alphas=20,
        eps: float = 1e-3,
        cv=5,
        scoring=None,
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
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            alphas=alphas,
            eps=eps,
            cv=cv,
            scoring=scoring,
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
            n_threads=n_threads,
        )
        self.class_weight = class_weight

    def _fold_targets(self, plain, y, fold_weights, full):
        return [full] * fold_weights.shape[1]

    def _alpha_max(self, X, x_std, full, sample_weight, features):
        """The entropy of the classes (nats): the log-loss of the intercept-only model.

        No set of features can lower the mean log-loss by more, so above it
        (divided by the smallest cost of a penalized gate) every feature is pruned.
        """
        freq = np.bincount(full.y.astype(np.int64), weights=sample_weight) / sample_weight.sum()
        freq = freq[freq > 0]
        entropy = float(-(freq * np.log(freq)).sum())
        cost = features.alpha_costs
        return entropy / float(np.min(cost[cost > 0], initial=1.0))


class L0PoissonRegressorCV(PoissonOutputsMixin, RegressorMixin, _L0LinearCV):
    __doc__ = f"""L0-regularized Poisson regression with alpha chosen by cross-validation.

    The :class:`L0PoissonRegressor` of every (alpha, fold) trains in one
    computation, as in :class:`L0RegressorCV`; each is scored on its held-out
    fold by ``score`` (the fraction of Poisson deviance explained, D^2) unless
    ``scoring`` says otherwise. An automatic grid starts at twice the largest
    score-test gain of one feature over the intercept-only model.

    Parameters
    ----------{_CV_PARAMS_DOC}{_POISSON_TRAINING_PARAMS_DOC}
    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Coefficients of the log expected count of the final model.
    intercept_ : float
        Intercept of the final model.
{_CV_ATTRS_DOC}
    See Also
    --------
    L0PoissonRegressor : One fit at a given alpha.
    """

    _plain_class = L0PoissonRegressor
    _multi_output = False

    def __init__(
        self,
        *,
        alphas=20,
        eps: float = 1e-3,
        cv=5,
        scoring=None,
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
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            alphas=alphas,
            eps=eps,
            cv=cv,
            scoring=scoring,
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
            n_threads=n_threads,
        )

    def _fold_targets(self, plain, y, fold_weights, full):
        return [plain._prepare_target(y, w) for w in fold_weights.T]

    def _alpha_max(self, X, x_std, full, sample_weight, features):
        """Twice the largest score-test gain of one feature (or group) over the mean model.

        At the intercept-only fit (rate ``m``) adding a standardized feature
        lowers the mean negative log-likelihood by about ``U^2 / (2 m)``,
        ``U`` the weighted mean of the feature times ``y - m``.
        """
        mean = float(np.exp(full.y[0, 1]))
        residual = sample_weight * (full.y[:, 0] - mean)
        score = _standardized_dot(X, x_std, residual)
        gain = np.square(score) / (2.0 * mean)
        return 2.0 * float(np.max(_per_unit_cost(gain, features), initial=0.0))


class L0CoxRegressorCV(CoxOutputsMixin, _L0LinearCV):
    __doc__ = f"""L0-regularized Cox regression with alpha chosen by cross-validation.

    The :class:`L0CoxRegressor` of every (alpha, fold) trains in one
    computation, as in :class:`L0RegressorCV` (a fold is a column of row
    weights: the partial likelihood of its models sees only its rows at
    risk). An automatic grid
    starts at twice the largest score-test gain of one feature over the null
    model. With ``scoring=None`` the folds are scored by the cross-validated
    partial log-likelihood (Verweij & van Houwelingen, 1993; glmnet's
    default for Cox), not by ``score``: the concordance index only ranks, and
    favours models with features that order a few more pairs. ``y`` as for
    :class:`L0CoxRegressor`.

    Parameters
    ----------{_CV_PARAMS_DOC}\
    ties : {{"breslow", "efron"}}, default="breslow"
        How tied event times share the risk set (see :class:`L0CoxRegressor`).
{_without(_TRAINING_PARAMS_DOC, "fit_intercept", "batch_size")}
    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Log hazard ratios of the final model.
    offset_ : float
        The mean risk score of the training rows, which ``predict`` subtracts.
{_BASELINE_ATTRS_DOC}{_CV_ATTRS_DOC}
    See Also
    --------
    L0CoxRegressor : One fit at a given alpha.
    sksurv.linear_model.CoxnetSurvivalAnalysis : The elastic-net analogue.
    """

    _plain_class = L0CoxRegressor
    fit_intercept = False  # not parameters, as for L0CoxRegressor
    batch_size = "auto"

    def __init__(
        self,
        *,
        alphas=20,
        eps: float = 1e-3,
        cv=5,
        scoring=None,
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
        n_threads: int | None = None,
    ) -> None:
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
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
        self.n_threads = n_threads

    def fit(self, X, y, sample_weight=None):
        """Fit every (alpha, fold) model together, choose alpha, keep its all-data fit.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data.
        y : structured array, array of shape (n_samples, 2), or of shape (n_samples,)
            Survival times and events, as for :class:`L0CoxRegressor`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (used in training, not in scoring).

        Returns
        -------
        self : L0CoxRegressorCV
            The fitted estimator.
        """
        time, event = survival_arrays(y)
        super().fit(X, np.column_stack([time, event]), sample_weight)
        self._fit_baseline(X, time, event, sample_weight)
        return self

    def _folds(self, X, y) -> list:
        """Folds stratified by the event indicator (an integer ``cv``), as for a classifier."""
        event = y[:, 1]
        return list(check_cv(self.cv, event, classifier=True).split(X, event))

    def _fold_targets(self, plain, y, fold_weights, full):
        return [full] * fold_weights.shape[1]  # the same times; a fold is its weights

    def _held_out_score(self, model, scorer, X, y, train_rows, test_rows) -> float:
        """With ``scoring=None``, the fold's cross-validated partial log-likelihood.

        Verweij & van Houwelingen's (1993) contribution of the held-out rows,
        ``l(beta) - l_train(beta)``: the log partial likelihood of the model
        fitted without them on all the rows, less that on its training rows,
        per held-out row (glmnet's ``type.measure="deviance"`` for Cox, up to
        sign and scale). Unlike the concordance index, it rewards calibrated
        risk scores, not only their order, so it does not prefer larger models
        that order a few more pairs.
        """
        if self.scoring is not None:
            return super()._held_out_score(model, scorer, X, y, train_rows, test_rows)
        target = model._prepare_target(y, None)
        risk = torch.as_tensor(model.predict(X), dtype=torch.float64)[:, None]
        codes = torch.as_tensor(target.y, dtype=torch.float64)
        ones = torch.ones(len(risk), dtype=torch.float64)
        everyone = float(target.loss_fn(risk, codes, ones)) * len(risk)
        rows = torch.as_tensor(train_rows)
        trained = float(target.loss_fn(risk[rows], codes[rows], ones[rows])) * len(rows)
        return (trained - everyone) / len(test_rows)

    def _alpha_max(self, X, x_std, full, sample_weight, features):
        """Twice the largest score-test gain of one feature (or group) over the null model.

        At zero coefficients adding a standardized feature lowers the mean
        negative log partial likelihood by about ``U^2 / (2 I)``: ``U`` its
        weighted mean with the martingale residuals, ``I`` the weighted share
        of events (a standardized feature's information, up to its variance
        within the risk sets).
        """
        w = torch.as_tensor(sample_weight, dtype=torch.float64)
        eta = torch.zeros(len(w), 1, dtype=torch.float64, requires_grad=True)
        y = torch.as_tensor(full.y, dtype=torch.float64)
        (grad,) = torch.autograd.grad(full.loss_fn(eta, y, w), eta)
        score = _standardized_dot(X, x_std, -len(w) * grad[:, 0].numpy())
        information = float(np.sum(sample_weight * full.y[:, 1])) / len(w)
        gain = np.square(score) / (2.0 * max(information, 1e-12))
        return 2.0 * float(np.max(_per_unit_cost(gain, features), initial=0.0))


def _standardized_dot(X, x_std, residual: np.ndarray) -> np.ndarray:
    """``mean_i x_ij residual_i`` for every column of X standardized by ``x_std`` (sparse too)."""
    dot = safe_sparse_dot(X.T, residual, dense_output=True) - x_std.mean * residual.sum()
    return dot / (x_std.scale * X.shape[0])


__all__ = ["L0ClassifierCV", "L0CoxRegressorCV", "L0PoissonRegressorCV", "L0RegressorCV"]
