"""L0MLPClassifierCV and L0MLPRegressorCV: one price path per fold, the price chosen on them."""

import pickle
from itertools import pairwise

import numpy as np
import pytest
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l0 import L0MLPClassifier, L0MLPClassifierCV, L0MLPRegressorCV


def _interactions(n=800, p=12, seed=0):
    """y = 1[x0 x1 + x2 x3 > 0]: no feature has a marginal effect."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, (X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)


@pytest.fixture(scope="module")
def fitted():
    X, y = _interactions()
    cv = L0MLPClassifierCV((16,), alphas=6, cv=3, random_state=0, device="cpu")
    return cv.fit(X, y), X, y


def test_cv_chooses_a_price_on_the_folds_and_keeps_the_true_features(fitted):
    cv, X, y = fitted
    assert cv.alphas_.shape == (6,) and np.all(np.diff(cv.alphas_) < 0)
    share = np.bincount(y) / y.size  # the most any feature can be worth: the classes' entropy
    assert cv.alphas_[0] == pytest.approx(-(share * np.log(share)).sum())
    assert cv.score_path_.shape == (6, 3) and cv.support_path_.shape == (6, 12)
    best = int(np.argmax(cv.score_path_.mean(axis=1)))
    assert cv.alpha_ == cv.alphas_[best]
    np.testing.assert_array_equal(np.flatnonzero(cv.support_), [0, 1, 2, 3])
    np.testing.assert_array_equal(cv.support_, cv.support_path_[best])
    assert cv.score(*_interactions(seed=1)) > 0.9
    assert not hasattr(cv, "partial_fit") and "alpha" not in cv.get_params()


def test_the_supports_along_the_path_shrink_as_the_price_rises(fitted):
    cv, X, y = fitted
    sizes = cv.support_path_.sum(axis=1)  # largest alpha first
    assert all(a <= b for a, b in pairwise(sizes))
    assert sizes[0] <= 4 and sizes[-1] >= 4
    assert all(np.all(a <= b) for a, b in pairwise(cv.support_path_))
    path_sizes = cv.path_supports_.sum(axis=1)  # every support along the all-rows path
    assert path_sizes[0] == 12 and all(b <= a for a, b in pairwise(path_sizes))
    assert all(b >= a for a, b in pairwise(cv.path_alphas_))


def test_feature_importances_rank_the_true_features_first(fitted):
    cv, X, y = fitted
    assert set(np.argsort(-cv.feature_importances_)[:4]) == {0, 1, 2, 3}
    assert cv.feature_importances_[:4].min() > cv.alpha_ >= cv.feature_importances_[4:].max()
    plain = L0MLPClassifier((16,), alpha=0.01, random_state=0, device="cpu").fit(X, y)
    assert plain.support_.sum() > 4  # a low price keeps noise columns too ...
    assert set(np.argsort(-plain.feature_importances_)[:4]) == {0, 1, 2, 3}  # ... ranked last
    top4 = SelectFromModel(plain, prefit=True, max_features=4, threshold=-np.inf)
    np.testing.assert_array_equal(top4.get_support(indices=True), [0, 1, 2, 3])


def test_one_standard_error_chooses_a_price_at_least_as_high(fitted):
    cv, X, y = fitted
    sparse = L0MLPClassifierCV(
        (16,), alphas=cv.alphas_, cv=3, selection="one_se", random_state=0, device="cpu"
    ).fit(X, y)
    np.testing.assert_array_equal(sparse.score_path_, cv.score_path_)  # the same paths
    assert sparse.alpha_ >= cv.alpha_ and sparse.support_.sum() <= cv.support_.sum()


def test_regressor_cv_in_a_pipeline_pickles_and_predicts_the_same():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 6)) * [1, 1, 1, 1, 10, 100]
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.randn(400)
    pipe = make_pipeline(
        StandardScaler(), L0MLPRegressorCV((16,), alphas=4, cv=KFold(3), random_state=0)
    )
    pipe.fit(X, y)
    reg = pipe[-1]
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [0, 1])
    assert pipe.score(X, y) > 0.8
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


@pytest.mark.parametrize(
    "params, error, message",
    [
        (dict(alphas=[0.1, -0.1]), ValueError, "alphas must be finite non-negative"),
        (dict(alphas=[]), ValueError, "alphas must be finite non-negative"),
        (dict(alphas=[np.nan]), ValueError, "alphas must be finite non-negative"),
        (dict(alphas=0), InvalidParameterError, "'alphas' parameter"),
        (dict(cv="five"), InvalidParameterError, "'cv' parameter"),
        (dict(cv=1), InvalidParameterError, "'cv' parameter"),
        (dict(selection="median"), InvalidParameterError, "'selection' parameter"),
        (dict(eps=2.0), InvalidParameterError, "'eps' parameter"),
    ],
)
def test_bad_grid_or_folds_are_refused_before_training(params, error, message):
    X, y = _interactions(n=60, p=4)
    est = L0MLPClassifierCV((4,), max_iter=3, device="cpu", **params)
    with pytest.raises(error, match=message):
        est.fit(X, y)
    assert not hasattr(est, "alpha_")
