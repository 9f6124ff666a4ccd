"""The Poisson and Cox models: their losses, the concordance index, and the estimators."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_tweedie_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_l0 import (
    L0CoxRegressor,
    L0CoxRegressorCV,
    L0PoissonRegressor,
    L0PoissonRegressorCV,
)
from sklearn_l0.losses import cox_nll, cox_nll_efron, poisson_nll
from sklearn_l0.metrics import concordance_index

# ----------------------------------------------------------------------------- data


def tied_survival(seed: int = 0, n: int = 40):
    """Times on a coarse grid (many ties), about a third censored, and row weights."""
    rng = np.random.default_rng(seed)
    time = rng.integers(0, 8, n).astype(np.float64)
    event = (rng.random(n) < 0.65).astype(np.float64)
    event[0] = 1.0
    return time, event, rng.uniform(0.5, 2.0, n), rng.normal(size=n)


def cox_data(seed: int = 0, n: int = 600, p: int = 15):
    """Exponential times with log hazard ``0.8 x3 - 0.6 x11``, about 40% censored."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    time = rng.exponential(np.exp(-(0.8 * X[:, 3] - 0.6 * X[:, 11])))
    censor = rng.exponential(2.0, size=n)
    return X, np.column_stack([np.minimum(time, censor), time <= censor])


def poisson_data(seed: int = 0, n: int = 600, p: int = 15):
    """Counts with log mean ``0.5 + 0.6 x2 - 0.4 x7``."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    return X, rng.poisson(np.exp(0.5 + 0.6 * X[:, 2] - 0.4 * X[:, 7])).astype(np.float64)


def encoded(time, event):
    code = np.unique(time, return_inverse=True)[1]
    return torch.tensor(np.column_stack([code, event]), dtype=torch.float64)


def reference_nll(time, event, w, eta, efron: bool) -> float:
    """The weighted negative log partial likelihood / n, summed pair by pair."""
    total = 0.0
    for t in np.unique(time[event > 0]):
        at_risk = time >= t
        tied = np.flatnonzero((time == t) & (event > 0))
        risk = np.sum(w[at_risk] * np.exp(eta[at_risk]))
        tied_risk = np.sum(w[tied] * np.exp(eta[tied]))
        d = len(tied)
        shares = np.arange(d) / d if efron else np.zeros(d)
        log_risk = np.mean(np.log(risk - shares * tied_risk))
        total += np.sum(w[tied] * (eta[tied] - log_risk))
    return -total / len(time)


# ----------------------------------------------------------------------------- losses


@pytest.mark.parametrize("efron", [False, True], ids=["breslow", "efron"])
def test_cox_loss_equals_the_partial_likelihood_summed_pair_by_pair(efron):
    time, event, w, eta = tied_survival()
    loss = (cox_nll_efron if efron else cox_nll)(
        torch.tensor(eta)[:, None], encoded(time, event), torch.tensor(w)
    )
    assert float(loss) == pytest.approx(reference_nll(time, event, w, eta, efron), rel=1e-12)


def test_ties_breslow_and_efron_agree_without_ties_and_differ_with_them():
    time, event, w, eta = tied_survival()
    args = torch.tensor(eta)[:, None], encoded(time, event), torch.tensor(w)
    assert float(cox_nll(*args)) > float(cox_nll_efron(*args))  # Efron: smaller risk sets
    distinct = np.arange(len(time), dtype=np.float64)
    args = torch.tensor(eta)[:, None], encoded(distinct, event), torch.tensor(w)
    assert float(cox_nll(*args)) == pytest.approx(float(cox_nll_efron(*args)), rel=1e-12)


def test_efron_does_not_depend_on_the_order_of_tied_rows():
    time, event, w, eta = tied_survival()
    order = np.random.default_rng(1).permutation(len(time))
    losses = [
        float(cox_nll_efron(torch.tensor(eta[o])[:, None], encoded(time[o], event[o]), w_))
        for o, w_ in [(np.arange(len(time)), torch.tensor(w)), (order, torch.tensor(w[order]))]
    ]
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)


def test_cox_loss_of_a_grid_is_each_models_loss():
    time, event, w, eta = tied_survival()
    out = torch.tensor(np.stack([eta, 2 * eta, -eta], axis=1))[:, :, None]  # 3 models
    y = encoded(time, event)[:, None, :]
    grid = cox_nll_efron(out, y, torch.tensor(w)[:, None])
    single = [cox_nll_efron(out[:, m], y[:, 0], torch.tensor(w)) for m in range(3)]
    np.testing.assert_allclose(grid.numpy(), [float(s) for s in single], rtol=1e-12)


def test_cox_loss_matches_lifelines_log_likelihood():
    lifelines = pytest.importorskip("lifelines")
    import pandas as pd

    time, event, _, _ = tied_survival(n=80)
    X = np.random.default_rng(2).normal(size=(80, 2))
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(T=time + 1.0, E=event)
    fitted = lifelines.CoxPHFitter().fit(frame, "T", "E")  # Efron's ties
    eta = torch.tensor(X @ fitted.params_.to_numpy())[:, None]
    loss = cox_nll_efron(eta, encoded(time, event), torch.ones(80, dtype=torch.float64))
    assert -80 * float(loss) == pytest.approx(fitted.log_likelihood_, rel=1e-6)


@pytest.mark.parametrize(
    "loss_fn, y",
    [
        (cox_nll, encoded(*tied_survival()[:2])),
        (cox_nll_efron, encoded(*tied_survival()[:2])),
        (poisson_nll, torch.tensor(np.c_[np.arange(40) % 5, np.full(40, 0.3)])),
    ],
    ids=["cox_breslow", "cox_efron", "poisson"],
)
def test_loss_gradients_match_finite_differences(loss_fn, y):
    rng = np.random.default_rng(3)
    out = torch.tensor(rng.normal(size=(40, 1)), requires_grad=True)
    w = torch.tensor(rng.uniform(0.5, 2.0, 40))
    assert torch.autograd.gradcheck(lambda o: loss_fn(o, y, w), (out,))


# ----------------------------------------------------------------------------- concordance


def test_concordance_index_counts_pairs_as_harrell_defines_them():
    time, event, _, risk = tied_survival(n=30)
    risk = np.round(risk, 1)  # some tied scores: they count one half
    concordant = comparable = 0.0
    for i in np.flatnonzero(event):
        for j in range(len(time)):
            if time[i] < time[j]:
                comparable += 1
                concordant += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0
    got = concordance_index(time, event, risk, chunk_size=7)
    assert got == pytest.approx(concordant / comparable)


def test_concordance_index_without_comparable_pairs_raises():
    with pytest.raises(ValueError, match="no comparable pair"):
        concordance_index([1.0, 2.0], [0, 0], [0.1, 0.2])


# ----------------------------------------------------------------------------- Poisson


def test_poisson_finds_the_support_and_the_coefficients():
    X, y = poisson_data()
    reg = L0PoissonRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [2, 7])
    np.testing.assert_allclose(reg.coef_[[2, 7]], [0.6, -0.4], atol=0.08)
    np.testing.assert_allclose(reg.predict(X), np.exp(X @ reg.coef_ + reg.intercept_))
    expected = d2_tweedie_score(y, reg.predict(X), power=1)
    assert reg.score(X, y) == pytest.approx(expected) and expected > 0.15


def test_poisson_rates_with_exposure_weights_fit_the_counts():
    """``y / exposure`` with ``sample_weight=exposure``: sklearn's convention for rates."""
    X, _ = poisson_data()
    rng = np.random.RandomState(1)
    exposure = rng.uniform(0.5, 3.0, len(X))
    counts = rng.poisson(exposure * np.exp(0.5 + 0.6 * X[:, 2] - 0.4 * X[:, 7]))
    reg = L0PoissonRegressor(random_state=0).fit(X, counts / exposure, sample_weight=exposure)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [2, 7])
    np.testing.assert_allclose(reg.coef_[[2, 7]], [0.6, -0.4], atol=0.08)


def test_poisson_sparse_input_fits_as_dense():
    X, y = poisson_data(n=300)
    X[np.abs(X) < 1.0] = 0.0
    dense = L0PoissonRegressor(alpha=0.01, random_state=0).fit(X, y)
    sparse = L0PoissonRegressor(alpha=0.01, random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.support_, sparse.support_)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=1e-6)


def test_poisson_partial_fit_learns_over_passes():
    X, y = poisson_data()
    reg = L0PoissonRegressor(alpha=0.005, learning_rate=0.05, random_state=0)
    first = None
    for _ in range(150):
        for rows in np.array_split(np.arange(len(X)), 3):
            reg.partial_fit(X[rows], y[rows])
        first = reg.score(X, y) if first is None else first
    assert reg.score(X, y) > first + 0.1
    assert {2, 7} <= set(np.flatnonzero(reg.support_))


def test_poisson_cv_chooses_the_support():
    X, y = poisson_data()
    reg = L0PoissonRegressorCV(alphas=8, cv=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [2, 7])
    assert reg.score_path_.shape == (8, 3) and reg.alpha_ in reg.alphas_


# ----------------------------------------------------------------------------- Cox


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_finds_the_support_and_the_log_hazard_ratios(ties):
    X, y = cox_data()
    cox = L0CoxRegressor(ties=ties, random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(cox.support_), [3, 11])
    np.testing.assert_allclose(cox.coef_[[3, 11]], [0.8, -0.6], atol=0.12)
    risk = cox.predict(X)
    np.testing.assert_allclose(risk, X @ cox.coef_ - cox.offset_)
    assert abs(risk.mean()) < 1e-9  # centered on the training rows
    assert cox.score(X, y) == pytest.approx(concordance_index(y[:, 0], y[:, 1], risk))


def test_cox_takes_scikit_survival_structured_y_and_times_alone():
    X, y = cox_data(n=300)
    records = np.array(
        list(zip(y[:, 1].astype(bool), y[:, 0], strict=True)),
        dtype=[("Status", "?"), ("Survival_in_days", "<f8")],
    )
    columns = L0CoxRegressor(random_state=0).fit(X, y)
    structured = L0CoxRegressor(random_state=0).fit(X, records)
    np.testing.assert_array_equal(columns.coef_, structured.coef_)
    uncensored = L0CoxRegressor(random_state=0).fit(X, np.c_[y[:, 0], np.ones(len(y))])
    times_only = L0CoxRegressor(random_state=0).fit(X, y[:, 0])
    np.testing.assert_array_equal(uncensored.coef_, times_only.coef_)


def test_cox_weights_equal_repeated_rows():
    X, y = cox_data(n=200)
    w = np.random.RandomState(0).randint(1, 3, len(X))
    params = dict(alpha=0.02, random_state=0, max_iter=300)
    weighted = L0CoxRegressor(**params).fit(X, y, sample_weight=w)
    repeated = L0CoxRegressor(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    np.testing.assert_array_equal(weighted.support_, repeated.support_)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-7)


def test_cox_has_no_partial_fit():
    assert not hasattr(L0CoxRegressor(), "partial_fit")


def test_cox_in_pipeline_grid_search_and_pickle():
    X, y = cox_data(n=300)
    pipe = make_pipeline(StandardScaler(), L0CoxRegressor(random_state=0))
    search = GridSearchCV(pipe, {"l0coxregressor__alpha": [0.003, 0.03, "ebic"]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.6  # the concordance index of held-out folds
    assert np.all(cross_val_score(L0CoxRegressor(random_state=0), X, y, cv=3) > 0.6)
    loaded = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(loaded.predict(X), search.best_estimator_.predict(X))


def test_cox_cv_scores_folds_by_held_out_partial_likelihood():
    X, y = cox_data()
    cox = L0CoxRegressorCV(alphas=8, cv=3, random_state=0).fit(X, y)
    assert {3, 11} <= set(np.flatnonzero(cox.support_))
    assert np.all(cox.score_path_ < 0)  # log partial likelihoods per held-out row
    by_cindex = clone(cox).set_params(scoring=L0CoxRegressor.score).fit(X, y)
    assert np.all((by_cindex.score_path_ > 0.4) & (by_cindex.score_path_ < 1))


def test_cox_sparse_input_fits_as_dense():
    X, y = cox_data(n=300)
    X[np.abs(X) < 1.0] = 0.0
    dense = L0CoxRegressor(alpha=0.01, random_state=0).fit(X, y)
    sparse = L0CoxRegressor(alpha=0.01, random_state=0).fit(sp.csc_matrix(X), y)
    np.testing.assert_array_equal(dense.support_, sparse.support_)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=1e-6)


def test_cox_baseline_is_breslows_estimate_summed_event_by_event():
    time, event, w, _ = tied_survival(n=60)
    X = np.random.default_rng(3).normal(size=(60, 3))
    cox = L0CoxRegressor(alpha=0.0, random_state=0).fit(X, np.c_[time, event], w)
    risk = np.exp(cox.predict(X))
    event_times = np.unique(time[event > 0])
    steps = [
        w[(time == t) & (event > 0)].sum() / np.sum(w * risk * (time >= t)) for t in event_times
    ]
    np.testing.assert_array_equal(cox.unique_times_, event_times)
    np.testing.assert_allclose(cox.cum_baseline_hazard_, np.cumsum(steps), rtol=1e-10)

    hazards = cox.predict_cumulative_hazard_function(X[:4], return_array=True)
    np.testing.assert_allclose(hazards, risk[:4, None] * np.cumsum(steps), rtol=1e-10)
    survival = cox.predict_survival_function(X[:4])
    probe = np.r_[event_times[0] - 1.0, event_times, event_times[-1] + 5.0]
    for fn, h in zip(survival, hazards, strict=True):
        expected = np.r_[1.0, np.exp(-h), np.exp(-h[-1])]  # 1 before, last value after
        np.testing.assert_allclose(fn(probe), expected, rtol=1e-10)
        assert np.all(np.diff(fn(probe)) <= 0)


def test_cox_survival_function_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    import pandas as pd

    X, y = cox_data(n=300)
    X = X[:, [3, 11]]
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(T=y[:, 0], E=y[:, 1])
    reference = lifelines.CoxPHFitter(baseline_estimation_method="breslow")
    reference.fit(frame, "T", "E")
    cox = L0CoxRegressor(alpha=0.0, weight_decay=0.0, ties="efron", random_state=0).fit(X, y)
    np.testing.assert_allclose(cox.coef_, reference.params_.to_numpy(), atol=1e-3)
    times = cox.unique_times_[[5, 50, 150]]  # event times: lifelines interpolates between
    expected = reference.predict_survival_function(frame.iloc[:5], times=times).to_numpy().T
    got = np.stack([fn(times) for fn in cox.predict_survival_function(X[:5])])
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_cox_cv_folds_are_stratified_by_event():
    X, y = cox_data(n=200)
    y[:, 1] = np.arange(200) % 5 == 0  # 20% events, in a regular pattern KFold would split unevenly
    folds = L0CoxRegressorCV(cv=4)._folds(X, y)
    assert [int(y[test, 1].sum()) for _, test in folds] == [10, 10, 10, 10]
    cox = L0CoxRegressorCV(alphas=4, cv=4, random_state=0).fit(X, y)
    assert cox.predict_survival_function(X[:2], return_array=True).shape == (2, 40)


def test_cox_criteria_count_the_events_as_the_sample_size():
    X, y = cox_data(n=400)
    cox = L0CoxRegressor(alpha="bic", random_state=0).fit(X, y)
    n_events = int(y[:, 1].sum())
    assert n_events < 300
    assert cox.alpha_ == pytest.approx(np.log(n_events) / (2 * len(X)))
    ebic = L0CoxRegressor(random_state=0).fit(X, y)
    assert ebic.alpha_ == pytest.approx((np.log(n_events) + 2 * np.log(15)) / (2 * len(X)))


@pytest.mark.filterwarnings("ignore::sklearn_l0.AllFeaturesPrunedWarning")
def test_cox_in_scikit_survival_scorers():
    metrics = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    X, y = cox_data(n=300)
    records = Surv.from_arrays(y[:, 1].astype(bool), y[:, 0])
    times = np.quantile(y[:, 0], [0.2, 0.4, 0.6])
    grid = {"estimator__alpha": [0.3, "ebic"]}  # 0.3 keeps no feature
    for scorer, empty in [
        (metrics.as_integrated_brier_score_scorer(L0CoxRegressor(random_state=0), times), None),
        (metrics.as_concordance_index_ipcw_scorer(L0CoxRegressor(random_state=0)), 0.5),
        (metrics.as_cumulative_dynamic_auc_scorer(L0CoxRegressor(random_state=0), times), 0.5),
    ]:
        search = GridSearchCV(scorer, grid, cv=3).fit(X, records)
        assert search.best_params_ == {"estimator__alpha": "ebic"}
        scores = search.cv_results_["mean_test_score"]
        if empty is not None:
            assert scores[0] == pytest.approx(empty) and scores[1] > 0.65


def test_poisson_with_more_candidates_than_rows_finds_the_support():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 400)
    y = rng.poisson(np.exp(0.3 + 0.5 * X[:, 10] - 0.5 * X[:, 20] + 0.4 * X[:, 30]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the gates settle in max_iter
        reg = L0PoissonRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(reg.support_), [10, 20, 30])
