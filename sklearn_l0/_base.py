"""The estimator template: validate -> prepare -> one ``_fit`` -> export.

Data flow of ``fit`` and ``partial_fit`` alike (:meth:`L0BaseEstimator._fit`):
validate X, y and the weights (:mod:`~sklearn_l0.data`) -> encode the target
(:mod:`~sklearn_l0.targets`) -> standardize X and move it to the device ->
build the gated module -> :func:`~sklearn_l0.training.train` -> (target count,
refit) -> export numpy arrays as fitted attributes. ``partial_fit`` is the same
path, ``incremental``: one epoch that continues the stored parameters, Adam
state, gate noise, standardization and target encoding.

Subclasses say what the target is, which module to build and what to export
(the hooks of :class:`L0BaseEstimator`); everything else lives here once.
"""

from __future__ import annotations

import copy
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions

from .data import (
    DTYPE,
    Dataset,
    Standardization,
    column_stats,
    input_offset,
    on_accelerator,
    to_device,
    validate_fit_data,
)
from .gates import HardConcreteGate
from .groups import FeatureGroups, resolve_groups
from .networks import open_inputs_only
from .path import PricePath, PriceSchedule, importances
from .refit import refit_on_support
from .search import polish_support
from .targets import CRITERIA, Target, criterion_price, criterion_terms, n_to_select
from .threads import limited_threads, threads_for
from .training import (
    Convergence,
    CountTarget,
    EarlyStopping,
    History,
    ParameterAveraging,
    Policy,
    adam_optimizer,
    train,
)
from .utils import (
    DocLinkMixin,
    atomic_fit,
    fit_generator,
    numpy_tree,
    resolve_device,
    seed_from,
    torch_tree,
    warn_if_all_pruned,
)


class L0BaseEstimator(DocLinkMixin, BaseEstimator):
    """Shared ``fit`` and ``partial_fit`` for estimators trained with hard concrete gates.

    Subclasses define ``__init__`` (parameters only) and these hooks:

    - ``_prepare_target(y, sample_weight, like, classes) -> Target`` (``like``:
      an earlier target to encode alike, for ``partial_fit``; ``classes``:
      the labels given to the first ``partial_fit``);
    - ``_build_module(n_features, n_outputs, generator, input_offset, strength,
      feature_options) -> nn.Module`` (``input_offset``: see
      :func:`~sklearn_l0.data.input_offset`; ``strength(m)`` is the L0 strength
      of a gate controlling ``m`` parameters per column, in loss units:
      ``alpha`` itself for a numeric ``alpha``, see
      :func:`~sklearn_l0.targets.criterion_price`; ``feature_options``: the
      ``cost``, ``groups`` and ``always_open`` of the feature gates, for
      :class:`~sklearn_l0.nn.L0Linear`, empty without ``groups`` and
      ``penalty_factor``);
    - ``_train_options(n_samples) -> dict`` of :func:`~sklearn_l0.training.train`
      keyword arguments (epochs, learning rate, batch size, stopping rule);
    - ``_export(module, x_std, target, refitted)``: set the numpy fitted
      attributes (``refitted`` is the float64 ``(weight, bias)`` of the refit,
      or None);
    - the properties ``_center_X`` (center X before training), ``_standardizes``
      (standardize X at all), ``_ema_decay`` (train with
      :class:`~sklearn_l0.training.ParameterAveraging`, or None), ``_refits``
      (refit on the support after training), ``_fine_tunes`` (train the weights
      once more with every gate frozen, see ``_fine_tune``), ``_schedule`` (a
      :class:`~sklearn_l0.path.PriceSchedule`: the fit walks a price path, see
      ``_walk``; or None: it trains at ``alpha`` from the start) and
      ``_validation_fraction`` (rows held out for early stopping, or None), and
      ``_support_search(n_select, target, layer, n_candidates, n_samples)`` (the
      keyword arguments of :func:`~sklearn_l0.search.polish_support` for the
      trained feature layer, or None: no local search).

    Class attributes ``_multi_output`` and ``_y_numeric`` tell validation what
    ``y`` may be.
    """

    _multi_output = True
    _y_numeric = True
    _partial_fit_available = True  # the public partial_fit is in the _predict mixins

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
        "groups": ["array-like", callable, None],
        "penalty_factor": ["array-like", None],
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
        "n_threads": [
            None,
            Options(numbers.Integral, {-1}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
    }

    # ---- hooks
    def _prepare_target(self, y, sample_weight, like=None, classes=None) -> Target:
        raise NotImplementedError  # pragma: no cover

    def _build_module(
        self, n_features, n_outputs, generator, input_offset, strength, feature_options
    ):
        raise NotImplementedError  # pragma: no cover

    def _weigh_samples(self, y, sample_weight: np.ndarray, incremental: bool) -> np.ndarray:
        """The sample weights training uses (classifiers fold ``class_weight`` in)."""
        return sample_weight

    def _train_options(self, n_samples: int) -> dict:
        raise NotImplementedError  # pragma: no cover

    def _export(self, module, x_std, target: Target, refitted) -> None:
        raise NotImplementedError  # pragma: no cover

    @property
    def _center_X(self) -> bool:
        return True

    @property
    def _standardizes(self) -> bool:
        return True

    @property
    def _ema_decay(self) -> float | None:
        return None

    @property
    def _refits(self) -> bool:
        return False

    @property
    def _fine_tunes(self) -> bool:
        return False

    @property
    def _schedule(self) -> PriceSchedule | None:
        """The price path's schedule (networks), or None: train at ``alpha`` from the start."""
        return None

    def _gate_price(self, alpha: float) -> float:
        """The price per feature gate that a numeric ``alpha`` sets (as ``_build_module`` does)."""
        return float(alpha)

    @property
    def _validation_fraction(self) -> float | None:
        return None

    def _convergence(self) -> list[Policy]:
        """The policies that say when a fit at ``alpha`` has settled (without early stopping)."""
        return [Convergence()]

    def _support_search(
        self, n_select: int | None, target: Target, layer, n_candidates: int, n_samples: int
    ) -> dict | None:
        """How to polish the trained support by local search (:mod:`~sklearn_l0.search`)."""
        return None

    # ---- the one fit path
    @atomic_fit
    def _fit(
        self,
        X,
        y,
        sample_weight,
        *,
        incremental: bool = False,
        classes=None,
        stops=None,
        on_stop=None,
        walk_only: bool = False,
    ):
        """Fit from scratch (``fit``), or one more epoch of the stored run (``partial_fit``).

        ``fit`` with ``warm_start`` starts from the stored parameters only;
        ``incremental`` continues everything: parameters, Adam state, gate
        noise, and the standardization and target encoding of the first call.
        A failed or interrupted call leaves the estimator as it was.

        ``stops`` (networks, for the CV estimators): the alphas, ascending, at
        which the price path settles on its way; after each, ``on_stop(alpha,
        snapshot)`` is called with ``snapshot()`` giving a copy of this
        estimator fitted with the model there. The model at ``alpha`` is kept;
        with ``walk_only`` (a CV fold) nothing else is done, nothing is set.
        """
        resumed = getattr(self, "_continuation", None) if incremental else None
        if incremental:
            self._check_incremental()
        X, y, sample_weight = validate_fit_data(self, X, y, sample_weight, reset=resumed is None)
        sample_weight = self._weigh_samples(y, sample_weight, incremental)
        features = resolve_groups(self, X.shape[1])
        n_select = None if incremental else self._n_select(features)
        device = resolve_device(self.device)
        target, x_std = self._encode(X, y, sample_weight, resumed, incremental, classes, device)
        seed = seed_from(self.random_state) if resumed is None else None
        generator = fit_generator(device, seed, None if resumed is None else resumed["generator"])
        data = Dataset(
            to_device(X, x_std, device),
            torch.as_tensor(target.y, device=device),
            torch.as_tensor(sample_weight, dtype=DTYPE, device=device),
        )
        validation = None
        if not incremental and self._validation_fraction is not None:
            data, validation = data.split(
                target.y, self._validation_fraction, seed, stratify=not self._y_numeric
            )
        size = self._sample_size(target)
        module = self._build_module(
            X.shape[1],
            target.n_outputs,
            generator,
            input_offset(X, x_std, device),
            self._strength(X.shape[0], features.n_candidates, size),
            self._feature_options(features, X.shape[0], device, size),
        ).to(device)
        warm = self._load_module_state(module, incremental, target.n_outputs)
        options = self._train_options(X.shape[0])
        common = dict(generator=generator, verbose=self.verbose)
        work = options["batch_size"] * sum(p.numel() for p in module.parameters())
        tuned = path = None
        with limited_threads(threads_for(self.n_threads, work)):
            if incremental:
                history, optimizer = self._one_epoch(module, target, data, resumed, options, common)
            elif self._schedule is not None:

                def snapshot():
                    return self._snapshot(module, x_std, target, features)

                start = self._gate_price(self.alpha_) if warm else None  # where it stood
                history, optimizer, path = self._walk(
                    module, target, data, n_select, options, common, stops, on_stop, snapshot, start
                )
                if walk_only:
                    return self
            else:
                policies = (
                    self._convergence()
                    if validation is None
                    else [EarlyStopping(validation, target.score_fn)]
                )
                if self._ema_decay is not None:
                    policies.append(ParameterAveraging(self._ema_decay))
                history, optimizer = train(
                    module, target.loss_fn, data, policies=policies, **common, **options
                )
                if n_select is not None:
                    optimizer = self._select_count(
                        module, target, data, n_select, history, options, common
                    )
            if not incremental and self._fine_tunes and history.converged:
                tuned = self._fine_tune(module, target, data, validation, options, common)
                history.extend(tuned)
            search = None
            if not incremental:
                search = self._support_search(
                    n_select, target, module.feature_layer, features.n_candidates, X.shape[0]
                )
            if search is not None:
                polish_support(
                    module.feature_layer,
                    X,
                    x_std,
                    target,
                    sample_weight,
                    standardized=on_accelerator(data.X, X.shape[0]),
                    **search,
                )
            refitted = None
            if self._refits and not incremental:
                refitted = refit_on_support(module, target.loss_fn, X, x_std, data.y, sample_weight)
        # Everything below sets attributes; nothing above did (but validation).
        if validation is not None:
            scores = history if tuned is None else tuned
            self.validation_scores_ = np.asarray(scores.validation_scores)
            self.best_validation_score_ = scores.best_validation_score
        self._set_fitted(
            module, x_std, target, refitted, history, optimizer, generator, features, path
        )
        return self

    def _check_incremental(self) -> None:
        self._validate_params()
        if isinstance(self.alpha, str) or self.n_features_to_select is not None:
            raise ValueError(
                "partial_fit needs a numeric alpha and n_features_to_select=None (criteria "
                "and target counts need all the data at once); use fit."
            )

    def _walk(
        self, module, target, data, n_select, options, common, stops, on_stop, snapshot, start=None
    ):
        """Train along the price path (:mod:`~sklearn_l0.path`): the networks' one algorithm.

        Every feature gate starts open at ``schedule.start``; the price rises
        while the network trains, to ``alpha`` (where the model settles), or
        until at most ``n_select`` gates are open (then the ``n_select`` most
        open are kept, frozen), or through every alpha of ``stops`` in turn
        (each settled, then ``on_stop``), the model at ``alpha`` kept. The
        path stops early once every feature gate is closed; a warm start
        starts it at ``start``, the price of the model continued from. Returns the
        history, the optimizer, and ``(path, importances)`` for
        :meth:`_export_fitted`.
        """
        layer = module.feature_layer
        path = PricePath(layer, self._schedule, start)
        history, optimizer = History(), None

        def rise(**aim) -> None:
            nonlocal optimizer
            path.aim(**aim)
            more, optimizer = train(
                module,
                target.loss_fn,
                data,
                policies=[*self._convergence(), path],
                optimizer=optimizer,
                **common,
                **options,
            )
            history.extend(more)

        if n_select is not None:
            rise(count=n_select)
            path.hand_back()
            kept = self._choose(layer, n_select)
            ranks = importances(path, kept, path.price, path.open_price.clone())
            layer.gate.freeze(kept.to(layer.weight.dtype))
            return history, optimizer, (path, ranks)
        alpha = float(self.alpha)
        stops = [alpha] if stops is None else sorted(stops)
        model = None  # the model at alpha, where the path goes on past it
        for stop in stops:
            rise(price=self._gate_price(stop))
            if on_stop is not None:
                on_stop(stop, snapshot)
            if stop == alpha and stop != stops[-1]:
                state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                model = (
                    state,
                    layer.gate.is_open(),
                    path.open_price.clone(),
                    history.converged,
                    path.price,
                )
            if not path.any_open():  # every price above leaves the same empty model
                break
        if model is None:  # the model where the path ended (before alpha, if it ran out)
            kept, at_model, price = layer.gate.is_open(), path.open_price.clone(), path.price
        else:
            state, kept, at_model, converged, price = model
        ranks = importances(path, kept, price, at_model)
        if model is not None:
            module.load_state_dict(state)
            history.converged = converged
        layer.l0 = price
        return history, optimizer, (path, ranks)

    def _encode(self, X, y, sample_weight, resumed, incremental: bool, classes, device):
        """The target and the standardization of X: new, or those of the run resumed."""
        if resumed is None:
            if incremental and classes is None and not self._y_numeric:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            target = self._prepare_target(y, sample_weight, classes=classes)
            if not self._standardizes:
                return target, Standardization.identity(X.shape[1])
            return target, column_stats(X, sample_weight, center=self._center_X, device=device)
        like = resumed["target"]
        if classes is not None and not np.array_equal(np.unique(classes), like.classes):
            raise ValueError(
                f"classes={list(classes)} differs from the classes of the first call "
                f"({like.classes.tolist()})."
            )
        return self._prepare_target(y, sample_weight, like=like), resumed["x_std"]

    def _sample_size(self, target: Target) -> float | None:
        """The criteria's sample size, where it is not the number of rows (Cox: the events)."""
        return None

    def _strength(self, n_samples: int, n_candidates: int, sample_size: float | None = None):
        """``strength(m)``: the L0 strength of a gate that controls ``m`` parameters."""
        price = criterion_price(self.alpha, n_samples, n_candidates, sample_size)
        if price is None:
            return lambda n_params: float(self.alpha)
        return lambda n_params: price * n_params

    def _feature_options(
        self, features: FeatureGroups, n_samples: int, device, sample_size: float | None = None
    ) -> dict:
        """The structure of the feature gates: groups, always-open gates, relative costs."""
        options = features.gate_options(device)
        terms = criterion_terms(self.alpha, n_samples, features.n_candidates, sample_size)
        costs = features.costs(*(terms or (1.0, 0.0)))
        if costs is not None:
            options["cost"] = torch.as_tensor(costs, dtype=DTYPE, device=device)
        return options

    def _n_select(self, features: FeatureGroups) -> int | None:
        """``n_features_to_select`` as a count of gates (groups), checked against the fixed ones."""
        unit = "groups" if features.grouped else "features"
        n_select = n_to_select(self.n_features_to_select, features.n_gates, unit)
        n_fixed = int(features.always_open.sum())
        if n_select is not None and n_select < n_fixed:
            raise ValueError(
                f"n_features_to_select={self.n_features_to_select} keeps {n_select} {unit}, fewer "
                f"than the {n_fixed} that penalty_factor=0 always keeps; ask for {n_fixed} or more."
            )
        return n_select

    def _load_module_state(self, module, incremental: bool, n_outputs: int) -> bool:
        """Continue from the stored parameters (``partial_fit``, or ``fit`` with warm_start).

        Returns whether there were parameters to continue from.
        """
        state = getattr(self, "_module_state", None) if incremental or self.warm_start else None
        if state is None:
            return False
        if any(
            k not in state or tuple(v.shape) != state[k].shape for k, v in module.named_parameters()
        ):
            raise ValueError(
                "warm_start=True but the data's shape differs from the previous fit "
                f"({module.feature_layer.in_features} features, {n_outputs} outputs); "
                "fit with warm_start=False."
            )
        module.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()}, strict=False)
        return True

    def _one_epoch(self, module, target, data, resumed, options, common):
        """One epoch continuing the stored run; the histories are joined."""
        params = [p for p in module.parameters() if p.requires_grad]
        optimizer = adam_optimizer(params, options["learning_rate"])
        if resumed is not None:
            optimizer.load_state_dict(torch_tree(resumed["optimizer"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch by design
            history, _ = train(
                module,
                target.loss_fn,
                data,
                optimizer=optimizer,
                **common,
                **{**options, "max_iter": 1},
            )
        if resumed is not None:  # the curves go on
            earlier = History(self.n_iter_, list(self.loss_curve_), list(self.n_gates_open_curve_))
            history = earlier.extend(history)
        return history, optimizer

    def _select_count(self, module, target, data, n_select, history, options, common):
        """Keep exactly ``n_select`` features, from the model trained at ``alpha``.

        Moves the feature price (a Lagrange multiplier, :class:`CountTarget`)
        until about ``n_select`` gates are open; keeps exactly the
        ``n_select`` most open gates (:meth:`_choose`), frozen; and, without
        a refit, lets the rest of the model adapt to them.
        """
        layer = module.feature_layer
        count = CountTarget(layer, n_select)
        more, optimizer = train(
            module, target.loss_fn, data, policies=[Convergence(), count], **common, **options
        )
        layer.l0 = count.price
        history.extend(more)
        layer.gate.freeze(self._choose(layer, n_select).to(layer.weight.dtype))
        if not self._refits and not self._fine_tunes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                train(module, target.loss_fn, data, generator=common["generator"], **options)
        return optimizer

    @staticmethod
    def _choose(layer, n_select: int) -> torch.Tensor:
        """The ``n_select`` most open gates (always-open ones first, ties by weight norm)."""
        la = layer.gate.log_alpha.detach().cpu().numpy()
        if layer.gate.always_open is not None:  # always kept, so chosen first
            la[layer.gate.always_open.cpu().numpy()] = np.inf
        norms = layer.gate_norms().cpu().numpy()
        chosen = np.lexsort((-norms, -la))[:n_select]
        mask = torch.zeros_like(layer.gate.log_alpha, dtype=torch.bool)
        mask[torch.as_tensor(chosen, device=mask.device)] = True
        return mask

    def _pruned_cause(self) -> tuple[str, str]:
        """What closed every feature, and the remedy (for :func:`warn_if_all_pruned`)."""
        return f"alpha={self.alpha}", "Lower alpha to keep features."

    def _fine_tune(self, module, target, data, validation, options, common) -> History:
        """Train the weights with every gate frozen at its test-time value.

        Training with sampled gates leaves the weights fitted to noisy inputs
        and hidden units; the network the model will use (the test-time one,
        closed gates at exactly zero) is trained on its own, at a tenth of the
        step, until the stopping rule holds (a phase of at most ``max_iter``
        epochs): the held-out score with ``early_stopping`` (``validation``),
        and ending with averaged parameters with ``ema_decay``. Where most
        input columns are closed it reads only the open ones
        (:func:`~sklearn_l0.networks.open_inputs_only`).
        """
        for gate in (m for m in module.modules() if isinstance(m, HardConcreteGate)):
            if gate.frozen_mask is None:
                gate.freeze_at_test_values()
        tuned = {**options, "learning_rate": options["learning_rate"] / 10}
        held_out = () if validation is None else (validation,)
        with warnings.catch_warnings(), open_inputs_only(module, data, *held_out) as (net, *parts):
            warnings.simplefilter("ignore", ConvergenceWarning)  # the gates have converged
            policies = [Convergence()]
            if validation is not None:
                policies = [EarlyStopping(parts[1], target.score_fn)]
            if self._ema_decay is not None:
                policies.append(ParameterAveraging(self._ema_decay))
            more, _ = train(
                net,
                target.loss_fn,
                parts[0],
                generator=common["generator"],
                policies=policies,
                **tuned,
            )
        return more

    def _snapshot(self, module, x_std, target, features):
        """A copy of this estimator fitted with ``module`` as it is (for scoring on a path)."""
        snap = copy.copy(self)
        snap._export_fitted(module, x_std, target, None, History(), features)
        return snap

    def _export_fitted(self, module, x_std, target, refitted, history, features, path=None) -> None:
        """Set every fitted attribute from the trained module and its history.

        ``features`` (a :class:`~sklearn_l0.groups.FeatureGroups`) labels the groups;
        ``path``: ``(PricePath, importances)`` of a network's walk, or None.
        """
        self._export(module, x_std, target, refitted)
        layer = module.feature_layer
        gate = layer.gate
        with torch.no_grad():
            proba = gate.to_columns(gate.learned_prob_nonzero())
        self.gate_open_proba_ = proba.double().cpu().numpy()
        self.groups_ = features.labels
        self.group_support_ = gate.is_open().cpu().numpy()
        self.alpha_ = float(layer.l0) / self._gate_price(1.0)
        self.n_iter_ = history.n_iter
        self.loss_curve_ = np.asarray(history.loss_curve)
        self.n_gates_open_curve_ = np.asarray(history.n_open_curve, dtype=np.int64)
        if path is not None:
            walk, self.feature_importances_ = path
            supports = np.asarray(walk.supports, dtype=bool).reshape(-1, gate.n_gates)
            if gate.groups is not None:
                supports = supports[:, gate.groups.cpu().numpy()]
            self.path_alphas_ = np.asarray(walk.prices) / self._gate_price(1.0)
            self.path_supports_ = supports
            self.path_losses_ = np.asarray(walk.losses)

    def _set_fitted(
        self, module, x_std, target, refitted, history, optimizer, generator, features, path=None
    ):
        """Export the fitted attributes, and keep what a later fit continues from."""
        self._export_fitted(module, x_std, target, refitted, history, features, path)
        # Trained parameters (not buffers), optimizer and noise state, as numpy (they
        # pickle, and load without the training device): warm_start and partial_fit
        # continue from them.
        self._module_state = {k: v.detach().cpu().numpy() for k, v in module.named_parameters()}
        self._continuation = {
            "optimizer": numpy_tree(optimizer.state_dict()),
            "generator": generator.get_state().numpy(),
            "x_std": x_std,
            "target": target.encoding(),
        }
        warn_if_all_pruned(self.support_, *self._pruned_cause())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
