"""Hard concrete gate math: samples, closed forms and the module."""

import math

import numpy as np
import pytest
import torch

from sklearn_l0.gates import (
    BETA,
    GAMMA,
    LOG_ALPHA_RANGE,
    ZETA,
    HardConcreteGate,
    deterministic_gates,
    log_alpha_for_drop_rate,
    prob_nonzero,
    sample_gates,
)

LOG_ALPHAS = torch.tensor([-4.0, -2.0, -1.0, 0.0, 0.5, 1.5, 3.0], dtype=torch.float64)


def test_sampled_nonzero_fraction_matches_closed_form():
    # This catches sign errors in the logistic noise (log u + log(1 - u) instead of minus).
    gen = torch.Generator().manual_seed(0)
    z = sample_gates(LOG_ALPHAS, generator=gen, n_samples=200_000)
    empirical = (z > 0).double().mean(dim=0)
    np.testing.assert_allclose(empirical, prob_nonzero(LOG_ALPHAS), atol=4e-3)


def test_sampled_mean_matches_numerical_integral():
    # E[z] from the stretched-and-clamped binary concrete CDF, integrated numerically.
    gen = torch.Generator().manual_seed(1)
    log_alpha = torch.tensor([0.3], dtype=torch.float64)
    z = sample_gates(log_alpha, generator=gen, n_samples=400_000)
    u = torch.linspace(1e-7, 1 - 1e-7, 2_000_001, dtype=torch.float64)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / BETA)
    expected = torch.clamp(s * (ZETA - GAMMA) + GAMMA, 0, 1).mean()
    assert abs(z.mean().item() - expected.item()) < 3e-3


def test_samples_hit_exact_zero_and_one():
    gen = torch.Generator().manual_seed(2)
    z = sample_gates(torch.zeros(1), generator=gen, n_samples=10_000)
    assert z.min() == 0.0 and z.max() == 1.0
    assert ((z > 0) & (z < 1)).any()


def test_prob_nonzero_default_constants():
    expected = torch.sigmoid(LOG_ALPHAS + 1.5986)
    np.testing.assert_allclose(prob_nonzero(LOG_ALPHAS), expected, atol=1e-4)


def test_deterministic_gate_is_exactly_zero_below_threshold():
    threshold = math.log(-GAMMA / ZETA)  # about -2.398
    assert threshold == pytest.approx(-2.3979, abs=1e-4)
    la = torch.tensor([threshold - 1e-3, threshold + 1e-3, 2.0, 2.5, 4.0], dtype=torch.float64)
    z = deterministic_gates(la)
    assert z[0] == 0.0 and 0 < z[1] < 1e-2
    assert z[3] == 1.0 and z[4] == 1.0  # exactly open above log(1.1 - ... ) ~ 2.398
    assert 0 < z[2] < 1


def test_gradients_reach_log_alpha_through_samples_and_penalty():
    la = torch.zeros(5, requires_grad=True)
    z = sample_gates(la, generator=torch.Generator().manual_seed(0), n_samples=64)
    (z.sum() + prob_nonzero(la).sum()).backward()
    assert torch.all(torch.isfinite(la.grad)) and torch.all(la.grad != 0)


def test_uniform_noise_is_clamped_away_from_zero_and_one():
    # Extreme log_alpha and many samples never produce NaN.
    la = torch.tensor([-50.0, 50.0])
    z = sample_gates(la, generator=torch.Generator().manual_seed(0), n_samples=100_000)
    assert torch.all(torch.isfinite(z))


def test_drop_rate_initialisation():
    for rate in (0.2, 0.5):
        gate = HardConcreteGate(3, droprate_init=rate)
        assert torch.allclose(gate.log_alpha, torch.full((3,), log_alpha_for_drop_rate(rate)))
        # The paper's initialisation: sigmoid(log_alpha) equals the keep rate.
        assert torch.sigmoid(gate.log_alpha[0]).item() == pytest.approx(1 - rate)


def test_gate_module_modes():
    gate = HardConcreteGate(4)
    gate.generator = torch.Generator().manual_seed(0)
    gate.train()
    z1, z2 = gate.values(), gate.values()
    assert z1.shape == (4,) and not torch.equal(z1, z2)  # stochastic in training
    gate.eval()
    assert torch.equal(gate.values(), gate.deterministic())  # deterministic in eval
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    gate.freeze(mask)
    gate.train()
    assert torch.equal(gate.values(), mask) and torch.equal(gate.prob_nonzero(), mask)
    assert not gate.log_alpha.requires_grad
    gate.freeze(None)
    assert gate.log_alpha.requires_grad


def test_per_sample_gates_have_one_row_per_example():
    gate = HardConcreteGate(3, per_sample=True)
    gate.generator = torch.Generator().manual_seed(0)
    assert gate.values(n_samples=7).shape == (7, 3)


def test_constrain_clamps_log_alpha():
    gate = HardConcreteGate(2)
    with torch.no_grad():
        gate.log_alpha.copy_(torch.tensor([-100.0, 100.0]))
    gate.constrain_()
    assert torch.allclose(gate.log_alpha, torch.tensor(LOG_ALPHA_RANGE))
    # Both ends are reachable states: exactly closed and exactly open at test time.
    assert gate.deterministic().tolist() == [0.0, 1.0]


def test_same_generator_seed_same_samples():
    la = torch.zeros(10)
    a = sample_gates(la, generator=torch.Generator().manual_seed(5))
    b = sample_gates(la, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
