"""L0Regressor and L0Classifier: selection quality, attributes, options."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l0 import AllFeaturesPrunedWarning, L0Classifier, L0Regressor
from sklearn_l0.data import column_stats
from sklearn_l0.datasets import make_sparse_classification, make_sparse_regression, support_f1

SEEDS = range(5)


def _split(X, y, n_train):
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


# ----------------------------------------------------------------------------- acceptance tasks


def test_regression_recovers_support_exactly_and_matches_oracle_r2():
    exact, r2_gaps = 0, []
    for seed in SEEDS:
        X, y, coef = make_sparse_regression(1500, 1000, rho=0.0, random_state=seed)
        X, X_test, y, y_test = _split(X, y, 500)
        truth = coef != 0
        reg = L0Regressor(alpha=0.02, random_state=seed, device="cpu").fit(X, y)
        exact += np.array_equal(reg.support_, truth)
        oracle = LinearRegression().fit(X[:, truth], y)
        oracle_r2 = r2_score(y_test, oracle.predict(X_test[:, truth]))
        r2_gaps.append(oracle_r2 - r2_score(y_test, reg.predict(X_test)))
    assert exact >= 4, f"exact support on only {exact}/5 seeds"
    assert sorted(r2_gaps)[3] <= 0.02, f"R2 gaps to least squares on the true support: {r2_gaps}"


def test_regression_correlated_features_f1():
    f1s = []
    for seed in SEEDS:
        X, y, coef = make_sparse_regression(500, 1000, rho=0.5, random_state=seed)
        reg = L0Regressor(alpha=0.02, random_state=seed, device="cpu").fit(X, y)
        f1s.append(support_f1(reg.support_, coef != 0))
    assert sum(f >= 0.9 for f in f1s) >= 4, f1s


def test_logistic_regression_f1():
    f1s = []
    for seed in SEEDS:
        X, y, coef = make_sparse_classification(1000, 500, random_state=seed)
        clf = L0Classifier(alpha=0.02, random_state=seed, device="cpu").fit(X, y)
        f1s.append(support_f1(clf.support_, coef[0] != 0))
        assert clf.coef_.shape == (1, 500) and clf.intercept_.shape == (1,)
    assert sum(f >= 0.9 for f in f1s) >= 4, f1s


def test_multiclass_has_shared_zero_columns():
    X, y, coef = make_sparse_classification(1000, 500, n_classes=3, random_state=0)
    clf = L0Classifier(alpha=0.02, random_state=0, device="cpu").fit(X, y)
    assert clf.coef_.shape == (3, 500) and clf.intercept_.shape == (3,)
    zero_cols = np.all(clf.coef_ == 0, axis=0)
    np.testing.assert_array_equal(zero_cols, ~clf.support_)
    assert np.all(np.any(clf.coef_[:, clf.support_] != 0, axis=0))
    assert support_f1(clf.support_, np.any(coef != 0, axis=0)) >= 0.9
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_alpha_zero_keeps_every_feature():
    X, y, _ = make_sparse_regression(200, 30, random_state=0)
    reg = L0Regressor(alpha=0.0, random_state=0).fit(X, y)
    assert reg.support_.all()


@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
def test_huge_alpha_prunes_everything_and_predicts_intercept(Est):
    X, y, _ = make_sparse_classification(300, 20, random_state=0)
    with pytest.warns(AllFeaturesPrunedWarning, match="pruned every feature"):
        est = Est(alpha=100.0, random_state=0).fit(X, y)
    assert not est.support_.any() and np.all(est.coef_ == 0)
    if Est is L0Regressor:
        np.testing.assert_allclose(est.predict(X), y.mean(), rtol=1e-6)
    else:  # constant prediction: class frequencies
        np.testing.assert_allclose(est.predict_proba(X)[:, 1], y.mean(), rtol=1e-5)


# ----------------------------------------------------------------------------- attributes


def test_multioutput_regression_shares_gates():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 30)
    Y = np.column_stack([X[:, 0] - 2 * X[:, 3], 3 * X[:, 3] + X[:, 7]]) + 0.1 * rng.randn(400, 2)
    reg = L0Regressor(alpha=0.02, random_state=0).fit(X, Y)
    assert reg.coef_.shape == (2, 30) and reg.intercept_.shape == (2,)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [0, 3, 7])
    np.testing.assert_array_equal(np.all(reg.coef_ == 0, axis=0), ~reg.support_)
    assert reg.predict(X).shape == (400, 2)
    np.testing.assert_allclose(reg.coef_[:, [0, 3, 7]], [[1, -2, 0], [0, 3, 1]], atol=0.05)


def test_coef_in_user_units_and_scale_invariance():
    X, y, coef = make_sparse_regression(400, 50, random_state=1)
    scales = np.logspace(-3, 3, 50)
    a = L0Regressor(alpha=0.02, random_state=0).fit(X, y)
    b = L0Regressor(alpha=0.02, random_state=0).fit(X * scales + 100.0, 1000 * y - 5)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(b.coef_ * scales / 1000, a.coef_, atol=1e-4)
    np.testing.assert_allclose(a.coef_[coef != 0], coef[coef != 0], atol=0.2)
    np.testing.assert_allclose(b.predict(X * scales + 100.0), 1000 * a.predict(X) - 5, rtol=1e-4)


def test_refit_matches_least_squares_on_support():
    X, y, _ = make_sparse_regression(300, 40, random_state=2)
    reg = L0Regressor(alpha=0.02, weight_decay=0.0, random_state=0).fit(X, y)
    ols = LinearRegression().fit(X[:, reg.support_], y)
    np.testing.assert_allclose(reg.coef_[reg.support_], ols.coef_, rtol=1e-6, atol=1e-8)
    assert reg.intercept_ == pytest.approx(ols.intercept_, abs=1e-6)
    unrefit = L0Regressor(alpha=0.02, weight_decay=0.0, refit=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(unrefit.support_, reg.support_)
    assert not np.allclose(unrefit.coef_, reg.coef_)  # the gated coefficients, not least squares


def test_gate_open_proba_ranks_selected_features_first():
    X, y, _ = make_sparse_regression(300, 40, random_state=3)
    reg = L0Regressor(alpha=0.02, random_state=0).fit(X, y)
    p = reg.gate_open_proba_
    assert p.shape == (40,) and np.all((p >= 0) & (p <= 1))
    assert p[reg.support_].min() > p[~reg.support_].max()


def test_fit_intercept_false():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 10) + 3.0
    y = 2 * X[:, 1] - X[:, 4]
    reg = L0Regressor(fit_intercept=False, weight_decay=0.0, random_state=0).fit(X, y)
    assert reg.intercept_ == 0.0
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [1, 4])
    np.testing.assert_allclose(reg.coef_[[1, 4]], [2, -1], atol=1e-3)


def test_string_labels_and_probabilities():
    X, y, _ = make_sparse_classification(500, 20, random_state=4)
    labels = np.array(["cat", "dog"])[y]
    clf = L0Classifier(random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog"])
    assert set(clf.predict(X)) <= {"cat", "dog"}
    d = clf.decision_function(X)
    assert d.shape == (500,)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-d)))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    assert clf.score(X, labels) > 0.8


def test_history_attributes():
    X, y, _ = make_sparse_regression(200, 20, random_state=0)
    reg = L0Regressor(random_state=0).fit(X, y)
    assert 1 <= reg.n_iter_ < reg.max_iter
    assert reg.loss_curve_.shape == (reg.n_iter_,) and np.all(np.isfinite(reg.loss_curve_))
    assert reg.loss_curve_[-10:].mean() < reg.loss_curve_[:10].mean()
    assert reg.n_gates_open_curve_.shape == (reg.n_iter_,)
    assert reg.n_gates_open_curve_[-1] == reg.support_.sum()


def test_convergence_warning_at_max_iter():
    X, y, _ = make_sparse_regression(200, 20, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        reg = L0Regressor(max_iter=5, random_state=0).fit(X, y)
    assert reg.n_iter_ == 5


# ----------------------------------------------------------------------------- inputs


def test_sparse_and_dense_give_same_model():
    X, y, coef = make_sparse_regression(400, 60, random_state=5)
    X[np.abs(X) < 1.0] = 0.0  # about 68% zeros
    y = X @ coef + 0.1 * np.random.RandomState(0).randn(400)
    dense = L0Regressor(random_state=0).fit(X, y)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        sparse = L0Regressor(random_state=0).fit(fmt(X), y)
        np.testing.assert_array_equal(sparse.support_, dense.support_)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(sparse.predict(fmt(X)), dense.predict(X), rtol=1e-5, atol=1e-6)


def test_sparse_input_is_not_densified(monkeypatch):
    X = sp.random(1000, 2000, density=0.05, format="csr", random_state=0)
    y = np.asarray(X[:, :3].sum(axis=1)).ravel()

    toarray = sp.csr_matrix.toarray

    def no_toarray(self, *args, **kwargs):  # the local search densifies its support's columns
        if self.shape[1] > 50:
            raise AssertionError("sparse X was densified")
        return toarray(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", no_toarray)
    monkeypatch.setattr(sp.coo_matrix, "toarray", no_toarray)
    reg = L0Regressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [0, 1, 2])


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _ = make_sparse_regression(200, 5, n_informative=2, random_state=0)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    reg = L0Regressor(random_state=0).fit(df, pd.Series(y))
    np.testing.assert_array_equal(reg.feature_names_in_, df.columns)
    assert isinstance(reg.coef_, np.ndarray) and isinstance(reg.predict(df), np.ndarray)


def test_callers_arrays_are_not_modified():
    X, y, _ = make_sparse_regression(200, 10, random_state=0)
    X = np.ascontiguousarray(X, dtype=np.float32)  # the dtype the library trains in
    y = y.astype(np.float32)
    w = np.ones(200)
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    reg = L0Regressor(random_state=0).fit(X, y, sample_weight=w)
    reg.predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, w0)


def test_sample_weight_equals_repetition_for_classifier():
    X, y, _ = make_sparse_classification(60, 8, n_informative=3, random_state=0)
    sw = np.random.RandomState(0).randint(0, 4, size=60)
    weighted = L0Classifier(random_state=0).fit(X, y, sample_weight=sw)
    repeated = L0Classifier(random_state=0).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_array_equal(weighted.support_, repeated.support_)
    np.testing.assert_allclose(
        weighted.decision_function(X), repeated.decision_function(X), rtol=1e-5, atol=1e-6
    )


def test_zero_sample_weights_are_rejected():
    X, y, _ = make_sparse_regression(50, 5, n_informative=2, random_state=0)
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        L0Regressor().fit(X, y, sample_weight=np.zeros(50))


# ----------------------------------------------------------------------------- reproducibility


def test_same_seed_identical_coef_and_global_rng_untouched():
    X, y, _ = make_sparse_regression(300, 100, random_state=0)
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    a = L0Regressor(random_state=7, refit=False).fit(X, y)
    b = L0Regressor(random_state=7, refit=False).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    L0Regressor(random_state=None).fit(X, y)
    L0Regressor(random_state=np.random.RandomState(3)).fit(X, y)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_different_seeds_give_different_training_paths():
    X, y, _ = make_sparse_regression(300, 100, random_state=0)
    a = L0Regressor(random_state=1, refit=False).fit(X, y)
    b = L0Regressor(random_state=2, refit=False).fit(X, y)
    assert not np.array_equal(a.coef_, b.coef_)


def test_torch_settings_untouched():
    X, y, _ = make_sparse_regression(100, 10, random_state=0)
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    L0Regressor(random_state=0).fit(X, y)
    assert torch.get_num_threads() == threads and torch.get_default_dtype() == dtype


def test_warm_start_continues_from_previous_state():
    X, y, _ = make_sparse_regression(300, 50, random_state=0)
    reg = L0Regressor(random_state=0, warm_start=True).fit(X, y)
    first_iter, first_support = reg.n_iter_, reg.support_.copy()
    reg.fit(X, y)
    assert reg.n_iter_ < first_iter  # already converged: stops at the first patience window
    np.testing.assert_array_equal(reg.support_, first_support)
    with pytest.raises(ValueError, match="warm_start"):
        reg.fit(X[:, :10], y)


def test_pickle_round_trip_predicts_identically():
    X, y, _ = make_sparse_classification(200, 10, random_state=0)
    clf = L0Classifier(random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    assert all(isinstance(getattr(clone, a), np.ndarray) for a in ("coef_", "support_"))


# ----------------------------------------------------------------------------- progress, errors


def test_verbose_shows_progress_bar_and_silent_by_default(capsys):
    X, y, _ = make_sparse_regression(100, 10, random_state=0)
    L0Regressor(random_state=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    L0Regressor(random_state=0, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "epoch" in err and "open_gates" in err


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError):
        L0Regressor().predict(np.zeros((2, 3)))


@pytest.mark.parametrize("device", ["tpu", "gpu:0", 3.5])
def test_unknown_device_is_rejected(device):
    X, y, _ = make_sparse_regression(20, 3, n_informative=1, random_state=0)
    with pytest.raises(InvalidParameterError, match="device"):
        L0Regressor(device=device).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a CPU-only machine")
def test_cuda_without_cuda_names_available_devices():
    X, y, _ = make_sparse_regression(20, 3, n_informative=1, random_state=0)
    with pytest.raises(ValueError, match="CUDA is not available.*'cpu'"):
        L0Regressor(device="cuda").fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_column_stats_match_the_hosts():
    """With a GPU the standardization's sums run there, in float64: the same numbers."""
    rng = np.random.RandomState(0)
    X = (rng.randn(70_000, 30) * rng.rand(30) * 100 + 1e6 * rng.rand(30)).astype(np.float32)
    w = rng.rand(70_000)
    for center in (True, False):
        host = column_stats(X, w, center=center)
        gpu = column_stats(X, w, center=center, device=torch.device("cuda"))
        np.testing.assert_allclose(gpu.mean, host.mean, rtol=1e-12)
        np.testing.assert_allclose(gpu.scale, host.scale, rtol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
def test_cuda_matches_cpu_support(Est):
    if Est is L0Regressor:
        X, y, _ = make_sparse_regression(500, 200, random_state=0)
    else:
        X, y, _ = make_sparse_classification(1000, 200, random_state=0)
    cpu = Est(alpha=0.02, random_state=0, device="cpu").fit(X, y)
    gpu = Est(alpha=0.02, random_state=0, device="cuda").fit(X, y)
    np.testing.assert_array_equal(gpu.support_, cpu.support_)
    assert isinstance(gpu.coef_, np.ndarray)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, rtol=1e-3, atol=1e-4)


def test_one_class_is_rejected_with_clear_message():
    with pytest.raises(ValueError, match="at least 2 classes"):
        L0Classifier().fit(np.random.RandomState(0).randn(10, 2), np.ones(10))


def test_no_warning_on_clean_fit():
    X, y, _ = make_sparse_regression(300, 30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L0Regressor(random_state=0).fit(X, y)
