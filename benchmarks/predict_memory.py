"""Peak memory of ``predict`` on 10 million rows, for every estimator.

Each estimator is fitted on 2,000 rows (p = 20 features, 5 of them informative,
``device="cpu"``, default settings, so the MLPs start with 100 hidden units), then predicts
on ``--rows`` rows (10,000,000 by default) of a float32 C-contiguous array. Each
estimator runs in a fresh subprocess, so one measurement cannot inherit another's
memory.

What is measured: the input array is built (in chunks of a million rows, so no
temporary larger than a chunk) and a small warm-up prediction is made *before* the
measurement, so the input is counted separately (``input MB``). Then the process's
peak resident set size (``VmHWM`` of ``/proc/self/status``, reset through
``/proc/self/clear_refs``) is recorded around one call; ``peak MB`` is that peak
minus the resident size just before the call. The returned array itself is
unavoidable (``output MB``: float64 predictions or int64 labels); ``extra MB`` =
``peak - output`` is what the method needed beyond it: a streaming predict keeps
it at a few chunks of 65,536 rows, while one that materialises an ``n x p`` or
``n x hidden`` temporary shows hundreds of MB to GB. Where ``/proc/self/clear_refs``
cannot be written, ``ru_maxrss`` is used instead (a lifetime peak: the build of the
input is then included, so ``peak`` is an upper bound).

Classifiers are measured for ``predict`` and ``predict_proba``.

Results: benchmarks/README.md.

Run: ``python benchmarks/predict_memory.py [--rows 10000000] [--features 20]``
(about a minute on one core; it needs ~2 GB of free memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import subprocess

from _common import run_peak_memory, time_call

ESTIMATORS = (
    "L0Regressor",
    "L0Classifier",
    "L0MLPRegressor",
    "L0MLPClassifier",
    "L0RegressorCV",
    "L0ClassifierCV",
)
MB = 2**20


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter; False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_kb(reset_ok: bool) -> int:
    if reset_ok:
        return _status_kb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def measure(method, X) -> dict:
    """Time and peak memory of ``method(X)`` above the current resident size."""
    gc.collect()
    rss = _status_kb("VmRSS")
    reset_ok = _reset_peak()
    out, (seconds,) = time_call(lambda: method(X))
    peak = (_peak_kb(reset_ok) - rss) * 1024 / MB
    result = dict(
        seconds=seconds,
        peak_mb=peak,
        output_mb=out.nbytes / MB,
        extra_mb=peak - out.nbytes / MB,
        finite=bool(out.dtype.kind not in "fc" or (out == out).all()),
        peak_source="VmHWM" if reset_ok else "ru_maxrss",
    )
    del out
    return result


def worker(name: str, n_rows: int, n_features: int, threads: int) -> list[dict]:
    """Fit ``name`` on a small problem, then measure its prediction methods on ``n_rows``."""
    import numpy as np
    from _common import limit_threads

    import sklearn_l0

    limit_threads(threads)
    rng = np.random.default_rng(0)
    X_fit = rng.standard_normal((2000, n_features), dtype=np.float32)
    signal = X_fit[:, :5] @ np.array([2.0, -1.5, 1.0, 1.0, -2.0]) + 0.3 * X_fit[:, 0] * X_fit[:, 1]
    estimator = getattr(sklearn_l0, name)(device="cpu", random_state=0)
    y = (signal > 0).astype(int) if "Classifier" in name else signal
    estimator.fit(X_fit, y)

    X = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, 1_000_000):  # no float64 temporary of the full size
        stop = min(start + 1_000_000, n_rows)
        X[start:stop] = rng.standard_normal((stop - start, n_features), dtype=np.float32)
    methods = ["predict"] + (["predict_proba"] if "Classifier" in name else [])
    rows = []
    for method_name in methods:
        method = getattr(estimator, method_name)
        method(X[:1000])  # warm-up: lazy imports and first-call allocations
        result = measure(method, X)
        result.update(
            estimator=name,
            method=method_name,
            input_mb=X.nbytes / MB,
            n_kept=int(estimator.support_.sum()),
            hidden=str(getattr(estimator, "hidden_layer_sizes_", "")),
        )
        rows.append(result)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="0: library defaults")
    parser.add_argument("--estimators", nargs="*", default=list(ESTIMATORS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.features, args.threads)))
        return

    print(f"predict on {args.rows:,} rows x {args.features} float32 features")
    print(f"python {platform.python_version()}, {platform.machine()}, threads={args.threads}")
    header = (
        f"{'estimator':<16} {'method':<14} {'kept':>4} {'hidden':>7} {'input MB':>9} "
        f"{'output MB':>9} {'peak MB':>8} {'extra MB':>8} {'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in args.estimators:
        command = [__file__, "--worker", name]
        command += ["--rows", str(args.rows), "--features", str(args.features)]
        command += ["--threads", str(args.threads)]
        try:  # the worker measures its own peak around each call; the process's is not used
            rows, _ = run_peak_memory(command)
        except subprocess.CalledProcessError as failed:
            print(f"{name:<16} failed:\n{failed.stderr[-2000:]}")
            continue
        for r in rows:
            print(
                f"{r['estimator']:<16} {r['method']:<14} {r['n_kept']:>4} {r['hidden']:>7} "
                f"{r['input_mb']:>9.0f} {r['output_mb']:>9.0f} {r['peak_mb']:>8.0f} "
                f"{r['extra_mb']:>8.0f} {r['seconds']:>8.2f}"
                + ("" if r["finite"] else "  NON-FINITE OUTPUT")
                + ("" if r["peak_source"] == "VmHWM" else "  (ru_maxrss: upper bound)")
            )


if __name__ == "__main__":
    main()
