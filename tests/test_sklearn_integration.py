"""The estimators inside scikit-learn's tools: pipelines, searches, selection, cloning."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from _estimators import CHECKED
from sklearn import config_context
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_l0 import L0Classifier, L0Regressor, L0RegressorCV, L0Selector
from sklearn_l0.datasets import make_sparse_classification, make_sparse_regression
from sklearn_l0.utils import DOCS_URL


@pytest.fixture(scope="module")
def regression_data():
    X, y, coef = make_sparse_regression(300, 60, n_informative=5, random_state=0)
    return X, y, coef != 0


def test_grid_search_over_alpha_in_pipeline_with_two_jobs(regression_data):
    X, y, truth = regression_data
    pipe = make_pipeline(StandardScaler(), L0Regressor(random_state=0, device="cpu"))
    grid = {"l0regressor__alpha": [0.001, 0.01, 0.1, 10.0]}
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    assert search.best_params_["l0regressor__alpha"] in (0.001, 0.01, 0.1)
    scores = search.cv_results_["mean_test_score"]
    assert scores[-1] < 0.1 < scores[1]  # alpha=10 prunes everything: R2 about 0
    np.testing.assert_array_equal(search.best_estimator_[-1].support_, truth)


def test_cross_val_score(regression_data):
    X, y, _ = regression_data
    scores = cross_val_score(L0Regressor(random_state=0), X, y, cv=4)
    assert scores.shape == (4,) and scores.min() > 0.7


def test_classifier_cross_val_score_accuracy():
    X, y, _ = make_sparse_classification(400, 40, n_informative=4, random_state=0)
    scores = cross_val_score(L0Classifier(random_state=0), X, y, cv=3)
    assert scores.min() > 0.75


def test_clone_keeps_params_and_drops_fit(regression_data):
    X, y, _ = regression_data
    est = L0Regressor(alpha=0.05, learning_rate=0.1, random_state=3).fit(X, y)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "coef_")


def test_pickled_pipeline_predicts_identically(regression_data):
    X, y, _ = regression_data
    pipe = make_pipeline(StandardScaler(), L0Regressor(random_state=0)).fit(X, y)
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_l0_selector_keeps_exactly_the_support(regression_data):
    X, y, truth = regression_data
    pipe = make_pipeline(L0Selector(L0Regressor(random_state=0)), LinearRegression()).fit(X, y)
    selector = pipe[0]
    np.testing.assert_array_equal(selector.get_support(), selector.estimator_.support_)
    np.testing.assert_array_equal(selector.get_support(), truth)
    assert selector.transform(X).shape == (300, truth.sum())
    np.testing.assert_array_equal(selector.transform(X), X[:, truth])
    assert pipe.score(X, y) > 0.8


def test_l0_selector_feature_names_and_clone(regression_data):
    pd = pytest.importorskip("pandas")
    X, y, truth = regression_data
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    selector = L0Selector(L0Regressor(random_state=0)).set_output(transform="pandas").fit(df, y)
    out = selector.transform(df)
    assert list(out.columns) == [f"x{i}" for i in np.flatnonzero(truth)]
    assert list(selector.get_feature_names_out()) == list(out.columns)
    assert (
        clone(selector).get_params()["estimator"].get_params()
        == L0Regressor(random_state=0).get_params()
    )


def test_select_from_model_with_support_importance(regression_data):
    # The same selection with plain SelectFromModel, reading support_ as the importance.
    X, y, truth = regression_data
    sfm = SelectFromModel(L0Regressor(random_state=0), importance_getter="support_", threshold=0.5)
    pipe = make_pipeline(sfm, RandomForestRegressor(n_estimators=20, random_state=0)).fit(X, y)
    np.testing.assert_array_equal(pipe[0].get_support(), truth)


@pytest.mark.parametrize(
    "est, grid",
    [
        (L0Regressor(random_state=0, device="cpu"), {"alpha": [0.01, 0.05]}),
        (L0RegressorCV(alphas=4, random_state=0, device="cpu"), {"cv": [2, 3]}),
    ],
    ids=["L0Regressor", "L0RegressorCV"],
)
def test_sample_weight_is_routed_through_pipeline_and_grid_search(regression_data, est, grid):
    """With metadata routing on, ``set_fit_request`` sends the weights to the L0 step."""
    X, y, _ = regression_data
    w = np.random.RandomState(0).uniform(0.1, 3.0, size=len(y))
    with config_context(enable_metadata_routing=True):
        step = clone(est).set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), step)
        name = pipe.steps[-1][0]
        search = GridSearchCV(pipe, {f"{name}__{k}": v for k, v in grid.items()}, cv=3)
        search.fit(X, y, sample_weight=w)
    fitted = search.best_estimator_[-1]
    Xs = StandardScaler().fit_transform(X)
    weighted = clone(fitted).fit(Xs, y, sample_weight=w)
    unweighted = clone(fitted).fit(Xs, y)
    np.testing.assert_allclose(fitted.coef_, weighted.coef_, rtol=1e-6, atol=1e-9)
    assert not np.allclose(fitted.coef_, unweighted.coef_)


@pytest.mark.parametrize("est", CHECKED, ids=lambda e: type(e).__name__)
def test_html_repr_links_to_the_estimators_page_of_the_api_reference(est):
    name = type(est).__name__
    page = f"generated/sklearn_l0.{name}.html"  # what Sphinx writes for docs/api.rst
    assert est._get_doc_link() == DOCS_URL + page
    assert f'href="{DOCS_URL + page}"' in estimator_html_repr(est)
    api = (Path(__file__).parents[1] / "docs" / "api.rst").read_text()
    assert f"   {name}\n" in api.split(".. currentmodule:: sklearn_l0.datasets")[0]
