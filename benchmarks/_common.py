"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/NAME.py``).

- :func:`limit_threads`: one thread per library (torch, BLAS, OpenMP);
- :func:`environment`: the report's first lines (versions, platform, threads);
- :func:`time_call`: the timing loop (wall time of repeated calls);
- :func:`fit_timed`: an estimator's fit timed with :func:`time_call`, its warnings kept;
- :func:`shorten`: a message on one short line (warning and error tallies);
- :func:`markdown_table`: a pandas table as a markdown table;
- :func:`median_time_ratio`: a method's fit times over a reference's, on the same runs;
- :func:`run_peak_memory`: run a worker in a fresh process, get its result and peak RSS;
- :func:`call_with_budget`: a call in a forked child, stopped after a time budget;
- :func:`load_mnist`: MNIST from the IDX files of ``../shared/data/mnist`` (never downloaded).

This module imports torch only inside :func:`limit_threads`, so that a parent process that
only starts workers stays small (its resident size would count in theirs, see
:func:`run_peak_memory`).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def limit_threads(threads: int) -> str:
    """Limit torch, BLAS and OpenMP to ``threads`` threads (0: leave the defaults).

    Returns a one-line description of the native thread pools, for the report.
    Call it after importing the peers, so their libraries are limited too.
    """
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
        threadpool_limits(threads)
    pools = sorted({f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()})
    return ", ".join(pools)


def environment(pools: str) -> str:
    """Versions, platform and thread settings (``pools`` from :func:`limit_threads`)."""
    import platform

    import sklearn
    import torch

    import sklearn_l0

    return (
        f"sklearn-l0 {sklearn_l0.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}; {platform.platform()}, "
        f"{os.cpu_count()} CPU(s)\nthreads: torch {torch.get_num_threads()}, {pools}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )


def time_call(
    fn: Callable[..., Any],
    repeats: int = 1,
    *,
    min_time: float = 0.0,
    max_repeats: int = 100,
    setup: Callable[[], Any] | None = None,
    sync: Callable[[], None] | None = None,
) -> tuple[Any, list[float]]:
    """Wall time of repeated calls of ``fn``, with ``time.perf_counter``.

    ``fn`` is called ``repeats`` times, then again while the calls so far have taken less
    than ``min_time`` seconds in all and fewer than ``max_repeats`` calls were made (as
    with ``timeit``'s autorange, fast calls are repeated until their total is long
    enough to measure).

    Parameters
    ----------
    fn : callable
        The call to time: ``fn()``, or ``fn(setup())`` when ``setup`` is given.
    repeats : int, default=1
        Calls made whatever their time.
    min_time : float, default=0.0
        After ``repeats`` calls, keep calling while the calls have taken less than this
        many seconds in all...
    max_repeats : int, default=100
        ...and fewer than this many calls were made.
    setup : callable, optional
        Called before every call, outside the timed interval; its return value is
        passed to ``fn`` (for example a fresh unfitted estimator).
    sync : callable, optional
        Called just before the clock starts and just before it stops, inside the timed
        interval (``torch.cuda.synchronize``: wait for queued device work).

    Returns
    -------
    result : object
        What the last call of ``fn`` returned.
    times : list of float
        The seconds of every call, in order; callers take their median or minimum.
    """
    times: list[float] = []
    result = None
    while len(times) < repeats or (sum(times) < min_time and len(times) < max_repeats):
        args = () if setup is None else (setup(),)
        if sync is not None:
            sync()
        start = time.perf_counter()
        result = fn(*args)
        if sync is not None:
            sync()
        times.append(time.perf_counter() - start)
    return result, times


def fit_timed(factory, X, y, *, min_time: float, caught: list, max_repeats: int = 20):
    """Fit ``factory()`` on ``(X, y)``, repeated while the fits total under ``min_time`` s.

    The warnings raised are appended to ``caught``. Returns the last fitted estimator and
    the seconds of every fit (callers take the median).
    """
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        est, times = time_call(
            lambda est: est.fit(X, y), min_time=min_time, max_repeats=max_repeats, setup=factory
        )
    caught.extend(raised)
    return est, times


def shorten(message, width: int = 70) -> str:
    """``message`` on one line, cut to ``width`` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def median_time_ratio(rows, reference, keys) -> float:
    """Median over runs of ``rows``' ``fit_s`` over ``reference``'s on the same run.

    ``rows`` and ``reference`` are result frames with a ``fit_s`` column and the
    ``keys`` columns naming a run (e.g. ``["seed"]``); runs missing from either side
    are left out; NaN when none is shared.
    """
    ref = reference.set_index(keys)["fit_s"]
    mine = rows.set_index(keys)["fit_s"]
    shared = mine.index.isin(ref.index)
    if not shared.any():
        return float("nan")
    return float(np.median(mine[shared].to_numpy() / ref.loc[mine.index[shared]].to_numpy()))


def markdown_table(table, decimals: dict[str, int] | None = None, default: int = 3) -> str:
    """A pandas table as markdown; floats with ``decimals[column]`` (else ``default``) digits."""
    decimals = decimals or {}
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.itertuples(index=False):
        cells = []
        for column, value in zip(columns, row, strict=True):
            if isinstance(value, float):
                digits = decimals.get(column, default)
                cells.append("-" if value != value else f"{value:.{digits}f}")  # NaN: "-"
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_peak_memory(args: Sequence[str]) -> tuple[Any, float]:
    """Run ``python ARGS...`` in a fresh process; its JSON result and peak resident memory.

    The worker prints its result as JSON on the last line of its standard output. Its
    peak resident set size is the kernel's ``ru_maxrss`` of the finished process (as
    ``os.wait4`` reports it), so it covers the whole process: the interpreter, the
    imports, the data and the work. On Linux it is at least the parent's resident size
    at the start (the kernel counts it through the ``exec``), so keep the parent small.

    Parameters
    ----------
    args : sequence of str
        The arguments after the Python interpreter (``sys.executable``): a script and
        its options.

    Returns
    -------
    result : object
        The decoded last line of the worker's standard output.
    peak_rss_mb : float
        The worker's peak resident set size in MiB.

    Raises
    ------
    subprocess.CalledProcessError
        If the worker fails; its ``stdout`` and ``stderr`` hold the worker's output.
    """
    cmd = [sys.executable, *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # waitpid with the child's resource usage
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, stdout, stderr)
    return json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss / 1024  # KiB on Linux


MNIST_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
"""Where the MNIST IDX files are: ``../shared/data/mnist`` beside the repository."""
FILES = {
    "X_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def call_with_budget(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    *,
    budget: float,
    threads: int = 1,
    progress: Callable[[], str] | None = None,
) -> Any:
    """``fn(*args)`` in a forked child (``threads`` threads), for a peer too slow to wait for.

    Returns its result, raises its exception here, or kills it after ``budget``
    seconds and raises ``TimeoutError`` (``progress()``, if given, says how far
    it got: it can read a shared ``multiprocessing`` value passed in ``args``).
    """
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()

    def child():
        limit_threads(threads)
        try:
            results.put((True, fn(*args)))
        except Exception as exc:  # reported by the parent, not left to the budget
            results.put((False, exc))

    proc = ctx.Process(target=child)
    proc.start()
    try:
        ok, value = results.get(timeout=budget)
    except queue.Empty:
        proc.terminate()
        proc.join()
        where = f"; {progress()}" if progress is not None else ""
        raise TimeoutError(f"over the {budget:.0f} s budget{where}") from None
    proc.join()
    if not ok:
        raise value
    return value


def load_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file into a numpy array of its stored shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]  # the magic number's last byte is the rank
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir: Path = MNIST_DATA):
    """Train and test images (float32 in [0, 1], flattened to 784) and labels (int64)."""
    missing = [name for name in FILES.values() if not (data_dir / name).is_file()]
    if missing:
        sys.exit(
            f"MNIST not found: {data_dir} lacks {', '.join(missing)}. Point --data at the "
            "folder holding the four IDX .gz files (this script never downloads)."
        )
    X_train = load_idx(data_dir / FILES["X_train"]).reshape(-1, 784).astype(np.float32) / 255.0
    y_train = load_idx(data_dir / FILES["y_train"]).astype(np.int64)
    X_test = load_idx(data_dir / FILES["X_test"]).reshape(-1, 784).astype(np.float32) / 255.0
    y_test = load_idx(data_dir / FILES["y_test"]).astype(np.int64)
    return X_train, y_train, X_test, y_test
