"""The training loop and its policies (sklearn_l0.training), on small torch problems."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_l0.data import Dataset
from sklearn_l0.gates import LOG_ALPHA_RANGE
from sklearn_l0.grid import GatedLinearStack
from sklearn_l0.losses import r2_score, squared_loss
from sklearn_l0.nn import L0Linear
from sklearn_l0.training import (
    Convergence,
    CountTarget,
    EarlyStopping,
    GatesSettled,
    GridRetirement,
    History,
    ParameterAveraging,
    Policy,
    TrainingDivergedError,
    adam_optimizer,
    mean_over_batches,
    own_step,
    train,
)

OPTIONS = dict(max_iter=400, tol=1e-4, n_iter_no_change=20, learning_rate=0.05)


def _problem(n=200, p=10, k=3, seed=0):
    """Standardized regression data where the first ``k`` of ``p`` features matter."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=gen)
    y = X[:, :k].sum(dim=1, keepdim=True) / math.sqrt(k) + 0.3 * torch.randn(n, 1, generator=gen)
    y = (y - y.mean()) / y.std()
    return Dataset(X, y, torch.ones(n))


def _layer(p=10, l0=0.02):
    return L0Linear(p, 1, l0=l0, l2=1e-3, generator=torch.Generator().manual_seed(0))


def _fit(module, data, **kwargs):
    generator = torch.Generator().manual_seed(0)
    options = {**OPTIONS, "batch_size": data.n_samples, **kwargs}
    return train(module, squared_loss, data, generator=generator, **options)


class Recorder(Policy):
    """Records the hooks the loop calls; adds a constant ``penalty`` to the objective."""

    def __init__(self, penalty=0.0):
        self.calls, self.constant = [], penalty

    def begin(self, run):
        self.calls.append("begin")

    def penalty(self):
        return self.constant

    def after_step(self, run):
        self.calls.append("step")

    def settle(self, run, settled):
        self.calls.append("settle")
        return settled

    def after_check(self, run, stale):
        self.calls.append("after_check")

    def end(self, run):
        self.calls.append("end")


def test_convergence_stops_once_objective_and_gates_settle():
    data, layer = _problem(), _layer()
    history, _ = _fit(layer, data)
    assert history.converged and history.n_iter < OPTIONS["max_iter"]
    assert (layer.gate.deterministic() > 0).tolist() == [True] * 3 + [False] * 7
    assert len(history.loss_curve) == len(history.n_open_curve) == history.n_iter
    assert history.n_open_curve[-1] == 3


def test_without_a_generator_the_gates_draw_from_their_own():
    """``train`` called without ``generator`` (as a torch user may) leaves each gate's own
    generator in place: the run is reproducible from the modules' seeds alone."""
    data = _problem()
    layers = [_layer(), _layer()]
    for layer in layers:
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the shuffle draws from torch's global generator here
            train(layer, squared_loss, data, batch_size=50, **OPTIONS)
        assert isinstance(layer.gate.generator, torch.Generator)
    torch.testing.assert_close(layers[0].weight, layers[1].weight, rtol=0, atol=0)
    assert (layers[0].gate.deterministic() > 0).tolist() == [True] * 3 + [False] * 7


def test_max_iter_warns_with_what_training_waited_for():
    with pytest.warns(ConvergenceWarning, match="before the objective and the gates settled"):
        history, _ = _fit(_layer(), _problem(), max_iter=5)
    assert not history.converged and history.n_iter == 5


def test_gates_settled_waits_while_the_expected_open_count_moves():
    """Unsettled from the check where the gates' expected open count has moved by a gate
    since the streak began, and whenever the previous policies say so."""
    layer = _layer()
    with torch.no_grad():
        layer.gate.log_alpha.zero_()  # P(z != 0) = 0.83, moving 0.14 per unit of log_alpha
    run = SimpleNamespace(module=layer, optimizer=adam_optimizer(list(layer.parameters()), 0.01))
    run.shape = ()
    policy, yes = GatesSettled(), np.ones((), bool)
    policy.begin(run)
    expected = lambda: float(layer.gate.prob_nonzero().sum())  # noqa: E731
    start = expected()
    assert policy.settle(run, yes) and policy.unmet() is None
    with torch.no_grad():
        layer.gate.log_alpha -= 0.4  # a drift of less than one gate since the start
    assert 0.3 < start - expected() < 1.0
    assert policy.settle(run, yes)
    with torch.no_grad():
        layer.gate.log_alpha -= 0.4  # more than one gate since the streak began
    assert start - expected() > 1.0
    assert not policy.settle(run, yes) and "gates settled" in policy.unmet()
    assert policy.settle(run, yes)  # a new streak, from where the gates are now
    assert not policy.settle(run, ~yes)  # the previous policies' verdict stands
    with torch.no_grad():
        layer.gate.log_alpha -= 0.4
    assert policy.settle(run, yes)  # measured from the check the streak (re)started


@pytest.mark.parametrize("top", [False, True])
def test_gates_settled_waits_while_adam_steps_a_gate_one_way(top):
    """A gate far inside its open range (P(z != 0) about 1, the test-time gate 1) moves
    nothing the other rules watch; Adam stepping it toward closing, step after step, is
    unsettled. Stepped open (and held at the top of its range), it is settled."""
    layer = _layer()
    with torch.no_grad():
        layer.gate.log_alpha.fill_(LOG_ALPHA_RANGE[1] if top else 4.0)
    optimizer = adam_optimizer([layer.gate.log_alpha], 0.01)
    run = SimpleNamespace(module=layer, optimizer=optimizer, shape=())
    policy, yes = GatesSettled(), np.ones((), bool)
    policy.begin(run)
    for _ in range(20):  # a price pushes every gate shut (a data gradient, up, if top)
        optimizer.zero_grad()
        ((-1.0 if top else 1.0) * layer.gate.prob_nonzero().sum()).backward()
        optimizer.step()
        layer.gate.constrain_()
    if top:
        assert policy.settle(run, yes)
    else:
        assert abs(float(layer.gate.prob_nonzero().sum()) - 10 * 0.996) < 0.05
        assert not policy.settle(run, yes) and "gates settled" in policy.unmet()


def test_hooks_are_called_in_order_and_end_runs_on_failure():
    data = _problem()
    recorder = Recorder()
    history, _ = _fit(_layer(), data, policies=[Convergence(), recorder], max_iter=30)
    calls = recorder.calls
    assert calls[0] == "begin" and calls[-1] == "end"
    assert calls.count("step") == history.n_iter  # full batch: one step per epoch
    checks = calls.count("settle")
    assert checks == math.ceil(history.n_iter / 10)  # a check every CHECK_STEPS steps
    assert calls.count("after_check") == checks - history.converged  # not after the last

    broken = Recorder(penalty=float("nan"))
    with pytest.raises(TrainingDivergedError, match="non-finite"):
        _fit(_layer(), data, policies=[broken])
    assert broken.calls[0] == "begin" and broken.calls[-1] == "end"


def test_a_policy_penalty_enters_the_training_objective_only():
    data = _problem()
    plain, _ = _fit(_layer(), data, max_iter=20, n_iter_no_change=20)
    shifted, _ = _fit(
        _layer(),
        data,
        max_iter=20,
        n_iter_no_change=20,
        policies=[Convergence(), Recorder(penalty=3.0)],
    )
    np.testing.assert_allclose(np.subtract(shifted.loss_curve, plain.loss_curve), 3.0, rtol=1e-5)


def test_early_stopping_keeps_the_best_scoring_parameters():
    data = _problem(n=300)
    train_part = Dataset(data.X[:60], data.y[:60], data.w[:60])  # few rows: it overfits
    validation = Dataset(data.X[60:], data.y[60:], data.w[60:])
    layer = L0Linear(10, 1, l0=0.0)
    policy = EarlyStopping(validation, r2_score)
    history, _ = _fit(layer, train_part, policies=[policy], learning_rate=0.02)
    assert history.converged and policy.restored_best
    assert len(history.validation_scores) == history.n_iter
    assert history.best_validation_score == max(history.validation_scores)
    score = float(mean_over_batches(layer, r2_score, validation, 60))  # as the loop scores
    assert score == pytest.approx(history.best_validation_score, abs=1e-6)


@pytest.mark.parametrize("start, count", [(0.02, 1), (2.0, 3)])
def test_count_target_moves_the_price_until_count_gates_are_open(start, count):
    layer = _layer(l0=start)
    policy = CountTarget(layer, count)
    history, _ = _fit(layer, _problem(), policies=[Convergence(), policy], max_iter=2000)
    n_open = int((layer.gate.deterministic() > 0).sum())
    # Met within 10% or one gate (the estimator then keeps exactly the most open ones).
    assert history.converged and abs(n_open - count) <= 1 and policy.unmet() is None
    assert layer.l0 == 0.0  # the price is the policy's term, not the layer's
    if count < 3:  # fewer than the 3 true features: dearer than where it started
        assert policy.price > start
    else:  # from a price that shuts every gate down to one that keeps the 3
        assert policy.price < start


@pytest.mark.parametrize("alone", [False, True])
def test_own_step_is_undone_to_a_fresh_optimizers_layout(alone):
    """The undo puts the parameter back in its place: the state dict then loads into a
    fresh optimizer over the same parameters (as partial_fit's does), with its state."""
    params = [torch.nn.Parameter(torch.zeros(3)) for _ in range(1 if alone else 3)]
    optimizer = torch.optim.Adam(params, lr=0.01)
    undo = own_step(optimizer, params[-1], 5.0)
    assert [g["lr"] for g in optimizer.param_groups][-1] == pytest.approx(0.05)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    undo()
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    assert optimizer.param_groups[0]["params"] == params
    fresh = torch.optim.Adam(params, lr=0.01)
    fresh.load_state_dict(optimizer.state_dict())
    assert fresh.state[params[-1]]["step"] == 1
    with pytest.raises(ValueError, match="not in the optimizer"):
        own_step(optimizer, torch.nn.Parameter(torch.zeros(1)), 5.0)


def test_count_target_unmet_is_named_in_the_warning():
    layer = _layer(l0=0.02)
    with pytest.warns(ConvergenceWarning, match=r"about 8 feature gates were open \(\d+ are"):
        _fit(layer, _problem(), policies=[Convergence(), CountTarget(layer, 8)], max_iter=10)


def test_grid_retirement_shrinks_then_restores_the_grid():
    data = _problem()
    l0 = torch.tensor([[2.0], [0.02], [0.0]])  # all shut; the true 3; all open
    stack = GatedLinearStack(10, 1, (3, 1), l0=l0, l2=1e-3)
    grid_data = Dataset(data.X, data.y[:, None, None], data.w[:, None, None])
    sizes = []

    class Watch(Policy):
        def after_check(self, run, stale):
            sizes.append(stack.weight.shape[0])

    history, optimizer = _fit(
        stack, grid_data, policies=[Convergence(), GridRetirement(), Watch()], max_iter=600
    )
    assert min(sizes) < 3  # some models left the computation before the end
    assert stack.active is None and stack.weight.shape == (3, 1, 10, 1)
    assert optimizer.param_groups[0]["params"][0] is stack.weight
    open_counts = stack.open_mask().sum(-1)[:, 0].tolist()
    assert open_counts[0] == 0 and open_counts[1] == 3 and open_counts[2] == 10
    assert history.member((1, 0)).n_open_curve[-1] == 3


def test_history_joins_and_picks_members():
    first = History(2, [1.0, 0.5], [3, 3])
    joined = first.extend(History(1, [0.4], [2]))
    assert joined.n_iter == 3 and joined.loss_curve == [1.0, 0.5, 0.4]
    grid = History(2, [[[1.0, 2.0]], [[3.0, 4.0]]], [[[5, 6]], [[7, 8]]])
    member = grid.member((0, 1))
    assert member.loss_curve == [2.0, 4.0] and member.n_open_curve == [6, 8]


class ParamRecorder(Policy):
    """Records the parameters after every optimizer step."""

    def begin(self, run):
        self.steps = []

    def after_step(self, run):
        self.steps.append([p.detach().clone() for p in run.module.parameters()])


def test_parameter_averaging_ends_with_the_moving_average_of_the_steps():
    data = _problem()
    layer = _layer()
    recorder, decay = ParamRecorder(), 0.8
    _fit(
        layer,
        data,
        batch_size=50,
        max_iter=3,
        n_iter_no_change=3,
        policies=[Convergence(), recorder, ParameterAveraging(decay)],
    )
    average = recorder.steps[0]  # the first step's parameters start the average
    for step in recorder.steps[1:]:
        average = [decay * a + (1 - decay) * p for a, p in zip(average, step, strict=True)]
    for param, expected in zip(layer.parameters(), average, strict=True):
        torch.testing.assert_close(param.detach(), expected)
    assert not torch.equal(layer.weight.detach(), recorder.steps[-1][0])
