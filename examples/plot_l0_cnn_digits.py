"""
Pruning a small convolutional network in plain PyTorch
======================================================

The estimators of :mod:`sklearn_l0` are built from gated layers that any
PyTorch network can use: :class:`~sklearn_l0.nn.L0Conv2d` puts a hard
concrete gate on every output channel of a convolution, and
:class:`~sklearn_l0.nn.L0Linear` one on every input unit of a dense layer.
Here a small convolutional network learns the 8x8 handwritten digits with the
paper's objective, the cross-entropy plus ``lam`` times the expected number
of non-zero weights (:func:`~sklearn_l0.nn.l0_penalty`). The training loop is
ordinary PyTorch; the gates decide during training which channels and units
the network keeps, and :func:`~sklearn_l0.nn.compact` then rebuilds it as a
smaller plain network that computes the same outputs.
"""

# %%
# Data and network
# ----------------
# The pixels (0 to 16) are scaled to [0, 1] and kept as 1-channel 8x8
# images. Two 3x3 convolutions (16 and 32 channels, each channel gated) are
# followed by a 2x2 max pooling and two dense layers whose input units are
# gated: the 32 x 4 x 4 = 512 pooled features, then 64 hidden units. The
# gates of hidden units start at a drop rate of 0.5, as in the paper.
# ``torch.manual_seed`` before building the network fixes both the initial
# weights and the seeds of the gates' own noise generators.
import time
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from sklearn_l0.nn import (
    L0Conv2d,
    L0Linear,
    compact,
    expected_flops,
    l0_penalty,
    sparsity_report,
)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
X_train, X_test = torch.from_numpy(X_train), torch.from_numpy(X_test)
y_train, y_test = torch.from_numpy(y_train), torch.from_numpy(y_test)

torch.manual_seed(0)
model = nn.Sequential(
    L0Conv2d(1, 16, 3, padding=1),
    nn.ReLU(),
    L0Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    L0Linear(32 * 4 * 4, 64, droprate_init=0.5),
    nn.ReLU(),
    L0Linear(64, 10, droprate_init=0.5),
)
# Every test-time gate is open at the start, so the compacted network is the
# plain, unpruned one: the reference for sizes and speed below.
unpruned = compact(model)


@contextmanager
def one_thread():
    """Run the block on one torch thread, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def test_accuracy(net):
    with torch.no_grad():
        return (net(X_test).argmax(dim=1) == y_test).float().mean().item()


# %%
# Training with the expected-L0 penalty
# -------------------------------------
# Each gate's price is the number of weights it switches off (a filter and
# its bias, or a row of a dense layer), and ``lam = c / N`` for ``N``
# training images. The paper uses ``c = 0.1`` on MNIST, and it works here as
# well. ``model.train()`` samples the gates (one draw per mini-batch);
# ``model.eval()`` uses the deterministic test-time gates, exactly zero or
# not, to measure the test accuracy and count the open gates after every
# epoch. The mini-batches are shuffled by a seeded ``torch.Generator``.
c = 0.1
n_train = len(X_train)
lam = c / n_train
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
shuffle = torch.Generator().manual_seed(0)
n_epochs = 150

history = {"accuracy": [], "open": []}
start = time.perf_counter()
with one_thread():
    for _ in range(n_epochs):
        model.train()
        for batch in torch.randperm(n_train, generator=shuffle).split(64):
            loss = F.cross_entropy(model(X_train[batch]), y_train[batch])
            loss = loss + lam * l0_penalty(model)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        history["accuracy"].append(test_accuracy(model))
        history["open"].append(sparsity_report(model).n_open)
train_time = time.perf_counter() - start
print(f"{n_epochs} epochs in {train_time:.1f} s, lam = {c} / {n_train} = {lam:.2e}")

# %%
# The pruned network
# ------------------
# :func:`~sklearn_l0.nn.sparsity_report` counts the open gates of each gated
# layer: output channels of the convolutions, input units of the dense layers
# (the layers are named by their position in the ``nn.Sequential``).
report = sparsity_report(model)
print(f"architecture: {report} (was 16-32-512-64)")
print(report.table())

# %%
# :func:`~sklearn_l0.nn.compact` folds the gates into the weights and drops
# every closed channel and unit, together with the input channels and
# columns of the next layer that read them. It returns plain ``nn.Conv2d``
# and ``nn.Linear`` layers with the same outputs in eval mode.
small = compact(model)
print(small)
with torch.no_grad():
    gap = (small(X_test) - model(X_test)).abs().max().item()
acc_gated, acc_small = test_accuracy(model), test_accuracy(small)
print(f"test accuracy: gated network {acc_gated:.4f}, compact {acc_small:.4f}")
print(f"largest difference between their logits: {gap:.1e}")


def n_params(net):
    """Weights and biases (not the gates' log_alpha)."""
    return sum(p.numel() for name, p in net.named_parameters() if not name.endswith("log_alpha"))


shape = (1, 8, 8)
print(f"parameters: unpruned {n_params(unpruned)}, compact {n_params(small)}")
print(
    f"FLOPs per image: unpruned {expected_flops(unpruned, shape):,.0f}, "
    f"gated (expected) {expected_flops(model, shape):,.0f}, "
    f"compact {expected_flops(small, shape):,.0f}"
)

# %%
# Inference speed
# ---------------
# The gated network in eval mode multiplies the closed channels by zero but
# still computes them; the compact network does not compute them at all.
# Each network classifies the whole test set 30 times on one thread; the
# medians are compared.


def median_time(net, repeats=30):
    times = []
    with torch.no_grad():
        net(X_test)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            net(X_test)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


with one_thread():
    t_gated, t_small = median_time(model), median_time(small)
print(
    f"{len(X_test)} test images: gated {1e3 * t_gated:.2f} ms, compact {1e3 * t_small:.2f} ms, "
    f"speed-up {t_gated / t_small:.1f}x"
)

# %%
# Training curves
# ---------------
# Top: test accuracy of the deterministic network after every epoch. Bottom:
# the share of open gates in each gated layer. No gate closes in the first
# ten epochs or so, while the gates' locations move down from their start.
# Then the cheap gates settle quickly (a filter of the first convolution or a
# hidden unit switches off 10 parameters), while the expensive ones keep
# closing as long as training runs: the 512 inputs of the first dense layer
# (64 weights each) and the filters of the second convolution (145
# parameters each). Accuracy does not suffer from it.
epochs = np.arange(1, n_epochs + 1)
open_share = np.array(history["open"]) / np.array(report.n_gates)
fig, (ax_acc, ax_open) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
ax_acc.plot(epochs, history["accuracy"])
final = history["accuracy"][-1]
ax_acc.axhline(final, color="0.5", ls="--", lw=0.8)
ax_acc.text(n_epochs, final - 0.01, f"final {final:.3f}", ha="right", va="top")
ax_acc.set_ylabel("test accuracy")
ax_acc.set_ylim(top=1.0)
ax_acc.set_title(f"CNN on digits, lam = {c} / N")
names = ["conv 1 channels", "conv 2 channels", "dense 1 inputs", "dense 2 inputs"]
for k, name in enumerate(names):
    ax_open.plot(epochs, open_share[:, k], label=f"{name} ({report.n_gates[k]})")
ax_open.set_ylabel("share of gates open")
ax_open.set_ylim(0, 1.05)
ax_open.set_xlabel("epoch")
ax_open.legend(loc="lower left")
fig.tight_layout()
plt.show()

# %%
# The penalty removes most of the network's weights and FLOPs while the test
# accuracy stays high. The
# pruning is structured: whole channels and units leave, so the compact
# network is a smaller ordinary network, faster on any hardware, with no
# sparse kernels needed. A larger ``c`` prunes further at some cost in
# accuracy; ``count="gates"`` in :func:`~sklearn_l0.nn.l0_penalty` would
# price every channel and unit the same, whatever its size.
