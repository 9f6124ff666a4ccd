"""
The regularization path of the CV estimator
===========================================

:class:`~sklearn_l0.L0RegressorCV` fits a grid of L0 strengths ``alphas`` on
every cross-validation fold, and on all the data, as one torch computation,
then keeps the ``alpha`` with the best mean validation score. Its fitted
attributes give the whole path: ``alphas_`` (the grid, largest first),
``score_path_`` (the validation R^2 of every alpha on every fold) and
``support_path_`` (the features that the fit on all the data selects at
every alpha).

The data are the same sparse problem as in
:ref:`sphx_glr_auto_examples_plot_support_recovery.py`: 10 true features
among 300, 200 samples.
"""

# %%
# Fit the grid
# ------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_l0 import L0RegressorCV
from sklearn_l0.datasets import make_sparse_regression

X, y, true_coef = make_sparse_regression(200, 300, n_informative=10, random_state=0)
truth = true_coef != 0

with warnings.catch_warnings():
    # At the smallest alphas many gates hover near the threshold and may not settle
    # within max_iter; the path is still what this figure needs.
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg = L0RegressorCV(alphas=15, eps=0.01, cv=5, device="cpu", random_state=0).fit(X, y)

n_selected = reg.support_path_.sum(axis=1)
n_true = (reg.support_path_ & truth).sum(axis=1)
mean, std = reg.score_path_.mean(axis=1), reg.score_path_.std(axis=1)
best = np.flatnonzero(reg.alphas_ == reg.alpha_)[0]
print(f"alpha_ = {reg.alpha_:.4g}: {n_selected[best]} features, {n_true[best]} of them true")
print(f"mean CV R^2 at alpha_: {mean[best]:.3f}")

# %%
# Selected features and CV score against alpha
# --------------------------------------------
fig, (ax_n, ax_score) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
ax_n.plot(reg.alphas_, n_selected, "o-", label="selected features")
ax_n.plot(reg.alphas_, n_true, "s--", ms=4, label="of which true features")
ax_n.axhline(truth.sum(), color="0.5", lw=0.8, ls=":")
ax_n.set_yscale("symlog", linthresh=1)
ax_n.set_yticks([0, 1, 3, 10, 30, 100, 300], labels=["0", "1", "3", "10", "30", "100", "300"])
ax_n.set_ylim(0, 400)
ax_n.set_ylabel("features (fit on all data)")
ax_n.legend(loc="upper right")
ax_n.set_title("L0RegressorCV: regularization path, 10 true features among 300")

for scores in reg.score_path_.T:
    ax_score.plot(reg.alphas_, scores, color="0.8", lw=0.8)
ax_score.plot([], [], color="0.8", lw=0.8, label="one fold")
ax_score.errorbar(reg.alphas_, mean, yerr=std, fmt="o-", color="tab:green", label="mean over folds")
ax_score.set_ylabel("validation R$^2$")
ax_score.set_ylim(max(-0.1, reg.score_path_.min() - 0.05), 1)
ax_score.legend(loc="lower center")
ax_score.set_xscale("log")
ax_score.set_xlabel("alpha (price of one feature, fraction of the target's variance)")
for ax in (ax_n, ax_score):
    ax.axvline(reg.alpha_, color="k", ls="--", lw=0.8)
ax_score.annotate(
    f"alpha_ = {reg.alpha_:.3g}",
    (reg.alpha_, mean[best]),
    xytext=(8, -60),
    textcoords="offset points",
)
fig.tight_layout()
plt.show()

# %%
# From the right: at the largest alphas no feature, or hardly any, pays its
# price, and the validation R^2 is near 0. As alpha falls the true features
# enter, the strongest first, and the score climbs. The best scores form a
# plateau where exactly the 10 true features are kept; further left noise
# features come in and the validation R^2 falls, as the model overfits.
# Within the plateau the mean scores differ by less than their spread over
# folds (the error bars, one standard deviation), so which alpha of the
# plateau becomes ``alpha_`` is a toss-up, but each of them selects the same,
# true, support.
