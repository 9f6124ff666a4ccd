"""sklearn_l0.nn: gated layers for any torch network, their penalty, FLOPs and compaction."""

from __future__ import annotations

import copy
import io
import math

import pytest
import torch
from torch import nn

from sklearn_l0.gates import LOG_ALPHA_RANGE, prob_nonzero
from sklearn_l0.nn import (
    HardConcreteGate,
    L0Conv2d,
    L0Linear,
    SelectColumns,
    compact,
    expected_flops,
    l0_penalty,
    sparsity_report,
)


def _close_some(module: nn.Module, fraction: float = 0.4, seed: int = 0) -> None:
    """Close a random share of every gate of ``module`` and open the rest at random values."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, HardConcreteGate):
                n = m.log_alpha.numel()
                closed = torch.rand(n, generator=gen) < fraction
                closed[0] = False  # every layer keeps something
                # open gates anywhere between partly and fully open at test time
                m.log_alpha.copy_(torch.where(closed, -4.0, torch.rand(n, generator=gen) * 4 - 1.5))


def _randomize_norms(module: nn.Module, seed: int = 0) -> None:
    """Batch norms with non-trivial statistics (so that closed channels carry constants)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen))
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.randn(c, generator=gen))
                m.bias.copy_(torch.randn(c, generator=gen))


def _mlp():
    return nn.Sequential(
        L0Linear(30, 20), nn.ReLU(), L0Linear(20, 15), nn.Tanh(), nn.Dropout(0.3), L0Linear(15, 4)
    )


def _cnn():
    return nn.Sequential(
        L0Conv2d(1, 8, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        L0Conv2d(8, 12, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        L0Linear(12 * 4 * 4, 32),
        nn.ReLU(),
        L0Linear(32, 10),
    )


def _mixed():
    """Plain and gated layers, batch norm and a sigmoid: closed channels carry constants."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        L0Conv2d(6, 10, 3),
        nn.BatchNorm2d(10),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        L0Conv2d(10, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Sequential(nn.Flatten(), nn.Dropout(0.2)),
        L0Linear(8 * 3 * 3, 16),
        nn.BatchNorm1d(16),
        nn.Sigmoid(),
        nn.Linear(16, 5),
    )


CASES = [
    pytest.param(_mlp, (30,), id="mlp"),
    pytest.param(_cnn, (1, 28, 28), id="cnn"),
    pytest.param(_mixed, (3, 8, 8), id="mixed"),
]


def _n_params(module: nn.Module) -> int:
    """Parameters of the weight layers (gate locations aside)."""
    return sum(
        p.numel()
        for m in module.modules()
        if isinstance(m, nn.Linear | nn.Conv2d | L0Linear)
        for name, p in m.named_parameters(recurse=False)
    )


@pytest.mark.parametrize(("build", "shape"), CASES)
def test_compact_network_computes_what_the_gated_one_does_in_eval_mode(build, shape):
    torch.manual_seed(0)
    net = build()
    _close_some(net)
    _randomize_norms(net)
    net.eval()
    x = torch.randn(16, *shape)
    plain = compact(net)
    assert not any(isinstance(m, L0Linear | L0Conv2d) for m in plain.modules())
    assert not plain.training
    torch.testing.assert_close(plain(x), net(x), atol=1e-6, rtol=1e-5)
    assert _n_params(plain) < _n_params(net)
    assert expected_flops(plain, shape) < expected_flops(compact(build()), shape)


def test_compact_removes_closed_units_channels_and_their_flattened_columns():
    torch.manual_seed(0)
    net = _cnn()
    with torch.no_grad():
        net[3].gate.log_alpha[:5] = -5.0  # 5 of the 12 channels of the second convolution
        net[9].gate.log_alpha[:12] = -5.0  # 12 of the 32 hidden units
    plain = compact(net)
    conv2, fc1, fc2 = plain[3], plain[7], plain[9]
    assert (conv2.out_channels, fc1.in_features) == (7, 7 * 4 * 4)
    assert (fc1.out_features, fc2.in_features, fc2.out_features) == (20, 20, 10)
    assert plain[0].out_channels == 8  # nothing closed in the first convolution
    # max pooling goes before the ReLU (same values, a quarter of the activations)
    assert [type(m) for m in plain[1:3]] == [nn.MaxPool2d, nn.ReLU]
    x = torch.randn(5, 1, 28, 28)
    torch.testing.assert_close(plain(x), net.eval()(x), atol=1e-6, rtol=1e-5)


def test_compact_gathers_the_open_columns_of_kept_channels_after_a_flatten():
    torch.manual_seed(0)
    net = _cnn()
    with torch.no_grad():
        net[3].gate.log_alpha[:5] = -5.0  # channels 0-4 of 12 closed: 7 kept, 16 columns each
        net[7].gate.log_alpha[5 * 16 : 5 * 16 + 10] = -5.0  # 10 single columns of channel 5
        net[7].gate.log_alpha[-3:] = -5.0  # and 3 of the last channel
    plain = compact(net)
    gathers = [m for m in plain if isinstance(m, SelectColumns)]
    assert len(gathers) == 1
    fc1 = next(m for m in plain if isinstance(m, nn.Linear))
    assert fc1.in_features == 7 * 16 - 13 == gathers[0].index.numel()
    x = torch.randn(5, 1, 28, 28)
    torch.testing.assert_close(plain(x), net.eval()(x), atol=1e-6, rtol=1e-5)
    # the dense layer's FLOPs shrink by the 13 columns it no longer reads
    with torch.no_grad():
        net[7].gate.log_alpha.fill_(3.0)
    channels_only = compact(net)
    assert not any(isinstance(m, SelectColumns) for m in channels_only)
    saved = expected_flops(channels_only, (1, 28, 28)) - expected_flops(plain, (1, 28, 28))
    assert saved == pytest.approx(2 * 13 * 32)


def test_compact_keeps_the_input_and_output_sizes():
    torch.manual_seed(1)
    net = nn.Sequential(L0Linear(12, 6), nn.ReLU(), L0Linear(6, 3))
    with torch.no_grad():
        net[0].gate.log_alpha[:4] = -5.0  # closed input features stay as zero columns
    plain = compact(net)
    assert (plain[0].in_features, plain[-1].out_features) == (12, 3)
    assert torch.all(plain[0].weight[:, :4] == 0)


def test_compact_a_single_gated_layer_and_what_it_cannot_compact():
    layer = L0Linear(8, 3)
    x = torch.randn(4, 8)
    torch.testing.assert_close(compact(layer)(x), layer.eval()(x))

    class Residual(nn.Module):
        def forward(self, x):
            return x + 1

    with pytest.raises(NotImplementedError, match="Residual"):
        compact(nn.Sequential(L0Linear(4, 4), Residual(), L0Linear(4, 2)))
    with pytest.raises(NotImplementedError, match="groups=1"):
        compact(nn.Sequential(L0Conv2d(4, 4, 3, groups=2)))
    with pytest.raises(NotImplementedError, match="no nn.Linear"):
        compact(nn.Sequential(nn.ReLU()))


def test_compact_leaves_the_gated_network_as_it_was():
    torch.manual_seed(0)
    net = _mixed().train()
    state = copy.deepcopy(net.state_dict())
    compact(net)
    assert all(m.training for m in net.modules())
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key])


def test_sampled_gates_are_open_as_often_as_the_closed_form_says():
    gate = HardConcreteGate(5, per_sample=True, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        gate.log_alpha.copy_(torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0]))
    draws = gate.train().values(n_samples=40000)
    expected = prob_nonzero(gate.log_alpha.detach())
    torch.testing.assert_close((draws > 0).float().mean(0), expected, atol=0.01, rtol=0)
    assert 0.05 < float((draws == 1).float().mean()) < 0.95  # exact ones happen too


def test_per_sample_gates_gate_any_dimension():
    gate = HardConcreteGate(3, per_sample=True, generator=torch.Generator().manual_seed(0))
    x = torch.ones(64, 3, 4, 4)
    out = gate(x, dim=1)
    assert out.shape == x.shape
    assert torch.equal(out, out[:, :, :1, :1].expand_as(out))  # one value per map
    assert not torch.equal(out[0], out[1])  # a different draw per example
    with pytest.raises(ValueError, match="dimension 2"):
        gate(x, dim=2)


def test_train_mode_samples_eval_mode_is_deterministic():
    torch.manual_seed(0)
    layer = L0Conv2d(2, 4, 3)
    x = torch.randn(3, 2, 6, 6)
    layer.train()
    assert not torch.equal(layer(x), layer(x))
    layer.eval()
    z = layer.gate.deterministic()
    expected = nn.functional.conv2d(x, layer.weight, layer.bias) * z[None, :, None, None]
    torch.testing.assert_close(layer(x), expected)
    assert torch.equal(layer(x), layer(x))


def test_gate_locations_are_clamped_as_in_the_papers_code():
    layer = L0Linear(4, 2)
    with torch.no_grad():
        layer.gate.log_alpha.copy_(torch.tensor([-20.0, -1.0, 1.0, 20.0]))
    layer.eval()(torch.randn(2, 4))  # eval mode reads the gates, changes nothing
    assert layer.gate.log_alpha[0] == -20.0
    layer.train()(torch.randn(2, 4))
    low, high = LOG_ALPHA_RANGE
    assert torch.equal(
        layer.gate.log_alpha.detach(), torch.tensor([low, -1.0, 1.0, high], dtype=torch.float32)
    )
    assert layer.gate.deterministic()[0] == 0 and layer.gate.deterministic()[3] == 1


def test_training_never_draws_from_the_global_generator():
    torch.manual_seed(0)
    net = _cnn().train()
    before = torch.get_rng_state()
    loss = net(torch.ones(4, 1, 28, 28)).square().mean() + 1e-3 * l0_penalty(net)
    loss.backward()
    assert torch.equal(torch.get_rng_state(), before)


def test_seeding_torch_before_building_makes_training_reproducible():
    def run():
        torch.manual_seed(3)
        net = _mlp().train()
        return net(torch.ones(2, 30))

    torch.testing.assert_close(run(), run())


def test_penalty_counts_weights_or_gates_and_differentiates():
    torch.manual_seed(0)
    net = _cnn()
    p = [
        m.gate.prob_nonzero().detach() for m in net.modules() if isinstance(m, L0Linear | L0Conv2d)
    ]
    sizes = [25 + 1, 8 * 25 + 1, 32, 10]  # a filter and its bias; a row of W
    weights = sum(float(q.sum()) * s for q, s in zip(p, sizes, strict=True))
    assert float(l0_penalty(net).detach()) == pytest.approx(weights, rel=1e-5)
    assert float(l0_penalty(net, count="gates").detach()) == pytest.approx(
        sum(float(q.sum()) for q in p), rel=1e-5
    )
    penalty = l0_penalty(net, weight_decay=0.1)
    penalty.backward()
    for m in net.modules():
        if isinstance(m, L0Linear | L0Conv2d):
            assert m.gate.log_alpha.grad is not None and torch.all(m.gate.log_alpha.grad > 0)
            assert m.weight.grad is not None and m.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="count"):
        l0_penalty(net, count="units")
    assert float(l0_penalty(nn.Linear(3, 2))) == 0.0


def test_penalty_decreases_when_gates_close():
    torch.manual_seed(0)
    net = _mlp()
    before = float(l0_penalty(net).detach())
    _close_some(net, fraction=0.5)
    assert float(l0_penalty(net).detach()) < before


def test_expected_flops_of_plain_and_gated_layers():
    dense = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    conv = 6 * 6 * 4 * (2 * 9 - 1 + 1)
    assert expected_flops(dense, (1, 8, 8)) == conv + 2 * 144 * 5
    gated = L0Linear(10, 3)
    with torch.no_grad():
        gated.gate.log_alpha.fill_(math.log(1e-2))
    expected_open = float(prob_nonzero(gated.gate.log_alpha.detach()).sum())
    assert expected_flops(gated, (10,)) == pytest.approx(2 * expected_open * 3)
    assert gated.training  # the count runs in eval mode and restores the mode


def test_sparsity_report_counts_open_gates_per_layer():
    torch.manual_seed(0)
    net = _cnn()
    with torch.no_grad():
        net[0].gate.log_alpha[:3] = -5.0
        net[7].gate.log_alpha[:100] = -5.0
    report = sparsity_report(net)
    assert str(report) == report.architecture == "5-12-92-32"
    assert report.n_gates == [8, 12, 192, 32]
    assert report.names == ["0", "3", "7", "9"]
    assert "92 / 192 open" in report.table()


def test_modules_pickle_copy_and_keep_their_noise():
    torch.manual_seed(0)
    net = nn.Sequential(L0Linear(30, 20), nn.ReLU(), L0Linear(20, 4)).train()
    twin = copy.deepcopy(net)
    x = torch.ones(2, 30)
    torch.testing.assert_close(net(x), twin(x))  # the same noise stream
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    torch.testing.assert_close(loaded.eval()(x), net.eval()(x))


def test_l0linear_matches_nn_linear_arguments_and_initialisation_bound():
    torch.manual_seed(0)
    layer = L0Linear(400, 7, bias=False)
    assert layer.bias is None and layer.weight.shape == (400, 7)
    assert layer.weight.abs().max() <= 1 / math.sqrt(400)
    conv = L0Conv2d(3, 5, kernel_size=(3, 1), stride=2, padding=1)
    assert conv.weight.shape == (5, 3, 3, 1) and isinstance(conv, nn.Conv2d)
    with pytest.raises(ValueError, match="droprate_init"):
        L0Linear(3, 2, droprate_init=1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_noise_and_compaction():
    torch.manual_seed(0)
    net = _cnn().cuda().train()
    x = torch.randn(4, 1, 28, 28, device="cuda")
    before = torch.cuda.get_rng_state()
    out = net(x)
    (out.square().mean() + 1e-3 * l0_penalty(net)).backward()
    assert torch.equal(torch.cuda.get_rng_state(), before)
    assert all(m.gate.generator.device.type == "cuda" for m in net if hasattr(m, "gate"))
    _close_some(net)
    x = torch.randn(8, 1, 28, 28, device="cuda")
    plain = compact(net.eval())
    assert next(plain.parameters()).is_cuda
    torch.testing.assert_close(plain(x), net(x), atol=1e-5, rtol=1e-4)
