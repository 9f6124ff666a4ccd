"""Small utilities: devices, seeds, all-or-nothing fits, device-free state, warnings, doc links."""

from __future__ import annotations

import functools
import numbers
import secrets
import sys
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError

DOCS_URL = "https://sklearn-l0.readthedocs.io/en/latest/"
"""Where the Sphinx site of ``docs/`` is published."""


class DocLinkMixin:
    """Links an estimator's HTML representation (notebooks) to its page of the API reference.

    scikit-learn's ``_doc_link_*`` hooks, pointed at the pages Sphinx writes for
    ``docs/api.rst`` (``generated/sklearn_l0.<Name>.html``).
    """

    _doc_link_module = "sklearn_l0"
    _doc_link_template = DOCS_URL + "generated/sklearn_l0.{estimator_name}.html"


class AllFeaturesPrunedWarning(UserWarning):
    """Every input feature was pruned: the model predicts a constant."""


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a ``torch.device``, with clear errors.

    ``"auto"`` is CUDA when available, else the CPU.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or a "
            f"torch.device; got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                "(available: 'cpu'). Use device='cpu' or device='auto'."
            )
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise ValueError(
                f"device={device!r} was requested but this machine has {n} CUDA device(s) "
                f"(available: {', '.join(f'cuda:{i}' for i in range(n))})."
            )
    elif dev.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda' or 'auto'.")
    return indexed(dev)  # named: the fit's tensors and generators compare equal


def indexed(device: torch.device) -> torch.device:
    """``device`` with its index: ``"cuda"`` is the current GPU (a generator made on
    ``"cuda"`` reports no index, the tensors there report one)."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def seed_from(random_state) -> int:
    """An integer seed from ``random_state``, leaving global random states alone.

    ``None`` takes fresh OS entropy (numpy's global RandomState is *not* drawn
    from); an int is used as is; a ``RandomState`` instance is drawn from.
    """
    if random_state is None:
        return secrets.randbits(63)
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def fit_generator(device: torch.device, seed: int | None, state=None) -> torch.Generator:
    """A fit's generator on ``device`` (initial weights, shuffles, gate noise), seeded or
    continuing a saved ``state``.

    A state saved on another kind of device (CPU and CUDA generators keep
    states of different sizes: a model fitted on a GPU continued on a machine
    without one) seeds the generator from its bytes instead, deterministically.
    """
    generator = torch.Generator(device=device)
    if state is None:
        return generator.manual_seed(seed)
    state = torch.as_tensor(state)
    try:
        generator.set_state(state)
    except RuntimeError:
        entropy = np.random.SeedSequence(state.numpy().astype(np.uint32).tolist())
        generator.manual_seed(int(entropy.generate_state(1, np.uint64)[0] >> 2))
    return generator


def atomic_fit(fit_method):
    """Decorate a fitting method so that it fully succeeds or leaves the estimator as it was.

    On any exception, ``KeyboardInterrupt`` included, the estimator's ``__dict__``
    is restored to its state before the call (validation sets ``n_features_in_``
    early; a failure later must not leave it half-written). Fitting methods
    assign attributes rather than mutate them, so a shallow copy is enough.

    Torch's global CPU generator is left as it was, too: the layers of
    :mod:`sklearn_l0.nn` draw their initial values from it when built, as torch
    layers do, and the estimators then set every parameter and the gate noise
    from their own generator (seeded by ``random_state``).
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        before = self.__dict__.copy()
        try:
            with torch.random.fork_rng(devices=[]):
                return fit_method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


def numpy_tree(state):
    """A nested state (e.g. an optimizer ``state_dict``) with its tensors as numpy arrays."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().numpy()
    if isinstance(state, dict):
        return {k: numpy_tree(v) for k, v in state.items()}
    if isinstance(state, list):
        return [numpy_tree(v) for v in state]
    return state


def torch_tree(state):
    """The inverse of :func:`numpy_tree` (``load_state_dict`` moves tensors to the params).

    Copies: on the CPU ``load_state_dict`` keeps the tensors it is given and Adam
    updates them in place, which would write into the stored arrays (an interrupted
    ``partial_fit`` would then leave the estimator half-updated).
    """
    if isinstance(state, np.ndarray):
        return torch.tensor(state)
    if isinstance(state, dict):
        return {k: torch_tree(v) for k, v in state.items()}
    if isinstance(state, list):
        return [torch_tree(v) for v in state]
    return state


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the caller's code.

    Counts the frames, from the function that calls this one, that belong to
    this package or to scikit-learn (fit wrappers, ``GridSearchCV``).
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "sklearn_l0",
        "sklearn",
    ):
        frame, level = frame.f_back, level + 1
    return level


def warn_if_all_pruned(support: np.ndarray, what: str, remedy: str) -> None:
    """Warn (:class:`AllFeaturesPrunedWarning`) when a fitted ``support`` keeps no feature."""
    if support.size and not support.any():
        warnings.warn(
            f"{what} pruned every feature: the model predicts a constant (the intercept, or "
            f"a risk of 0 for a Cox model). {remedy}",
            AllFeaturesPrunedWarning,
            stacklevel=user_stacklevel(),
        )
