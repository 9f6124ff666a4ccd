"""Nonlinear feature selection: L0MLPClassifier / L0MLPRegressor against neural peers.

Tasks (one data set per seed; ``--seeds`` seeds, 0, 1, ...):

1. ``xor``: ``sklearn_l0.datasets.make_nonlinear_classification(4000, 100)``,
   4 informative features among 100, 4 classes
   (``y = 2 * XOR(x_a > 0, x_b > 0) + (x_c**2 + x_d**2 > median)``); the first
   2000 rows train, the other 2000 test. Hidden layers (32,).
2. ``friedman1``: ``sklearn.datasets.make_friedman1(2000, 50, noise=1.0)``; the
   first 5 features are informative; the first 1000 rows train, the other
   1000 test. Hidden layers (64,).
3. ``digits+noise``: ``load_digits`` (64 pixels, 1797 rows, 10 classes) with
   200 appended standard Gaussian noise columns
   (``np.random.RandomState(seed).randn``), stratified 70/30 split
   (``train_test_split(..., random_state=seed)``). Hidden layers (64,). The
   informative set is unknown: the table shows how many of the 64 pixels and
   how many of the 200 noise columns are selected (some pixels are constant,
   so selecting few pixels is fine, selecting noise is not).

Methods (same hidden layer sizes everywhere):

- ``L0MLP``: ``L0MLPClassifier`` / ``L0MLPRegressor`` with their defaults
  (``alpha=0.01``, ``hidden_alpha=None``, ``max_iter=200``, Adam lr 0.01,
  batch 200), ``device="cpu"``, ``random_state=seed``. One fit; no tuning.
  The defaults select well on all three tasks, so no per-task alpha is used.
- ``L0MLP(max_iter=1000)``: the same with ``max_iter=1000`` (the budget the
  sklearn MLP gets). With the default ``max_iter=200`` every fit stops at
  200 epochs with a ``ConvergenceWarning`` (the stopping rule has not fired);
  this row shows what the default budget costs.
- ``MLP``: scikit-learn ``MLPClassifier`` / ``MLPRegressor``
  (``max_iter=1000``, otherwise defaults) behind a ``StandardScaler``
  (the L0 estimators standardize internally). No feature selection: every
  feature is "selected". Its ``ConvergenceWarning`` is silenced (and only
  its own).
- ``LassoNet`` (``lassonet`` package, if importable): the non-CV
  ``LassoNetClassifier`` / ``LassoNetRegressor`` with its defaults
  (``n_iters=(1000, 100)``, ``patience=(100, 10)``, full batch,
  ``path_multiplier=1.02``, ``M=10``, ``lambda_start="auto"``) run over its
  whole lambda path (``path(..., return_state_dicts=True)``) on 80% of the
  training rows; the path point with the best validation score (accuracy or
  R^2) on the other 20% (stratified for classification; also used by
  LassoNet for its early stopping) is kept. This is the package's documented
  "path, then pick by validation" recipe; ``LassoNet*CV`` (5 paths plus a
  refit) would cost ~6x more and blow the time budget. Inputs (and the
  regression target) are standardized, as its docs ask. Time = standardizing
  + path + scoring every path point.
- ``STG`` (``stg`` package, stochastic gates, Yamada et al. 2020; if
  importable): ReLU, Adam lr 1e-3, batch 100, ``sigma=0.5`` (the defaults of
  its R interface; the Python default lr of 1e-5 does not train in 200
  epochs), 200 epochs, ``lam=0.5`` (its README's classification value) on
  every task, standardized inputs and target, ``torch.manual_seed(seed)``
  (its ``random_state`` is unused). Its README's regression value,
  ``lam=0.1``, kept all 50 features on friedman1 (R^2 0.84, F1 0.18, seeds
  0-2), while lam in 0.3-1.0 kept exactly the 5 informative ones (R^2 ~0.91-0.93,
  seeds 0-1): 0.5 is used so that STG is not handicapped by the choice.
  Selected = test-time gate ``clip(mu + 0.5, 0, 1) > 0`` (the features the
  trained network uses). Its README's other recipe (tanh, full-batch SGD
  lr 0.1) selected either nothing (lam=0.5) or everything (lam <= 0.2) on
  the XOR task in 5000 epochs, so it is not used.
- ``STG tuned``: the same network with ``lam`` chosen in
  {0.02, 0.05, 0.1, 0.2, 0.5} as its paper tunes it (``TunedSTGMethod``): each
  value trains on the same 80% of the training rows (stratified for a
  classifier), and the model with the best accuracy or R^2 on the other 20% is
  kept (no refit). Time = all five fits.

Columns: ``score`` is test accuracy (classification) or test R^2;
``selected`` the number of selected features; ``informative`` how many of
the true informative features are selected (of 4, 5, or of the 64 pixels
for digits); ``noise`` how many of the others (non-informative features, or
the 200 noise columns for digits); ``support_f1`` the F1 of the selection
against the true support (tasks 1-2); ``architecture`` the hidden layer sizes
after pruning per seed (L0) or as trained (others); ``fit_s`` the median
fit time over seeds (one fit per seed); ``x_MLP`` that time over the sklearn
MLP's median on the same task, in the same run. Scores and counts are means
over seeds.

Inference table (pruning's promise of faster prediction): for every L0 model
(both rows),
100,000 rows are resampled (with replacement) from the task's test set; the
compact network (``mlp_forward(X[:, support_], coefs_, intercepts_)``, the
column gather included, as in ``predict``) is timed against the unpruned
network of the original architecture, rebuilt by zero-padding the compact
weights back to (all features, original hidden sizes) and run with the same
``mlp_forward`` on all columns. Both give the same outputs with ReLU (checked,
``max_abs_diff``). Times are the median of ``--inference-repeats`` runs, then
the median over seeds; FLOPs are ``2 * sum(n_in * n_out)`` per row.

Threads: one thread per library by default (``--threads``): torch via
``torch.set_num_threads``, BLAS/OpenMP via threadpoolctl. Run with
``OMP_NUM_THREADS=1 nice -n 10`` on a shared machine; the ratios are the
meaningful numbers, absolute times are not.

Run: ``python benchmarks/bench_mlp.py [--seeds 3] [--tasks xor friedman1 digits]``.
Optional peers: ``pip install -e ".[bench]"`` (lassonet, stg).
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import os
import platform
import sys
import time
import warnings
from collections import Counter, defaultdict
from functools import partial

import numpy as np
import pandas as pd
import sklearn
import torch
from _common import limit_threads, time_call
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_l0
from sklearn_l0 import L0MLPClassifier, L0MLPRegressor
from sklearn_l0._predict import mlp_forward
from sklearn_l0.datasets import make_nonlinear_classification, support_f1

TASKS = {
    # name: (hidden sizes, is classification)
    "xor": ((32,), True),
    "friedman1": ((64,), False),
    "digits": ((64,), True),
}
TASK_LABELS = {"xor": "xor(p=100)", "friedman1": "friedman1(p=50)", "digits": "digits+200noise"}
N_INFERENCE_ROWS = 100_000
STG_LAM = 0.5
# STG's lam grid when it is tuned on a validation split (TunedSTGMethod), as its paper does
STG_LAMS = (0.02, 0.05, 0.1, 0.2, 0.5)
STG_VAL = 0.2
LASSONET_VAL = 0.2
L0_NAME, MLP_NAME, LASSONET_NAME, STG_NAME = "L0MLP", "MLP", "LassoNet", "STG"
STG_TUNED_NAME = "STG tuned"
L0_LONG_NAME = "L0MLP(max_iter=1000)"
L0_NAMES = (L0_NAME, L0_LONG_NAME)


# ----------------------------------------------------------------------------- data


def load_task(task, seed):
    """X_train, y_train, X_test, y_test, informative mask (None if unknown), noise mask."""
    if task == "xor":
        X, y, support = make_nonlinear_classification(4000, 100, random_state=seed)
        return X[:2000], y[:2000], X[2000:], y[2000:], support, ~support
    if task == "friedman1":
        X, y = make_friedman1(n_samples=2000, n_features=50, noise=1.0, random_state=seed)
        support = np.zeros(50, dtype=bool)
        support[:5] = True
        return X[:1000], y[:1000], X[1000:], y[1000:], support, ~support
    if task == "digits":
        X, y = load_digits(return_X_y=True)
        noise = np.random.RandomState(seed).randn(X.shape[0], 200)
        X = np.hstack([X, noise])
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
        is_noise = np.arange(X.shape[1]) >= 64
        return Xtr, ytr, Xte, yte, None, is_noise
    raise ValueError(task)


# -------------------------------------------------------------------------- methods


class L0Method:
    def __init__(self, **params):
        self.params = params

    def fit(self, X, y, hidden, clf, seed):
        cls = L0MLPClassifier if clf else L0MLPRegressor
        self.est = cls(hidden_layer_sizes=hidden, device="cpu", random_state=seed, **self.params)
        self.est.fit(X, y)
        return self

    def predict(self, X):
        return self.est.predict(X)

    def selected(self):
        return self.est.support_

    def architecture(self):
        return self.est.hidden_layer_sizes_


class MLPMethod:
    name = MLP_NAME

    def fit(self, X, y, hidden, clf, seed):
        cls = MLPClassifier if clf else MLPRegressor
        self.hidden = hidden
        self.est = make_pipeline(
            StandardScaler(), cls(hidden_layer_sizes=hidden, max_iter=1000, random_state=seed)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # sklearn's MLP only
            self.est.fit(X, y)
        self.n_features = X.shape[1]
        return self

    def predict(self, X):
        return self.est.predict(X)

    def selected(self):
        return np.ones(self.n_features, dtype=bool)

    def architecture(self):
        return tuple(self.hidden)


class _Standardized:
    """Standardizes X (and y for regression) around a torch peer."""

    def _scale(self, X, y, clf):
        self.x_scaler = StandardScaler().fit(X)
        self.clf = clf
        if clf:
            self.classes, y = np.unique(y, return_inverse=True)
            return self.x_scaler.transform(X), y
        self.y_mean, self.y_std = float(np.mean(y)), float(np.std(y))
        return self.x_scaler.transform(X), (y - self.y_mean) / self.y_std

    def _unscale(self, pred):
        pred = np.asarray(pred)
        if self.clf:
            return self.classes[pred.astype(int).ravel()]
        return pred.ravel() * self.y_std + self.y_mean


class LassoNetMethod(_Standardized):
    name = LASSONET_NAME

    def __init__(self, module):
        self.module = module

    def fit(self, X, y, hidden, clf, seed):
        Xs, ys = self._scale(X, y, clf)
        Xa, Xv, ya, yv = train_test_split(
            Xs, ys, test_size=LASSONET_VAL, random_state=seed, stratify=ys if clf else None
        )
        cls = self.module.LassoNetClassifier if clf else self.module.LassoNetRegressor
        self.est = cls(
            hidden_dims=tuple(hidden), verbose=0, device="cpu", random_state=seed, torch_seed=seed
        )
        path = self.est.path(Xa, ya, X_val=Xv, y_val=yv, return_state_dicts=True)
        best_score, best = -np.inf, None
        for item in path:
            if not item.selected.any():
                continue
            self.est.load(item.state_dict)
            score = self.est.score(Xv, yv)
            if score > best_score:
                best_score, best = score, item
        self.est.load(best.state_dict)
        self.best = best
        self.path_len = len(path)
        self.hidden = hidden
        return self

    def predict(self, X):
        return self._unscale(self.est.predict(self.x_scaler.transform(X)))

    def selected(self):
        return self.best.selected.numpy().astype(bool)

    def architecture(self):
        return tuple(self.hidden)


class STGMethod(_Standardized):
    name = STG_NAME

    def __init__(self, cls, lam=STG_LAM):
        self.cls, self.lam = cls, lam

    def fit(self, X, y, hidden, clf, seed):
        Xs, ys = self._scale(X, y, clf)
        torch.manual_seed(seed)
        self.est = self.cls(
            task_type="classification" if clf else "regression",
            input_dim=X.shape[1],
            output_dim=len(self.classes) if clf else 1,
            hidden_dims=list(hidden),
            activation="relu",
            optimizer="Adam",
            learning_rate=1e-3,
            batch_size=100,
            feature_selection=True,
            sigma=0.5,
            lam=self.lam,
            random_state=seed,
            device="cpu",
        )
        y_fit = ys.astype(np.int64) if clf else ys.reshape(-1, 1).astype(np.float32)
        self.est.fit(Xs.astype(np.float32), y_fit, nr_epochs=200, verbose=False, shuffle=True)
        self.hidden = hidden
        return self

    def predict(self, X):
        return self._unscale(self.est.predict(self.x_scaler.transform(X).astype(np.float32)))

    def selected(self):
        return self.est.get_gates(mode="prob") > 0

    def architecture(self):
        return tuple(self.hidden)


class TunedSTGMethod:
    """STG with ``lam`` chosen in ``STG_LAMS`` on a held-out split, as its paper tunes it.

    Every ``lam`` trains on the same 80% of the rows (stratified for a classifier); the
    model with the best score on the other 20% is kept, without a refit (the paper's
    train / validation protocol). The score is the network's accuracy or R^2, or
    ``score(model, Xa, ya, Xv, yv)`` where given (a benchmark's own measure of the
    selection, e.g. a downstream model on the top k features). ``lam`` and the
    validation scores are kept in ``lam`` and ``scores``.
    """

    name = STG_TUNED_NAME

    def __init__(self, cls, lams=STG_LAMS, score=None):
        self.cls, self.lams, self.score = cls, tuple(lams), score

    def fit(self, X, y, hidden, clf, seed):
        Xa, Xv, ya, yv = train_test_split(
            X, y, test_size=STG_VAL, random_state=seed, stratify=y if clf else None
        )
        metric = accuracy_score if clf else r2_score
        self.scores, best = {}, None
        for lam in self.lams:
            model = STGMethod(self.cls, lam=lam).fit(Xa, ya, hidden, clf, seed)
            if self.score is None:
                self.scores[lam] = metric(yv, model.predict(Xv))
            else:
                self.scores[lam] = self.score(model, Xa, ya, Xv, yv)
            if best is None or self.scores[lam] > self.scores[best[0]]:
                best = (lam, model)
        self.lam, self.model = best
        self.est = self.model.est
        return self

    def predict(self, X):
        return self.model.predict(X)

    def selected(self):
        return self.model.selected()

    def architecture(self):
        return self.model.architecture()


def build_methods():
    """Method factories (name -> callable) and lines about skipped peers."""
    methods = {
        L0_NAME: L0Method,
        L0_LONG_NAME: lambda: L0Method(max_iter=1000),
        MLP_NAME: MLPMethod,
    }
    skipped = []
    try:
        import lassonet
    except ImportError as exc:
        skipped.append(f'LassoNet: skipped ({exc}); pip install -e ".[bench]"')
    else:
        methods[LASSONET_NAME] = lambda: LassoNetMethod(lassonet)
    # stg 0.1.2 uses aliases removed from `collections` in Python 3.10.
    for alias in ("Sequence", "Mapping", "MutableMapping", "Iterable", "Callable", "Set"):
        if not hasattr(collections, alias):
            setattr(collections, alias, getattr(collections.abc, alias))
    try:
        from stg import STG
    except ImportError as exc:
        skipped.append(f'STG: skipped ({exc}); pip install -e ".[bench]"')
    else:
        methods[STG_NAME] = lambda: STGMethod(STG)
        methods[STG_TUNED_NAME] = lambda: TunedSTGMethod(STG)
    return methods, skipped


# ------------------------------------------------------------------------ inference


def padded_network(est, hidden):
    """The compact network zero-padded back to all features and the original hidden sizes."""
    sizes = [est.n_features_in_, *hidden, est.coefs_[-1].shape[1]]
    kept_in = [np.flatnonzero(est.support_)] + [np.arange(c.shape[1]) for c in est.coefs_[:-1]]
    coefs, intercepts = [], []
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        full_W = np.zeros((sizes[i], sizes[i + 1]), dtype=W.dtype)
        full_W[np.ix_(kept_in[i], np.arange(W.shape[1]))] = W
        full_b = np.zeros(sizes[i + 1], dtype=b.dtype)
        full_b[: b.shape[0]] = b
        coefs.append(full_W)
        intercepts.append(full_b)
    return coefs, intercepts


def flops(coefs):
    return 2 * sum(W.shape[0] * W.shape[1] for W in coefs)


def median_time(fn, repeats):
    return float(np.median(time_call(fn, repeats)[1]))


def inference_row(est, hidden, X_test, seed, repeats):
    rng = np.random.RandomState(seed)
    X = np.ascontiguousarray(X_test[rng.randint(0, X_test.shape[0], N_INFERENCE_ROWS)])
    act = est.activation
    full_coefs, full_intercepts = padded_network(est, hidden)

    def compact():
        return mlp_forward(X[:, est.support_], est.coefs_, est.intercepts_, act)

    X_kept = np.ascontiguousarray(X[:, est.support_])

    def compact_pregathered():
        return mlp_forward(X_kept, est.coefs_, est.intercepts_, act)

    def full():
        return mlp_forward(X, full_coefs, full_intercepts, act)

    diff = float(np.max(np.abs(compact() - full())))
    t_compact, t_full = median_time(compact, repeats), median_time(full, repeats)
    t_pre = median_time(compact_pregathered, repeats)
    return {
        "compact_arch": f"{int(est.support_.sum())}-{'-'.join(map(str, est.hidden_layer_sizes_))}",
        "full_arch": f"{est.n_features_in_}-{'-'.join(map(str, hidden))}",
        "flops_compact": flops(est.coefs_),
        "flops_full": flops(full_coefs),
        "t_compact": t_compact,
        "t_full": t_full,
        "t_pre": t_pre,
        "max_abs_diff": diff,
    }


# ------------------------------------------------------------------------------ run


def run(args, methods):
    rows, inf_rows = [], []
    warns = defaultdict(Counter)
    for task in args.tasks:
        hidden, clf = TASKS[task]
        for seed in range(args.seeds):
            Xtr, ytr, Xte, yte, informative, noise = load_task(task, seed)
            for name, make in methods.items():
                method = make()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    _, (fit_time,) = time_call(partial(method.fit, Xtr, ytr, hidden, clf, seed))
                    pred = method.predict(Xte)
                for w in caught:
                    msg = str(w.message).splitlines()[0][:70]
                    warns[name][f"{w.category.__name__}: {msg}"] += 1
                sel = np.asarray(method.selected(), dtype=bool)
                rows.append(
                    {
                        "method": name,
                        "task": task,
                        "seed": seed,
                        "score": accuracy_score(yte, pred) if clf else r2_score(yte, pred),
                        "selected": int(sel.sum()),
                        "informative": int((sel & ~noise).sum()),
                        "noise": int((sel & noise).sum()),
                        "f1": support_f1(sel, informative) if informative is not None else np.nan,
                        "arch": method.architecture(),
                        "time": fit_time,
                        "n_iter": getattr(getattr(method, "est", None), "n_iter_", None),
                        "lam": getattr(method, "lam", None),
                    }
                )
                if name in L0_NAMES:
                    inf_rows.append(
                        {
                            "method": name,
                            "task": task,
                            "seed": seed,
                            **inference_row(method.est, hidden, Xte, seed, args.inference_repeats),
                        }
                    )
            print(f"  done: {task} seed {seed}", file=sys.stderr, flush=True)
    return pd.DataFrame(rows), pd.DataFrame(inf_rows), warns


def fmt_arch(archs):
    archs = list(archs)
    if all(a == archs[0] for a in archs):
        return str(archs[0]).replace(" ", "")
    return "/".join(str(a).replace(" ", "") for a in archs)


def summarize(df):
    order = list(dict.fromkeys(df["method"]))
    table = (
        df.groupby(["task", "method"], sort=False)
        .agg(
            score=("score", "mean"),
            selected=("selected", "mean"),
            informative=("informative", "mean"),
            noise=("noise", "mean"),
            support_f1=("f1", "mean"),
            architecture=("arch", fmt_arch),
            fit_s=("time", "median"),
        )
        .reset_index()
    )
    mlp_time = table[table["method"] == MLP_NAME].set_index("task")["fit_s"]
    table["x_MLP"] = table["fit_s"] / table["task"].map(mlp_time)
    table["method"] = pd.Categorical(table["method"], order)
    table["task"] = table["task"].map(TASK_LABELS)
    return table[
        [
            "method",
            "task",
            "score",
            "selected",
            "informative",
            "noise",
            "support_f1",
            "architecture",
            "fit_s",
            "x_MLP",
        ]
    ]


def summarize_inference(inf):
    keys = ["method", "task"]
    table = (
        inf.groupby(keys, sort=False)
        .agg(
            compact_arch=("compact_arch", fmt_arch),
            full_arch=("full_arch", "first"),
            flops_compact=("flops_compact", "median"),
            flops_full=("flops_full", "first"),
            t_compact_s=("t_compact", "median"),
            t_full_s=("t_full", "median"),
            t_pregathered_s=("t_pre", "median"),
            max_abs_diff=("max_abs_diff", "max"),
        )
        .reset_index()
    )
    table["flops_ratio"] = table["flops_full"] / table["flops_compact"]
    # Per-seed speedups, then their median (robust to one slow repeat).
    idx = pd.MultiIndex.from_frame(table[keys])
    for col, t in (("speedup", "t_compact"), ("speedup_pre", "t_pre")):
        ratio = (inf["t_full"] / inf[t]).groupby([inf[k] for k in keys], sort=False).median()
        table[col] = ratio.reindex(idx).to_numpy()
    table["task"] = table["task"].map(TASK_LABELS)
    return table[
        [
            "method",
            "task",
            "compact_arch",
            "full_arch",
            "flops_compact",
            "flops_full",
            "flops_ratio",
            "t_compact_s",
            "t_full_s",
            "speedup",
            "t_pregathered_s",
            "speedup_pre",
            "max_abs_diff",
        ]
    ]


FORMATS = {
    "score": "{:.3f}".format,
    "selected": "{:.1f}".format,
    "informative": "{:.1f}".format,
    "noise": "{:.1f}".format,
    "support_f1": lambda v: "-" if np.isnan(v) else f"{v:.3f}",
    "fit_s": "{:.2f}".format,
    "x_MLP": "{:.2f}".format,
    "flops_compact": "{:,.0f}".format,
    "flops_full": "{:,.0f}".format,
    "flops_ratio": "{:.1f}".format,
    "t_compact_s": "{:.4f}".format,
    "t_full_s": "{:.4f}".format,
    "speedup": "{:.1f}".format,
    "t_pregathered_s": "{:.4f}".format,
    "speedup_pre": "{:.1f}".format,
    "max_abs_diff": "{:.1e}".format,
}


def goal_check(table):
    """Higher support F1 than LassoNet and STG at equal or better score, per L0 variant."""
    lines = []
    for task, t in table.groupby("task", sort=False, observed=True):
        t = t.set_index("method", drop=False)
        for l0_name in L0_NAMES:
            if l0_name not in t.index:
                continue
            l0 = t.loc[l0_name]
            for peer in (LASSONET_NAME, STG_NAME, STG_TUNED_NAME):
                if peer not in t.index:
                    lines.append(f"  {task}: {peer} not run")
                    continue
                p = t.loc[peer]
                # "Equal" score: within 0.01 (accuracy or R^2) of the peer's mean.
                score_ok = l0["score"] >= p["score"] - 0.01
                head = f"  {task}, {l0_name} vs {peer}:"
                if np.isnan(l0["support_f1"]):  # digits: support unknown, noise as a proxy
                    lines.append(
                        f"{head} no F1 (support unknown); proxy: noise columns selected "
                        f"{l0['noise']:.1f} vs {p['noise']:.1f}, pixels "
                        f"{l0['informative']:.1f} vs {p['informative']:.1f}, score "
                        f"{l0['score']:.3f} vs {p['score']:.3f} "
                        f"({'equal or better' if score_ok else 'worse'})"
                    )
                    continue
                f1_ok = l0["support_f1"] > p["support_f1"]
                verdict = "met" if f1_ok and score_ok else "NOT met"
                lines.append(
                    f"{head} {verdict} (F1 {l0['support_f1']:.3f} vs {p['support_f1']:.3f}; "
                    f"score {l0['score']:.3f} vs {p['score']:.3f})"
                )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="data sets per task")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--inference-repeats", type=int, default=3, help="timed predictions")
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    methods, skipped = build_methods()  # imports the peers before the thread limits
    pools = limit_threads(args.threads)

    print(
        f"sklearn-l0 {sklearn_l0.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}; {platform.platform()}, "
        f"{os.cpu_count()} CPU(s)\nthreads: torch {torch.get_num_threads()}, {pools}"
        f"; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"seeds={args.seeds}, tasks={' '.join(args.tasks)}, one fit per method and seed")
    for line in skipped:
        print(line)
    start = time.perf_counter()
    # Untimed warm-up (torch lazy imports, first-call overheads).
    Xw, yw, *_ = load_task("xor", 12345)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L0MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, device="cpu").fit(Xw[:200], yw[:200])

    df, inf, warns = run(args, methods)
    table = summarize(df)

    print()
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, formatters=FORMATS))
    print(
        "\nscore: test accuracy (xor, digits) or R^2 (friedman1); selected/informative/noise/"
        "support_f1/score: means over seeds; informative = true features kept (of 4, of 5, or "
        "of the 64 pixels); noise = other features kept (of 96, of 45, or of the 200 noise "
        "columns); fit_s: median over seeds of one fit; x_MLP: fit_s / sklearn MLP's fit_s, "
        "same task and run."
    )
    if STG_NAME in methods:
        print(f"STG lam: {STG_LAM} on every task")
    if STG_TUNED_NAME in methods:
        tuned = df[df["method"] == STG_TUNED_NAME].groupby("task", sort=False)["lam"]
        lams = ", ".join(f"{task} {'/'.join(f'{v:g}' for v in g)}" for task, g in tuned)
        print(f"{STG_TUNED_NAME} lam chosen per seed (of {', '.join(map(str, STG_LAMS))}): {lams}")
    if LASSONET_NAME in methods:
        print("LassoNet: best validation-score point of its lambda path (see docstring)")
    for name in L0_NAMES:
        l0 = df[df["method"] == name]
        epochs = [
            f"{task} {'/'.join(str(int(n)) for n in g['n_iter'])}"
            for task, g in l0.groupby("task", sort=False)
        ]
        print(f"{name} epochs run per seed: " + ", ".join(epochs))

    print(
        f"\nINFERENCE (L0 models): {N_INFERENCE_ROWS:,} rows resampled from the test set; "
        f"median of {args.inference_repeats} runs of mlp_forward, median over seeds"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(summarize_inference(inf).to_string(index=False, formatters=FORMATS))
    print(
        "compact: X[:, support_] then the pruned layers; full: the same weights zero-padded "
        "to the original architecture, on all columns; speedup = t_full / t_compact (median of "
        "per-seed ratios); t_pregathered_s / speedup_pre: the compact network on columns "
        "gathered beforehand (the gather's copy excluded); FLOPs per row = 2 * sum(n_in * n_out)."
    )

    print("\nwarnings raised during fit/predict (sklearn MLP's ConvergenceWarning silenced):")
    for name in methods:
        counts = "; ".join(f"{msg} (x{n})" for msg, n in warns[name].items()) or "none"
        print(f"  {name}: {counts}")
    print("\ngoal: higher support F1 than LassoNet and STG at equal (within 0.01) or better score:")
    for line in goal_check(table):
        print(line)
    print(f"total run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
