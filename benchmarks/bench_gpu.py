"""GPU throughput: one training step against the memory-bandwidth floor, and whole fits.

Task: dense logistic regression, n = 1,000,000 rows, p = 1,000 float32
features (X is 4 GB on the device), 20 informative features
(``sklearn_l0.datasets.make_sparse_classification``, generated in chunks).

Reported, all in one run on one CUDA device:

1. The *floor*: the bytes of X (``n * p * 4``) divided by the card's
   device-to-device copy bandwidth, measured here (``copy_`` of a 4 GB tensor,
   bytes copied per second, median of 10). A full-batch step must read X at
   least once, so no step can be faster than this.
2. Time per full-batch training step of one ``L0Classifier`` model:
   :func:`sklearn_l0.training.train` on the model's module for a fixed number
   of epochs (no early stop), divided by the epochs; the convergence checks
   (one every 10 steps) are included. Target: within 1.2x of the floor.
3. The same for the ``L0ClassifierCV`` grid: 20 alphas x (5 folds + the
   all-data fit) = 120 models trained as one ``GatedLinearStack``, every step
   reading X once for all of them. Target: within 2x of the floor.
4. Whole ``L0Classifier(alpha=...)`` fit on the GPU (data already on the
   host, transfer included), against sklearn's ``LogisticRegression`` with an
   L1 penalty and the saga solver on the CPU on a 100,000-row subsample,
   times 10 (saga's cost is linear in n). Target: at least 50x faster.
5. Peak device memory (``torch.cuda.max_memory_allocated``) of each part.

Run on a machine with CUDA: ``PYTHONPATH=. python benchmarks/bench_gpu.py``
(``--n`` and ``--p`` to change the size, ``--saga-rows`` the subsample).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _common import time_call


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak() -> float | None:
    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None


def _reset_peak() -> None:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def copy_bandwidth(n_bytes: int, device) -> float:
    """Device-to-device copy bandwidth in bytes/s (bytes copied per second)."""
    src = torch.empty(n_bytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    _, times = time_call(lambda: dst.copy_(src), 11, sync=_sync)
    return n_bytes / float(np.median(times[1:]))


def data(n: int, p: int, seed: int = 0):
    from sklearn_l0.datasets import make_sparse_classification

    X, y, coef = make_sparse_classification(n, p, n_informative=20, random_state=seed)
    return X.astype(np.float32), y, coef


def step_time(module, loss_fn, dataset, epochs: int) -> float:
    """Seconds per full-batch step of :func:`train` over ``epochs`` epochs (no early stop)."""
    from sklearn_l0.training import train

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, (seconds,) = time_call(
            lambda: train(
                module,
                loss_fn,
                dataset,
                max_iter=epochs,
                tol=0.0,
                n_iter_no_change=epochs,
                learning_rate=0.05,
                batch_size=dataset.n_samples,
            ),
            sync=_sync,
        )
    return seconds / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--alpha", type=float, default=0.002)
    parser.add_argument("--saga-rows", type=int, default=100_000)
    parser.add_argument("--device", default="cuda", help="cpu: a smoke run of the script")
    parser.add_argument("--profile", action="store_true", help="print a whole fit's profile")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_gpu.py needs a CUDA device (or --device cpu for a smoke run).")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    from sklearn_l0 import L0Classifier
    from sklearn_l0.data import Dataset, column_stats, to_device
    from sklearn_l0.datasets import support_f1
    from sklearn_l0.grid import GatedLinearStack
    from sklearn_l0.losses import binary_log_loss
    from sklearn_l0.nn import L0Linear

    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    X, y, coef = data(args.n, args.p)
    n_bytes = X.nbytes
    bandwidth = copy_bandwidth(n_bytes, device)
    floor = n_bytes / bandwidth
    print(f"# bench_gpu.py on {name}, torch {torch.__version__}")
    print(f"# X: {args.n} x {args.p} float32 = {n_bytes / 1e9:.2f} GB")
    print(f"# device-to-device copy: {bandwidth / 1e9:.0f} GB/s; floor {floor * 1e3:.2f} ms")
    print()

    weights = np.ones(args.n)
    stats = column_stats(X, weights)
    Xd = to_device(X, stats, device)
    yd = torch.as_tensor(y.astype(np.float32), device=device)
    rows = []

    # One model (after a short untimed run: CUDA's lazy kernel loading and library
    # handles stay out of the step time).
    single = L0Linear(args.p, 1, l0=args.alpha, l2=1e-3).to(device)
    step_time(single, binary_log_loss, Dataset(Xd, yd, torch.ones_like(yd)), 3)
    _reset_peak()
    single = L0Linear(args.p, 1, l0=args.alpha, l2=1e-3).to(device)
    one = step_time(single, binary_log_loss, Dataset(Xd, yd, torch.ones_like(yd)), args.epochs)
    rows.append(("one model, step", one, one / floor, _peak()))

    # The CV grid: 20 alphas x (5 folds + all rows), fold membership as weights.
    _reset_peak()
    n_folds, n_alphas = 5, 20
    fold_w = np.ones((args.n, n_folds + 1), dtype=np.float32)
    for f, (_, test) in enumerate(KFold(n_folds).split(X)):
        fold_w[test, f] = 0.0
    fold_w /= fold_w.mean(axis=0)
    alphas = np.log(2) * np.logspace(0, -3, n_alphas)
    grid = GatedLinearStack(
        args.p,
        1,
        (n_alphas, n_folds + 1),
        l0=torch.as_tensor(alphas[:, None], dtype=torch.float32, device=device),
        l2=1e-3,
    ).to(device)
    grid_data = Dataset(Xd, yd.view(-1, 1, 1), torch.as_tensor(fold_w, device=device).unsqueeze(1))
    many = step_time(grid, binary_log_loss, grid_data, args.epochs)
    rows.append((f"{n_alphas * (n_folds + 1)} models (CV grid), step", many, many / floor, _peak()))
    if device.type == "cuda":  # what-if: the same step with TF32 matrix products
        torch.backends.cuda.matmul.allow_tf32 = True
        tf32 = step_time(grid, binary_log_loss, grid_data, args.epochs)
        torch.backends.cuda.matmul.allow_tf32 = False
        rows.append(("the same, TF32 products (not the default)", tf32, tf32 / floor, _peak()))
    del Xd, grid_data
    torch.cuda.empty_cache()

    # Whole fits.
    _reset_peak()
    L0Classifier(max_iter=5, device=device).fit(X[:1000], y[:1000])  # warm-up (lazy imports)
    clf, (fit_s,) = time_call(
        lambda: L0Classifier(alpha=args.alpha, random_state=0, device=device).fit(X, y), sync=_sync
    )
    rows.append((f"L0Classifier fit ({name})", fit_s, None, _peak()))
    if args.profile:  # where a whole fit's time goes: a second fit, under cProfile
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(L0Classifier(alpha=args.alpha, random_state=0, device=device).fit, X, y)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"sklearn_l0.*\.py", 25)
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)
    sub = slice(0, args.saga_rows)
    saga = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.05, max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, (saga_s,) = time_call(lambda: saga.fit(X[sub], y[sub]))
    saga_s *= args.n / args.saga_rows
    rows.append(
        (f"saga L1 (CPU), {args.saga_rows} rows x {args.n // args.saga_rows}", saga_s, None, None)
    )

    print("| what | seconds | x floor | peak device memory (GB) |")
    print("|---|---|---|---|")
    for what, seconds, ratio, peak in rows:
        r = "" if ratio is None else f"{ratio:.2f}"
        m = "" if peak is None else f"{peak / 1e9:.2f}"
        print(f"| {what} | {seconds:.4g} | {r} | {m} |")
    print(
        f"\nL0Classifier fit: {saga_s / fit_s:.0f}x faster than saga scaled to {args.n} rows;"
        f" support F1 {support_f1(coef.ravel() != 0, clf.support_):.3f}, "
        f"saga F1 {support_f1(coef.ravel() != 0, saga.coef_.ravel() != 0):.3f}"
    )


if __name__ == "__main__":
    main()
