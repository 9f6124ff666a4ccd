"""
How the gates settle during training
====================================

Every feature of an :class:`~sklearn_l0.L0Regressor` has a hard concrete gate
with a learned location ``log_alpha``. The probability that the gate is open,
``P(z != 0) = sigmoid(log_alpha - beta * log(-gamma / zeta))``, is what the
penalty prices; ``gate_open_proba_`` holds its final value. This example draws
that probability for each of 40 features at every stage of one training run,
on data where 5 features carry the signal.

The estimator does not record a per-epoch history of the probabilities, but
training is deterministic for a given ``random_state`` on the CPU: a fit with
``max_iter=k`` runs exactly the first ``k`` epochs of the full fit. Refitting
from scratch with a growing ``max_iter`` therefore gives snapshots of one and
the same run (the last snapshot is checked against the full fit below).
"""

# %%
# Snapshots of one training run
# -----------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit, logit
from sklearn.exceptions import ConvergenceWarning

from sklearn_l0 import L0Regressor
from sklearn_l0.datasets import make_sparse_regression
from sklearn_l0.gates import BETA, GAMMA, ZETA

X, y, true_coef = make_sparse_regression(300, 40, n_informative=5, random_state=0)
truth = true_coef != 0
params = dict(alpha=0.02, refit=False, device="cpu", random_state=0)

full = L0Regressor(**params).fit(X, y)
print(f"training stopped after {full.n_iter_} epochs")
print(f"selected features: {np.flatnonzero(full.support_)}")
print(f"true features:     {np.flatnonzero(truth)}")

epochs = np.unique(np.r_[np.arange(1, 30), np.arange(30, full.n_iter_ + 1, 5), full.n_iter_])
proba = np.empty((len(epochs), X.shape[1]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # every early stop is on purpose
    for i, k in enumerate(epochs):
        proba[i] = L0Regressor(max_iter=int(k), **params).fit(X, y).gate_open_proba_
assert np.array_equal(proba[-1], full.gate_open_proba_)

# %%
# Gate-open probabilities and the count of open gates
# ----------------------------------------------------
# Below the dashed line ``log_alpha < log(-gamma / zeta)``: the deterministic
# test-time gate is exactly 0 and the feature is out of the model. Above the
# dotted line the test-time gate is exactly 1.


def p_open(log_alpha):
    """P(z != 0) of a hard concrete gate with location ``log_alpha``."""
    return expit(log_alpha - BETA * np.log(-GAMMA / ZETA))


# The test-time gate clamp(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1) is 0 for
# sigmoid(log_alpha) <= -gamma / (zeta - gamma) and 1 for >= (1 - gamma) / (zeta - gamma).
closed_below = p_open(logit(-GAMMA / (ZETA - GAMMA)))
fully_open_above = p_open(logit((1 - GAMMA) / (ZETA - GAMMA)))

fig, (ax, ax_count) = plt.subplots(
    2, 1, figsize=(8, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)
ax.plot(epochs, proba[:, ~truth], color="0.6", lw=0.8)
ax.plot(epochs, proba[:, truth], color="tab:blue", lw=1.8)
ax.plot([], [], color="tab:blue", lw=1.8, label=f"{truth.sum()} true features")
ax.plot([], [], color="0.6", lw=0.8, label=f"{(~truth).sum()} noise features")
ax.axhline(closed_below, color="k", ls="--", lw=0.8)
ax.text(epochs[-1], closed_below + 0.01, "test-time gate = 0 below", ha="right", va="bottom")
ax.axhline(fully_open_above, color="k", ls=":", lw=0.8)
ax.text(epochs[-1], fully_open_above - 0.02, "test-time gate = 1 above", ha="right", va="top")
ax.set_ylabel("P(gate open)")
ax.set_ylim(0, 1.02)
ax.legend(loc="center right")
ax.set_title("Gate-open probability of each feature during one training run (alpha=0.02)")

ax_count.step(np.arange(1, full.n_iter_ + 1), full.n_gates_open_curve_, where="post")
ax_count.axhline(truth.sum(), color="tab:blue", ls="--", lw=0.8)
ax_count.set_ylabel("open test-time\ngates")
ax_count.set_xlabel("epoch (one full-batch Adam step each)")
ax_count.set_yscale("log")
ax_count.set_yticks([1, 5, 10, 40], labels=["1", "5", "10", "40"])
fig.tight_layout()
plt.show()

# %%
# All gates start mostly open (``P = 0.95``, the paper's drop rate of 0.2).
# The gates of the true features climb from the first epochs to the upper
# clamp of ``log_alpha`` (``P = 0.998``): those features lower the error by
# far more than the price ``alpha``. The penalty pushes the noise gates down;
# they cross the dashed line after 60 to 100 epochs, the slowest last, and
# end at the lower clamp (``P = 0.047``). The bottom panel counts the
# features still in the model (``n_gates_open_curve_``, updated at each
# convergence check, every 10 epochs). Training stops once the objective is
# flat and no gate has crossed for ``n_iter_no_change`` epochs.
