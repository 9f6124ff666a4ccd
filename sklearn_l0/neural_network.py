"""Multilayer perceptrons with L0 gates on input features and hidden units.

Every layer gates its inputs with hard concrete gates: the first layer's
gates select features (``support_``), the others switch whole hidden units
off. After ``fit`` the network is compacted: pruned features and units are
removed and ``predict`` runs plain dense numpy layers.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import L0BaseEstimator
from ._predict import LogitClassifierMixin, RegressorOutputMixin, mlp_forward
from .gates import BETA
from .groups import GROUP_ATTRS_DOC, GROUPS_DOC
from .networks import ACTIVATIONS, GatedMLP
from .path import PriceSchedule, resolve_schedule
from .targets import CLASS_WEIGHT_DOC, ClassWeightMixin, encode_labels, regression_target
from .threads import N_THREADS_DOC
from .training import Convergence, GatesSettled

_MLP_SHAPE_DOC = """
    hidden_layer_sizes : array-like of int, default=(100,)
        Number of units in each hidden layer, before pruning.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden-layer activation."""

_MLP_PRICE_DOC = """
    alpha : float, default=0.03
        L0 strength on the input features (the paper's lambda): the price of
        keeping one feature, in units of the data loss (mean squared error on
        the standardized target, or mean log-loss in nats). The fit walks a
        price path up to it (see ``schedule``). Choose it by cross-validation
        with :class:`L0MLPClassifierCV` / :class:`L0MLPRegressorCV` (one path
        per fold), or set ``n_features_to_select``. The linear models'
        criteria (``"aic"``, ...) are not accepted: a network has no count of
        parameters per feature.
    n_features_to_select : int, float or None, default=None
        If set, keep exactly this many input features (a float in (0, 1) is a
        fraction) and ignore ``alpha``: the path stops at the first support of
        at most that many features, the most open gates are kept, frozen, and
        the network is fine-tuned."""

_MLP_TRAINING_DOC = (
    """
"""
    + GROUPS_DOC
    + """\
    hidden_alpha : float, array-like of float or None, default=0.0
        L0 strength on the hidden units, per unit, in the same loss units;
        a sequence gives one strength per hidden layer. The default 0 keeps
        every hidden unit and leaves the hidden layers ungated: the network
        selects features at its full width. Pricing units from the start
        can close them before the network has learned what the features do
        (on pure-interaction tasks a price shared with the features
        collapsed the hidden layers to a few units and lost half of the
        true features; ``benchmarks/bench_interactions.py``). Set it above 0
        to shrink the network as well (structured pruning: a compact,
        faster network). None uses ``alpha`` (the paper's shared lambda); a
        sequence tunes layers separately (the paper's "lambda sep." runs).
    price_per : {"gate", "weight"}, default="gate"
        What a numeric ``alpha`` (and ``hidden_alpha``) prices. ``"gate"``:
        every open gate costs ``alpha``, so a feature costs the same however
        wide the first layer is. ``"weight"``: every weight a gate switches
        costs ``alpha``, so a gate costs ``alpha`` times its fan-out (an input
        feature ``hidden_layer_sizes[0]`` times ``alpha``): the paper's
        lambda, e.g. ``alpha=0.1 / n_samples`` for its MNIST network.
    schedule : PriceSchedule, dict or None, default=None
        How the feature price rises along the path
        (:class:`~sklearn_l0.PriceSchedule`: start price, rise per step and
        per epoch, the gates' step size where they outnumber the rows); a
        dict changes the fields it names, None uses the defaults. Every fit
        starts with every gate open at ``start`` and raises the price while
        the network trains, so features leave in the order of their worth.
    weight_decay : float, default=1e-4
        Strength of the paper's expected L2 penalty under the gates,
        ``weight_decay / 2 * sum_j P(z_j != 0) * ||w_j||^2`` per layer.
    standardize : bool, default=True
        Center and scale every column of X inside ``fit`` (undone in the
        fitted weights, so predictions take X in its own units). Set it to
        False for inputs already on one scale, such as pixel intensities in
        [0, 1], where standardizing would blow up near-constant border pixels.
    ema_decay : float in (0, 1) or None, default=None
        If set, the last phase of the fit (the fine-tune) ends with an
        exponential moving average of the parameters, updated after every
        step with weight ``1 - ema_decay`` (the paper's "Adam with temporal
        averaging"). It does not change the path. Cannot be combined with
        ``early_stopping``, which picks the final parameters itself.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``. One gate
        sample is drawn per mini-batch, as in the paper.
    learning_rate_init : float, default=0.01
        Step size of the Adam optimizer.
    max_iter : int, default=1000
        Maximum number of epochs of each phase: the path to ``alpha`` (or to
        the count; each price of a CV grid is a phase), then the fine-tune of
        the weights with every gate frozen at its test-time value (at a tenth
        of the step). ``n_iter_`` counts the epochs of all phases.
    tol : float, default=1e-4
        Tolerance of the stopping rule.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (in the training
        objective with test-time gates and an unchanged set of open gates,
        or in the validation score with ``early_stopping``) before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers); the fine-tune stops when its score (accuracy or R^2)
        stops improving and keeps the best-scoring parameters. The path
        trains on the other rows and is not changed.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    shuffle : bool, default=True
        Shuffle the samples at every epoch.
    temperature : float, default=2/3
        Temperature ``beta`` of the hard concrete distribution.
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"`` or a ``torch.device``. Fitted attributes are numpy arrays
        whatever the device.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, gate noise and the validation
        split; global random states are never used.
    verbose : int, default=0
        If positive, show a progress bar with the objective and open gates.
    warm_start : bool, default=False
        Start from the parameters (before compaction) of the previous fit.
"""
    + N_THREADS_DOC
)

_MLP_PARAMS_DOC = _MLP_SHAPE_DOC + _MLP_PRICE_DOC + _MLP_TRAINING_DOC

_MLP_ATTRS_DOC = (
    """
    alpha_ : float
        The L0 strength per input feature that was used (``alpha``, or the
        price at which the count was met with ``n_features_to_select``).
    support_ : ndarray of shape (n_features_in_,), dtype=bool
        Input features kept by the first layer's gates.
    gate_open_proba_ : ndarray of shape (n_features_in_,)
        Probability that each feature's gate is non-zero under the trained
        hard concrete distribution (for ranking features).
    coef_ : ndarray of shape (hidden_layer_sizes_[0], n_features_in_)
        Effective first-layer weights (units of X) of the kept first-layer
        units over all input features, with zero columns for dropped
        features, so that ``SelectFromModel`` works.
    coefs_ : list of ndarray
        Weight matrices of the compact network, ``coefs_[i]`` of shape
        ``(n_inputs_i, n_outputs_i)``; ``coefs_[0]`` acts on
        ``X[:, support_]`` in the units of X.
    intercepts_ : list of ndarray
        Biases of the compact network.
    hidden_layer_sizes_ : tuple of int
        Hidden layer sizes after pruning.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    feature_importances_ : ndarray of shape (n_features_in_,)
        The highest price (in units of ``alpha``) at which each feature's gate
        was open along the path: the order in which the features left. Kept
        features rank above all others (their score is ``alpha_`` times
        ``1 + gate_open_proba_``, or, on a CV path that went on, the price at
        which they closed later), so ``SelectFromModel`` can rank every feature.
    path_alphas_ : ndarray of shape (n_path,)
        The prices at which each distinct support of the path appeared.
    path_supports_ : ndarray of shape (n_path, n_features_in_), dtype=bool
        Those supports, along the path.
    path_losses_ : ndarray of shape (n_path,)
        The training loss (test-time gates, without the feature price) where
        each support appeared.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : ndarray of shape (n_iter_,)
        Training objective (mean over the epoch's mini-batches) per epoch.
    n_gates_open_curve_ : ndarray of shape (n_iter_,)
        Open test-time gates (features and units), per epoch.
    validation_scores_ : ndarray
        Validation score per epoch of the fine-tune (only with ``early_stopping``).
    best_validation_score_ : float
        Best validation score (only with ``early_stopping``).
"""
    + GROUP_ATTRS_DOC
)


class _L0MLP(L0BaseEstimator):
    """Parameters, module and compaction shared by the two MLP estimators."""

    _parameter_constraints: dict = {
        **L0BaseEstimator._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "hidden_alpha": [Interval(numbers.Real, 0, None, closed="left"), "array-like", None],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "price_per": [StrOptions({"gate", "weight"})],
        "standardize": ["boolean"],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "schedule": [PriceSchedule, dict, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        alpha: float = 0.03,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        hidden_alpha: float | None = 0.0,
        price_per: str = "gate",
        schedule=None,
        weight_decay: float = 1e-4,
        standardize: bool = True,
        ema_decay: float | None = None,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.01,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.n_features_to_select = n_features_to_select
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
        self.warm_start = warm_start
        self.n_threads = n_threads

    def _hidden_sizes(self) -> list[int]:
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.size == 0 or sizes.ndim != 1 or np.any(sizes < 1) or sizes.dtype.kind not in "iu":
            raise ValueError(
                "hidden_layer_sizes must be a non-empty sequence of positive integers; "
                f"got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _hidden_alphas(self, n_hidden: int) -> list[float] | None:
        """``hidden_alpha`` as one number per hidden layer, or None (shared with the features)."""
        if self.hidden_alpha is None:
            return None
        alphas = np.asarray(self.hidden_alpha, dtype=float)
        if alphas.ndim == 0:
            return [float(alphas)] * n_hidden
        if alphas.shape != (n_hidden,) or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise ValueError(
                f"hidden_alpha must be a non-negative float or one per hidden layer "
                f"({n_hidden} values); got {self.hidden_alpha!r}."
            )
        return alphas.tolist()

    def _build_module(
        self, n_features, n_outputs, generator, input_offset, strength, feature_options
    ):
        sizes = self._hidden_sizes()
        if isinstance(self.alpha, str):
            raise ValueError(
                f"alpha={self.alpha!r}: the information criteria are for the linear models "
                "(L0Regressor, L0Classifier), where a feature adds one coefficient per "
                "output; a network has no such count. Choose alpha by cross-validation, "
                "e.g. GridSearchCV(est, {'alpha': [0.003, 0.01, 0.03, 0.1]}), or set "
                "n_features_to_select."
            )
        fan_outs = [*sizes, n_outputs]  # weights switched by a gate on each layer's inputs
        priced = [m if self.price_per == "weight" else 1 for m in fan_outs]  # per gate
        l0 = [self.alpha * m for m in priced]
        hidden = self._hidden_alphas(len(sizes))
        if hidden is not None:  # a free hidden unit needs no gate (None: ungated)
            l0[1:] = [a * m if a > 0 else None for a, m in zip(hidden, priced[1:], strict=True)]
        module = GatedMLP(
            [n_features, *sizes, n_outputs],
            activation=self.activation,
            l0_input=l0[0],
            l0_hidden=l0[1:],
            l2=self.weight_decay,
            input_offset=input_offset,
            feature_options=feature_options,
            temperature=self.temperature,
        )
        module.reset_parameters(generator)
        return module

    @property
    def _standardizes(self) -> bool:
        return self.standardize

    @property
    def _fine_tunes(self) -> bool:
        return True

    @property
    def _schedule(self) -> PriceSchedule:
        return resolve_schedule(self.schedule)

    def _gate_price(self, alpha: float) -> float:
        fan_out = self._hidden_sizes()[0] if self.price_per == "weight" else 1
        return float(alpha) * fan_out

    def _convergence(self):
        # At a low price the gates drift shut long after the objective looks settled
        # (GatesSettled); a linear fit ends in its refit and search over supports instead.
        return [Convergence(), GatesSettled()]

    @property
    def _ema_decay(self) -> float | None:
        if self.ema_decay is not None and self.early_stopping:
            raise ValueError(
                "ema_decay and early_stopping=True both choose the final parameters (the "
                "average, or the best-scoring ones); set one of them."
            )
        return self.ema_decay

    def _export_fitted(self, module, x_std, target, refitted, history, features, path=None):
        super()._export_fitted(module, x_std, target, refitted, history, features, path)
        # a network whose hidden layer lost every unit uses no feature, open gates or not
        self.group_support_ &= bool(self.support_.any())

    def _pruned_cause(self) -> tuple[str, str]:
        if 0 in self.hidden_layer_sizes_:
            layer = self.hidden_layer_sizes_.index(0) + 1
            return (
                f"hidden_alpha={self.hidden_alpha!r} closed every unit of hidden layer {layer} "
                "and so",
                "Lower hidden_alpha (0 keeps every unit).",
            )
        return super()._pruned_cause()

    def _train_options(self, n_samples):
        n_fit = n_samples
        if self.early_stopping:
            n_fit = n_samples - int(np.ceil(self.validation_fraction * n_samples))
        batch = min(200, n_fit) if self.batch_size == "auto" else min(self.batch_size, n_fit)
        return dict(
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            learning_rate=self.learning_rate_init,
            batch_size=max(batch, 1),
            shuffle=self.shuffle,
        )

    @property
    def _validation_fraction(self) -> float | None:
        return self.validation_fraction if self.early_stopping else None

    def _export(self, module: GatedMLP, x_std, target, refitted) -> None:
        """Compact the network; fold the standardization of X (and y) into its layers."""
        y_scale, y_mean = 1.0, 0.0
        if target.classes is not None:
            self.classes_ = target.classes
        else:
            y_scale, y_mean, self._y_1d = target.y_std.scale, target.y_std.mean, target.y_1d
        kept, coefs, intercepts = module.compact()
        # Fold the input standardization into the first layer, the target's into the last.
        mean, scale = x_std.mean[kept], x_std.scale[kept]
        coefs[0] = coefs[0] / scale[:, None]
        intercepts[0] = intercepts[0] - mean @ coefs[0]
        coefs[-1] = coefs[-1] * y_scale
        intercepts[-1] = intercepts[-1] * y_scale + y_mean
        self.support_ = kept
        self.coefs_, self.intercepts_ = coefs, intercepts
        coef = np.zeros((coefs[0].shape[1], kept.size))
        coef[:, kept] = coefs[0].T
        self.coef_ = coef
        self.hidden_layer_sizes_ = tuple(int(c.shape[1]) for c in coefs[:-1])
        self.n_layers_ = len(coefs) + 1
        self.n_outputs_ = int(coefs[-1].shape[1])

    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        return mlp_forward(
            X,
            self.coefs_,
            self.intercepts_,
            self.activation,
            columns=self.support_,
            n_threads=self.n_threads,
        )


class L0MLPRegressor(RegressorOutputMixin, MultiOutputMixin, RegressorMixin, _L0MLP):
    __doc__ = f"""Multilayer perceptron regressor with L0 feature selection and unit pruning.

    Squared loss on the standardized target; hard concrete gates on the
    input features and on every hidden unit (Louizos, Welling & Kingma,
    2018). Multi-output targets share the network.

    Parameters
    ----------{_MLP_PARAMS_DOC}
    Attributes
    ----------{_MLP_ATTRS_DOC}
    See Also
    --------
    L0MLPClassifier : The same network for classification.
    L0Regressor : The linear model with the same feature penalty.
    sklearn.neural_network.MLPRegressor : The unpenalized network.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0MLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(1000, 10))
    >>> y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    >>> reg = L0MLPRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X, y)
    >>> np.flatnonzero(reg.support_)
    array([0, 1])
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network, then compact it.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : L0MLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        return regression_target(
            y,
            sample_weight,
            center=True,
            profiled=False,  # no criterion for networks
            y_std=None if like is None else like.y_std,
        )


class L0MLPClassifier(ClassWeightMixin, LogitClassifierMixin, ClassifierMixin, _L0MLP):
    __doc__ = f"""Multilayer perceptron classifier with L0 feature selection and unit pruning.

    Logistic (binary) or softmax (multiclass) output; hard concrete gates on
    the input features and on every hidden unit (Louizos, Welling & Kingma,
    2018). Labels of any type.

    Parameters
    ----------{_MLP_PARAMS_DOC}{CLASS_WEIGHT_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.{_MLP_ATTRS_DOC}
    See Also
    --------
    L0MLPRegressor : The same network for regression.
    L0Classifier : The linear model with the same feature penalty.
    sklearn.neural_network.MLPClassifier : The unpenalized network.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0MLPClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(1000, 10)
    >>> y = (X[:, 2] * X[:, 7] > 0).astype(int)  # XOR of two signs
    >>> clf = L0MLPClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X, y)
    >>> np.flatnonzero(clf.support_)
    array([2, 7])
    """

    _multi_output = False
    _y_numeric = False
    _parameter_constraints: dict = {
        **_L0MLP._parameter_constraints,
        **ClassWeightMixin._class_weight_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        alpha: float = 0.03,
        n_features_to_select: int | float | None = None,
        groups=None,
        penalty_factor=None,
        class_weight=None,
        hidden_alpha: float | None = 0.0,
        price_per: str = "gate",
        schedule=None,
        weight_decay: float = 1e-4,
        standardize: bool = True,
        ema_decay: float | None = None,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.01,
        max_iter: int = 1000,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        temperature: float = BETA,
        device="auto",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            alpha=alpha,
            n_features_to_select=n_features_to_select,
            groups=groups,
            penalty_factor=penalty_factor,
            hidden_alpha=hidden_alpha,
            price_per=price_per,
            schedule=schedule,
            weight_decay=weight_decay,
            standardize=standardize,
            ema_decay=ema_decay,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
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
        """Fit the network, then compact it.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : L0MLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _prepare_target(self, y, sample_weight, like=None, classes=None):
        classes = classes if like is None else like.classes
        return encode_labels(y, type(self).__name__, classes)


__all__ = ["L0MLPClassifier", "L0MLPRegressor"]
