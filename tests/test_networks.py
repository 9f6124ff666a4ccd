"""Gated torch modules: forward modes, penalties, compaction."""

import numpy as np
import scipy.sparse as sp
import torch

from sklearn_l0.networks import GatedLinear, GatedMLP, mlp_forward


def _with_some_closed_gates(module, generator):
    with torch.no_grad():
        for layer in module.layers if isinstance(module, GatedMLP) else [module]:
            n = layer.gate.log_alpha.numel()
            layer.gate.log_alpha.copy_(torch.rand(n, generator=generator) * 8 - 4)


def test_gated_linear_eval_equals_effective_weight():
    gen = torch.Generator().manual_seed(0)
    layer = GatedLinear(6, 2)
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
    centered, implicit = GatedLinear(4, 3), GatedLinear(4, 3, input_offset=offset)
    centered.reset_parameters(gen)
    implicit.load_state_dict(centered.state_dict(), strict=False)
    centered.eval(), implicit.eval()
    x = torch.randn(7, 4, generator=gen)
    torch.testing.assert_close(implicit(x), centered(x - offset))


def test_regularization_is_expected_l0_plus_expected_l2():
    layer = GatedLinear(3, 2, l0=0.5, l2=0.2)
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
