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
- ``STG``: as in ``bench_real.py`` (lam 0.5, 200 epochs, the 50 most open gates);
- ``ANOVA F``: the 50 largest ``f_classif`` scores (a marginal filter);
- ``random``: 50 columns drawn uniformly (``default_rng(seed)``).

Columns: ExtraTrees' test accuracy on the selected columns, mean and min over
seeds, and ``vs_random``: the mean over seeds of the method's accuracy minus
the random selection's on the same split. One thread per library. Run from the
repository root::

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
    extra_trees_accuracy,
    load_dataset,
    mask,
    missing_files,
    progress,
    select_stg,
    top_k,
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
}


def l0_selector(params):
    def select(Xt, yt, k, seed):
        est = L0MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            n_features_to_select=k,
            random_state=seed,
            device="cpu",
            **params,
        )
        return est.fit(Xt, yt).support_

    return select


def anova(Xt, yt, k, seed):
    scores = np.nan_to_num(f_classif(Xt, yt)[0])  # constant columns: 0
    return mask(top_k(scores, k), Xt.shape[1])


def random_columns(Xt, yt, k, seed):
    rng = np.random.default_rng(seed)
    return mask(rng.choice(Xt.shape[1], k, replace=False), Xt.shape[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["Yale", "TOX_171"])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    peers, _ = build_methods()  # imports STG (aliasing collections) before the limits
    pools = limit_threads(1)
    print(environment(pools))
    methods = {f"L0 k={args.k} {name}".rstrip(): l0_selector(p) for name, p in SETTINGS.items()}
    if "STG" in peers:
        stg = select_stg(peers["STG"]().cls)
        methods["STG"] = lambda *a: stg(*a)[0]
    methods.update({"ANOVA F": anova, "random": random_columns})
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
                    selected = select(Xt, yt, args.k, seed)
                acc = extra_trees_accuracy(Xt, yt, Xs, ys, selected, seed)
                rows.append(dict(method=method, seed=seed, acc=acc))
            progress(f"{name} seed {seed} done")
        df = pd.DataFrame(rows)
        chance = df[df.method == "random"].set_index("seed").acc
        df["gain"] = df.acc - df.seed.map(chance)
        table = (
            df.groupby("method", sort=False)
            .agg(
                seeds=("acc", "size"),
                acc_mean=("acc", "mean"),
                acc_min=("acc", "min"),
                vs_random=("gain", "mean"),
            )
            .reset_index()
        )
        print(f"\n### {name} (train {shape[0]}, test {shape[1]}, p={shape[2]})\n")
        print(markdown_table(table))
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
