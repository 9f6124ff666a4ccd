"""L0MLPClassifier and L0MLPRegressor: selection, pruning, attributes."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_l0 import AllFeaturesPrunedWarning, L0MLPClassifier, L0MLPRegressor
from sklearn_l0.datasets import make_nonlinear_classification, support_f1

SEEDS = range(5)


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def xor_runs():
    """L0MLPClassifier and MLPClassifier on the XOR task, 5 seeds."""
    runs = []
    for seed in SEEDS:
        X, y, truth = make_nonlinear_classification(4000, 100, random_state=seed)
        X, X_test, y, y_test = X[:2000], X[2000:], y[:2000], y[2000:]
        l0 = _quiet_fit(L0MLPClassifier((32,), random_state=seed, device="cpu"), X, y)
        mlp = _quiet_fit(
            MLPClassifier(hidden_layer_sizes=(32,), random_state=seed, max_iter=500), X, y
        )
        runs.append((l0, mlp, truth, X_test, y_test))
    return runs


def test_xor_task_selects_exactly_the_informative_features(xor_runs):
    exact = sum(np.array_equal(l0.support_, truth) for l0, _, truth, _, _ in xor_runs)
    assert exact >= 4, f"exact support on {exact}/5 seeds"


def test_xor_task_accuracy_at_least_mlp_on_all_features(xor_runs):
    for l0, mlp, _, X_test, y_test in xor_runs:
        assert l0.score(X_test, y_test) >= mlp.score(X_test, y_test)


def test_xor_task_attributes(xor_runs):
    l0, _, truth, X_test, _ = xor_runs[0]
    n_units = l0.hidden_layer_sizes_[0]
    assert 0 < n_units <= 32 and l0.coefs_[0].shape == (truth.sum(), n_units)
    assert l0.coef_.shape == (n_units, 100)
    np.testing.assert_array_equal(np.any(l0.coef_ != 0, axis=0), l0.support_)
    assert l0.classes_.tolist() == [0, 1, 2, 3] and l0.n_outputs_ == 4 and l0.n_layers_ == 3
    proba = l0.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(l0.predict(X_test), l0.classes_[proba.argmax(axis=1)])
    assert l0.gate_open_proba_[truth].min() > l0.gate_open_proba_[~truth].max()


def test_friedman1_selects_informative_features_with_better_r2():
    good = 0
    for seed in SEEDS:
        X, y = make_friedman1(n_samples=2000, n_features=50, noise=1.0, random_state=seed)
        X, X_test, y, y_test = X[:1000], X[1000:], y[:1000], y[1000:]
        l0 = _quiet_fit(L0MLPRegressor((64,), random_state=seed, device="cpu"), X, y)
        mlp = _quiet_fit(
            MLPRegressor(hidden_layer_sizes=(64,), random_state=seed, max_iter=1000), X, y
        )
        f1 = support_f1(l0.support_, np.arange(50) < 5)
        good += f1 >= 0.9 and l0.score(X_test, y_test) >= mlp.score(X_test, y_test)
    assert good >= 4


def test_hidden_alpha_prunes_units_and_accuracy_holds():
    X, y, truth = make_nonlinear_classification(4000, 100, random_state=0)
    X, X_test, y, y_test = X[:2000], X[2000:], y[:2000], y[2000:]
    clf = L0MLPClassifier((32, 32), hidden_alpha=0.003, random_state=0)
    _quiet_fit(clf, X, y)
    assert all(n < 32 for n in clf.hidden_layer_sizes_), clf.hidden_layer_sizes_
    assert [c.shape[1] for c in clf.coefs_[:-1]] == list(clf.hidden_layer_sizes_)
    assert clf.score(X_test, y_test) > 0.9
    keep_all = _quiet_fit(L0MLPClassifier((32, 32), hidden_alpha=0.0, random_state=0), X, y)
    assert keep_all.hidden_layer_sizes_ == (32, 32)


def test_early_stopping_records_validation_scores():
    X, y, _ = make_nonlinear_classification(1000, 20, random_state=0)
    clf = _quiet_fit(L0MLPClassifier((16,), early_stopping=True, random_state=0), X, y)
    plain = _quiet_fit(L0MLPClassifier((16,), random_state=0), X, y)
    # the fine-tune (the last phase) stops on the held-out rows; the path is not changed
    assert 0 < clf.validation_scores_.size < clf.n_iter_
    assert clf.best_validation_score_ == pytest.approx(clf.validation_scores_.max())
    assert clf.path_alphas_[-1] == plain.path_alphas_[-1] == pytest.approx(0.03)
    assert clf.n_iter_ < clf.max_iter
    assert not hasattr(L0MLPClassifier().fit(X[:100], y[:100]), "validation_scores_")


def test_multioutput_regression_and_select_from_model():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (1000, 12))
    Y = np.column_stack([np.sin(3 * X[:, 0]), X[:, 0] * X[:, 5]]) + 0.05 * rng.randn(1000, 2)
    reg = _quiet_fit(L0MLPRegressor((32,), random_state=0), X, Y)
    assert reg.predict(X).shape == (1000, 2) and reg.n_outputs_ == 2
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [0, 5])
    assert reg.score(X, Y) > 0.9
    sfm = SelectFromModel(reg, prefit=True, threshold=1e-12)
    np.testing.assert_array_equal(sfm.get_support(), reg.support_)


def test_string_labels_binary_and_pickle():
    X, y, _ = make_nonlinear_classification(600, 10, random_state=1)
    labels = np.where(y >= 2, "odd", "even")  # the XOR part only
    clf = _quiet_fit(L0MLPClassifier((16,), random_state=0), X, labels)
    assert clf.classes_.tolist() == ["even", "odd"] and clf.n_outputs_ == 1
    assert clf.score(X, labels) > 0.9
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))


def test_same_seed_same_network():
    X, y, _ = make_nonlinear_classification(400, 10, random_state=0)
    a = _quiet_fit(L0MLPClassifier((8,), random_state=3, max_iter=20), X, y)
    b = _quiet_fit(L0MLPClassifier((8,), random_state=3, max_iter=20), X, y)
    for ca, cb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(ca, cb)


def test_warm_start_continues_training():
    X, y, _ = make_nonlinear_classification(400, 10, random_state=0)
    clf = L0MLPClassifier((8,), random_state=0, max_iter=5, warm_start=True)
    _quiet_fit(clf, X, y)
    first = clf.loss_curve_[-1]
    _quiet_fit(clf, X, y)
    assert clf.loss_curve_[0] < first + 0.05  # starts where the last fit ended, not from scratch
    fresh = _quiet_fit(L0MLPClassifier((8,), random_state=0, max_iter=5), X, y)
    assert clf.loss_curve_[0] < fresh.loss_curve_[0]


@pytest.mark.parametrize("sizes", [(), (0,), (4, 0), (2.5,)])
def test_bad_hidden_layer_sizes(sizes):
    X, y, _ = make_nonlinear_classification(50, 5, random_state=0)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        L0MLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_support():
    X, y, truth = make_nonlinear_classification(2000, 100, random_state=0)
    cpu = _quiet_fit(L0MLPClassifier((32,), random_state=0, device="cpu"), X, y)
    gpu = _quiet_fit(L0MLPClassifier((32,), random_state=0, device="cuda"), X, y)
    np.testing.assert_array_equal(gpu.support_, cpu.support_)
    assert all(isinstance(c, np.ndarray) for c in gpu.coefs_)
    assert gpu.score(X, y) > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_count_fit_matches_cpu_support():
    # the count keeps 4 of 100 columns, so its fine-tune trains on those columns alone
    X, y, truth = make_nonlinear_classification(2000, 100, random_state=0)
    k = int(truth.sum())
    fits = {
        device: _quiet_fit(
            L0MLPClassifier((32,), n_features_to_select=k, random_state=0, device=device), X, y
        )
        for device in ("cpu", "cuda")
    }
    np.testing.assert_array_equal(fits["cuda"].support_, fits["cpu"].support_)
    np.testing.assert_array_equal(fits["cuda"].support_, truth)
    assert fits["cuda"].coefs_[0].shape == (k, 32)
    assert fits["cuda"].score(X, y) > 0.9


def _module_after_fit(est, X, y, monkeypatch):
    """The trained GatedMLP of a fit (captured from the estimator's _build_module)."""
    built = []
    original = type(est)._build_module

    def capture(self, *args, **kwargs):
        built.append(original(self, *args, **kwargs))
        return built[-1]

    monkeypatch.setattr(type(est), "_build_module", capture)
    _quiet_fit(est, X, y)
    return built[-1]


def test_price_per_weight_prices_each_gate_by_its_fan_out(monkeypatch):
    X, y, _ = make_nonlinear_classification(300, 6, random_state=0)
    est = L0MLPClassifier(  # priced from the first step (no path to walk in two epochs)
        (8, 5), alpha=1e-3, hidden_alpha=2e-3, price_per="weight", max_iter=2, schedule={"start": 1}
    )
    module = _module_after_fit(est, X, y, monkeypatch)
    # a feature feeds 8 units, a unit of layer 1 feeds 5, one of layer 2 every logit
    n_logits = module.layers[-1].out_features
    assert [layer.l0 for layer in module.layers] == pytest.approx([8e-3, 10e-3, 2e-3 * n_logits])
    assert est.alpha_ == pytest.approx(1e-3)  # in alpha's units
    per_gate = L0MLPClassifier(
        (8, 5), alpha=1e-3, hidden_alpha=2e-3, max_iter=2, schedule={"start": 1}
    )
    module = _module_after_fit(per_gate, X, y, monkeypatch)
    assert [layer.l0 for layer in module.layers] == pytest.approx([1e-3, 2e-3, 2e-3])


def test_unstandardized_fit_trains_on_x_as_given(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, size=(600, 5))
    X[:, 4] = 0.5 + 1e-9 * rng.randn(600)  # near-constant, as a border pixel
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    raw = L0MLPClassifier((16,), standardize=False, random_state=0)
    module = _module_after_fit(raw, X, y, monkeypatch)
    kept, coefs, intercepts = module.compact()
    # nothing to fold in: the fitted weights are the trained ones, on X as given
    np.testing.assert_array_equal(raw.support_, kept)
    np.testing.assert_allclose(raw.coefs_[0], coefs[0])
    np.testing.assert_allclose(raw.intercepts_[0], intercepts[0])
    assert raw.score(X, y) > 0.8
    standardized = L0MLPClassifier((16,), random_state=0)
    module = _module_after_fit(standardized, X, y, monkeypatch)
    assert not np.allclose(standardized.coefs_[0], module.compact()[1][0])


def test_ema_decay_ends_with_averaged_parameters_and_refuses_early_stopping():
    X, y, _ = make_nonlinear_classification(500, 8, random_state=0)
    kwargs = dict(hidden_layer_sizes=(8,), random_state=0)
    raw = _quiet_fit(L0MLPClassifier(**kwargs), X, y)
    averaged = _quiet_fit(L0MLPClassifier(ema_decay=0.9, **kwargs), X, y)
    # the same path; the fine-tune ends with the average of its steps
    np.testing.assert_array_equal(averaged.path_alphas_, raw.path_alphas_)
    assert averaged.coef_.shape != raw.coef_.shape or not np.allclose(averaged.coef_, raw.coef_)
    with pytest.raises(ValueError, match="ema_decay and early_stopping"):
        L0MLPClassifier(ema_decay=0.99, early_stopping=True).fit(X, y)


def test_default_fit_ends_with_settled_gates_on_breast_cancer():
    """The default network stops once its gates have settled: training on (warm start,
    from the price where the path stood) moves at most one feature in or out, on every
    seed (seeds pick different ones of the near-duplicate 'worst radius / perimeter /
    area' columns, so supports may differ). Measured: seed 0's tenth feature, its gate
    still drifting shut (P(z != 0) = 0.83), closes; the others keep every feature."""
    X, y = load_breast_cancer(return_X_y=True)
    for seed in range(3):
        clf = L0MLPClassifier(random_state=seed, device="cpu", warm_start=True).fit(X, y)
        first = clf.support_.copy()
        assert 0 < first.sum() < X.shape[1]
        clf.fit(X, y)
        assert clf.path_alphas_[0] == pytest.approx(0.03)  # it went on from where it stood
        assert np.sum(clf.support_ != first) <= 1, f"seed {seed}"


def _interactions(n, p, seed):
    """y = 1[x0 x1 + x2 x3 > 0]: no feature has a marginal effect."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, (X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)


def test_pure_interactions_are_recovered_with_a_count_and_by_default():
    X, y = _interactions(2000, 40, seed=0)
    truth = np.arange(40) < 4
    for params in (dict(n_features_to_select=4), dict()):
        clf = L0MLPClassifier((32, 16), random_state=0, device="cpu", **params).fit(X, y)
        np.testing.assert_array_equal(clf.support_, truth, err_msg=str(params))
        assert clf.hidden_layer_sizes_ == (32, 16)  # no hidden unit priced by default
        assert clf.score(X, y) > 0.95


def test_default_network_keeps_every_hidden_unit_when_it_keeps_a_feature():
    for seed in range(2):
        X, y, _ = make_nonlinear_classification(600, 20, random_state=seed)
        clf = _quiet_fit(L0MLPClassifier((16, 8), random_state=seed, device="cpu"), X, y)
        assert clf.support_.any()
        assert clf.hidden_layer_sizes_ == (16, 8)
        X, y = make_friedman1(n_samples=600, n_features=20, random_state=seed)
        reg = _quiet_fit(L0MLPRegressor((16, 8), random_state=seed, device="cpu"), X, y)
        assert reg.support_.any()
        assert reg.hidden_layer_sizes_ == (16, 8)


def test_a_hidden_layer_without_units_keeps_no_feature_and_warns():
    from sklearn_l0 import AllFeaturesPrunedWarning

    X, y, _ = make_nonlinear_classification(500, 10, random_state=0)
    clf = L0MLPClassifier((8, 8), alpha=0.001, hidden_alpha=[0.0, 5.0], random_state=0)
    with pytest.warns(AllFeaturesPrunedWarning, match="hidden layer 2.*Lower hidden_alpha"):
        clf.fit(X, y)
    assert clf.hidden_layer_sizes_ == (8, 0)
    assert not clf.support_.any() and not clf.group_support_.any()
    assert not clf.coef_.any()
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, np.broadcast_to(proba[0], proba.shape))


def _redundant(n=300, copies=100, noise=0.5, seed=0):
    """Two signals, each behind ``copies`` noisy columns; the label needs both."""
    rng = np.random.RandomState(seed)
    signals = rng.randn(n, 2)
    X = np.repeat(signals, copies, axis=1) + noise * rng.randn(n, 2 * copies)
    return X, (signals.sum(axis=1) > 0).astype(int)


def test_the_path_keeps_redundant_signals_that_a_fit_priced_from_the_start_loses():
    """Six signals behind 50 noisy columns each, the label the largest signal; and two
    signals behind 100 columns each. Priced at alpha from the first step (a schedule that
    starts at alpha), most gates close before the network has learned what they do
    (measured: columns of 4 of 6 signals, training accuracy 0.65; no column at all, 0.53).
    Along the default price path, every gate open at first, columns of every signal stay
    (measured: 23 columns, accuracy 1.00; 10 columns, 0.96)."""
    rng = np.random.RandomState(0)
    signals = rng.randn(600, 6)
    X = np.repeat(signals, 50, axis=1) + 0.5 * rng.randn(600, 300)
    y = signals.argmax(axis=1)
    est = L0MLPClassifier((32,), alpha=0.03, random_state=0, device="cpu")
    walked = clone(est).fit(X, y)
    assert set(np.flatnonzero(walked.support_) // 50) == set(range(6))
    assert walked.score(X, y) > 0.95
    direct = clone(est).set_params(schedule={"start": 1.0}).fit(X, y)
    assert len(set(np.flatnonzero(direct.support_) // 50)) < 6 and direct.score(X, y) < 0.8

    X, y = _redundant()
    est = L0MLPClassifier((16,), alpha=0.03, random_state=0, device="cpu")
    walked = clone(est).fit(X, y)
    kept = np.flatnonzero(walked.support_)
    assert 2 <= kept.size <= 50 and (kept < 100).any() and (kept >= 100).any()
    assert walked.score(X, y) > 0.9
    with pytest.warns(AllFeaturesPrunedWarning):
        direct = clone(est).set_params(schedule={"start": 1.0}).fit(X, y)
    assert direct.score(X, y) < 0.6
