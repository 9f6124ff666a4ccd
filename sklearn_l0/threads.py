"""How many threads torch and BLAS use inside ``fit``, ``partial_fit`` and ``predict``.

The parallel operations of torch's intra-op pool and of BLAS wait for every one
of their threads. When another process holds a core, each small step then
stalls until the thread on that core is scheduled again: one ``L0Classifier``
fit on 569 x 30 rows took 0.4-0.9 s with one torch thread and 23-44 s with two
on a busy 2-core machine. So a call whose optimizer step is small runs on one
thread, and on more only when each thread gets at least :data:`WORK_PER_THREAD`
multiply-adds a step (never more than torch would use); the caller's settings
are put back when the call returns or raises. The estimators' ``n_threads``
parameter overrides the choice.

torch's intra-op parallelism (OpenMP) takes its thread count from the calling
thread's OpenMP setting, and so does BLAS: the limit is set there, with
threadpoolctl, and never through ``torch.set_num_threads``, which also changes
the count that every other thread of the process starts from. Fits that run at
once in threads of one process (joblib's threading backend, Dask's threaded
workers) therefore neither see nor change each other's counts, and each caller
gets its own count back.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

WORK_PER_THREAD = 1 << 26
"""Multiply-adds of one optimizer step (or one predicted chunk) that earn a thread."""

_libraries = None  # threadpoolctl's controller, made once, on first use

N_THREADS_DOC = """\
    n_threads : int or None, default=None
        Threads of torch (and of BLAS) inside ``fit``, ``partial_fit`` and
        ``predict``. None chooses from the work of one optimizer step: one
        thread for small problems, where more threads only wait for each
        other (and stall badly when other programs keep the cores busy), more
        for large ones, never more than torch's own setting. -1 leaves
        torch's and BLAS's settings as they are; a positive count is used as
        given. The caller's settings are restored when the call returns.
"""
"""The numpydoc entry of the estimators' ``n_threads`` parameter."""


def threads_for(n_threads: int | None, work: float) -> int | None:
    """The thread count for a call that does ``work`` multiply-adds a step.

    ``n_threads`` is the estimators' parameter: None chooses from ``work`` (one
    thread below ``2 * WORK_PER_THREAD``); -1 leaves torch's and BLAS's own
    settings alone (returns None); a positive count is used as given.
    """
    if n_threads == -1:
        return None
    if n_threads is not None:
        return int(n_threads)
    return max(1, min(torch.get_num_threads(), int(work // WORK_PER_THREAD)))


@contextmanager
def limited_threads(n: int | None):
    """Run torch and BLAS on ``n`` threads inside the block (None: change nothing).

    Sets the calling thread's OpenMP and BLAS thread counts (threadpoolctl);
    they are restored on exit, also when the block raises.
    """
    if n is None:
        yield
        return
    torch.get_num_threads()  # torch sets up this thread's count on first use: not inside
    with _controller().limit(limits=n):  # OpenMP and BLAS
        yield


def _controller():
    """threadpoolctl's view of the loaded OpenMP and BLAS libraries (made once: ~ms)."""
    global _libraries
    if _libraries is None:
        from threadpoolctl import ThreadpoolController

        _libraries = ThreadpoolController()
    return _libraries
