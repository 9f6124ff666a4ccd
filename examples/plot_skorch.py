"""
An L0-gated network as a scikit-learn estimator with skorch
===========================================================

`skorch <https://skorch.readthedocs.io>`_ turns a PyTorch module into a
scikit-learn estimator. Its ``NeuralNetClassifier`` computes the training
loss in one method, ``get_loss``, so adding the paper's penalty is a subclass
of a few lines: the usual criterion plus ``lam`` times the expected number of
non-zero weights, :func:`~sklearn_l0.nn.l0_penalty`, during training. The
result goes into a ``Pipeline`` and is tuned by ``GridSearchCV`` like any
scikit-learn classifier, while the network itself is free: here an MLP
whose layers are :class:`~sklearn_l0.nn.L0Linear`, on the 8x8 digits.
"""

# %%
# The estimator
# -------------
# ``lam`` becomes a parameter of the net (skorch takes the parameters of a
# subclass's ``__init__`` into ``get_params``, so cloning and grid searches
# see it). The penalty is added only when ``training`` is true: the loss
# skorch reports on validation data stays the plain cross-entropy.
import copy
import time
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from sklearn_l0.nn import L0Linear, compact, l0_penalty, sparsity_report


class L0NeuralNetClassifier(NeuralNetClassifier):
    """``NeuralNetClassifier`` trained on ``criterion + lam * l0_penalty(module)``."""

    def __init__(self, *args, lam=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.lam = lam

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            loss = loss + self.lam * l0_penalty(self.module_)
        return loss


class GatedMLP(nn.Sequential):
    """ReLU network whose dense layers gate their input units.

    A subclass of ``nn.Sequential`` so that :func:`~sklearn_l0.nn.compact`
    can rebuild it; the input features start at a drop rate of 0.2, the
    hidden units at 0.5, as in the paper.
    """

    def __init__(self, n_features=64, hidden=(128, 64), n_classes=10):
        sizes = [n_features, *hidden]
        layers = []
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers += [L0Linear(n_in, n_out, droprate_init=0.2 if k == 0 else 0.5), nn.ReLU()]
        layers.append(L0Linear(sizes[-1], n_classes, droprate_init=0.5))
        super().__init__(*layers)


class RecordOpenGates(Callback):
    """Store the open gates of every gated layer in the net's history after each epoch."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("open_gates", sparsity_report(net.module_).n_open)


def to_float32(X):
    """torch layers expect float32; StandardScaler returns float64."""
    return X.astype(np.float32)


@contextmanager
def one_thread():
    """Run the block on one torch thread, then restore the previous setting.

    Small networks gain nothing from more threads, and lose a lot when other
    programs keep the cores busy.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# %%
# Fit in a pipeline
# -----------------
# ``lam = c / N`` with ``N`` the number of training images (the paper uses
# ``c = 0.1`` on MNIST; here ``c = 0.2``). The net trains for 60 epochs with
# Adam on the whole training set (``train_split=None``: no internal
# validation split), and the callback records the open gates after every
# epoch. Module weights, gates and the shuffling of the mini-batches all draw
# from torch's global generator, seeded once here, so the run is
# reproducible.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
n_train = len(X_train)

torch.manual_seed(0)
net = L0NeuralNetClassifier(
    GatedMLP,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=0.01,
    max_epochs=60,
    batch_size=64,
    iterator_train__shuffle=True,
    train_split=None,
    callbacks=[RecordOpenGates()],
    lam=0.2 / n_train,
    verbose=0,
)
pipe = make_pipeline(StandardScaler(), FunctionTransformer(to_float32), net)
start = time.perf_counter()
with one_thread():
    pipe.fit(X_train, y_train)
print(f"fit in {time.perf_counter() - start:.1f} s")

fitted = pipe[-1]
report = sparsity_report(fitted.module_)
print(f"open gates per layer: {report} (was 64-128-64)")
print(f"test accuracy: {pipe.score(X_test, y_test):.4f}")

# %%
# The compact network
# -------------------
# :func:`~sklearn_l0.nn.compact` turns the fitted module into plain
# ``nn.Linear`` layers without the closed hidden units (the 64 inputs stay:
# the network keeps its input size, and the closed pixels get zero weights).
# It can replace the module of a copy of the fitted net, which then predicts
# the same labels. Its forward pass, timed on the test set on one thread, is
# faster.
small = compact(fitted.module_)
print(small)
fast_pipe = copy.deepcopy(pipe)
fast_pipe[-1].module_ = small
same = (fast_pipe.predict(X_test) == pipe.predict(X_test)).all()
print(f"compact pipeline predicts the same labels: {same}")


def n_params(module):
    """Weights and biases (not the gates' log_alpha)."""
    return sum(p.numel() for name, p in module.named_parameters() if not name.endswith("log_alpha"))


print(f"parameters: gated {n_params(fitted.module_)}, compact {n_params(small)}")

X_test_t = torch.from_numpy(pipe[:-1].transform(X_test))


def median_time(module, repeats=50):
    times = []
    with torch.no_grad():
        module(X_test_t)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            module(X_test_t)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


with one_thread():
    t_gated, t_small = median_time(fitted.module_.eval()), median_time(small)
print(
    f"forward pass on {len(X_test)} images: gated {1e3 * t_gated:.3f} ms, "
    f"compact {1e3 * t_small:.3f} ms, speed-up {t_gated / t_small:.1f}x"
)

# %%
# Choosing ``lam`` by cross-validation
# ------------------------------------
# The pipeline is an ordinary scikit-learn estimator: ``GridSearchCV``
# clones it, sets ``lam`` through the usual ``step__parameter`` names and
# refits the best value on the whole training set. Three values of ``c``
# (``lam = c / N``, with ``N`` still the size of the full training set),
# 3-fold cross-validation.
cs = [0.05, 0.2, 0.8]
search = GridSearchCV(pipe, {"l0neuralnetclassifier__lam": [c / n_train for c in cs]}, cv=3)
start = time.perf_counter()
with one_thread():
    search.fit(X_train, y_train)
print(f"grid search in {time.perf_counter() - start:.1f} s")
mean, std = search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
for c, m, sd in zip(cs, mean, std, strict=True):
    print(f"c = {c:<4g} CV accuracy {m:.4f} +- {sd:.4f}")
best = search.best_estimator_[-1]
print(
    f"best c = {search.best_params_['l0neuralnetclassifier__lam'] * n_train:g}: "
    f"open gates {sparsity_report(best.module_)}, test accuracy {search.score(X_test, y_test):.4f}"
)

# %%
# Training and selection
# ----------------------
# Left: the share of open gates in each layer of the first fit, epoch by
# epoch, read from the history the callback filled. Each gate of the first
# two layers switches off a row of 128 or 64 weights, so they close steadily;
# a gate of the last layer switches off only 10 weights and nearly all stay
# open. Right: the cross-validated accuracy of each ``c``.
open_gates = np.array(fitted.history[:, "open_gates"]) / np.array(report.n_gates)
epochs = np.arange(1, len(open_gates) + 1)
fig, (ax_open, ax_cv) = plt.subplots(1, 2, figsize=(10, 4))
names = ["input features", "hidden layer 1", "hidden layer 2"]
for k, name in enumerate(names):
    ax_open.plot(epochs, open_gates[:, k], label=f"{name} ({report.n_gates[k]})")
ax_open.set_xlabel("epoch")
ax_open.set_ylabel("share of gates open")
ax_open.set_ylim(0, 1.05)
ax_open.legend(loc="lower left")
ax_open.set_title("fit with c = 0.2")
ax_cv.errorbar(cs, mean, yerr=std, fmt="o-", capsize=3)
ax_cv.set_xscale("log")
ax_cv.minorticks_off()
ax_cv.set_xticks(cs, [f"{c:g}" for c in cs])
ax_cv.set_xlabel("c (lam = c / N)")
ax_cv.set_ylabel("3-fold CV accuracy")
ax_cv.set_title("GridSearchCV over lam")
fig.tight_layout()
plt.show()

# %%
# Cross-validation prefers the mildest penalty here, as it judges accuracy
# alone; ``c = 0.2`` keeps less than half the weights for a point or two of
# accuracy, and ``c = 0.8`` prunes too much. Choose ``lam`` by the accuracy
# you can give up for a smaller network, or add the size to the score.
# Anything skorch offers works as usual: callbacks, a validation split with
# early stopping, training on a GPU with ``device="cuda"``.
