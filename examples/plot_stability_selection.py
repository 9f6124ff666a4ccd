"""
Which genes to trust: stability selection on a microarray
=========================================================

A sparse classifier fitted once returns one set of genes; fitted on another
half of the patients it returns another. :class:`~sklearn_l0.StabilitySelection`
fits :class:`~sklearn_l0.L0Classifier` on many halves of the rows, drawn in
complementary pairs, at every price of a grid, and keeps the genes that most
halves select. The threshold comes with a bound: here, at most one false
positive is expected among the kept genes (``pfer=1``; the bound assumes
what Shah & Samworth (2013) state, see the user guide).

The data: the prostate tumour microarray of Singh et al. (2002), 102
patients, 5,966 genes, two classes, from ``../shared/data/Prostate_GE``
beside the repository (scikit-feature's copy), reduced to its 1,000 most
variable genes (a filter that does not look at the classes) to keep the
example quick. Where the file is absent, a simulated problem of the same
shape with 10 true features stands in.
"""

# %%
# The data
# --------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.io import loadmat
from sklearn.preprocessing import StandardScaler

from sklearn_l0 import L0Classifier, StabilitySelection
from sklearn_l0.datasets import make_sparse_classification
from sklearn_l0.stability import plot_stability_path

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
path = here.parents[1] / "shared" / "data" / "Prostate_GE" / "Prostate_GE.mat"
if path.exists():
    data = loadmat(str(path))
    X = np.asarray(data["X"], dtype=np.float64)  # log scale already
    X = StandardScaler().fit_transform(X[:, np.argsort(X.var(axis=0))[-1000:]])
    y = np.asarray(data["Y"]).ravel()
    true = None
    print(f"Prostate_GE: {X.shape[0]} patients, {X.shape[1]} most variable genes")
else:
    X, y, coef = make_sparse_classification(102, 1000, n_informative=10, random_state=0)
    true = np.flatnonzero(coef.ravel())
    print(f"{path} not found: a simulated problem of the same shape stands in")

# %%
# Fit on 20 halves at 10 prices
# -----------------------------
# The linear model trains all 200 (price, half) models as one batched
# computation. 20 halves keep this example quick; the default is 50.
selection = StabilitySelection(
    L0Classifier(random_state=0), alphas=10, n_resamples=20, pfer=1, random_state=0
).fit(X, y)
kept = selection.get_support(indices=True)
print(
    f"threshold {selection.threshold_:.2f} over the {selection.n_alphas_used_} largest "
    f"prices; a half keeps {selection.q_:.1f} genes on average; "
    f"expected false positives at most {selection.pfer_bound_:.2f}"
)
print(f"kept {kept.size} genes: {kept.tolist()}")

# %%
# The stability path
# ------------------
# Left: each line is one gene's share of the halves that keep it at some price
# down to alpha (largest price on the left), what the selection reads. The
# shaded prices are those the bound allows; a gene is kept when its line
# reaches the dashed threshold inside them. Right: the classic stability path,
# the share at each price alone (a gene a half keeps at one price and drops at
# the next counts once on the left, at each price on the right).
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
shown = kept if true is None else true
plot_stability_path(selection, true_features=shown, ax=axes[0])
plot_stability_path(selection, true_features=shown, ax=axes[1], scores="price")
axes[0].set_title("kept at some price down to alpha")
axes[1].set_title("kept at each price")
fig.tight_layout()

# %%
# One fit against the stable set
# ------------------------------
# A single fit on all the patients keeps its own genes; the stable ones are
# those a majority of halves agree on.
single = L0Classifier(alpha=selection.alphas_[selection.n_alphas_used_ - 1], random_state=0)
single.fit(X, y)
both = np.intersect1d(np.flatnonzero(single.support_), kept)
print(f"one fit keeps {single.support_.sum()} genes, {both.size} of them stable")
plt.show()
