"""Feature groups, per-feature prices (penalty_factor), class weights, feature_groups()."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_l0 import (
    L0Classifier,
    L0ClassifierCV,
    L0MLPClassifier,
    L0MLPRegressor,
    L0Regressor,
    L0RegressorCV,
    feature_groups,
)
from sklearn_l0.targets import criterion_price

CPU = dict(device="cpu", random_state=0)
MLP = dict(hidden_layer_sizes=(16,), **CPU)


def categorical_problem(n=600, seed=0):
    """Three 4-level categorical variables one-hot encoded (12 columns) and 3 numeric ones.

    Only the first categorical variable ("a") matters; returns X, the column
    groups, a regression target and a binary target.
    """
    rng = np.random.RandomState(seed)
    levels = rng.randint(0, 4, size=(n, 3))
    onehot = np.concatenate([np.eye(4)[levels[:, k]] for k in range(3)], axis=1)
    X = np.hstack([onehot, rng.randn(n, 3)])
    groups = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 4 + ["d", "e", "f"])
    signal = np.array([0.0, 1.5, -1.5, 3.0])[levels[:, 0]]
    y = signal + 0.5 * rng.randn(n)
    return X, groups, y, (y > np.median(y)).astype(int)


GROUPED = [
    L0Regressor(**CPU),
    L0RegressorCV(alphas=8, cv=3, **CPU),
    L0MLPRegressor(**MLP),
    L0Classifier(**CPU),
    L0ClassifierCV(alphas=8, cv=3, **CPU),
    L0MLPClassifier(**MLP),
]


@pytest.mark.parametrize("estimator", GROUPED, ids=lambda e: type(e).__name__)
def test_groups_keep_a_categorical_variable_whole(estimator):
    X, groups, y, labels = categorical_problem()
    target = labels if estimator._y_numeric is False else y
    est = clone(estimator).set_params(groups=groups).fit(X, target)
    np.testing.assert_array_equal(est.groups_, ["a", "b", "c", "d", "e", "f"])
    # support_ is per column and the same on every column of a group
    column_group = np.unique(groups, return_inverse=True)[1]
    np.testing.assert_array_equal(est.support_, est.group_support_[column_group])
    assert est.group_support_[0], "the variable that matters must be kept (all 4 dummies)"
    assert est.support_[:4].all()


def test_without_groups_every_column_is_a_group():
    X, groups, y, _ = categorical_problem()
    plain = L0Regressor(**CPU).fit(X, y)
    np.testing.assert_array_equal(plain.groups_, np.arange(X.shape[1]))
    np.testing.assert_array_equal(plain.group_support_, plain.support_)


def test_criteria_price_groups_by_coefficients_and_search_by_groups():
    X, groups, y, _ = categorical_problem()
    n = X.shape[0]
    est = L0Regressor(alpha="ebic", groups=groups, **CPU).fit(X, y)
    # the price of one column at factor 1; the search term counts the 6 groups
    assert est.alpha_ == pytest.approx(criterion_price("ebic", n, 6))
    np.testing.assert_array_equal(est.group_support_, [True] + [False] * 5)
    bic = L0Regressor(alpha="bic", groups=groups, **CPU).fit(X, y)
    np.testing.assert_array_equal(bic.group_support_, [True] + [False] * 5)


def test_n_features_to_select_counts_groups():
    X, groups, y, _ = categorical_problem()
    est = L0Regressor(n_features_to_select=2, groups=groups, **CPU).fit(X, y)
    assert est.group_support_.sum() == 2 and est.group_support_[0]
    assert est.support_.sum() in (5, 8)  # "a" and a numeric column, or "a" and a categorical


def collinear_pair(n=400, seed=0):
    """Columns 0 and 1 nearly equal, carrying the same signal; 3 noise columns."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n)
    X = np.column_stack([x + 0.05 * rng.randn(n), x + 0.05 * rng.randn(n), rng.randn(n, 3)])
    return X, x + 0.3 * rng.randn(n)


@pytest.mark.parametrize("cheap", [0, 1])
def test_the_cheaper_of_two_collinear_features_is_kept(cheap):
    """Either feature alone lowers the MSE by about 0.9 of the variance: both can pay
    their price (0.3 and 0.6), but one is enough, and it is the cheaper one."""
    X, y = collinear_pair()
    factor = np.ones(5)
    factor[1 - cheap] = 2.0
    est = L0Regressor(alpha=0.3, penalty_factor=factor, **CPU).fit(X, y)
    expected = np.zeros(5, bool)
    expected[cheap] = True
    np.testing.assert_array_equal(est.support_, expected)


@pytest.mark.parametrize(
    "estimator",
    [
        L0Regressor(alpha=5.0, **CPU),
        L0RegressorCV(alphas=[5.0, 3.0], cv=3, **CPU),
        L0MLPRegressor(alpha=5.0, **MLP),
        L0Classifier(alpha=5.0, **CPU),
        L0MLPClassifier(alpha=5.0, **MLP),
    ],
    ids=lambda e: type(e).__name__,
)
def test_penalty_factor_zero_is_always_kept(estimator):
    X, groups, y, labels = categorical_problem()
    target = labels if estimator._y_numeric is False else y
    factor = np.ones(X.shape[1])
    factor[13] = 0.0  # a pure-noise column, never penalized
    est = clone(estimator).set_params(penalty_factor=factor).fit(X, target)
    expected = np.zeros(X.shape[1], bool)
    expected[13] = True
    np.testing.assert_array_equal(est.support_, expected)
    assert est.gate_open_proba_[13] == 1.0


def test_penalty_factor_per_group_and_per_column_agree():
    X, groups, y, _ = categorical_problem()
    per_group = [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]  # "b" always kept
    per_column = np.repeat(per_group, [4, 4, 4, 1, 1, 1])
    a = L0Regressor(alpha=0.05, groups=groups, penalty_factor=per_group, **CPU).fit(X, y)
    b = L0Regressor(alpha=0.05, groups=groups, penalty_factor=per_column, **CPU).fit(X, y)
    np.testing.assert_array_equal(a.group_support_, [True, True, False, False, False, False])
    np.testing.assert_allclose(a.coef_, b.coef_)


def test_count_includes_always_kept_features():
    X, groups, y, _ = categorical_problem()
    factor = np.ones(X.shape[1])
    factor[13] = 0.0
    est = L0Regressor(n_features_to_select=3, penalty_factor=factor, **CPU).fit(X, y)
    assert est.support_.sum() == 3 and est.support_[13]
    with pytest.raises(ValueError, match="penalty_factor=0 always keeps"):
        L0Regressor(n_features_to_select=1, penalty_factor=np.zeros(X.shape[1]), **CPU).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(groups=[0, 1]), "groups must give one label per column"),
        (dict(groups=np.zeros((15, 2))), "groups must give one label per column"),
        (dict(groups=[0.0] * 14 + [np.nan]), "NaN"),
        (dict(penalty_factor=[1.0, 2.0]), "penalty_factor must have length 15"),
        (dict(penalty_factor=[1.0] * 14 + [-1.0]), "non-negative"),
        (dict(penalty_factor=[1.0] * 14 + [np.inf]), "finite"),
        (
            dict(groups=np.repeat(np.arange(5), 3), penalty_factor=[1, 2, 1] + [1] * 12),
            "equal within each group",
        ),
        (dict(n_features_to_select=7, groups=np.repeat(np.arange(5), 3)), "number of groups"),
    ],
)
def test_bad_structure_is_a_clear_error(params, match):
    X, _, y, _ = categorical_problem(n=60)
    with pytest.raises(ValueError, match=match):
        L0Regressor(max_iter=5, **CPU).set_params(**params).fit(X, y)


def test_structure_survives_clone_gridsearch_pickle_and_partial_fit():
    X, groups, y, _ = categorical_problem()
    factor = np.ones(6)
    factor[4] = 0.0  # group "e" (a noise column) always kept
    est = L0Regressor(groups=groups, penalty_factor=factor, **CPU)
    cloned = clone(est)
    np.testing.assert_array_equal(cloned.groups, groups)
    np.testing.assert_array_equal(cloned.penalty_factor, factor)

    search = GridSearchCV(est, {"alpha": [0.01, 0.05]}, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        search.best_estimator_.group_support_, [True, False, False, False, True, False]
    )

    fitted = clone(est).fit(X, y)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.group_support_, fitted.group_support_)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))

    streamed = clone(est).set_params(learning_rate=0.1)
    for _ in range(60):
        for rows in np.array_split(np.arange(len(y)), 3):
            streamed.partial_fit(X[rows], y[rows])
    np.testing.assert_array_equal(streamed.group_support_, [True, False, False, False, True, False])
    np.testing.assert_array_equal(streamed.support_[:4], [True] * 4)


def test_groups_on_sparse_input():
    import scipy.sparse as sp

    X, groups, y, _ = categorical_problem()
    dense = L0Regressor(groups=groups, **CPU).fit(X, y)
    sparse = L0Regressor(groups=groups, **CPU).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(sparse.group_support_, dense.group_support_)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-4)


@pytest.mark.parametrize(
    "estimator",
    [
        L0Classifier(**CPU),
        L0ClassifierCV(alphas=4, cv=3, **CPU),
        L0MLPClassifier(**MLP, batch_size=1000),
    ],
    ids=lambda e: type(e).__name__,
)
def test_balanced_class_weight_is_the_equivalent_sample_weight(estimator):
    X, _, _, labels = categorical_problem()
    imbalanced = np.flatnonzero(labels == 0)[:50]
    rows = np.concatenate([imbalanced, np.flatnonzero(labels == 1)])
    X, labels = X[rows], labels[rows]
    weighted = clone(estimator).set_params(class_weight="balanced").fit(X, labels)
    weights = compute_sample_weight("balanced", labels)
    by_hand = clone(estimator).fit(X, labels, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_proba(X), by_hand.predict_proba(X), atol=1e-6)
    plain = clone(estimator).fit(X, labels)
    # weighing the rare class up raises its predicted probability
    rare = lambda model: model.predict_proba(X)[:, 0].mean()  # noqa: E731
    assert rare(weighted) > rare(plain) + 0.01


def test_class_weight_dict_and_partial_fit():
    X, _, _, labels = categorical_problem()
    est = L0Classifier(class_weight={0: 3.0}, **CPU)
    by_hand = L0Classifier(**CPU).fit(X, labels, sample_weight=np.where(labels == 0, 3.0, 1.0))
    np.testing.assert_allclose(est.fit(X, labels).coef_, by_hand.coef_, atol=1e-6)
    est.partial_fit(X, labels, classes=[0, 1])  # a dict is fine
    with pytest.raises(ValueError, match="balanced.*partial_fit"):
        L0Classifier(class_weight="balanced", **CPU).partial_fit(X, labels, classes=[0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        L0Classifier(class_weight={0: -1.0}, **CPU).fit(X, labels)


def penguin_like(n=300, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
            "sex_at_birth": rng.choice(["f", "m"], n),
            "bill_length": rng.randn(n),
            "bill": rng.randn(n),
        }
    )
    y = (frame["island"] == "Dream") * 2.0 + frame["bill_length"] + 0.3 * rng.randn(n)
    return frame, y.to_numpy()


def test_feature_groups_of_a_column_transformer():
    frame, _ = penguin_like()
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(), ["island", "sex_at_birth"]),
            ("num", StandardScaler(), ["bill_length", "bill"]),
        ]
    ).fit(frame)
    np.testing.assert_array_equal(
        feature_groups(pre),
        ["island"] * 3 + ["sex_at_birth"] * 2 + ["bill_length", "bill"],
    )
    # names only: input features are required; an output matching no input is its own group
    names = ["island_Dream", "x0 x1", "bill", "island_Dream bill", "island_New York"]
    np.testing.assert_array_equal(
        feature_groups(names, input_features=["island", "bill"]),
        ["island", "x0 x1", "bill", "island_Dream bill", "island"],
    )
    with pytest.raises(ValueError, match="input_features"):
        feature_groups(names)


def test_groups_in_a_pipeline_with_a_callable():
    """Groups from the names the estimator sees, so each CV fold's own encoding works."""
    frame, y = penguin_like()
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(sparse_output=False), ["island", "sex_at_birth"])],
        remainder="passthrough",
    ).set_output(transform="pandas")
    groups = partial(feature_groups, input_features=list(frame.columns))
    model = make_pipeline(pre, L0Regressor(groups=groups, **CPU)).fit(frame, y)
    reg = model[-1]
    np.testing.assert_array_equal(reg.groups_, ["bill", "bill_length", "island", "sex_at_birth"])
    np.testing.assert_array_equal(reg.group_support_, [False, True, True, False])
    assert reg.support_[:3].all() and not reg.support_[3:5].any()
