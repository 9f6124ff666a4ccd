"""
Choosing a network's price along its path, by cross-validation
===============================================================

A label that only a product of two features explains, ``y = 1[x0 x1 + x2 x3 > 0]``:
no feature has a marginal effect, so a linear screen sees nothing.
:class:`~sklearn_l0.L0MLPClassifierCV` trains one network per fold along a
rising price path: every feature gate starts open at a low price, the price
rises while the network trains, and the features leave in the order of their
worth. Each fold's path settles at every price of the grid and is scored on
the fold's held-out rows; the price with the best mean accuracy is chosen, and
one more path on all rows gives the final model, the support at every price
(``support_path_``) and the price at which each feature left
(``feature_importances_``).
"""

# %%
# Twelve features, four of them in two products
# ---------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_l0 import L0MLPClassifierCV

rng = np.random.default_rng(0)
X = rng.standard_normal((900, 12))
y = (X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)
X_test = rng.standard_normal((900, 12))
y_test = (X_test[:, 0] * X_test[:, 1] + X_test[:, 2] * X_test[:, 3] > 0).astype(int)

alphas = np.geomspace(3.0, 0.003, 10)  # past the entropy of the labels (0.69)
cv = L0MLPClassifierCV((16,), alphas=alphas, cv=3, device="cpu", random_state=0)
cv.fit(X, y)
print(f"chosen alpha {cv.alpha_:.3g}; features kept: {np.flatnonzero(cv.support_).tolist()}")
print(f"test accuracy {cv.score(X_test, y_test):.3f}")

# %%
# The held-out score and the support along the grid
# -------------------------------------------------
# Left: the mean accuracy over folds (and one standard deviation) at every
# price. Right: how many features the all-rows path kept there. At low prices
# the network keeps noise columns too, and its held-out accuracy is lower; over
# a range of prices it keeps exactly the four features of the products; above
# the entropy of the labels (0.69 nats, the most any set of features can be
# worth) it keeps none, and the accuracy falls to chance. The grid here reaches
# past the default one (which starts at that entropy) to show the fall.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
mean, std = cv.score_path_.mean(axis=1), cv.score_path_.std(axis=1)
left.semilogx(cv.alphas_, mean, "o-")
left.fill_between(cv.alphas_, mean - std, mean + std, alpha=0.2)
left.axvline(cv.alpha_, color="k", linestyle="--", label="alpha_")
left.set(xlabel="alpha (price per feature, nats)", ylabel="held-out accuracy")
left.legend()
right.semilogx(cv.alphas_, cv.support_path_.sum(axis=1), "o-")
right.axvline(cv.alpha_, color="k", linestyle="--")
right.set(xlabel="alpha", ylabel="features kept (all rows)")
fig.tight_layout()

# %%
# The order in which the features left
# ------------------------------------
# ``feature_importances_`` is the highest price at which each feature's gate
# was open along the path (kept features rank above the others), so one fit
# ranks every feature; ``SelectFromModel(cv, max_features=k, threshold=-inf)``
# keeps the ``k`` best.
fig, ax = plt.subplots(figsize=(6, 3))
colors = ["tab:red" if j < 4 else "tab:gray" for j in range(X.shape[1])]
ax.bar(range(X.shape[1]), cv.feature_importances_, color=colors)
ax.set_yscale("log")
ax.set(xlabel="feature (red: in the label's products)", ylabel="price when its gate closed")
fig.tight_layout()
plt.show()
