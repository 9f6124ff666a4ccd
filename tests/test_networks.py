"""Gated torch modules: forward modes, penalties, compaction."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_l0 import networks
from sklearn_l0._predict import mlp_forward
from sklearn_l0.data import Dataset, SparseRows
from sklearn_l0.gates import hard_concrete, logistic_noise
from sklearn_l0.grid import GatedLinearStack
from sklearn_l0.losses import squared_loss
from sklearn_l0.networks import NARROW_FRACTION, GatedMLP
from sklearn_l0.nn import L0Linear
from sklearn_l0.nn.layers import ColumnPicker
from sklearn_l0.training import adam_optimizer, train


def _with_some_closed_gates(module, generator):
    with torch.no_grad():
        for layer in module.layers if isinstance(module, GatedMLP) else [module]:
            n = layer.gate.log_alpha.numel()
            layer.gate.log_alpha.copy_(torch.rand(n, generator=generator) * 8 - 4)


def test_gated_linear_eval_equals_effective_weight():
    gen = torch.Generator().manual_seed(0)
    layer = L0Linear(6, 2)
    layer.reset_parameters(gen)
    _with_some_closed_gates(layer, gen)
    layer.eval()
    x = torch.randn(5, 6, generator=gen)
    expected = x @ layer.effective_weight() + layer.bias
    torch.testing.assert_close(layer(x), expected)
    closed = layer.gate.deterministic() == 0
    assert closed.any() and torch.all(layer.effective_weight()[closed] == 0)


def test_input_offset_centers_implicitly():
    gen = torch.Generator().manual_seed(1)
    offset = torch.randn(4, generator=gen)
    centered, implicit = L0Linear(4, 3), L0Linear(4, 3, input_offset=offset)
    centered.reset_parameters(gen)
    implicit.load_state_dict(centered.state_dict(), strict=False)
    centered.eval(), implicit.eval()
    x = torch.randn(7, 4, generator=gen)
    torch.testing.assert_close(implicit(x), centered(x - offset))


def test_regularization_is_expected_l0_plus_expected_l2():
    layer = L0Linear(3, 2, l0=0.5, l2=0.2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
        layer.gate.log_alpha.copy_(torch.tensor([0.0, 1.0, -1.0]))
    p = layer.gate.prob_nonzero()
    expected = 0.5 * p.sum() + 0.1 * (p * torch.tensor([1.0, 4.0, 2.0])).sum()
    torch.testing.assert_close(layer.regularization(), expected)


def test_mlp_compact_network_equals_gated_network_in_eval_mode():
    gen = torch.Generator().manual_seed(2)
    mlp = GatedMLP([12, 16, 8, 3], activation="tanh")
    mlp.reset_parameters(gen)
    _with_some_closed_gates(mlp, gen)
    mlp.double().eval()
    x = torch.randn(50, 12, generator=gen, dtype=torch.float64)
    kept, coefs, intercepts = mlp.compact()
    assert kept.sum() < 12 and coefs[0].shape[0] == kept.sum()
    assert coefs[0].shape[1] < 16 and coefs[1].shape[1] < 8  # hidden units removed
    expected = mlp(x).detach().numpy()
    got = mlp_forward(x.numpy()[:, kept], coefs, intercepts, "tanh")
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_mlp_forward_handles_sparse_input_in_chunks():
    rng = np.random.RandomState(0)
    coefs = [rng.randn(5, 4), rng.randn(4, 2)]
    intercepts = [rng.randn(4), rng.randn(2)]
    X = sp.random(23, 5, density=0.4, format="csr", random_state=0)
    dense = mlp_forward(X.toarray(), coefs, intercepts, "relu")
    np.testing.assert_allclose(mlp_forward(X, coefs, intercepts, "relu", chunk_size=4), dense)


def test_mlp_penalty_strengths_per_layer():
    mlp = GatedMLP([5, 4, 1], l0_input=1.0, l0_hidden=0.0)
    torch.testing.assert_close(mlp.regularization(), mlp.layers[0].gate.prob_nonzero().sum())


def test_mlp_per_layer_hidden_strengths():
    mlp = GatedMLP([5, 4, 3, 1], l0_input=0.0, l0_hidden=[1.0, 2.0])
    assert [layer.l0 for layer in mlp.layers] == [0.0, 1.0, 2.0]


def _stack(gen, batch_shape=(3, 2), n_in=40, n_out=1):
    scale = torch.rand(1, batch_shape[1], n_in, generator=gen) + 0.5
    offset = torch.randn(1, batch_shape[1], n_in, generator=gen)
    stack = GatedLinearStack(
        n_in,
        n_out,
        batch_shape,
        l0=torch.rand(batch_shape[0], 1, generator=gen),
        l2=0.1,
        scale=scale,
        offset=offset,
    )
    with torch.no_grad():
        stack.weight.copy_(torch.randn(stack.weight.shape, generator=gen))
        stack.bias.copy_(torch.randn(stack.bias.shape, generator=gen))
        # Most gates shut, as late in training: few columns are open in any model.
        open_ = torch.rand(stack.gate.log_alpha.shape, generator=gen) < 0.05
        stack.gate.log_alpha.copy_(torch.where(open_, 3.0, -4.6))
    return stack, scale, offset


def test_stack_members_compute_their_own_model():
    """Model (a, f) of a stack is its member L0Linear on the fold's re-standardized inputs."""
    gen = torch.Generator().manual_seed(0)
    stack, scale, offset = _stack(gen, n_out=2)
    stack.eval()
    x = torch.randn(9, 40, generator=gen)
    out = stack(x)
    assert out.shape == (9, 3, 2, 2)
    for a in range(3):
        for f in range(2):
            member = stack.member((a, f))
            torch.testing.assert_close(out[:, a, f], member(x * scale[0, f] - offset[0, f]))


def test_stack_skipping_shut_columns_changes_nothing(monkeypatch):
    """Leaving out the columns whose gate is zero in every model: same output, same gradients."""
    results = []
    for fractions in [(0.0, 0.0), (1.0, 1.0)]:  # never skip, always skip
        monkeypatch.setattr(ColumnPicker, "FRACTION", fractions)
        monkeypatch.setattr(ColumnPicker, "MIN_SAVED", 0)
        gen = torch.Generator().manual_seed(1)
        stack, _, _ = _stack(gen)
        stack.gate.generator = torch.Generator().manual_seed(2)
        x = torch.randn(30, 40, generator=gen)
        outputs = []
        for _ in range(3):  # the third call reads the cached transpose of x
            out = stack(x)
            (out.square().sum() + stack.regularization().sum()).backward()
            outputs.append(out.detach())
        grads = [p.grad.clone() for p in stack.parameters()]
        results.append((outputs, grads))
    (dense_out, dense_grads), (skip_out, skip_grads) = results
    for a, b in zip(dense_out + dense_grads, skip_out + skip_grads, strict=True):
        torch.testing.assert_close(a, b)
    assert any((g != 0).any() for g in dense_grads)


def test_stack_shares_the_gate_noise_across_models():
    """In training mode every model's gates are hard_concrete(log_alpha, one shared noise)."""
    gen = torch.Generator().manual_seed(3)
    stack, _, _ = _stack(gen, n_in=5)
    with torch.no_grad():
        stack.gate.log_alpha.fill_(0.0)  # every model alike: then every model draws alike
        stack.weight.fill_(1.0)
        stack.bias.zero_()
        stack.shift.zero_()
        stack.scale.fill_(1.0)
    stack.gate.generator = torch.Generator().manual_seed(4)
    out = stack(torch.eye(5)).detach()  # row j: gate j of every model
    assert torch.all(out == out[:, :1, :1])
    noise = logistic_noise(5, generator=torch.Generator().manual_seed(4))
    expected = hard_concrete(torch.zeros(5), noise)
    torch.testing.assert_close(out[:, 0, 0, 0], expected)


def test_grid_retires_models_and_restores_the_whole_grid():
    gen = torch.Generator().manual_seed(5)
    stack, _, _ = _stack(gen)
    optimizer = adam_optimizer(list(stack.parameters()), 0.1)
    x, y = torch.randn(20, 40, generator=gen), torch.randn(20, 1, 1, 1, generator=gen)

    def step():
        optimizer.zero_grad()
        (squared_loss(stack(x), y, torch.ones(20, 1, 1)) + stack.regularization()).sum().backward()
        optimizer.step()

    step()
    settled = np.zeros((3, 2), bool)
    settled[0, 1] = settled[2, 0] = True
    at_retirement = stack.weight.detach().clone()
    stack.retire(settled, optimizer)
    assert stack.weight.shape == (4, 40, 1) and stack.gate.log_alpha.shape == (4, 40)
    assert stack.active.tolist() == [0, 2, 3, 5]
    assert stack.open_mask().shape == (3, 2, 40)
    assert stack(x).shape == (20, 3, 2, 1) and torch.all(stack(x)[:, 0, 1] == 0)
    step()  # the optimizer follows the new, smaller parameters
    after = stack.weight.detach().clone()
    stack.restore(optimizer)
    assert stack.active is None and stack.weight.shape == (3, 2, 40, 1)
    torch.testing.assert_close(stack.weight[0, 1], at_retirement[0, 1])
    torch.testing.assert_close(stack.weight[2, 0], at_retirement[2, 0])
    torch.testing.assert_close(stack.weight.detach().reshape(6, 40, 1)[[0, 2, 3, 5]], after)
    assert not torch.equal(after, at_retirement.reshape(6, 40, 1)[[0, 2, 3, 5]])
    state = optimizer.state[stack.weight]
    assert state["exp_avg"].shape == stack.weight.shape
    step()  # and back to the whole grid


def test_column_picker_gathers_only_where_it_pays():
    picker = ColumnPicker()
    x = torch.randn(400, 3000)
    keep = torch.zeros(3000, dtype=torch.bool)
    keep[::10] = True
    assert picker(torch.randn(8, 30), lambda: keep[:30], 1) is None  # too small to pay
    assert picker(x, lambda: torch.ones(3000, dtype=torch.bool), 4) is None  # nothing to skip
    cols, sub = picker(x, lambda: keep, 4)  # second call with x: from the cached transpose
    assert torch.equal(cols, keep.nonzero().flatten()) and torch.equal(sub, x[:, keep])
    assert picker._x_t is not None and picker._seen() is x
    assert picker(SparseRows(x.to_sparse()), lambda: keep, 4) is None  # sparse: never
    clone = pickle.loads(pickle.dumps(picker))  # the cache is not pickled
    assert clone._seen is None and clone._x_t is None


def test_narrowed_layer_computes_the_frozen_layer_on_its_open_columns():
    gen = torch.Generator().manual_seed(5)
    groups = torch.tensor([0, 0, 1, 2, 2, 3, 4, 5])  # 8 columns, 6 gates
    layer = L0Linear(
        8,
        3,
        l0=0.3,
        l2=0.2,
        cost=torch.tensor([2.0, 1.0, 2.0, 1.0, 1.0, 1.0]),
        groups=groups,
        always_open=torch.tensor([False, False, False, False, False, True]),
        input_offset=torch.randn(8, generator=gen),
    )
    layer.reset_parameters(gen)
    layer.gate.freeze(torch.tensor([0.0, 0.7, 1.0, 0.0, 0.4, 0.0]))  # always-open gate 5: 0
    cols, narrow = layer.narrowed()
    assert cols.tolist() == [2, 3, 4, 6, 7]  # gates 1, 2, 4 and the always-open 5
    assert narrow.bias is layer.bias  # the bias trains in place
    x = torch.randn(9, 8, generator=gen)
    for mode in (True, False):  # frozen gates: the same in training and eval mode
        layer.train(mode), narrow.train(mode)
        torch.testing.assert_close(narrow(x[:, cols]), layer(x))
    torch.testing.assert_close(narrow.regularization(), layer.regularization())
    (narrow(x[:, cols]).square().sum() + narrow.regularization()).backward()
    (layer(x).square().sum() + layer.regularization()).backward()
    torch.testing.assert_close(narrow.weight.grad, layer.weight.grad[cols])
    assert torch.all(layer.weight.grad[[0, 1, 5]] == 0)  # the closed columns learn nothing
    with torch.no_grad():
        narrow.weight.add_(1.0)
    before = layer.weight.detach().clone()
    layer.widen_from(cols, narrow)
    torch.testing.assert_close(layer.weight[cols], before[cols] + 1.0)
    torch.testing.assert_close(layer.weight[[0, 1, 5]], before[[0, 1, 5]])


def test_training_on_open_inputs_only_is_training_on_all(monkeypatch):
    gen = torch.Generator().manual_seed(6)
    x, y = torch.randn(64, 20, generator=gen), torch.randn(64, 1, generator=gen)
    data = Dataset(x, y, torch.ones(64))
    nets = []
    for fraction in (NARROW_FRACTION, -1.0):  # narrowed, and never narrowed
        monkeypatch.setattr(networks, "NARROW_FRACTION", fraction)
        mlp = GatedMLP([20, 8, 1], l0_input=0.01, l0_hidden=0.01, l2=0.1)
        mlp.reset_parameters(torch.Generator().manual_seed(7))
        with torch.no_grad():
            mlp.gate.log_alpha[5:] = -10.0  # 5 of 20 features open
        for layer in mlp.layers:
            layer.gate.freeze_at_test_values()
        with networks.open_inputs_only(mlp, data) as (net, part):
            assert (net is mlp) == (fraction < 0)
            assert part.X.shape[1] == (20 if fraction < 0 else 5)
            with pytest.warns(ConvergenceWarning):
                train(
                    net,
                    squared_loss,
                    part,
                    max_iter=5,
                    tol=0.0,
                    n_iter_no_change=10,
                    learning_rate=0.01,
                    batch_size=16,
                    generator=torch.Generator().manual_seed(8),
                )
        nets.append(mlp)
    narrowed, whole = nets
    first = narrowed.layers[0]
    torch.testing.assert_close(first.weight[:5], whole.layers[0].weight[:5])
    torch.testing.assert_close(first.bias, whole.layers[0].bias)
    torch.testing.assert_close(narrowed.layers[1].weight, whole.layers[1].weight)
    start = GatedMLP([20, 8, 1])
    start.reset_parameters(torch.Generator().manual_seed(7))
    assert not torch.allclose(first.weight[:5], start.layers[0].weight[:5])  # it trained
    torch.testing.assert_close(first.weight[5:], start.layers[0].weight[5:])  # closed: as was
