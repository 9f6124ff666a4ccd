"""Every bad input gets a clear error, every odd-but-valid input works, for every estimator.

Each case runs against every estimator of ``_estimators.ESTIMATORS`` (those a case does not
apply to, e.g. ``hidden_layer_sizes`` on a linear model, are not generated). A failing case
asserts the exception type *and* that its message names the problem, and that the failed
``fit`` left no fitted attribute behind. A valid case asserts finite predictions of the
right shape.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from _estimators import ESTIMATORS, fresh, known, learning_rate_param, make_target, name
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l0 import TrainingDivergedError

N, P = 30, 4
RNG = np.random.RandomState(0)
X = RNG.randn(N, P)

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_l0.AllFeaturesPrunedWarning"),
]


def _y(est, X=X):
    return make_target(est, X)


def _with(X, i, j, value):
    X = np.array(X, dtype=np.float64)
    X[i, j] = value
    return X


def _fitted_attributes(est) -> list[str]:
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("__"))


def _fit(est, X, y=None, **kwargs):
    return est.fit(X, _y(est) if y is None else y, **kwargs)


def _fitted(est):
    return _fit(fresh(est), X)


# ----------------------------------------------------------------------------- bad data
# id -> (call(est), exception, regex the message must match). ``est`` is a fresh clone.

_NAN_X = r"Input X contains NaN"
_INF_X = r"Input X contains infinity"
_FIT_DATA_CASES = {
    "nan_in_X": (lambda e: _fit(e, _with(X, 3, 1, np.nan)), ValueError, _NAN_X),
    "inf_in_X": (lambda e: _fit(e, _with(X, 3, 1, np.inf)), ValueError, _INF_X),
    "neg_inf_in_X": (lambda e: _fit(e, _with(X, 0, 0, -np.inf)), ValueError, _INF_X),
    "nan_in_float32_X": (
        lambda e: _fit(e, _with(X, 3, 1, np.nan).astype(np.float32)),
        ValueError,
        _NAN_X,
    ),
    "nan_in_csr_X": (lambda e: _fit(e, sp.csr_matrix(_with(X, 3, 1, np.nan))), ValueError, _NAN_X),
    "inf_in_csc_X": (lambda e: _fit(e, sp.csc_matrix(_with(X, 3, 1, np.inf))), ValueError, _INF_X),
    "pandas_NA_in_X": (
        lambda e: _fit(e, pd.DataFrame({"a": pd.array([1, None] + [2] * (N - 2), dtype="Int64")})),
        ValueError,
        _NAN_X,
    ),
    "nan_in_y": (
        lambda e: e.fit(X, np.where(np.arange(N) == 2, np.nan, _y(e))),
        ValueError,
        r"Input y contains NaN",
    ),
    "inf_in_y": (
        lambda e: e.fit(X, np.where(np.arange(N) == 2, np.inf, _y(e))),
        ValueError,
        r"Input y contains infinity",
    ),
    "y_is_None": (lambda e: e.fit(X, None), ValueError, r"requires y to be passed.*y is None"),
    "empty_X": (
        lambda e: e.fit(np.empty((0, P)), np.empty(0)),
        ValueError,
        r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\) while a minimum of 1 is required",
    ),
    "no_features": (
        lambda e: _fit(e, np.empty((N, 0)), _y(e)),
        ValueError,
        r"Found array with 0 feature\(s\) \(shape=\(30, 0\)\) while a minimum of 1 is required",
    ),
    "X_y_length_mismatch": (
        lambda e: e.fit(X, _y(e)[:20]),
        ValueError,
        r"inconsistent numbers of samples: \[30, 20\]",
    ),
    "X_3d": (
        lambda e: e.fit(X.reshape(N, 2, 2), _y(e)),
        ValueError,
        r"Found array with dim 3.*dim <= 2 is required",
    ),
    "X_1d": (lambda e: e.fit(X[:, 0], _y(e)), ValueError, r"Expected 2D array, got 1D array"),
    "complex_X": (lambda e: e.fit(X + 1j, _y(e)), ValueError, r"Complex data not supported"),
    "string_X": (
        lambda e: e.fit(np.full((N, P), "a"), _y(e)),
        ValueError,
        r"could not convert string to float: .*'a'",
    ),
    "object_X_with_strings": (
        lambda e: e.fit(np.where(np.arange(N)[:, None] == 5, "x", X.astype(object)), _y(e)),
        ValueError,
        r"could not convert string to float: .*'x'",
    ),
    "pandas_string_column": (
        lambda e: e.fit(pd.DataFrame({"a": X[:, 0], "b": ["u", "v"] * (N // 2)}), _y(e)),
        ValueError,
        r"could not convert string to float: 'u'",
    ),
    "pandas_categorical_column": (
        lambda e: e.fit(
            pd.DataFrame({"a": X[:, 0], "b": pd.Categorical(["u", "v"] * (N // 2))}), _y(e)
        ),
        ValueError,
        r"could not convert string to float: 'u'",
    ),
    "X_too_large_to_standardize": (
        lambda e: e.fit(X * 1e200, _y(e)),
        ValueError,
        r"X has values too large to standardize.*column\(s\) \[0, 1, 2, 3\] overflows float64",
    ),
    "sample_weight_negative": (
        lambda e: _fit(e, X, sample_weight=np.where(np.arange(N) == 1, -1.0, 1.0)),
        ValueError,
        r"Negative values in data passed to `sample_weight`",
    ),
    "sample_weight_all_zero": (
        lambda e: _fit(e, X, sample_weight=np.zeros(N)),
        ValueError,
        r"Sample weights must contain at least one non-zero number",
    ),
    "sample_weight_wrong_length": (
        lambda e: _fit(e, X, sample_weight=np.ones(5)),
        ValueError,
        r"sample_weight.shape == \(5,\), expected \(30,\)",
    ),
    "sample_weight_nan": (
        lambda e: _fit(e, X, sample_weight=np.full(N, np.nan)),
        ValueError,
        r"Input sample_weight contains NaN",
    ),
    "sample_weight_2d": (
        lambda e: _fit(e, X, sample_weight=np.ones((N, 2))),
        ValueError,
        r"Sample weights must be 1D array or scalar",
    ),
    "n_features_to_select_above_n_features": (
        lambda e: _fit(e.set_params(n_features_to_select=10), X),
        ValueError,
        r"n_features_to_select=10 exceeds the number of features in X \(4\)",
    ),
    "early_stopping_leaves_no_training_rows": (
        lambda e: _fit(e.set_params(early_stopping=True, validation_fraction=0.99), X),
        ValueError,
        r"the resulting train set will be empty",
    ),
}
_CLASSIFIER_CASES = {
    "continuous_y": (
        lambda e: e.fit(X, X[:, 0]),
        ValueError,
        r"Unknown label type: continuous",
    ),
    "single_class": (
        lambda e: e.fit(X, np.full(N, "spam")),
        ValueError,
        r"needs samples of at least 2 classes in the data; got only one class: .*'spam'",
    ),
    "one_sample": (
        lambda e: e.fit(X[:1], [1]),
        ValueError,
        r"needs samples of at least 2 classes.*got only one class"
        r"|n_splits=\d+ greater than the number of samples: n_samples=1",  # CV estimators
    ),
    "y_2d": (
        lambda e: e.fit(X, np.c_[_y(e), _y(e)]),
        ValueError,
        r"y should be a 1d array, got an array of shape \(30, 2\)",
    ),
}
_REGRESSOR_CASES = {
    "string_y": (
        lambda e: e.fit(X, np.array(["a", "b"] * (N // 2))),
        ValueError,
        r"could not convert string to float: .*'a'",
    ),
    "y_too_large_to_standardize": (
        lambda e: e.fit(X, X[:, 0] * 1e200),
        ValueError,
        r"y has values too large to standardize",
    ),
}
_COUNT_CASES = {  # Poisson: y must be counts (or rates)
    "negative_y": (
        lambda e: e.fit(X, np.where(np.arange(N) == 3, -1.0, 2.0)),
        ValueError,
        r"y must be non-negative counts \(or rates\) for a Poisson model; got 1 negative",
    ),
    "all_zero_y": (
        lambda e: e.fit(X, np.zeros(N)),
        ValueError,
        r"y is zero on every row .*needs some positive counts",
    ),
}
_EVENTS = np.arange(N) % 3 > 0
_SURVIVAL_CASES = {  # Cox: y holds times and events
    "negative_time": (
        lambda e: e.fit(X, np.c_[np.where(np.arange(N) == 3, -1.0, 2.0), _EVENTS]),
        ValueError,
        r"survival times must be non-negative; got 1 negative value\(s\), the smallest -1",
    ),
    "nan_time": (
        lambda e: e.fit(X, np.c_[_with(np.ones((N, 1)), 2, 0, np.nan), _EVENTS]),
        ValueError,
        r"Input y contains NaN",
    ),
    "no_event": (
        lambda e: e.fit(X, np.c_[np.arange(N) + 1.0, np.zeros(N)]),
        ValueError,
        r"no event is observed \(every time is censored\)",
    ),
    "event_not_binary": (
        lambda e: e.fit(X, np.c_[np.arange(N) + 1.0, np.full(N, 2.0)]),
        ValueError,
        r"the event indicator must be boolean or 0/1",
    ),
    "three_columns": (
        lambda e: e.fit(X, np.ones((N, 3))),
        ValueError,
        r"survival y must be a structured array \(event, time\), .*got shape \(30, 3\)",
    ),
    "structured_three_fields": (
        lambda e: e.fit(X, np.zeros(N, dtype=[("event", bool), ("time", float), ("other", float)])),
        ValueError,
        r"a structured survival y needs two fields \(event, time\)",
    ),
}
_FITTED_CASES = {  # on an estimator fitted on X (4 features, column names absent)
    "predict_wrong_n_features": (
        lambda e: _fitted(e).predict(X[:, :3]),
        ValueError,
        r"X has 3 features, but \w+ is expecting 4 features as input",
    ),
    "predict_nan": (lambda e: _fitted(e).predict(_with(X, 0, 0, np.nan)), ValueError, _NAN_X),
    "predict_string": (
        lambda e: _fitted(e).predict(np.full((2, P), "a")),
        ValueError,
        r"dtype='numeric' is not compatible with arrays of bytes/strings",
    ),
    "predict_3d": (
        lambda e: _fitted(e).predict(X.reshape(N, 2, 2)),
        ValueError,
        r"Found array with dim 3",
    ),
    "predict_renamed_columns": (
        lambda e: _fit(e, pd.DataFrame(X, columns=list("abcd"))).predict(
            pd.DataFrame(X, columns=list("abcz"))
        ),
        ValueError,
        r"feature names should match those that were passed during fit",
    ),
    "warm_start_with_other_n_features": (
        lambda e: _fit(_fitted(e).set_params(warm_start=True), X[:, :3]),
        ValueError,
        r"warm_start=True but the data's shape differs from the previous fit",
    ),
}
_UNFITTED_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _target_kind(est) -> str | None:
    """``"counts"`` (Poisson), ``"times"`` (Cox), or None (labels or real values)."""
    kind = type(est).__name__
    return "counts" if "Poisson" in kind else "times" if "Cox" in kind else None


def _applies(est, case_id: str) -> bool:
    params = est.get_params()
    if case_id == "n_features_to_select_above_n_features":
        return "n_features_to_select" in params
    if case_id == "early_stopping_leaves_no_training_rows":
        return "early_stopping" in params
    if case_id == "warm_start_with_other_n_features":
        return "warm_start" in params
    return True


def _data_cases():
    for est in ESTIMATORS:
        cases = dict(_FIT_DATA_CASES)
        cases.update(_CLASSIFIER_CASES if is_classifier(est) else _REGRESSOR_CASES)
        if _target_kind(est) is not None:  # counts or times: not standardized, not negative
            del cases["y_too_large_to_standardize"]
            cases.update(_COUNT_CASES if _target_kind(est) == "counts" else _SURVIVAL_CASES)
        cases.update(_FITTED_CASES)
        for case_id, case in cases.items():
            if _applies(est, case_id):
                yield pytest.param(est, *case, id=f"{name(est)}-{case_id}")


@pytest.mark.parametrize("est, call, error, match", list(_data_cases()))
def test_bad_data_raises_clear_error(est, call, error, match):
    est = fresh(est)
    with pytest.raises(error, match=match):
        call(est)


@pytest.mark.parametrize(
    "est, call",
    [
        pytest.param(est, case[0], id=f"{name(est)}-{case_id}")
        for est in ESTIMATORS
        for case_id, case in _FIT_DATA_CASES.items()
        if _applies(est, case_id)
    ],
)
def test_failed_fit_sets_no_attribute(est, call):
    est = fresh(est)
    with pytest.raises(ValueError):
        call(est)
    assert _fitted_attributes(est) == []


@pytest.mark.parametrize(
    "est, method",
    [
        pytest.param(est, m, id=f"{name(est)}-{m}")
        for est in ESTIMATORS
        for m in _UNFITTED_METHODS
        if hasattr(est, m)
    ],
)
def test_methods_before_fit_raise_not_fitted(est, method):
    with pytest.raises(NotFittedError, match=rf"This {name(est)} instance is not fitted yet"):
        getattr(fresh(est), method)(X)


# ----------------------------------------------------------------------------- odd but valid


def _frame_mixed():
    return pd.DataFrame(
        {
            "float": X[:, 0],
            "int": np.round(3 * X[:, 1]).astype(np.int64),
            "bool": X[:, 2] > 0,
            "float32": X[:, 3].astype(np.float32),
            "nullable_int": pd.array(np.round(X[:, 1]).astype(int), dtype="Int64"),
        }
    )


_VALID_X = {
    "int64": lambda: np.round(3 * X).astype(np.int64),
    "int32": lambda: np.round(3 * X).astype(np.int32),
    "uint8": lambda: np.round(10 * X - X.min() * 10).astype(np.uint8),
    "bool": lambda: X > 0,
    "float16": lambda: X.astype(np.float16),
    "float32": lambda: X.astype(np.float32),
    "float64": lambda: X,
    "object_numbers": lambda: X.astype(object),
    "fortran_order": lambda: np.asfortranarray(X),
    "strided_view": lambda: np.repeat(X, 2, axis=1)[:, ::2],
    "negative_strides": lambda: np.ascontiguousarray(X[::-1, ::-1])[::-1, ::-1],
    "negative_stride_view_of_float32": lambda: X[::-1].astype(np.float32)[::-1],
    "list_of_lists": lambda: X.tolist(),
    "one_feature": lambda: X[:, :1],
    "all_constant_features": lambda: np.ones((N, P)),
    "one_constant_feature": lambda: np.c_[X[:, :3], np.full(N, 7.5)],
    "tiny_values": lambda: X * 1e-300,
    "huge_float32_values": lambda: (X * 1e30).astype(np.float32),
    "pandas_mixed_numeric": _frame_mixed,
    "sparse_coo": lambda: sp.coo_matrix(X),
    "sparse_lil": lambda: sp.lil_matrix(X),
    "sparse_dok": lambda: sp.dok_matrix(X),
    "sparse_bsr": lambda: sp.bsr_matrix(X),
    "sparse_csr_array": lambda: sp.csr_array(X),
    "sparse_coo_array": lambda: sp.coo_array(X),
    "sparse_csc_int": lambda: sp.csc_matrix(np.round(3 * X).astype(np.int64)),
    "sparse_csr_float32": lambda: sp.csr_matrix(X.astype(np.float32)),
    "sparse_csc_float32": lambda: sp.csc_matrix(X.astype(np.float32)),
    "sparse_csr_empty_column": lambda: sp.csr_matrix(np.c_[X[:, :3], np.zeros(N)]),
}


def _valid_cases():
    for est in ESTIMATORS:
        for case_id, make_X in _VALID_X.items():
            yield pytest.param(est, make_X, id=f"{name(est)}-{case_id}")


@pytest.mark.parametrize("est, make_X", list(_valid_cases()))
def test_valid_input_fits_and_predicts(est, make_X):
    Xv = make_X()
    # The target comes from the same (float64) values, so every variant is learnable.
    y = _y(est, np.asarray(X, dtype=np.float64))
    est = fresh(est).fit(Xv, y)
    pred = est.predict(Xv)
    assert pred.shape == (N,)
    if is_classifier(est):
        assert set(np.unique(pred)) <= set(est.classes_)
        proba = est.predict_proba(Xv)
        assert proba.shape == (N, 2) and np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.all(np.isfinite(pred))
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("est", ESTIMATORS, ids=name)
def test_constant_feature_is_harmless(est):
    """A constant column (zero variance: scaled by 1, not divided by 0) changes nothing.

    The fit matches the fit without that column wherever the weights start at zero (the
    linear models: no gradient ever reaches a constant column). The MLPs start from random
    weights and their gate on a constant column only shuts if training lasts long enough,
    so only finiteness is checked there.
    """
    Xc = np.c_[X[:, :3], np.full(N, 1e6)]
    y = _y(est)
    est_c = fresh(est).fit(Xc, y)
    assert np.all(np.isfinite(est_c.coef_)) and np.all(np.isfinite(_scores(est_c, Xc)))
    if "hidden_layer_sizes" not in est.get_params():
        np.testing.assert_array_equal(np.atleast_2d(est_c.coef_)[:, 3], 0.0)
        expected = _scores(fresh(est).fit(X[:, :3], y), X[:, :3])
        np.testing.assert_allclose(_scores(est_c, Xc), expected, rtol=1e-5, atol=1e-6)


def _cross_validates(est) -> bool:
    return "cv" in est.get_params()


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if not is_classifier(e)], ids=name)
def test_one_sample_regression(est):
    if _cross_validates(est):
        with pytest.raises(ValueError, match=r"n_splits=\d+ greater than the number of samples"):
            fresh(est).fit(X[:1], [2.5])
        return
    est = fresh(est).fit(X[:1], [2.5])
    pred = est.predict(X)
    assert pred.shape == (N,) and np.all(np.isfinite(pred))
    if _target_kind(est) == "times":  # one event, no pair to order: no information
        np.testing.assert_array_equal(pred, 0.0)
    elif "hidden_layer_sizes" not in est.get_params():  # linear: the intercept is that target
        np.testing.assert_allclose(est.predict(X[:1]), [2.5])


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if is_classifier(e)], ids=name)
def test_two_samples_classifier(est):
    if _cross_validates(est):
        with pytest.raises(ValueError, match=r"cannot be greater than the number of members"):
            fresh(est).fit(X[:2], ["a", "b"])
        return
    est = fresh(est).fit(X[:2], ["a", "b"])
    assert list(est.classes_) == ["a", "b"]
    assert est.predict(X).shape == (N,)


_SPARSE_OFFSET = pytest.mark.xfail(
    strict=True,
    reason="sparse X is scaled but not centered (to stay sparse): 1.7e9 / scale is stored in "
    "float32 and the implicit centering cancels catastrophically",
)


def _offset_cases():
    for est in ESTIMATORS:
        yield pytest.param(est, np.asarray, id=f"dense-{name(est)}")
        # Cox is the exception: its loss does not see a shift of every risk score, and with
        # alpha=0 every gate is open, so the float64 refit on the support recovers the fit.
        exact = type(est).__name__ == "L0CoxRegressor"
        marks = () if exact else _SPARSE_OFFSET
        yield pytest.param(est, sp.csr_matrix, marks=marks, id=f"csr-{name(est)}")


@pytest.mark.parametrize("est, container", list(_offset_cases()))
def test_large_offset_column_keeps_its_signal(est, container):
    """A column such as a timestamp (1.7e9 + small variations) trains as well as without it.

    Dense X is standardized in float64 before the float32 cast: a float32 cast first would
    round 1.7e9 + x to multiples of 128 and lose x.
    """
    est = fresh(est, **known(est, max_iter=100, alpha=0.0))
    y = _y(est)
    plain = fresh(est).fit(container(X), y)
    shifted = fresh(est).fit(container(X + 1.7e9), y)
    np.testing.assert_array_equal(plain.support_, shifted.support_)
    expected = _scores(plain, X)
    np.testing.assert_allclose(_scores(shifted, X + 1.7e9), expected, atol=1e-3 * np.std(expected))


def _scores(est, X):
    return est.decision_function(X) if is_classifier(est) else est.predict(X)


# ----------------------------------------------------------------------------- bad settings
# (parameter, value, exception, regex); the regex "{cls}" is the estimator's class name.

_INVALID = r"The '{param}' parameter of {cls} must be"
_SETTINGS = [
    ("alpha", -1.0, InvalidParameterError, _INVALID),
    ("alpha", np.nan, InvalidParameterError, _INVALID),
    ("alpha", np.inf, InvalidParameterError, _INVALID),
    ("alpha", "aicc", InvalidParameterError, _INVALID),
    ("alpha", None, InvalidParameterError, _INVALID),
    ("max_iter", 0, InvalidParameterError, _INVALID),
    ("max_iter", -3, InvalidParameterError, _INVALID),
    ("max_iter", 2.5, InvalidParameterError, _INVALID),
    ("batch_size", 0, InvalidParameterError, _INVALID),
    ("batch_size", -8, InvalidParameterError, _INVALID),
    ("batch_size", "full", InvalidParameterError, _INVALID),
    ("tol", -1e-3, InvalidParameterError, _INVALID),
    ("tol", np.nan, InvalidParameterError, _INVALID),
    ("n_iter_no_change", 0, InvalidParameterError, _INVALID),
    ("temperature", 0.0, InvalidParameterError, _INVALID),
    ("temperature", np.nan, InvalidParameterError, _INVALID),
    ("weight_decay", -1.0, InvalidParameterError, _INVALID),
    ("weight_decay", np.nan, InvalidParameterError, _INVALID),
    ("n_features_to_select", 0, InvalidParameterError, _INVALID),
    ("n_features_to_select", 1.5, InvalidParameterError, _INVALID),
    ("n_features_to_select", np.nan, InvalidParameterError, _INVALID),
    ("random_state", "seed", InvalidParameterError, _INVALID),
    ("verbose", -1, InvalidParameterError, _INVALID),
    ("warm_start", "yes", InvalidParameterError, _INVALID),
    ("fit_intercept", "yes", InvalidParameterError, _INVALID),
    ("refit", "yes", InvalidParameterError, _INVALID),
    ("learning_rate", -0.1, InvalidParameterError, _INVALID),
    ("learning_rate", 0.0, InvalidParameterError, _INVALID),
    ("learning_rate", np.nan, InvalidParameterError, _INVALID),
    ("learning_rate", np.inf, InvalidParameterError, _INVALID),
    ("learning_rate_init", -0.1, InvalidParameterError, _INVALID),
    ("learning_rate_init", 0.0, InvalidParameterError, _INVALID),
    ("learning_rate_init", np.nan, InvalidParameterError, _INVALID),
    ("learning_rate_init", np.inf, InvalidParameterError, _INVALID),
    ("hidden_layer_sizes", 0, InvalidParameterError, _INVALID),
    ("hidden_layer_sizes", "abc", InvalidParameterError, _INVALID),
    ("hidden_layer_sizes", (), ValueError, r"hidden_layer_sizes must be a non-empty sequence"),
    ("hidden_layer_sizes", (4, 0), ValueError, r"sequence of positive integers; got \(4, 0\)"),
    ("hidden_layer_sizes", (-2,), ValueError, r"sequence of positive integers; got \(-2,\)"),
    ("hidden_layer_sizes", (2.5,), ValueError, r"sequence of positive integers; got \(2.5,\)"),
    ("hidden_layer_sizes", [[4]], ValueError, r"sequence of positive integers; got \[\[4\]\]"),
    ("activation", "gelu", InvalidParameterError, _INVALID),
    ("hidden_alpha", -1.0, InvalidParameterError, _INVALID),
    ("hidden_alpha", [0.1, 0.2], ValueError, r"hidden_alpha must be .* one per hidden layer"),
    ("hidden_alpha", [-0.1], ValueError, r"hidden_alpha must be a non-negative float"),
    ("early_stopping", "no", InvalidParameterError, _INVALID),
    ("validation_fraction", 0.0, InvalidParameterError, _INVALID),
    ("validation_fraction", 1.0, InvalidParameterError, _INVALID),
    ("shuffle", "no", InvalidParameterError, _INVALID),
    (
        "device",
        "tpu",
        InvalidParameterError,
        r"The 'device' parameter must be 'auto', 'cpu'.*'tpu'",
    ),
    ("device", "cuda:x", InvalidParameterError, r"The 'device' parameter must be .*'cuda:x'"),
    ("device", 0, InvalidParameterError, _INVALID),
    ("device", "mps", ValueError, r"device='mps' is not supported; use 'cpu', 'cuda' or 'auto'"),
    ("device", "meta", ValueError, r"device='meta' is not supported"),
    # Either no CUDA at all, or not that many devices: both name what is available.
    ("device", "cuda:99", ValueError, r"device='cuda:99' was requested but .*\(available: "),
]
if not torch.cuda.is_available():
    _SETTINGS += [
        (
            "device",
            "cuda",
            ValueError,
            r"device='cuda' was requested but CUDA is not available on this machine "
            r"\(available: 'cpu'\)",
        ),
        (
            "device",
            torch.device("cuda", 0),
            ValueError,
            r"CUDA is not available on this machine \(available: 'cpu'\)",
        ),
    ]


def _settings_cases():
    for est in ESTIMATORS:
        params = est.get_params()
        for param, value, error, match in _SETTINGS:
            if param in params:
                match = match.format(param=re.escape(param), cls=name(est))
                yield pytest.param(
                    est, param, value, error, match, id=f"{name(est)}-{param}={value}"
                )


@pytest.mark.parametrize("est, param, value, error, match", list(_settings_cases()))
def test_bad_setting_raises_clear_error(est, param, value, error, match):
    est = fresh(est, **{param: value})
    with pytest.raises(error, match=match):
        _fit(est, X)
    assert _fitted_attributes(est) == []


def test_errors_are_value_errors():
    """sklearn users catch ValueError: parameter errors and training divergence are ones."""
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(TrainingDivergedError, ValueError)
    assert issubclass(TrainingDivergedError, FloatingPointError)


@pytest.mark.parametrize("est", ESTIMATORS, ids=name)
@pytest.mark.parametrize("learning_rate", [1e3, 1e6, 1e30])
def test_absurd_learning_rate_raises_divergence_error(est, learning_rate):
    """Training that diverges raises a clear error instead of returning garbage or NaN."""
    est = fresh(est, max_iter=40, **{learning_rate_param(est): learning_rate})
    with pytest.raises(TrainingDivergedError, match=r"diverged.*Lower the learning rate"):
        _fit(est, X)
    assert _fitted_attributes(est) == []
