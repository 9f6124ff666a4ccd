"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/NAME.py``)."""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_info, threadpool_limits


def limit_threads(threads: int) -> str:
    """Limit torch, BLAS and OpenMP to ``threads`` threads (0: leave the defaults).

    Returns a one-line description of the native thread pools, for the report.
    Call it after importing the peers, so their libraries are limited too.
    """
    if threads > 0:
        torch.set_num_threads(threads)
        threadpool_limits(threads)
    pools = sorted({f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()})
    return ", ".join(pools)
