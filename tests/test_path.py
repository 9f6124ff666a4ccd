"""The networks' price path (sklearn_l0.path): its schedule, its rise and what it records."""

import math
import warnings
from itertools import pairwise

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from test_training import OPTIONS, _fit, _layer, _problem

from sklearn_l0 import L0MLPClassifier, L0MLPRegressor, PriceSchedule
from sklearn_l0.path import PricePath, importances, resolve_schedule
from sklearn_l0.training import Convergence


def _walk(layer, data, schedule=None, max_iter=2000, **aim):
    path = PricePath(layer, schedule or PriceSchedule())
    path.aim(**aim)
    history, _ = _fit(layer, data, policies=[Convergence(), path], max_iter=max_iter)
    return path, history


def test_the_price_rises_to_alpha_before_the_model_settles():
    """From a tenth of 0.3 (the schedule's span) the price rises 1% a step to 0.3; the
    model is settled only once it has arrived, and the true features stay."""
    layer = _layer()
    path, history = _walk(layer, _problem(), price=0.3)
    assert path.prices[0] == pytest.approx(0.03, rel=0.2)
    steps = math.ceil(math.log(10) / 0.01)  # 231 full-batch steps to arrive
    assert history.converged and history.n_iter > steps
    assert path.price == pytest.approx(0.3)
    assert layer.l0 == 0.0  # the price is the path's term until it is handed back
    path.hand_back()
    assert layer.l0 == pytest.approx(0.3)
    assert (layer.gate.deterministic() > 0).tolist() == [True] * 3 + [False] * 7


def test_the_path_records_shrinking_supports_and_when_each_gate_closed():
    """Along a rising price the recorded supports only lose features, the first support
    is every feature (at the start price), the last the 3 true ones; the 7 others closed
    at lower prices than any price at which the true ones were seen open."""
    layer = _layer()
    path, _ = _walk(layer, _problem(), price=0.3)
    sizes = [int(s.sum()) for s in path.supports]
    assert sizes[0] == 10 and sizes[-1] == 3
    assert all(b <= a for a, b in pairwise(sizes))
    assert all(b >= a for a, b in pairwise(path.prices))
    assert all(np.all(b <= a) for a, b in pairwise(path.supports))
    closed = path.open_price.numpy()
    assert closed[3:].max() < path.price and np.all(closed[:3] == pytest.approx(path.price))
    kept = layer.gate.is_open()
    ranks = importances(path, kept, path.price, path.open_price.clone())
    assert set(np.argsort(-ranks)[:3]) == {0, 1, 2} and ranks[:3].min() > 0.3


def test_a_count_stops_the_rise_at_the_first_support_of_at_most_count():
    layer = _layer(l0=0.0)
    path, history = _walk(layer, _problem(), count=2)
    assert history.converged and path.unmet() is None
    assert int(layer.gate.is_open().sum()) <= 2 and path.price > 1e-3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "n, schedule, gate_step",
    [
        (200, PriceSchedule(), 1.0),
        (8, PriceSchedule(), 5.0),
        (8, PriceSchedule(wide_gate_step=2), 2),
    ],
)
def test_gates_step_faster_where_they_outnumber_the_rows(n, schedule, gate_step):
    """Adam's first step moves every parameter by about its step size: the weights by the
    learning rate, the 10 gates by ``wide_gate_step`` times it once there are fewer rows."""
    layer = _layer()
    weight, log_alpha = layer.weight.detach().clone(), layer.gate.log_alpha.detach().clone()
    _walk(layer, _problem(n=n), schedule, max_iter=1, count=3)
    lr = OPTIONS["learning_rate"]
    assert (layer.weight.detach() - weight).abs().max() == pytest.approx(lr, rel=1e-3)
    moved = (layer.gate.log_alpha.detach() - log_alpha).abs()
    assert moved.max() == pytest.approx(gate_step * lr, rel=1e-3)


@pytest.mark.parametrize("batch_size, rise", [(200, 0.01), (20, 0.1), (5, 0.1)])
def test_the_price_rises_at_most_epoch_rise_an_epoch(batch_size, rise):
    """1% a step, but no more than 10% over an epoch's mini-batches (40 of them at 5 rows):
    the gates, which lag the price, are weighed on every row before it moves far."""
    layer = _layer()
    path = PricePath(layer, PriceSchedule())
    path.aim(count=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _fit(layer, _problem(), policies=[path], max_iter=1, batch_size=batch_size)
    assert int(layer.gate.is_open().sum()) == 10  # every step rose at the full rate
    assert path.price == pytest.approx(1e-3 * math.exp(rise), rel=1e-4)


def test_a_path_goes_on_from_where_the_last_call_left_it():
    """Aimed at one price then a higher one, the second call starts where the first ended."""
    layer = _layer()
    path, _ = _walk(layer, _problem(), price=0.01)
    assert path.price == pytest.approx(0.01)
    path.aim(price=0.02)
    _fit(layer, _problem(), policies=[Convergence(), path], max_iter=2000)
    assert path.price == pytest.approx(0.02) and path.prices[0] == pytest.approx(1e-3, rel=0.2)
    assert path.prices[-1] > 0.01


@pytest.mark.parametrize(
    "schedule, message",
    [
        ({"step_rise": -0.01}, r"PriceSchedule\.step_rise must be a positive finite number"),
        ({"start": float("nan")}, r"PriceSchedule\.start must be"),
        ({"wide_gate_step": "fast"}, r"PriceSchedule\.wide_gate_step must be"),
        ({"rise": 0.1}, r"schedule has no field 'rise'; the fields of PriceSchedule are start"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(schedule, message):
    with pytest.raises(ValueError, match=message):
        resolve_schedule(schedule)
    X, y = np.random.RandomState(0).randn(40, 3), np.arange(40) % 2
    est = L0MLPClassifier((4,), schedule=schedule, max_iter=2, device="cpu")
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)
    assert not hasattr(est, "n_features_in_")


def test_a_schedule_given_as_a_parameter_changes_the_fit():
    """A start above alpha starts the path at alpha: no rise, fewer epochs, another record;
    by default it starts a tenth of the way (the span) below alpha."""
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    y = X[:, 0] + 0.5 * X[:, 1] + 0.1 * rng.randn(300)
    params = dict(hidden_layer_sizes=(8,), alpha=0.05, device="cpu", random_state=0)
    walked = L0MLPRegressor(**params).fit(X, y)
    direct = L0MLPRegressor(schedule=PriceSchedule(start=1.0), **params).fit(X, y)
    as_dict = L0MLPRegressor(schedule={"start": 1.0}, **params).fit(X, y)
    assert walked.path_alphas_[0] == pytest.approx(0.005, rel=0.2)
    assert direct.path_alphas_[0] == pytest.approx(0.05)
    assert direct.n_iter_ != walked.n_iter_
    np.testing.assert_array_equal(direct.loss_curve_, as_dict.loss_curve_)
    assert torch.get_default_dtype() == torch.float32
