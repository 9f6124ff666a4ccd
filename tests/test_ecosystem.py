"""The library among its neighbours: progress bars, pandas, Dask, joblib persistence."""

import logging
import os
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import torch
from _estimators import ECOSYSTEM
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_l0 import L0Regressor, L0Selector
from sklearn_l0.datasets import make_sparse_classification, make_sparse_regression

ESTIMATORS = ECOSYSTEM


def _data(task):
    if task == "regression":
        X, y, coef = make_sparse_regression(150, 12, n_informative=3, random_state=0)
    else:
        X, y, coef = make_sparse_classification(200, 12, n_informative=3, random_state=0)
    return X, y, np.atleast_2d(coef).any(axis=0)


def _fit(est, X, y):
    """Fit a clone; 30 epochs are too few for the networks to settle (ConvergenceWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(est).fit(X, y)


def _fitted(name):
    est, task = ESTIMATORS[name]
    X, y, _ = _data(task)
    return _fit(est, X, y), X


# ----------------------------------------------------------------------------- progress


@pytest.mark.parametrize("name", ["L0Regressor", "L0MLPClassifier"])
def test_verbose_progress_bar_on_stderr_and_silence_by_default(name, capsys):
    est, task = ESTIMATORS[name]
    X, y, _ = _data(task)
    quiet = _fit(est, X, y)
    assert capsys.readouterr() == ("", "")

    loud = _fit(clone(est).set_params(verbose=1), X, y)
    out, err = capsys.readouterr()
    assert out == ""
    # A tqdm bar over epochs whose postfix holds the objective and the open-gate count.
    assert "fit:" in err and "epoch" in err and "%|" in err
    assert "objective=" in err and "open_gates=" in err
    last = err.rsplit("open_gates=", 1)[1]
    assert int(last.split("]")[0]) == loud.n_gates_open_curve_[-1]
    # Same seed, same training: printing changes nothing.
    np.testing.assert_array_equal(loud.loss_curve_, quiet.loss_curve_)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_training_history_is_kept_on_the_estimator(name):
    est, _ = _fitted(name)
    assert est.loss_curve_.shape == (est.n_iter_,)
    assert np.all(np.isfinite(est.loss_curve_))
    assert est.n_gates_open_curve_.shape == (est.n_iter_,)
    assert est.n_gates_open_curve_.dtype.kind == "i"
    n_gates = est.n_features_in_
    if name.startswith("L0MLP"):  # feature gates plus hidden-unit gates
        n_gates += sum(est.hidden_layer_sizes)
    assert np.all((0 <= est.n_gates_open_curve_) & (est.n_gates_open_curve_ <= n_gates))


# ----------------------------------------------------------------------------- pandas


def test_dataframe_through_pipeline_keeps_selected_column_names():
    pd = pytest.importorskip("pandas")
    X, y, truth = _data("regression")
    names = np.array([f"gene_{i}" for i in range(X.shape[1])], dtype=object)
    df = pd.DataFrame(X, columns=names, index=np.arange(100, 100 + len(X)))
    target = pd.Series(y, index=df.index, name="response")

    pipe = make_pipeline(StandardScaler(), L0Selector(L0Regressor(random_state=0)))
    pipe.set_output(transform="pandas").fit(df, target)

    selected = names[truth]
    np.testing.assert_array_equal(pipe.get_feature_names_out(), selected)
    out = pipe.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(selected)
    assert out.index.equals(df.index)
    np.testing.assert_allclose(out.to_numpy(), StandardScaler().fit_transform(X)[:, truth])

    model = pipe[-1].estimator_
    np.testing.assert_array_equal(model.feature_names_in_, names)
    np.testing.assert_array_equal(model.feature_names_in_[model.support_], selected)

    # Without set_output the pipeline still names the selected columns.
    plain = make_pipeline(StandardScaler(), L0Selector(L0Regressor(random_state=0))).fit(df, y)
    np.testing.assert_array_equal(plain.get_feature_names_out(), selected)
    assert isinstance(plain.transform(df), np.ndarray)


# ----------------------------------------------------------------------------- dask


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_grid_search_on_dask_local_cluster_equals_local_search():
    distributed = pytest.importorskip(
        "dask.distributed",
        reason='dask.distributed is not installed: pip install -e ".[dask]"',
    )
    X, y, _ = _data("regression")
    search = GridSearchCV(
        L0Regressor(device="cpu", random_state=0), {"alpha": [0.003, 0.01, 0.03, 0.1]}, cv=3
    )
    local = clone(search).fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            remote = clone(search).fit(X, y)
        # The fits ran in the worker processes, which start with one torch thread each
        # (the nanny sets OMP_NUM_THREADS=1), so they do not oversubscribe the cores.
        imported = client.run(lambda: "sklearn_l0" in sys.modules)
        threads = client.run(torch.get_num_threads)

    assert len(imported) == 2 and any(imported.values())
    assert set(threads.values()) == {1}
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_array_equal(remote.best_estimator_.support_, local.best_estimator_.support_)


# ----------------------------------------------------------------------------- persistence


def _torch_objects(obj, seen=None):
    """Names of torch tensors or modules reachable from a fitted estimator's attributes."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, (torch.Tensor, torch.nn.Module, torch.Generator)):
        return [type(obj).__name__]
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        items = vars(obj).values()
    else:
        return []
    return [name for item in items for name in _torch_objects(item, seen)]


def _predictions(est, X):
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_joblib_round_trip_predicts_identically(name, tmp_path):
    est, X = _fitted(name)
    path = tmp_path / f"{name}.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    before, after = _predictions(est, X), _predictions(loaded, X)
    for method in before:
        np.testing.assert_array_equal(after[method], before[method])
    # Nothing device-bound is pickled: fitted attributes are numpy arrays on the host.
    assert _torch_objects(loaded) == []
    assert isinstance(loaded.coef_, np.ndarray) and isinstance(loaded.support_, np.ndarray)


LOAD_ON_CPU = textwrap.dedent(
    """
    import sys
    import joblib
    import numpy as np
    import torch

    assert not torch.cuda.is_available(), "CUDA should be hidden in this process"
    for stem in sys.argv[1:]:
        est = joblib.load(stem + ".joblib")
        expected = np.load(stem + ".npy")
        np.testing.assert_array_equal(est.predict(np.load(stem + ".X.npy")), expected)
    print("ok")
    """
)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_fitted_on_cuda_loads_and_predicts_where_cuda_is_hidden(tmp_path):
    stems = []
    for name in ("L0Regressor", "L0MLPClassifier"):
        est, task = ESTIMATORS[name]
        X, y, _ = _data(task)
        fitted = _fit(clone(est).set_params(device="cuda"), X, y)
        stem = str(tmp_path / name)
        joblib.dump(fitted, stem + ".joblib")
        np.save(stem + ".npy", fitted.predict(X))
        np.save(stem + ".X.npy", X)
        stems.append(stem)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_ON_CPU, *stems],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
