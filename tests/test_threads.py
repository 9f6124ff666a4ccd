"""The thread policy (sklearn_l0.threads): small fits on one thread, callers' settings kept."""

import threading

import numpy as np
import pytest
import torch
from _estimators import ESTIMATORS, fresh, make_data, name
from threadpoolctl import threadpool_info

from sklearn_l0 import L0Regressor
from sklearn_l0.threads import WORK_PER_THREAD, limited_threads, threads_for


@pytest.fixture
def two_threads():
    """torch at two threads for the test (the default on this 2-core machine), then as before."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _spy_on_steps(monkeypatch) -> list[tuple[int, int]]:
    """Record (torch threads, most BLAS threads) at every optimizer step."""
    seen, step = [], torch.optim.Adam.step

    def spying_step(self, *args, **kwargs):
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        seen.append((torch.get_num_threads(), max(blas, default=0)))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spying_step)
    return seen


def test_threads_for_chooses_from_the_work():
    torch_threads = torch.get_num_threads()
    assert threads_for(None, 1000) == 1
    assert threads_for(None, 1.9 * WORK_PER_THREAD) == 1
    assert threads_for(None, 1e15) == torch_threads  # never more than torch would use
    assert threads_for(-1, 1000) is None  # leave the settings alone
    assert threads_for(3, 1000) == 3


@pytest.mark.parametrize("est", ESTIMATORS, ids=name)
def test_small_fit_trains_on_one_thread_and_restores_the_callers(est, two_threads, monkeypatch):
    X, y = make_data(est)
    seen = _spy_on_steps(monkeypatch)
    fitted = fresh(est).fit(X, y)
    assert seen and all(threads == (1, 1) for threads in seen)
    assert torch.get_num_threads() == 2
    fitted.predict(X)
    assert torch.get_num_threads() == 2


def test_override_keeps_torch_threads(two_threads, monkeypatch):
    X, y = make_data(ESTIMATORS[0])
    seen = _spy_on_steps(monkeypatch)
    L0Regressor(max_iter=10, n_threads=-1, device="cpu").fit(X, y)
    assert {torch_threads for torch_threads, _ in seen} == {2}
    seen.clear()
    L0Regressor(max_iter=10, n_threads=2, device="cpu").fit(X, y)
    assert {torch_threads for torch_threads, _ in seen} == {2}


def test_a_count_already_lowered_by_the_caller_is_not_raised(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X, y = make_data(ESTIMATORS[0])
        seen = _spy_on_steps(monkeypatch)
        L0Regressor(max_iter=10, device="cpu").fit(X, y)
        assert {torch_threads for torch_threads, _ in seen} == {1}
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_fit_that_raises_restores_the_count(two_threads, monkeypatch):
    def failing_step(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(torch.optim.Adam, "step", failing_step)
    X, y = make_data(ESTIMATORS[0])
    with pytest.raises(RuntimeError, match="boom"):
        L0Regressor(max_iter=10, device="cpu").fit(X, y)
    assert torch.get_num_threads() == 2
    with pytest.raises(ZeroDivisionError):
        with limited_threads(1):
            assert torch.get_num_threads() == 1
            raise ZeroDivisionError
    assert torch.get_num_threads() == 2


def test_fits_in_parallel_threads_each_restore_their_callers_count(two_threads):
    X, y = make_data(ESTIMATORS[0], n_samples=200, n_features=20)
    barrier, seen, errors = threading.Barrier(2), {}, []

    def worker(i):
        try:
            torch.set_num_threads(2)  # each thread's own count (OpenMP's is per thread)
            barrier.wait()
            before = torch.get_num_threads()
            for _ in range(3):
                L0Regressor(max_iter=30, random_state=i, device="cpu").fit(X, y)
            seen[i] = (before, torch.get_num_threads())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen == {0: (2, 2), 1: (2, 2)}
    assert torch.get_num_threads() == 2
    late = []  # a thread started now begins with the caller's count, not a fit's
    t = threading.Thread(target=lambda: late.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert late == [2]


def test_results_do_not_depend_on_the_thread_count():
    X, y = make_data(ESTIMATORS[0], n_samples=100, n_features=8)
    one = L0Regressor(random_state=0, device="cpu", n_threads=1).fit(X, y)
    default = L0Regressor(random_state=0, device="cpu").fit(X, y)
    np.testing.assert_array_equal(one.coef_, default.coef_)
