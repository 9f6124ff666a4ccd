"""Training faults are caught and nothing is lost, for every estimator.

- a loss that turns NaN or inf mid-training raises a clear error, and the estimator keeps
  its previous state (never NaN coefficients, never half-fitted);
- ``KeyboardInterrupt`` (or any error) during ``fit`` leaves the estimator exactly as it was;
- ``fit`` and ``predict`` never write to the caller's arrays;
- ``warm_start`` starts from exactly the previous parameters;
- the same ``random_state`` gives bit-identical results, in this process and in others,
  and global random states are never touched;
- ``ConvergenceWarning`` and ``AllFeaturesPrunedWarning`` are raised when they should be.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from _estimators import ESTIMATORS, fresh, known, learning_rate_param, make_data, name
from joblib import Parallel, delayed
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning

import sklearn_l0.training
from sklearn_l0 import AllFeaturesPrunedWarning, TrainingDivergedError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_l0.AllFeaturesPrunedWarning"),
]
parametrize_estimators = pytest.mark.parametrize("est", ESTIMATORS, ids=name)
parametrize_warm_startable = pytest.mark.parametrize(
    "est", [e for e in ESTIMATORS if "warm_start" in e.get_params()], ids=name
)


def _state(est) -> dict:
    """A deep copy of everything an estimator holds."""
    return copy.deepcopy(vars(est))


def _assert_same_state(est, before: dict) -> None:
    after = vars(est)
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        _assert_equal(after[key], value, key)


def _assert_equal(a, b, where: str) -> None:
    """Recursive equality of attribute values (arrays, tensors, containers, dataclasses)."""
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(b, dict):
        assert isinstance(a, dict) and sorted(a, key=str) == sorted(b, key=str), where
        for k in b:
            _assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _assert_equal(u, v, f"{where}[{i}]")
    elif dataclasses.is_dataclass(b):
        assert type(a) is type(b), where
        _assert_equal(vars(a), vars(b), where)
    elif isinstance(b, float) and np.isnan(b):
        assert np.isnan(a), where
    else:
        assert a == b, where


def _patch_everywhere(monkeypatch, original, replacement) -> None:
    """Replace ``original`` wherever a module of the library imported it."""
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("sklearn_l0"):
            for attr, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attr, replacement)


def _fitted_attributes(est) -> list[str]:
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("__"))


# ----------------------------------------------------------------------------- NaN mid-training


def _poison_loss_after(monkeypatch, n_calls: int, value: float) -> None:
    """Make every training loss ``value`` (NaN or inf) from its ``n_calls``-th evaluation on."""
    real_train = sklearn_l0.training.train
    calls = [0]

    def train(module, loss_fn, data, **kwargs):
        def poisoned(out, y, w):
            calls[0] += 1
            loss = loss_fn(out, y, w)
            return loss * value if calls[0] > n_calls else loss

        return real_train(module, poisoned, data, **kwargs)

    _patch_everywhere(monkeypatch, real_train, train)


@parametrize_estimators
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_loss_mid_training_raises_and_fits_nothing(est, value, monkeypatch):
    X, y = make_data(est)
    est = fresh(est, max_iter=30)
    _poison_loss_after(monkeypatch, 12, value)
    with pytest.raises(
        TrainingDivergedError, match=r"became non-finite by epoch \d+.*Lower the learning rate"
    ):
        est.fit(X, y)
    assert _fitted_attributes(est) == []


@parametrize_estimators
def test_non_finite_loss_keeps_the_previous_fit(est, monkeypatch):
    X, y = make_data(est)
    est = fresh(est, max_iter=30).fit(X, y)
    before, pred = _state(est), est.predict(X)
    _poison_loss_after(monkeypatch, 12, np.nan)
    with pytest.raises(TrainingDivergedError, match="non-finite"):
        est.fit(X[:, :3], y)  # other data: validation has already reset n_features_in_
    _assert_same_state(est, before)
    np.testing.assert_array_equal(est.predict(X), pred)
    assert np.all(np.isfinite(est.coef_))


# ----------------------------------------------------------------------------- interrupts


def _interrupt_after(monkeypatch, n_steps: int, error=KeyboardInterrupt) -> list[int]:
    """Raise ``error`` from the ``n_steps + 1``-th Adam step; returns the step counter."""
    real_step = torch.optim.Adam.step
    steps = [0]

    def step(self, *args, **kwargs):
        steps[0] += 1
        if steps[0] > n_steps:
            raise error()
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    return steps


@parametrize_estimators
def test_keyboard_interrupt_leaves_unfitted_estimator_as_it_was(est, monkeypatch):
    X, y = make_data(est)
    est = fresh(est)
    before = _state(est)
    steps = _interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert steps[0] == 4  # it was interrupted mid-training
    _assert_same_state(est, before)
    assert _fitted_attributes(est) == []


@parametrize_warm_startable
@pytest.mark.parametrize("warm_start", [False, True])
def test_keyboard_interrupt_leaves_fitted_estimator_as_it_was(est, warm_start, monkeypatch):
    X, y = make_data(est)
    est = fresh(est).fit(X, y)
    est.set_params(warm_start=warm_start)
    before, pred = _state(est), est.predict(X)
    _interrupt_after(monkeypatch, 3)
    Xi = X if warm_start else X[:, :3]  # warm starts need the same shape
    with pytest.raises(KeyboardInterrupt):
        est.fit(Xi, y)
    _assert_same_state(est, before)
    np.testing.assert_array_equal(est.predict(X), pred)


@parametrize_estimators
def test_warning_turned_error_leaves_estimator_as_it_was(est):
    """A user who turns ConvergenceWarning into an error gets the previous model back."""
    X, y = make_data(est)
    est = fresh(est).fit(X, y)
    before = _state(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            est.set_params(max_iter=2).fit(X[:, :3], y)
    est.set_params(max_iter=before["max_iter"])
    _assert_same_state(est, before)


# ----------------------------------------------------------------------------- no mutation


def _containers(X):
    return {
        "float32_C": np.ascontiguousarray(X, dtype=np.float32),
        "float64_C": np.ascontiguousarray(X),
        "float64_F": np.asfortranarray(X),
        "csr": sp.csr_matrix(X),
        "csc": sp.csc_matrix(X.astype(np.float32)),
        "pandas": pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]),
    }


def _snapshot(obj):
    if sp.issparse(obj):
        return (obj.format, obj.data.copy(), obj.indices.copy(), obj.indptr.copy())
    if isinstance(obj, pd.DataFrame):
        return obj.copy(deep=True)
    return np.array(obj, copy=True, order="K")


def _assert_unchanged(obj, snap, what):
    if sp.issparse(obj):
        assert obj.format == snap[0], what
        for part, saved in zip((obj.data, obj.indices, obj.indptr), snap[1:], strict=True):
            np.testing.assert_array_equal(part, saved, err_msg=what)
    elif isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(obj, snap)
    else:
        assert obj.dtype == snap.dtype and obj.flags.c_contiguous == snap.flags.c_contiguous
        np.testing.assert_array_equal(obj, snap, err_msg=what)


@parametrize_estimators
@pytest.mark.parametrize("kind", list(_containers(np.zeros((2, 2)))))
def test_fit_and_predict_never_modify_the_callers_arrays(est, kind):
    X, y = make_data(est)
    X = _containers(X)[kind]
    w = np.linspace(0.5, 2.0, len(y))
    saved = [(obj, _snapshot(obj)) for obj in (X, y, w)]
    est = fresh(est).fit(X, y, sample_weight=w)
    est.predict(X)
    if is_classifier(est):
        est.predict_proba(X)
    for obj, snap in saved:
        _assert_unchanged(obj, snap, kind)
    if "warm_start" in est.get_params():  # it reads the stored parameters; a refit writes anew
        est.set_params(warm_start=True).fit(X, y, sample_weight=w)
        for obj, snap in saved:
            _assert_unchanged(obj, snap, kind)


# ----------------------------------------------------------------------------- warm start


def _capture_training_starts(monkeypatch) -> list[dict]:
    """Record the module's parameters at the start of every ``train`` call."""
    real_train = sklearn_l0.training.train
    starts = []

    def train(module, loss_fn, data, **kwargs):
        starts.append({k: v.detach().cpu().numpy().copy() for k, v in module.named_parameters()})
        return real_train(module, loss_fn, data, **kwargs)

    _patch_everywhere(monkeypatch, real_train, train)
    return starts


@parametrize_warm_startable
def test_warm_start_starts_from_exactly_the_previous_parameters(est, monkeypatch):
    X, y = make_data(est, n_samples=60)
    est = fresh(est, **known(est, max_iter=30, n_iter_no_change=30), warm_start=True)
    est.fit(X, y)
    first_curve = est.loss_curve_
    previous = {k: v.copy() for k, v in est._module_state.items()}
    starts = _capture_training_starts(monkeypatch)
    est.fit(X, y)
    assert starts, "train was not called"
    for key, value in previous.items():
        np.testing.assert_array_equal(starts[0][key], value, err_msg=key)
    # The objective carries on from where it was (below where the first fit began).
    assert first_curve[-5:].mean() < first_curve[:5].mean()
    assert est.loss_curve_[:5].mean() < first_curve[:5].mean()


@parametrize_estimators
def test_without_warm_start_a_refit_equals_a_fresh_fit(est):
    X, y = make_data(est)
    est_twice = fresh(est).fit(X[:, ::-1], y).fit(X, y)
    np.testing.assert_array_equal(est_twice.coef_, fresh(est).fit(X, y).coef_)


# ----------------------------------------------------------------------------- determinism


def _fit_coef(est, X, y) -> bytes:
    torch.set_num_threads(1)
    return np.ascontiguousarray(fresh(est).fit(X, y).coef_).tobytes()


def test_same_seed_is_bit_identical_in_this_and_other_processes():
    jobs, local = [], []
    for est in ESTIMATORS:
        X, y = make_data(est)
        local.append(_fit_coef(est, X, y))
        assert _fit_coef(est, X, y) == local[-1], f"{name(est)}: two runs differ"
        jobs += [delayed(_fit_coef)(est, X, y)] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workers' ConvergenceWarnings
        remote = Parallel(n_jobs=2, backend="loky")(jobs)
    for i, est in enumerate(ESTIMATORS):
        assert remote[2 * i] == local[i], f"{name(est)}: a worker differs from this process"
        assert remote[2 * i + 1] == local[i], f"{name(est)}: a worker differs from this process"


@parametrize_estimators
def test_other_seeds_give_other_fits(est):
    X, y = make_data(est)
    coefs = {fresh(est, random_state=s).fit(X, y).gate_open_proba_.tobytes() for s in range(3)}
    assert len(coefs) > 1


@parametrize_estimators
@pytest.mark.parametrize(
    "random_state", [0, None, np.random.RandomState(3)], ids=["int", "None", "RandomState"]
)
def test_global_random_states_are_untouched(est, random_state):
    X, y = make_data(est)
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_before, torch_before = np.random.get_state(), torch.get_rng_state()
    fresh(est, random_state=random_state).fit(X, y).predict(X)
    numpy_after = np.random.get_state()
    assert numpy_before[0] == numpy_after[0]
    np.testing.assert_array_equal(numpy_before[1], numpy_after[1])
    assert numpy_before[2:] == numpy_after[2:]
    assert torch.equal(torch_before, torch.get_rng_state())


# ----------------------------------------------------------------------------- warnings


@parametrize_estimators
def test_convergence_warning_when_max_iter_ends_training(est):
    X, y = make_data(est)
    est = fresh(est, **known(est, max_iter=3, n_iter_no_change=10))
    with pytest.warns(ConvergenceWarning, match=r"Training stopped at max_iter=3 epochs before"):
        est.fit(X, y)
    phases = len(est.alphas_) if hasattr(est, "path_alphas_") and hasattr(est, "alphas_") else 1
    assert est.n_iter_ == 3 * phases == len(est.loss_curve_)  # a network CV: a phase a price


@parametrize_estimators
def test_no_convergence_warning_when_training_settles(est):
    X, y = make_data(est)
    est = fresh(est, **known(est, max_iter=2000, n_iter_no_change=5, tol=1e-2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 2000


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if "alpha" in e.get_params()], ids=name)
def test_all_features_pruned_warns_and_predicts_the_intercept(est):
    X, y = make_data(est)
    # (a network's price path rises 1% a step from 1e-3: 1,400 steps to reach 1e3)
    est = fresh(est, alpha=1e3, max_iter=2000, **{learning_rate_param(est): 0.1})
    with pytest.warns(AllFeaturesPrunedWarning, match=r"pruned every feature.*Lower alpha"):
        est.fit(X, y)
    assert not est.support_.any() and np.all(est.coef_ == 0)
    scores = est.decision_function(X) if is_classifier(est) else est.predict(X)
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(scores, scores[0])  # a constant: the intercept
    linear_model = "hidden_layer_sizes" not in est.get_params()
    if not is_classifier(est) and hasattr(est, "intercept_") and linear_model:
        linear = np.log(scores) if "Poisson" in type(est).__name__ else scores  # log link
        np.testing.assert_allclose(linear, est.intercept_)
