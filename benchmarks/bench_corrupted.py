"""Corrupted features (issue 28, item 2): which selector keeps the original columns.

The protocol of Cherepanova et al., "A Performance-Driven Benchmark for Feature
Selection in Tabular Deep Learning" (NeurIPS 2023), on small tabular sets:
each set gets as many extraneous columns as it has original ones, of one kind
per setting, and every selector picks half the original count; an MLP is then
trained on the picked columns.

Data (scikit-learn's bundled sets, so nothing is downloaded): ``breast_cancer``
(569 x 30, 2 classes), ``wine`` (178 x 13, 3 classes), ``digits`` (1797 x 64,
10 classes). Extraneous columns (``p`` of them, drawn with the seed):

- ``copies``: noisy copies ``0.5 x_j + 0.5 sigma_j eps`` of every original
  column ``j`` (``sigma_j`` its standard deviation, ``eps`` standard normal);
- ``products``: ``z_i z_j`` for ``p`` distinct pairs ``i < j`` of the
  standardized original columns, drawn at random.

The ``2p`` columns are shuffled (the originals' positions do not give them
away), then a stratified 70/30 ``train_test_split(random_state=seed)``; a new
corruption and split per seed (``--seeds``, default 5).

Selectors (each picks ``k = p // 2`` columns on the training rows; networks
with one hidden layer of 64 units):

- ``L0 k``: ``L0MLPClassifier((64,), n_features_to_select=k,
  random_state=seed, device="cpu")``, every other parameter at its default;
  its ``support_``.
- ``ExtraTrees``: the ``k`` largest ``feature_importances_`` of
  ``ExtraTreesClassifier(n_estimators=200, random_state=seed)`` (the ranking
  the paper finds hard to beat).
- ``L1 logistic``: the order in which columns enter the L1 path of
  ``LogisticRegression(l1_ratio=1, solver="saga")`` on standardized columns,
  ``C`` rising over 30 log-spaced values from ``l1_min_c`` to 10,000 times it
  (warm-started); the first ``k`` to enter, ties by ``|coef|`` at the largest C.
- ``STG tuned``: stochastic gates with ``lam`` chosen on a validation split
  (``bench_mlp.TunedSTGMethod``, five values), the ``k`` largest gate
  probabilities, ties by the gate mean. ``STG tuned top-k``: the same five
  fits, ``lam`` chosen by what this benchmark measures (the downstream MLP
  below, trained on the 80% restricted to STG's top k and scored on the 20%).

Downstream: ``make_pipeline(StandardScaler(), MLPClassifier((64,),
max_iter=1000, random_state=seed))`` on the picked columns, test accuracy.

Columns: ``orig_mean`` / ``orig_min``: share of original columns among the
picked ones (mean and minimum over seeds); ``acc_mean`` / ``acc_min``: the
downstream accuracy; ``fit_s``: the selector's median time; ``x_STG``: median
over seeds of that time over tuned STG's (its five fits). The targets table:
L0's mean accuracy against the best peer's, per setting (within 0.005 is
level). One thread per library (``--threads``). Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/bench_corrupted.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd
from _common import environment, limit_threads, markdown_table, median_time_ratio
from bench_mlp import TunedSTGMethod, build_methods
from bench_real import stg_top_k, top_k
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import l1_min_c

from sklearn_l0 import L0MLPClassifier

HIDDEN = (64,)
DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}
KINDS = ("copies", "products")
LEVEL = 0.005  # mean accuracies this close count as level
L0_NAME, TREES_NAME, L1_NAME, STG_NAME = "L0 k", "ExtraTrees", "L1 logistic", "STG tuned"
STG_TOPK_NAME = "STG tuned top-k"
METHODS = (L0_NAME, TREES_NAME, L1_NAME, STG_NAME, STG_TOPK_NAME)


def corrupted(name, kind, seed):
    """Train and test rows with ``p`` extraneous columns, and which columns are original."""
    X, y = DATASETS[name](return_X_y=True)
    X = X.astype(np.float64)
    rng = np.random.default_rng(seed)
    n, p = X.shape
    sd = X.std(axis=0)
    if kind == "copies":
        extra = 0.5 * X + 0.5 * sd * rng.standard_normal((n, p))
    else:
        z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        i, j = np.triu_indices(p, k=1)
        pick = rng.choice(i.size, size=p, replace=False)
        extra = z[:, i[pick]] * z[:, j[pick]]
    order = rng.permutation(2 * p)
    X = np.hstack([X, extra])[:, order]
    original = order < p
    Xt, Xs, yt, ys = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    return Xt, yt, Xs, ys, original


def select_l0(Xt, yt, k, seed):
    est = L0MLPClassifier(HIDDEN, n_features_to_select=k, random_state=seed, device="cpu")
    return np.flatnonzero(est.fit(Xt, yt).support_), ""


def select_trees(Xt, yt, k, seed):
    trees = ExtraTreesClassifier(n_estimators=200, random_state=seed, n_jobs=1).fit(Xt, yt)
    return top_k(trees.feature_importances_, k), ""


def select_l1(Xt, yt, k, seed):
    Xs = StandardScaler().fit_transform(Xt)
    Cs = l1_min_c(Xs, yt, loss="log") * np.logspace(0, 4, 30)
    est = LogisticRegression(l1_ratio=1.0, solver="saga", max_iter=2000, warm_start=True, tol=1e-3)
    entered = np.full(Xs.shape[1], len(Cs))
    for step, C in enumerate(Cs):
        est.set_params(C=C).fit(Xs, yt)
        active = np.abs(est.coef_).max(axis=0) > 0
        entered[active & (entered == len(Cs))] = step
    return top_k(-entered.astype(float), k, tiebreak=np.abs(est.coef_).max(axis=0)), ""


def select_stg(stg_cls, top_k_score=False):
    def select(Xt, yt, k, seed):
        score = None
        if top_k_score:  # lam chosen by the downstream MLP on STG's top k (validation split)

            def score(model, Xa, ya, Xv, yv):
                return downstream_accuracy(Xa, ya, Xv, yv, stg_top_k(model, k)[0], seed)

        model = TunedSTGMethod(stg_cls, score=score).fit(Xt, yt, HIDDEN, True, seed)
        return stg_top_k(model, k)[0], f"lam={model.lam:g}"

    return select


def downstream_accuracy(Xt, yt, Xs, ys, cols, seed):
    mlp = make_pipeline(StandardScaler(), MLPClassifier(HIDDEN, max_iter=1000, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(Xt[:, cols], yt)
    return float(mlp.score(Xs[:, cols], ys))


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run(args, selectors):
    rows = []
    for name in args.datasets:
        for kind in args.kinds:
            for seed in range(args.seeds):
                Xt, yt, Xs, ys, original = corrupted(name, kind, seed)
                k = original.sum() // 2
                progress(f"{name} {kind} seed {seed}: train {Xt.shape}, k={k}")
                for method, select in selectors.items():
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cols, note = select(Xt, yt, k, seed)
                    fit_s = time.perf_counter() - start
                    acc = downstream_accuracy(Xt, yt, Xs, ys, cols, seed)
                    share = float(original[cols].mean())
                    rows.append(
                        dict(dataset=name, kind=kind, seed=seed, method=method, orig=share,
                             acc=acc, fit_s=fit_s, note=note)
                    )  # fmt: skip
                    progress(f"  {method}: original {share:.2f} acc {acc:.4f} fit {fit_s:.1f} s")
    return pd.DataFrame(rows)


def summarize(part):
    stg = part[part.method == STG_NAME]
    out = []
    for method, m in part.groupby("method", sort=False):
        notes = " ".join(n for n in m.note if n)
        out.append(
            dict(method=method, seeds=len(m), orig_mean=m.orig.mean(), orig_min=m.orig.min(),
                 acc_mean=m.acc.mean(), acc_min=m.acc.min(), fit_s=m.fit_s.median(),
                 x_STG=median_time_ratio(m, stg, ["seed"]), note=notes)
        )  # fmt: skip
    return pd.DataFrame(out)


def targets(tables):
    """L0's mean downstream accuracy against the best peer's, per setting."""
    lines = ["| setting | L0 k | best peer | verdict |", "|---|---|---|---|"]
    for (name, kind), t in tables.items():
        t = t.set_index("method")
        peers = t.drop(index=L0_NAME, errors="ignore")
        if L0_NAME not in t.index or peers.empty:
            lines.append(f"| {name} {kind} | not run | not run | |")
            continue
        best = peers.acc_mean.idxmax()
        l0, top = t.loc[L0_NAME].acc_mean, peers.acc_mean.max()
        verdict = "PASS" if l0 >= top - LEVEL else "FAIL"
        lines.append(f"| {name} {kind} | {l0:.4f} | {best} {top:.4f} | {verdict} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    peers, skipped = build_methods()  # imports the peers (and aliases collections for stg)
    selectors = {L0_NAME: select_l0, TREES_NAME: select_trees, L1_NAME: select_l1}
    if "STG" in peers:
        selectors[STG_NAME] = select_stg(peers["STG"]().cls)
        selectors[STG_TOPK_NAME] = select_stg(peers["STG"]().cls, top_k_score=True)
    selectors = {name: fit for name, fit in selectors.items() if name in args.methods}
    pools = limit_threads(args.threads)
    print(environment(pools))
    print(f"seeds={args.seeds}; k = half the original columns; methods: {', '.join(selectors)}")
    for line in skipped:
        print(line)
    start = time.perf_counter()
    df = run(args, selectors)
    tables = {key: summarize(part) for key, part in df.groupby(["dataset", "kind"], sort=False)}
    for (name, kind), table in tables.items():
        print(f"\n### {name}, {kind} (downstream MLP accuracy)\n")
        print(markdown_table(table, {"fit_s": 2, "x_STG": 2, "orig_mean": 2, "orig_min": 2}))
    print(f"\n### targets: L0's mean accuracy at least the best peer's (within {LEVEL})\n")
    print(targets(tables))
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
