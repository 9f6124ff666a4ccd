"""
Structured pruning: hidden units against ``hidden_alpha``
=========================================================

With ``hidden_alpha > 0`` the MLP estimators gate every hidden unit as well
as every input feature (by default, ``hidden_alpha=0``, they keep every unit).
``hidden_alpha`` is the price of one hidden unit, in the same units as
``alpha`` (here mean log-loss in nats): raise it and whole units are
switched off, and the fitted network is compacted to the units that are
left (``hidden_layer_sizes_``).

An :class:`~sklearn_l0.L0MLPClassifier` with 64 hidden units is fitted on
the 8x8 digits for a range of ``hidden_alpha``, with the feature price fixed
at ``alpha=0.003``; the figure shows how many units each fit keeps and its
accuracy on held-out images.
"""

# %%
# One fit per unit price
# ----------------------
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_l0 import L0MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

hidden_alphas = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
units, accuracy = [], []
for hidden_alpha in hidden_alphas:
    clf = L0MLPClassifier(
        hidden_layer_sizes=(64,),
        alpha=0.003,
        hidden_alpha=hidden_alpha,
        device="cpu",
        random_state=0,
    ).fit(X_train, y_train)
    units.append(clf.hidden_layer_sizes_[0])
    accuracy.append(clf.score(X_test, y_test))
    print(
        f"hidden_alpha={hidden_alpha:<6g} hidden units {units[-1]:2d}, "
        f"{clf.support_.sum()} pixels, test accuracy {accuracy[-1]:.3f}"
    )

# %%
# Network size and accuracy
# -------------------------
# The horizontal axis is logarithmic above 0.001 and linear below, so that
# ``hidden_alpha=0`` (no unit penalty) has a place on it.
fig, (ax_units, ax_acc) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
ax_units.plot(hidden_alphas, units, "o-")
ax_units.axhline(64, color="0.5", ls="--", lw=0.8)
ax_units.text(hidden_alphas[-1], 62, "64 units before pruning", ha="right", va="top")
for a, u in zip(hidden_alphas, units, strict=True):
    ax_units.annotate(str(u), (a, u), textcoords="offset points", xytext=(0, 6), ha="center")
ax_units.set_ylabel("hidden units kept\n(hidden_layer_sizes_)")
ax_units.set_ylim(-5, 75)
ax_units.set_title("L0MLPClassifier(hidden_layer_sizes=(64,), alpha=0.003) on digits")

ax_acc.plot(hidden_alphas, accuracy, "o-", color="tab:green")
ax_acc.axhline(0.1, color="0.5", ls=":", lw=0.8)
ax_acc.text(hidden_alphas[0], 0.12, "chance (10 classes)", va="bottom")
for a, acc in zip(hidden_alphas, accuracy, strict=True):
    ax_acc.annotate(f"{acc:.3f}", (a, acc), textcoords="offset points", xytext=(0, 6), ha="center")
ax_acc.set_ylabel("test accuracy")
ax_acc.set_ylim(0, 1.12)
ax_acc.set_xscale("symlog", linthresh=1e-3, linscale=0.5)
ax_acc.set_xlim(-2e-4, 0.6)
ax_acc.set_xlabel("hidden_alpha (price of one hidden unit, nats)")
fig.tight_layout()
plt.show()

# %%
# Up to a price of about 0.01 nats per unit the network sheds most of its
# 64 units at no cost in accuracy: here the small networks even score a
# little higher, as they overfit less. Beyond that each unit removed costs
# accuracy, and at 0.3 no unit is worth its price: the network is empty,
# predicts a single class and keeps no pixel (an empty ``support_``, with an
# ``AllFeaturesPrunedWarning``). Useful values sit where the accuracy curve starts
# to bend; choose one by cross-validation (``GridSearchCV`` over
# ``hidden_alpha``) when the size of the network matters.
