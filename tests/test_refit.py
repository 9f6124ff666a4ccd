"""The refit on the selected support (sklearn_l0.refit): exact minimisers, equivalent data."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from sklearn_l0 import L0Classifier
from sklearn_l0.data import Dataset
from sklearn_l0.losses import binary_log_loss, multinomial_log_loss
from sklearn_l0.nn import L0Linear
from sklearn_l0.refit import refit


def _layer_and_data(n_classes, n=120, p=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=gen, dtype=torch.float64)
    logits = X[:, :3] @ torch.randn(3, max(n_classes, 2), generator=gen, dtype=torch.float64)
    logits = logits + 0.5 * torch.randn(logits.shape, generator=gen, dtype=torch.float64)
    labels = logits.argmax(dim=1)
    y = labels.double() if n_classes == 2 else labels
    layer = L0Linear(p, 1 if n_classes == 2 else n_classes, l2=1e-3)
    with torch.no_grad():
        layer.gate.log_alpha[4:] = -5.0  # two closed gates: the refit uses 4 columns
    w = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    return layer, X, y, w / w.mean()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_refit_reaches_the_minimiser(n_classes):
    layer, X, y, w = _layer_and_data(n_classes)
    loss = binary_log_loss if n_classes == 2 else multinomial_log_loss
    weight, bias = refit(layer, loss, Dataset(X[:, :4], y, w))
    assert torch.all(weight[4:] == 0)
    theta = [weight[:4].clone().requires_grad_(), bias.clone().requires_grad_()]
    objective = loss(X[:, :4] @ theta[0] + theta[1], y, w) + 0.5e-3 * theta[0].square().sum()
    grads = torch.autograd.grad(objective, theta)
    assert max(float(g.abs().max()) for g in grads) < 1e-12
    if n_classes > 2:  # of the equivalent solutions: the one centered over the classes
        assert float(bias.sum().abs()) < 1e-12
        assert float(weight.sum(dim=1).abs().max()) < 1e-12


@pytest.mark.parametrize("n_classes", [2, 3])
def test_integer_weights_equal_repeated_rows(n_classes):
    X, y = load_iris(return_X_y=True)
    y = y if n_classes == 3 else (y == 2).astype(int)
    counts = np.random.RandomState(0).randint(0, 4, size=len(y))
    weighted = L0Classifier(random_state=0, device="cpu").fit(X, y, sample_weight=counts)
    rows = np.repeat(np.arange(len(y)), counts)
    repeated = L0Classifier(random_state=0, device="cpu").fit(X[rows], y[rows])
    np.testing.assert_array_equal(weighted.support_, repeated.support_)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(
        weighted.decision_function(X), repeated.decision_function(X), rtol=1e-9, atol=1e-10
    )
