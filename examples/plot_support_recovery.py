"""
Support recovery: L0 against the Lasso
======================================

A sparse linear model with 10 true coefficients (+1 or -1) among 300
features and 200 samples (``make_sparse_regression``, signal-to-noise ratio
5). :class:`~sklearn_l0.L0Regressor` prices each kept feature and ends with
every gate exactly open or exactly closed; :class:`~sklearn.linear_model.LassoCV`
shrinks every coefficient, so the penalty that predicts best also lets many
small noise coefficients through.

Each panel draws the coefficients of one model against the feature index:
the true support is marked by the grey bands, noise features that a model
kept are drawn in red.
"""

# %%
# Fit both models on the same data
# --------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LassoCV

from sklearn_l0 import L0Regressor
from sklearn_l0.datasets import make_sparse_regression, support_f1

X, y, true_coef = make_sparse_regression(200, 300, n_informative=10, random_state=0)
truth = true_coef != 0

l0 = L0Regressor(alpha=0.02, random_state=0).fit(X, y)
lasso = LassoCV(cv=5).fit(X, y)

models = {"truth": true_coef, "L0Regressor(alpha=0.02)": l0.coef_, "LassoCV": lasso.coef_}
for name, coef in list(models.items())[1:]:
    kept = coef != 0
    print(
        f"{name:<24s} kept {kept.sum():3d} features: {np.sum(kept & truth)} true, "
        f"{np.sum(kept & ~truth)} noise; support F1 {support_f1(kept, truth):.2f}"
    )

# %%
# True versus selected coefficients
# ---------------------------------
fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True, sharey=True)
index = np.arange(X.shape[1])
for ax, (name, coef) in zip(axes, models.items(), strict=True):
    for j in np.flatnonzero(truth):
        ax.axvspan(j - 1.5, j + 1.5, color="0.85", zorder=0)
    kept = coef != 0
    true_kept, noise_kept = kept & truth, kept & ~truth
    ax.vlines(index[true_kept], 0, coef[true_kept], color="tab:blue", lw=1.5)
    ax.plot(index[true_kept], coef[true_kept], "o", color="tab:blue", ms=4, label="true feature")
    ax.vlines(index[noise_kept], 0, coef[noise_kept], color="tab:red", lw=1)
    ax.plot(index[noise_kept], coef[noise_kept], "o", color="tab:red", ms=3, label="noise feature")
    ax.axhline(0, color="k", lw=0.5)
    if name == "truth":
        title = f"true coefficients ({truth.sum()} non-zero)"
    else:
        f1 = support_f1(kept, truth)
        title = (
            f"{name}: {true_kept.sum()} of {truth.sum()} true features, "
            f"{noise_kept.sum()} noise features (support F1 {f1:.2f})"
        )
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("coefficient")
axes[2].legend(loc="lower right", fontsize=8, framealpha=1)
axes[-1].set_xlabel("feature index")
axes[-1].set_xlim(-2, X.shape[1] + 1)
fig.suptitle("True versus selected coefficients, n=200, p=300")
fig.tight_layout()
plt.show()

# %%
# The L0 model keeps a feature only when it lowers the mean squared error by
# more than ``alpha`` (here 2%) of the target's variance, so its coefficients
# are either exactly zero or a least-squares value refitted on the kept
# features (``refit=True``), close to the true +1 and -1. The Lasso pays for
# every unit of coefficient size: its cross-validated penalty is small enough
# not to shrink the true coefficients much (they still fall short of 1), and
# that small penalty lets dozens of noise features in.
