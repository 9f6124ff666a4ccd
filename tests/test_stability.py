"""StabilitySelection: the bounds, the subsamples, the batched fits, the API and the errors."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l0 import (
    L0MLPClassifier,
    L0Regressor,
    L0RegressorCV,
    StabilitySelection,
)
from sklearn_l0.datasets import make_sparse_classification, make_sparse_regression
from sklearn_l0.stability import pfer_bound, plot_stability_path, subsample_rows

FAST = dict(device="cpu", max_iter=300, random_state=0)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Models at the smallest prices may stop at max_iter; not what these tests are about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def regression():
    X, y, coef = make_sparse_regression(200, 40, n_informative=3, random_state=0)
    return X, y, coef != 0


@pytest.mark.parametrize(
    "q, p, threshold, n_pairs, expected",
    [
        (10, 1000, 0.75, None, 100 / (0.5 * 1000)),  # Meinshausen & Buhlmann: q^2/((2pi-1)p)
        (10, 1000, 0.9, None, 100 / (0.8 * 1000)),
        (10, 1000, 0.9, 25, 100 * 4 * (0.1 + 0.02) / (1000 * 1.04)),  # unimodal, pi > 3/4
        (10, 1000, 0.7, 25, 100 / (1000 * 2 * (0.4 - 0.02))),  # unimodal, pi <= 3/4
        (10, 1000, 1.0, 25, 2 * 100 / (1000 * 26)),  # pi = 1: 2 q^2 / (p (B + 1))
        (10, 1000, 0.5, 25, np.inf),
        (10, 1000, 0.4, None, np.inf),
    ],
)
def test_pfer_bound_against_hand_computed_values(q, p, threshold, n_pairs, expected):
    assert pfer_bound(q, p, threshold, n_pairs) == pytest.approx(expected, rel=1e-12)


def test_unimodal_bound_falls_back_to_the_worst_case_outside_its_range():
    # theta = q/p = 0.5: the unimodal bound needs pi > 0.5 + min(0.25, 0.02 + 0.1875)
    assert pfer_bound(50, 100, 0.7, 25) == pytest.approx(2500 / (0.4 * 100))
    assert pfer_bound(50, 100, 0.72, 25) < pfer_bound(50, 100, 0.72)


def test_complementary_pairs_are_disjoint_halves():
    rng = np.random.default_rng(0)
    rows = subsample_rows(101, 10, 0.5, True, rng)
    assert rows.shape == (101, 10)
    np.testing.assert_array_equal(rows.sum(axis=0), 50)
    for b in range(5):
        assert not np.any(rows[:, 2 * b] & rows[:, 2 * b + 1])
    assert len({r.tobytes() for r in rows.T}) == 10  # fresh draws, not one split repeated


def test_stratified_subsamples_halve_every_class():
    strata = np.repeat([0, 1, 2], [10, 30, 61])
    rows = subsample_rows(101, 6, 0.5, True, np.random.default_rng(1), strata)
    for label, size in [(0, 5), (1, 15), (2, 30)]:
        np.testing.assert_array_equal(rows[strata == label].sum(axis=0), size)
    plain = subsample_rows(101, 3, 0.3, False, np.random.default_rng(1))
    np.testing.assert_array_equal(plain.sum(axis=0), 30)


def test_batched_frequencies_equal_separate_fits(regression):
    """Every (alpha, subsample) model of the batch is the plain fit on that subsample."""
    X, y, _ = regression
    X, y = X[:80, :12], y[:80]
    plain = L0Regressor(refit=False, **FAST)
    selection = StabilitySelection(plain, alphas=4, n_resamples=4, threshold=0.6, random_state=7)
    selection.fit(X, y)
    rows = subsample_rows(80, 4, 0.5, True, np.random.default_rng(7))
    for alpha, scores in zip(selection.alphas_, selection.stability_scores_, strict=True):
        fits = [clone(plain).set_params(alpha=alpha).fit(X[r], y[r]) for r in rows.T]
        np.testing.assert_array_equal(scores, np.mean([f.support_ for f in fits], axis=0))


def test_recovers_the_support_within_the_bound(regression):
    X, y, true = regression
    selection = StabilitySelection(L0Regressor(**FAST), alphas=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(selection.support_, true)
    assert selection.pfer_bound_ <= 1
    assert 0.5 < selection.threshold_ <= 0.9
    assert selection.stability_scores_.shape == (10, 40)
    assert selection.stability_scores_[0].max() <= 0.05  # the top price closes (nearly) all
    used = selection.stability_scores_[: selection.n_alphas_used_]
    assert np.all(selection.max_stability_ >= used.max(axis=0))  # union over the prices used
    np.testing.assert_array_equal(
        selection.max_stability_, selection.union_scores_[selection.n_alphas_used_ - 1]
    )
    # the bound at the chosen threshold and q
    assert selection.pfer_bound_ == pytest.approx(
        pfer_bound(selection.q_, 40, selection.threshold_, 25)
    )


def test_a_smaller_pfer_uses_fewer_prices_or_a_higher_threshold(regression):
    X, y, _ = regression
    loose = StabilitySelection(L0Regressor(**FAST), alphas=10, pfer=2, random_state=0).fit(X, y)
    tight = clone(loose).set_params(pfer=0.2).fit(X, y)
    assert tight.pfer_bound_ <= 0.2 < loose.pfer_bound_ <= 2
    assert (tight.n_alphas_used_, -tight.threshold_) <= (loose.n_alphas_used_, -loose.threshold_)
    assert not np.any(tight.support_ & ~loose.support_)


def test_given_threshold_uses_every_price_and_reports_its_bound(regression):
    X, y, _ = regression
    selection = StabilitySelection(
        L0Regressor(**FAST), alphas=6, threshold=0.8, random_state=0
    ).fit(X, y)
    assert selection.n_alphas_used_ == 6 and selection.threshold_ == 0.8
    np.testing.assert_array_equal(selection.support_, selection.union_scores_[-1] >= 0.8)
    half = clone(selection).set_params(sample_fraction=0.3, complementary_pairs=False)
    assert np.isnan(half.fit(X, y).pfer_bound_)


def test_default_estimator_follows_the_target():
    X, y, coef = make_sparse_classification(300, 20, n_informative=3, random_state=0)
    selection = StabilitySelection(alphas=6, n_resamples=10, random_state=0).fit(X, y)
    assert type(selection.estimator_).__name__ == "L0ClassifierCV"
    assert selection.support_[coef.ravel() != 0].all()


def test_cv_estimator_settings_and_alphas_are_used(regression):
    X, y, _ = regression
    given = L0RegressorCV(alphas=[0.5, 0.05, 0.005], **FAST)
    selection = StabilitySelection(given, n_resamples=4, threshold=0.6).fit(X, y)
    np.testing.assert_array_equal(selection.alphas_, [0.5, 0.05, 0.005])
    assert selection.estimator_.max_iter == 300


def test_networks_walk_one_price_path_per_subsample():
    X, y, coef = make_sparse_classification(240, 8, n_informative=2, random_state=1)
    net = L0MLPClassifier(hidden_layer_sizes=(8,), **FAST)
    selection = StabilitySelection(net, alphas=4, n_resamples=4, threshold=0.75).fit(X, y)
    assert selection.stability_scores_.shape == (4, 8)
    sizes = selection.stability_scores_.sum(axis=1)
    assert np.all(np.diff(sizes) >= 0)  # largest price first: fewer features
    assert selection.support_[coef.ravel() != 0].all()
    counted = (
        clone(selection)
        .set_params(estimator=net.set_params(n_features_to_select=2), n_jobs=2)
        .fit(X, y)
    )
    assert np.isnan(counted.alphas_).all() and counted.stability_scores_.shape == (1, 8)
    np.testing.assert_allclose(counted.stability_scores_.sum(), 2)


def test_a_foreign_estimator_runs_the_same_procedure(regression):
    X, y, true = regression
    grid = np.geomspace(1.0, 0.01, 8)
    lasso = StabilitySelection(Lasso(), alphas=grid, n_resamples=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(lasso.alphas_, grid)
    assert lasso.stability_scores_.shape == (8, 40) and lasso.pfer_bound_ <= 1
    assert lasso.support_[true].all()
    rows = subsample_rows(200, 10, 0.5, True, np.random.default_rng(0))
    fresh = [Lasso(alpha=grid[3]).fit(X[r], y[r]).coef_ != 0 for r in rows.T]  # no warm start
    np.testing.assert_allclose(lasso.stability_scores_[3], np.mean(fresh, axis=0), atol=0.1)


def test_pipeline_clone_pickle_and_pandas_output(regression):
    pd = pytest.importorskip("pandas")
    X, y, true = regression
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    selection = StabilitySelection(L0Regressor(**FAST), alphas=6, n_resamples=10, random_state=0)
    selection.set_output(transform="pandas")
    pipe = make_pipeline(clone(selection), LinearRegression()).fit(frame, y)
    assert pipe.score(frame, y) > 0.75  # snr 5: at most 5/6
    fitted = pipe[0]
    out = fitted.transform(frame)
    assert list(out.columns) == [f"x{j}" for j in np.flatnonzero(fitted.support_)]
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.get_support(), fitted.get_support())
    pd.testing.assert_frame_equal(loaded.transform(frame), out)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(sample_fraction=0.0), InvalidParameterError, "sample_fraction"),
        (dict(sample_fraction=1.0), InvalidParameterError, "sample_fraction"),
        (dict(n_resamples=5), ValueError, "must be even"),
        (dict(sample_fraction=0.7), ValueError, "at most 0.5"),
        (dict(sample_fraction=0.3), ValueError, "give a threshold and no pfer"),
        (dict(threshold=1.5), InvalidParameterError, "threshold"),
        (dict(pfer=0.0), InvalidParameterError, "pfer"),
        (dict(estimator=LinearRegression()), TypeError, "must be an sklearn-l0 estimator"),
        (dict(estimator=Lasso()), ValueError, r"give its grid as alphas=\[...\]"),
        (dict(alphas=[1e-4], pfer=1e-3), ValueError, "pfer=0.001 cannot be met"),
        (dict(alphas=[1e-4], threshold=0.9, pfer=1e-3), ValueError, "threshold=0.9"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(regression, params, error, match):
    X, y, _ = regression
    base = dict(estimator=L0Regressor(**FAST), n_resamples=4, random_state=0)
    with pytest.raises(error, match=match):
        StabilitySelection(**{**base, **params}).fit(X, y)


def test_plot_stability_path(regression):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y, true = regression
    selection = StabilitySelection(
        L0Regressor(**FAST), alphas=5, n_resamples=4, random_state=0
    ).fit(X, y)
    ax = plot_stability_path(selection, true_features=np.flatnonzero(true))
    assert len(ax.lines) == 40 + 1  # one per feature, and the threshold
    assert ax.get_xscale() == "log"
    first_grey = np.flatnonzero(~true)[0]  # grey lines first, in column order
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), selection.union_scores_[:, first_grey])
    per_price = plot_stability_path(selection, scores="price")
    np.testing.assert_array_equal(per_price.lines[0].get_ydata(), selection.stability_scores_[:, 0])
    with pytest.raises(ValueError, match="scores must be"):
        plot_stability_path(selection, scores="max")
