"""Feature structure: groups of columns sharing one gate, and per-group prices.

``groups`` and ``penalty_factor`` (estimator parameters) become a
:class:`FeatureGroups`: which gate each column of X belongs to, how many
columns each gate switches, and what each gate costs relative to one column
at factor 1. :func:`feature_groups` derives ``groups`` from a fitted
``ColumnTransformer``, ``OneHotEncoder`` or any transformer with
``get_feature_names_out``, so that a categorical variable's dummy columns are
one group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

GROUPS_DOC = """\
    groups : array-like of shape (n_features,), callable or None, default=None
        Group label of each column of X (ints or strings); the columns of a
        group share one gate, so they are kept or dropped together (e.g. the
        dummy columns of one categorical variable, see
        :func:`sklearn_l0.feature_groups`). None gives every column its own
        gate. A callable is called at fit with the feature names of X
        (``feature_names_in_``, else ``x0``, ``x1``, ...) and returns the
        labels: for a pipeline whose encoder may make different columns in
        different cross-validation folds, e.g.
        ``functools.partial(feature_groups, input_features=columns)`` with
        pandas output from the preprocessor. A group costs its number of
        columns: ``alpha`` per column for a numeric ``alpha`` (a group of 5
        columns must lower the loss by ``5 * alpha`` to be kept), its number of
        coefficients times the criterion's price with ``"aic"``/``"bic"``/
        ``"ebic"`` (whose search term then counts groups, not columns), and
        ``n_features_to_select`` counts groups. ``support_`` stays per
        column; ``group_support_`` is per group.
    penalty_factor : array-like of shape (n_features,) or (n_groups,), or None, \
default=None
        Non-negative multipliers of each feature's (or group's) L0 price, as
        glmnet's ``penalty.factor``: a feature with factor 2 must lower the
        loss twice as much to be kept (e.g. a sensor that costs twice as
        much). Factor 0 means never penalized: the feature's gate stays open,
        so it is in every model (abess's ``always_select``). With ``groups``,
        give one value per group (in the order of ``groups_``) or one per
        column, equal within each group. ``n_features_to_select`` counts the
        always-kept features too.
"""

GROUP_ATTRS_DOC = """\
    groups_ : ndarray of shape (n_groups,)
        The group labels, in the order of ``group_support_`` (the sorted
        unique values of ``groups``; ``arange(n_features_in_)`` without
        groups).
    group_support_ : ndarray of shape (n_groups,), dtype=bool
        Selected groups (``support_`` is true on all of a selected group's
        columns and false on all of the others').
"""


@dataclass(frozen=True)
class FeatureGroups:
    """The gates over the columns of X: ``index[j]`` is the gate of column ``j``.

    ``labels`` are the group labels (one per gate), ``sizes`` the columns per
    gate and ``factor`` the price multiplier of each gate (0: always open).
    """

    labels: np.ndarray
    index: np.ndarray
    sizes: np.ndarray
    factor: np.ndarray

    @property
    def n_gates(self) -> int:
        return len(self.labels)

    @property
    def grouped(self) -> bool:
        """Whether some gate switches more than one column."""
        return self.n_gates != len(self.index)

    @property
    def always_open(self) -> np.ndarray:
        return self.factor == 0

    @property
    def n_candidates(self) -> int:
        """Gates the penalty chooses among (the search of the extended BIC)."""
        return int(np.count_nonzero(self.factor))

    @property
    def plain(self) -> bool:
        """One gate per column at factor 1: the modules need none of this structure."""
        return not self.grouped and bool(np.all(self.factor == 1))

    def gate_options(self, device) -> dict:
        """Keyword arguments of :class:`~sklearn_l0.gates.HardConcreteGate` (empty when plain)."""
        if self.plain:
            return {}
        options = {}
        if self.grouped:
            options["groups"] = torch.as_tensor(self.index, dtype=torch.long, device=device)
        if self.always_open.any():
            options["always_open"] = torch.as_tensor(self.always_open, device=device)
        return options

    @property
    def alpha_costs(self) -> np.ndarray:
        """Each gate's price in units of a numeric ``alpha``: its columns times its factor."""
        return self.factor * self.sizes

    def costs(self, fit: float, search: float) -> np.ndarray | None:
        """Each gate's price relative to one column at factor 1 (None when plain).

        A gate of ``m`` columns carries ``m`` times the per-column ``fit``
        price and one ``search`` price (the extended BIC's, 0 otherwise).
        """
        if self.plain:
            return None
        return self.factor * (self.sizes * fit + search) / (fit + search)


def resolve_groups(estimator, n_features: int) -> FeatureGroups:
    """The estimator's ``groups`` and ``penalty_factor``, validated for X of ``n_features`` columns.

    A callable ``groups`` is called with the feature names of X (its
    ``feature_names_in_``, else ``x0``, ``x1``, ...).
    """
    groups, penalty_factor = estimator.groups, estimator.penalty_factor
    if callable(groups):
        names = getattr(estimator, "feature_names_in_", None)
        if names is None or len(names) != n_features:
            names = np.asarray([f"x{i}" for i in range(n_features)], dtype=object)
        groups = groups(names)
    if groups is None:
        labels, index = np.arange(n_features), np.arange(n_features)
    else:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != n_features:
            raise ValueError(
                f"groups must give one label per column of X ({n_features}); "
                f"got an array of shape {groups.shape}."
            )
        if groups.dtype.kind == "f" and not np.all(np.isfinite(groups)):
            raise ValueError("groups must not contain NaN or infinite labels.")
        if groups.dtype.kind == "O" and len({type(g) for g in groups.tolist()}) > 1:
            raise ValueError(
                "groups must hold labels of one type (all ints or all strings); got "
                f"{sorted({type(g).__name__ for g in groups.tolist()})}."
            )
        labels, index = np.unique(groups, return_inverse=True)
    sizes = np.bincount(index, minlength=len(labels)).astype(np.float64)
    factor = _gate_factors(penalty_factor, index, len(labels), groups is not None)
    return FeatureGroups(labels, index, sizes, factor)


def _gate_factors(penalty_factor, index: np.ndarray, n_gates: int, grouped: bool) -> np.ndarray:
    """``penalty_factor`` as one multiplier per gate (validated)."""
    n_features = len(index)
    if penalty_factor is None:
        return np.ones(n_gates)
    factor = np.asarray(penalty_factor, dtype=np.float64)
    sizes = f"{n_features} (one per column)" + (
        f" or {n_gates} (one per group, in the order of groups_)" if grouped else ""
    )
    if factor.ndim != 1 or factor.shape[0] not in (n_features, n_gates):
        raise ValueError(f"penalty_factor must have length {sizes}; got shape {factor.shape}.")
    if not np.all(np.isfinite(factor)) or np.any(factor < 0):
        raise ValueError(
            "penalty_factor must be finite and non-negative (0: always kept); got "
            f"{factor[~(np.isfinite(factor) & (factor >= 0))][:5].tolist()}."
        )
    if factor.shape[0] == n_gates and not (factor.shape[0] == n_features and grouped):
        return factor
    per_gate = np.zeros(n_gates)
    per_gate[index] = factor
    if np.any(per_gate[index] != factor):
        bad = np.unique(index[per_gate[index] != factor])
        raise ValueError(
            f"penalty_factor given per column must be equal within each group; it differs "
            f"within group(s) at positions {bad[:5].tolist()} of groups_."
        )
    return per_gate


def feature_groups(transformer, input_features=None) -> np.ndarray:
    """The input feature each output column of a fitted transformer comes from.

    Use it as ``groups`` so that the columns made from one input feature (the
    dummy columns of a one-hot encoded variable, the splines of one numeric
    column) share one gate::

        pre = ColumnTransformer([("cat", OneHotEncoder(), cats), ("num", "passthrough", nums)])
        Xt = pre.fit_transform(X)
        L0Classifier(groups=feature_groups(pre)).fit(Xt, y)

    The groups are read from the names: an output column belongs to the
    longest input feature name that starts it, followed by ``"_"`` or nothing,
    once the transformer's prefix (``"cat__"``) is removed. This is how
    ``OneHotEncoder`` (``"color_red"``), ``SplineTransformer`` and
    ``ColumnTransformer`` name their outputs. An output column that matches
    no input name, or an interaction of several (``"x0 x1"`` from
    ``PolynomialFeatures``), is a group of its own, labelled by its name.

    Parameters
    ----------
    transformer : fitted transformer
        Anything with ``get_feature_names_out()`` and ``feature_names_in_``
        (a ``ColumnTransformer``, a ``Pipeline`` of transformers, an
        ``OneHotEncoder``), or an array of output column names.
    input_features : array-like of str, optional
        The input feature names, when ``transformer`` is a list of names or
        was fitted without them (``x0``, ``x1``, ... by default there).

    Returns
    -------
    groups : ndarray of str, shape (n_output_columns,)
        The input feature name of each output column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from sklearn_l0 import feature_groups
    >>> enc = OneHotEncoder().fit(np.array([["a", "x"], ["b", "y"], ["c", "x"]]))
    >>> enc.get_feature_names_out()
    array(['x0_a', 'x0_b', 'x0_c', 'x1_x', 'x1_y'], dtype=object)
    >>> feature_groups(enc)
    array(['x0', 'x0', 'x0', 'x1', 'x1'], dtype='<U2')
    """
    if hasattr(transformer, "get_feature_names_out"):
        names_out = transformer.get_feature_names_out()
        if input_features is None:
            input_features = getattr(transformer, "feature_names_in_", None)
        if input_features is None:
            n_in = getattr(transformer, "n_features_in_", None)
            if n_in is None:
                raise ValueError(
                    f"{type(transformer).__name__} has no feature_names_in_ nor n_features_in_; "
                    "is it fitted? Pass input_features."
                )
            input_features = [f"x{i}" for i in range(n_in)]
    else:
        names_out = transformer
        if input_features is None:
            raise ValueError("input_features is required when transformer is a list of names.")
    names_in = sorted((str(f) for f in input_features), key=len, reverse=True)
    groups = [_source(str(name), names_in) for name in np.asarray(names_out).ravel()]
    return np.asarray(groups, dtype=str)


def _source(name: str, names_in: list[str]) -> str:
    """The input feature ``name`` comes from, or ``name`` itself.

    An interaction (``"city_x age"``: several space-separated parts that each
    come from an input) is a group of its own.
    """
    parts = name.split(" ")
    if len(parts) > 1 and sum(_prefix(part, names_in) is not None for part in parts) > 1:
        return name
    source = _prefix(name, names_in)
    return name if source is None else source


def _prefix(name: str, names_in: list[str]) -> str | None:
    """The longest input name that starts ``name`` (after an optional ``prefix__``)."""
    candidates = [name.split("__", 1)[1], name] if "__" in name else [name]
    for candidate in candidates:
        for source in names_in:  # longest first
            if candidate == source or candidate.startswith(source + "_"):
                return source
    return None
