"""k = 50 features on the real sets with about 120 training rows, against chance.

``bench_real.py`` found L0's 50 features behind STG's on Yale (115 training rows,
1024 pixels, 15 classes) and TOX_171 (119 rows, 5748 genes, 4 classes). This
script asks whether the selection there is better than chance at all, and
whether a public setting of ``L0MLPClassifier`` changes that, with the same
splits and downstream classifier as ``bench_real.py`` (its ``load_dataset``,
``select_stg`` and ``extra_trees_accuracy``) and more seeds (``--seeds``,
default 6: each seed a new stratified 70/30 split):

- ``L0 k=50``: ``L0MLPClassifier((64,), n_features_to_select=50)``, its defaults;
- ``L0 k=50 <setting>``: the same with one public setting changed
  (``weight_decay``, ``learning_rate_init``, ``batch_size``, ``temperature``);
- ``L0 k=50 gate step 1x``: the defaults with
  ``schedule={"wide_gate_step": 1}`` (the gates, more than the rows, step at
  the learning rate instead of five times it);
- ``STG``: as in ``bench_real.py`` (lam 0.5, 200 epochs, the 50 most open gates);
- ``ANOVA F``: the 50 largest ``f_classif`` scores (a marginal filter);
- ``random``: 50 columns drawn uniformly (``default_rng(seed)``).

Data: ``Yale`` and ``TOX_171`` as in ``bench_real.py``, and (``--datasets``)
the other sets of ``../shared/data`` with more features than rows, each a
``.mat`` file of ``X`` and ``Y`` split 70/30 the same way: ``warpAR10P``
(130 x 2400 face images, 10 classes), ``lymphoma`` (96 x 4026, 9),
``Prostate_GE`` (102 x 5966, 2), ``GLIOMA`` (50 x 4434, 4), ``arcene``
(200 x 10000 mass spectra, 2), ``nci9`` (60 x 9712, 9).

Columns: ExtraTrees' test accuracy on the selected columns, mean and min over
seeds, ``vs_random``: the mean over seeds of the method's accuracy minus
the random selection's on the same split, ``fit_s`` the selector's median
time and ``x_STG`` the median over seeds of that time over STG's. One
thread per library. Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_small_n.py
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import environment, limit_threads, markdown_table
from bench_mlp import build_methods
from bench_real import (
    DATA_DIR,
    HIDDEN,
    SMALL_SETS,
    extra_trees_accuracy,
    load_dataset,
    mask,
    missing_files,
    progress,
    select_stg,
    top_k,
    warm_up,
)
from sklearn.feature_selection import f_classif

from sklearn_l0 import L0MLPClassifier

SETTINGS = {
    "": {},
    "weight_decay=0": {"weight_decay": 0.0},
    "weight_decay=1e-2": {"weight_decay": 1e-2},
    "learning_rate_init=0.003": {"learning_rate_init": 0.003},
    "batch_size=32": {"batch_size": 32},
    "temperature=1/3": {"temperature": 1 / 3},
    "gate step 1x": {"schedule": {"wide_gate_step": 1.0}},
}


def l0_fit(params):
    """A fit of ``L0MLPClassifier((64,), n_features_to_select=k, **params)`` returning the
    estimator."""

    def fit(Xt, yt, k, seed):
        est = L0MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            n_features_to_select=k,
            random_state=seed,
            device="cpu",
            **params,
        )
        return est.fit(Xt, yt)

    return fit


def support_of(fit):
    def select(*args):
        return fit(*args).support_

    return select


def anova(Xt, yt, k, seed):
    scores = np.nan_to_num(f_classif(Xt, yt)[0])  # constant columns: 0
    return mask(top_k(scores, k), Xt.shape[1])


def random_columns(Xt, yt, k, seed):
    rng = np.random.default_rng(seed)
    return mask(rng.choice(Xt.shape[1], k, replace=False), Xt.shape[1])


def on_seed(df, method, column):
    """``method``'s ``column`` on each row's seed (a row per method and seed in ``df``)."""
    return df.seed.map(df[df.method == method].set_index("seed")[column])


def accuracy_table(df, **columns):
    """Per method: seeds, mean and min accuracy, ``columns`` (named aggregations of ``df``),
    median fit time and, where ``df`` has it, the median time over STG's."""
    return (
        df.groupby("method", sort=False)
        .agg(
            seeds=("acc", "size"),
            acc_mean=("acc", "mean"),
            acc_min=("acc", "min"),
            **columns,
            fit_s=("fit_s", "median"),
            **({"x_STG": ("x_STG", "median")} if "x_STG" in df else {}),
        )
        .reset_index()
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["Yale", "TOX_171"],
        choices=["Yale", "TOX_171", *SMALL_SETS],
    )
    parser.add_argument(
        "--settings",
        nargs="*",
        default=list(SETTINGS),
        choices=list(SETTINGS),
        help="L0's rows",
    )
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    peers, _ = build_methods()  # imports STG (aliasing collections) before the limits
    pools = limit_threads(1)
    print(environment(pools))
    methods = {
        f"L0 k={args.k} {name}".rstrip(): support_of(l0_fit(SETTINGS[name]))
        for name in args.settings
    }
    if "STG" in peers:
        stg = select_stg(peers["STG"]().cls)
        methods["STG"] = lambda *a: stg(*a)[0]
    methods.update({"ANOVA F": anova, "random": random_columns})
    warm_up(methods)
    start = time.perf_counter()
    for name in args.datasets:
        if missing_files(name, DATA_DIR):
            print(f"\n{name}: skipped, data not found")
            continue
        rows = []
        for seed in range(args.seeds):
            Xt, yt, Xs, ys = load_dataset(name, DATA_DIR, seed)
            shape = (Xt.shape[0], Xs.shape[0], Xt.shape[1])  # the same for every seed
            for method, select in methods.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tic = time.perf_counter()
                    selected = select(Xt, yt, args.k, seed)
                    fit_s = time.perf_counter() - tic
                acc = extra_trees_accuracy(Xt, yt, Xs, ys, selected, seed)
                rows.append(dict(method=method, seed=seed, acc=acc, fit_s=fit_s))
            progress(f"{name} seed {seed} done")
        df = pd.DataFrame(rows)
        df["gain"] = df.acc - on_seed(df, "random", "acc")
        if "STG" in methods:
            df["x_STG"] = df.fit_s / on_seed(df, "STG", "fit_s")
        table = accuracy_table(df, vs_random=("gain", "mean"))
        print(f"\n### {name} (train {shape[0]}, test {shape[1]}, p={shape[2]})\n")
        print(markdown_table(table))
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
