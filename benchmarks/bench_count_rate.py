"""MNIST at 2,000 to 60,000 training rows: a count's price rise capped per epoch, or not.

A network's count fit (``n_features_to_select``) raises the price of its
feature gates until the count is met (``sklearn_l0.path.PricePath``): at
most ``PriceSchedule.step_rise`` (1%) a step and ``epoch_rise`` (10%) an epoch.
The second cap only binds with more than ten mini-batches an epoch (2,000
rows at the default batch of 200), so MNIST is where it shows, and more so
as the training set grows. This script measures it there, with STG beside,
on ``bench_real.py``'s protocol (its loader, STG selector and ExtraTrees):

- ``L0 k=50``: ``L0MLPClassifier((64,), n_features_to_select=50)``, the
  defaults;
- ``L0 k=50 1% a step``: the same with the per-epoch cap lifted
  (``schedule={"epoch_rise": 1e9}``: the rule before it was introduced);
- ``STG``: as in ``bench_real.py`` (lam 0.5, 200 epochs, its 50 most open
  gates).

For every training size (``--sizes``: the first n MNIST training images) and
seed (the models' seed; the split is MNIST's own), the 50 selected pixels
train ``ExtraTreesClassifier(n_estimators=50)``, scored on the first 2,000
test images (``acc``). For L0 also the network's own test accuracy
(``net_acc``, its 50 pixels) and ``alpha_``, the price at which the count
was met. ``fit_s`` is the median fit time, ``x_STG`` the median over seeds
of the fit time over STG's. One thread per library. Run from the repository
root::

    OMP_NUM_THREADS=1 python benchmarks/bench_count_rate.py
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd
from _common import environment, limit_threads, markdown_table
from bench_mlp import build_methods
from bench_real import (
    DATA_DIR,
    extra_trees_accuracy,
    load_dataset,
    progress,
    select_stg,
    warm_up,
)
from bench_small_n import accuracy_table, l0_fit, on_seed

CAPPED, UNCAPPED, STG = "L0 k=50", "L0 k=50 1% a step", "STG"


def with_estimator(fit):
    """The selected columns and the fitted estimator, from a ``bench_small_n.l0_fit``."""

    def select(*args):
        est = fit(*args)
        return est.support_, est

    return select


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[2000, 8000, 20000, 60000])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    peers, _ = build_methods()  # imports STG (aliasing collections) before the limits
    pools = limit_threads(1)
    print(environment(pools))
    methods = {
        CAPPED: with_estimator(l0_fit({})),
        UNCAPPED: with_estimator(l0_fit({"schedule": {"epoch_rise": 1e9}})),
    }
    if "STG" in peers:
        stg = select_stg(peers["STG"]().cls)
        methods[STG] = lambda *a: (stg(*a)[0], None)
    warm_up({STG: methods[STG]} if STG in methods else {})
    start = time.perf_counter()
    for n in args.sizes:
        rows = []
        for seed in range(args.seeds):
            Xt, yt, Xs, ys = load_dataset("MNIST", DATA_DIR, seed, mnist_train=n)
            for method, select in methods.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tic = time.perf_counter()
                    selected, est = select(Xt, yt, args.k, seed)
                    fit_s = time.perf_counter() - tic
                row = dict(method=method, seed=seed, fit_s=fit_s)
                row["acc"] = extra_trees_accuracy(Xt, yt, Xs, ys, selected, seed)
                if est is not None:
                    row.update(net_acc=est.score(Xs, ys), alpha_=est.alpha_, epochs=est.n_iter_)
                rows.append(row)
                progress(f"n={n} seed {seed} {method}: {row}")
        df = pd.DataFrame(rows)
        if STG in methods:
            df["x_STG"] = df.fit_s / on_seed(df, STG, "fit_s")
        table = accuracy_table(
            df,
            net_acc=("net_acc", "mean"),
            alpha_=("alpha_", "mean"),
            epochs=("epochs", "median"),
        )
        print(f"\n### MNIST, train {n}, test {len(ys)}, k={args.k}\n")
        print(markdown_table(table, {"acc_mean": 4, "acc_min": 4, "alpha_": 4, "epochs": 0}))
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
