"""
Training on data streamed from disk
===================================

``partial_fit`` trains on one chunk of rows at a time, so the data never
have to fit in memory: here they sit in a ``.npy`` file on disk, opened as a
memory map, and each call reads one chunk. Every call is one more epoch of
the same training run (the parameters, the Adam state and the gate noise
carry over), so the model is the same whether the data come in one piece or
in chunks. The first call fixes the standardization of X and y from its
chunk, so it should be a representative sample (shuffle the file once).

This example streams 20,000 rows x 200 features in 10 chunks for 25 passes,
and draws how the number of open gates and the test R^2 evolve, next to the
same model trained with ``fit`` on all the rows at once.
"""

# %%
# A dataset on disk
# -----------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_l0 import L0Regressor
from sklearn_l0.datasets import make_sparse_regression

X, y, true_coef = make_sparse_regression(21000, 200, n_informative=10, random_state=0)
X_test, y_test = X[20000:], y[20000:]
folder = Path(tempfile.mkdtemp())
np.save(folder / "X.npy", X[:20000])
np.save(folder / "y.npy", y[:20000])
del X, y  # from here on the training rows are only on disk

X_disk = np.load(folder / "X.npy", mmap_mode="r")  # nothing is read yet
y_disk = np.load(folder / "y.npy", mmap_mode="r")
chunks = np.array_split(np.arange(len(y_disk)), 10)

# %%
# Stream the chunks
# -----------------
# Each ``partial_fit`` call reads one chunk (2,000 rows) from the file.
stream = L0Regressor(alpha=0.02, random_state=0, device="cpu")
open_gates, test_r2 = [], []
for _ in range(25):
    for rows in chunks:
        stream.partial_fit(X_disk[rows[0] : rows[-1] + 1], y_disk[rows[0] : rows[-1] + 1])
    open_gates.append(stream.support_.sum())
    test_r2.append(stream.score(X_test, y_test))

batch = L0Regressor(alpha=0.02, random_state=0, device="cpu").fit(X_disk, y_disk)
print(f"streamed: {stream.support_.sum()} features, test R^2 {test_r2[-1]:.3f}")
print(f"fit:      {batch.support_.sum()} features, test R^2 {batch.score(X_test, y_test):.3f}")
print("same support:", np.array_equal(stream.support_, batch.support_))
print("true support:", np.array_equal(stream.support_, true_coef != 0))

# %%
# How the streamed model settles
# ------------------------------
passes = np.arange(1, len(open_gates) + 1)
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
top.plot(passes, open_gates, marker="o", ms=3, label="partial_fit, 10 chunks")
top.axhline(batch.support_.sum(), color="k", ls="--", label="fit on all rows")
top.set_yscale("log")
top.set_ylabel("open gates (features kept)")
top.legend()
bottom.plot(passes, test_r2, marker="o", ms=3, label="partial_fit, 10 chunks")
bottom.axhline(batch.score(X_test, y_test), color="k", ls="--", label="fit on all rows")
bottom.set_ylim(min(0.0, min(test_r2)), 1.0)
bottom.set_xlabel("passes over the file")
bottom.set_ylabel("test $R^2$")
bottom.legend(loc="lower right")
fig.suptitle("L0Regressor trained chunk by chunk from a memory-mapped file")
fig.tight_layout()
plt.show()
