"""Training data: validation, standardization, and tensors on the device.

``fit`` validates X, y and the sample weights (:func:`validate_fit_data`),
computes the column means and scales (:func:`column_stats`), and moves a
standardized copy of X to the device (:func:`to_device`): a dense tensor, or
:class:`SparseRows` for sparse X, which is scaled but never densified nor
centered. :class:`Dataset` holds X, the encoded target and the weights on the
device and yields mini-batches.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import _check_sample_weight, validate_data

DTYPE = torch.float32
"""The dtype of training (the refit runs in float64)."""
_CHUNK = 65536


def validate_fit_data(estimator, X, y, sample_weight, reset: bool = True):
    """Validated X and y, and sample weights normalised to mean 1.

    ``estimator._multi_output`` and ``estimator._y_numeric`` say what ``y``
    may be; ``reset`` as in scikit-learn's ``validate_data``.
    """
    X, y = validate_data(
        estimator,
        X,
        y,
        reset=reset,
        accept_sparse=("csr", "csc"),
        dtype=(np.float64, np.float32),
        multi_output=estimator._multi_output,
        y_numeric=estimator._y_numeric,
    )
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    return X, y, sample_weight / sample_weight.mean()


@dataclass
class Standardization:
    """Per-column affine map ``(x - mean) / scale`` applied before training."""

    mean: np.ndarray
    scale: np.ndarray

    def columns(self, cols) -> Standardization:
        """The map of the columns ``cols`` only."""
        return Standardization(self.mean[cols], self.scale[cols])

    @classmethod
    def identity(cls, n_features: int) -> Standardization:
        """The map that leaves ``n_features`` columns as they are."""
        return cls(np.zeros(n_features), np.ones(n_features))


def _safe_scale(std: np.ndarray, mean: np.ndarray, what: str = "X") -> np.ndarray:
    """Standard deviations, with (numerically) constant columns mapped to ``max(1, |mean|)``.

    Not to 1: the centered values of a constant column are rounding residues of
    ``mean`` (``1e29 - mean`` can be ``1e13``), and a sparse column is scaled
    without being centered, so dividing by ``|mean|`` keeps both near 0 or 1.

    Raises a ValueError naming the columns of ``what`` whose mean or variance
    overflowed float64 (values beyond about 1e154).
    """
    overflow = ~(np.isfinite(std) & np.isfinite(mean))
    if np.any(overflow):
        raise ValueError(
            f"{what} has values too large to standardize: the mean or variance of column(s) "
            f"{np.flatnonzero(overflow)[:10].tolist()} overflows float64. Rescale {what} "
            "(e.g. divide it by a power of 10)."
        )
    std = np.asarray(std, dtype=np.float64).copy()
    floor = np.broadcast_to(np.maximum(1.0, np.abs(mean)), std.shape)
    constant = std <= 1e-10 * floor
    std[constant] = floor[constant]
    return std


@np.errstate(over="ignore", invalid="ignore")  # overflow: see _safe_scale
def column_stats(X, sample_weight: np.ndarray, center: bool = True, device=None) -> Standardization:
    """Weighted column means and (constant-safe) standard deviations of X.

    Dense X is read in row chunks in float64, so no full-size temporary is
    made; with an accelerator as ``device`` the chunks are summed there (a
    GPU fit then spends its time on the GPU, not in host arithmetic over X).
    Without ``center`` the mean is 0 and columns are scaled by their root mean
    square.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)  # float32 X: the weights' dtype must match
        mean, var = mean_variance_axis(X, axis=0, weights=sample_weight)
        if not center:
            mean, var = np.zeros_like(mean), var + mean**2
        return Standardization(mean, _safe_scale(np.sqrt(var), mean))
    if device is None or torch.device(device).type == "cpu":
        take = functools.partial(np.asarray, dtype=np.float64)
    else:

        def take(a):  # moved in its own dtype, summed in float64
            return torch.as_tensor(np.ascontiguousarray(a), device=device).double()

    # One pass: sums of x - shift and its square, the shift (the first rows' mean) keeping
    # the two sums free of cancellation; the sums come out of a GPU once.
    w, total = take(sample_weight), sample_weight.sum()
    shift = take(X[:_CHUNK]).mean(axis=0) if center else take(np.zeros(X.shape[1]))
    s1, s2 = take(np.zeros(X.shape[1])), take(np.zeros(X.shape[1]))
    for i in range(0, X.shape[0], _CHUNK):
        dev = take(X[i : i + _CHUNK]) - shift
        s1 += w[i : i + _CHUNK] @ dev
        s2 += w[i : i + _CHUNK] @ (dev * dev)
    s1, s2, shift = (np.asarray(a.cpu() if torch.is_tensor(a) else a) for a in (s1, s2, shift))
    mean = shift + s1 / total if center else shift
    var = np.maximum(s2 / total - (s1 / total) ** 2, 0.0) if center else s2 / total
    return Standardization(mean, _safe_scale(np.sqrt(var), mean))


@np.errstate(over="ignore", invalid="ignore")  # overflow: see _safe_scale
def weighted_mean_std(
    y: np.ndarray, sample_weight: np.ndarray, center: bool = True
) -> Standardization:
    """Weighted column mean and (constant-safe) std of a small 2-D array (the target y).

    Without ``center`` the mean is 0 and the std is the root mean square.
    """
    mean = np.average(y, axis=0, weights=sample_weight) if center else np.zeros(y.shape[1])
    std = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=sample_weight))
    return Standardization(mean, _safe_scale(std, mean, what="y"))


def to_device(
    X, stats: Standardization, device: torch.device, dtype: torch.dtype = DTYPE
) -> torch.Tensor | SparseRows:
    """A standardized copy of X as a torch tensor on ``device``.

    Dense X becomes a dense tensor, standardized in float64 (on the device,
    by row chunks) before the cast to ``dtype``, so that a column such as a
    timestamp (1.7e9 plus small variations) keeps its variations in float32;
    the caller's array is never written. Sparse X becomes a
    :class:`SparseRows` that is scaled but *not* centered, to stay sparse:
    the model subtracts ``mean / scale`` implicitly (see :func:`input_offset`).
    """
    if sp.issparse(X):
        coo = sp.coo_matrix(X, dtype=np.float64).multiply(1.0 / stats.scale).tocoo()
        coo.sum_duplicates()
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        values = torch.from_numpy(coo.data).to(dtype)
        return SparseRows(
            torch.sparse_coo_tensor(
                indices, values, size=coo.shape, is_coalesced=True, check_invariants=False
            ).to(device)
        )
    mean, scale = (torch.as_tensor(a, device=device) for a in (stats.mean, stats.scale))
    Xt = torch.empty(X.shape, dtype=dtype, device=device)
    for i in range(0, X.shape[0], _CHUNK):  # on the device, in float64
        chunk = torch.tensor(np.ascontiguousarray(X[i : i + _CHUNK]), device=device)  # a copy
        Xt[i : i + _CHUNK] = (chunk.double() - mean) / scale
    return Xt


def on_accelerator(X, n_rows: int) -> torch.Tensor | None:
    """``X`` (a :func:`to_device` copy) if it is dense, of ``n_rows`` rows, off the CPU; else None.

    Where a whole pass over X is needed after training, such a copy is read
    in the accelerator's memory instead of the host's.
    """
    if torch.is_tensor(X) and X.device.type != "cpu" and X.shape[0] == n_rows:
        return X
    return None


def input_offset(X, stats: Standardization, device, dtype=DTYPE) -> torch.Tensor | None:
    """What a first layer must subtract from the tensor of :func:`to_device`.

    ``None`` for dense X (already centered); ``mean / scale`` for sparse X.
    """
    if not sp.issparse(X) or not np.any(stats.mean):
        return None
    return torch.as_tensor(stats.mean / stats.scale, dtype=dtype, device=device)


class _SparseMatmul(torch.autograd.Function):
    """``X @ W`` for a constant sparse X, with X and X^T both kept in CSR.

    torch's own gradient of a sparse-dense product transposes and sorts X at
    every call (about 20x the cost of the product on a 20,000 x 100,000
    matrix with 0.1% non-zeros); here both directions are one CSR product.
    """

    @staticmethod
    def forward(ctx, csr: torch.Tensor, csr_t: torch.Tensor, weight: torch.Tensor):
        ctx.csr_t = csr_t
        return csr @ weight

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, ctx.csr_t @ grad


class SparseRows:
    """A sparse design matrix on the device: ``X @ W`` (differentiable in W) and row subsets.

    What :func:`to_device` makes of scipy sparse input. It keeps the COO
    tensor (for row subsets, :meth:`index_select`) and CSR copies of X and
    X^T for fast products in both directions.
    """

    is_sparse = True

    def __init__(self, coo: torch.Tensor) -> None:
        self.coo = coo.coalesce()
        with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
            warnings.filterwarnings("ignore", "Sparse CSR", UserWarning)
            self.csr = self.coo.to_sparse_csr()
            self.csr_t = self.coo.t().coalesce().to_sparse_csr()

    @property
    def shape(self) -> torch.Size:
        return self.coo.shape

    @property
    def device(self) -> torch.device:
        return self.coo.device

    def __matmul__(self, weight: torch.Tensor) -> torch.Tensor:
        return _SparseMatmul.apply(self.csr, self.csr_t, weight)

    def index_select(self, dim: int, index: torch.Tensor) -> SparseRows:
        return SparseRows(self.coo.index_select(dim, index))

    def to_dense(self) -> torch.Tensor:
        return self.coo.to_dense()


@dataclass
class Dataset:
    """Training data on the device: ``X`` dense or :class:`SparseRows`, targets, weights."""

    X: torch.Tensor | SparseRows
    y: torch.Tensor
    w: torch.Tensor

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def batches(
        self, batch_size: int, generator: torch.Generator | None, shuffle: bool
    ) -> Iterator:
        """Yield ``(X, y, w)`` mini-batches covering the data once."""
        n = self.n_samples
        if batch_size >= n:
            yield self.X, self.y, self.w
            return
        order = (
            torch.randperm(n, generator=generator, device=self.y.device)
            if shuffle
            else torch.arange(n, device=self.y.device)
        )
        for start in range(0, n, batch_size):
            batch = self.rows(order[start : start + batch_size])
            yield batch.X, batch.y, batch.w

    def columns(self, index: torch.Tensor) -> Dataset:
        """The columns ``index`` of X (a copy), the same targets and weights."""
        return Dataset(self.X.index_select(1, index), self.y, self.w)

    def rows(self, index: torch.Tensor) -> Dataset:
        """The rows ``index`` (a tensor on the data's device)."""
        pick = lambda t: t.index_select(0, index)  # noqa: E731
        return Dataset(pick(self.X), pick(self.y), pick(self.w))

    def split(self, y: np.ndarray, fraction: float, seed: int, stratify: bool):
        """Hold out ``fraction`` of the rows (stratified on ``y``) for early stopping.

        Returns the training and validation :class:`Dataset`.
        """
        from sklearn.model_selection import train_test_split

        train_idx, val_idx = train_test_split(
            np.arange(self.n_samples),
            test_size=fraction,
            random_state=seed % (2**32),
            stratify=y if stratify else None,
        )
        device = self.y.device
        return tuple(self.rows(torch.as_tensor(idx, device=device)) for idx in (train_idx, val_idx))
