"""Real data (issue 12, item 3): k = 50 features by L0MLPClassifier, STG and LassoNet.

Data (offline copies in ``../shared/data`` beside the repository, see its
README; a set whose files are missing is skipped with a message):

- ``MNIST``: the first 8,000 training images train (``--mnist-train``), the
  first 2,000 test images test (784 pixels / 255, 10 classes; the fixed split
  of the IDX files);
- ``ISOLET``: ``Isolet/Isolet1.mat``, 1560 x 617, 26 classes;
- ``COIL-20``: ``COIL20/COIL20.mat``, 1440 x 1024 (32x32 images), 20 classes;
- ``MADELON``: ``madelon/madelon.mat``, 2600 x 500, 2 classes; rows 0..1999
  train, 2000..2599 test (the NIPS 2003 train and validation sets);
- ``BASEHOCK``: ``BASEHOCK/BASEHOCK.mat``, 1993 x 4862 word counts, 2 classes;
- ``Yale``: ``Yale/Yale_32x32.mat``, 165 x 1024 faces, 15 classes;
- ``TOX_171``: ``TOX_171/TOX_171.mat``, 171 x 5748 microarray, 4 classes.

The ``.mat`` sets without a fixed split get a stratified 70/30
``train_test_split(..., random_state=seed)`` (a new split per seed); MNIST
and MADELON keep their split (the seed changes the models only). X is
passed unscaled (float32) to every method; each standardizes it itself.

Protocol (the LassoNet paper's): every selector picks k = 50 features
(``--k``) on the training set; then
``ExtraTreesClassifier(n_estimators=50, random_state=seed, n_jobs=1)`` is
trained on the training set restricted to those columns and scored
(accuracy) on the test set restricted to them.

Methods (hidden layer (64,) for all three networks):

- ``L0 k=50``: ``L0MLPClassifier(hidden_layer_sizes=(64,),
  n_features_to_select=50, random_state=seed, device="cpu")``, every other
  parameter at its default (standardization inside the estimator); the
  selection is ``support_``.
- ``STG``: stochastic gates (``stg`` 0.1.2, Yamada et al. 2020) trained as in
  ``bench_mlp.py`` (``STGMethod``: ReLU, Adam lr 1e-3, batch 100, sigma 0.5,
  200 epochs, ``lam=0.5``, standardized inputs); STG has no target count, so
  the k features with the largest gate probability ``get_gates("prob")`` are
  taken. That probability is clipped to [0, 1], so ties (several gates at 1,
  or at 0 when STG opens fewer than k) are broken by the raw gate mean ``mu``,
  then by the lower index. When STG opens fewer than k gates the ranking
  still gives k features (the column ``note`` shows how many were open).
- ``STG tuned``: the same, with ``lam`` chosen in {0.02, 0.05, 0.1, 0.2, 0.5}
  as its paper tunes it (``bench_mlp.TunedSTGMethod``: each value trains on
  the same stratified 80% of the training rows, the network with the best
  accuracy on the other 20% is kept); its time covers the five fits. ``x_STG``
  is always against the one fit at ``lam=0.5``.
- ``STG tuned top-k``: the same five fits, ``lam`` chosen by what this
  benchmark measures: ExtraTrees (as below) trained on the 80% restricted to
  STG's top k features and scored on the 20%. On ISOLET and MNIST the
  network's own accuracy often chose ``lam=0.02``, where every gate is open and
  the top k are a poor ranking.
- ``LassoNet``: ``LassoNetClassifier(hidden_dims=(64,))`` with its defaults
  (``M=10``, ``path_multiplier=1.02``, ``n_iters=(1000, 100)``, full batch),
  run along its lambda path (``path``) on the standardized training set,
  with a stratified 20% of it as LassoNet's validation set (its early
  stopping; ``bench_mlp.py``'s split). The path is stopped at the first
  point that keeps at most k features (the rest of the path, down to none,
  cannot change the choice). Selection: the features of that point, filled
  up to k, if it has fewer, with the features that left the path last
  (LassoNet's ``feature_importances_``: the lambda at which a feature
  leaves the path), ties by lower index. The fit runs in a forked child
  with a budget (``--lassonet-budget`` seconds); over it the child is ended
  and the table says ``timeout``. It runs on the first ``--lassonet-seeds``
  seeds only (default 1).
- ``ExtraTrees (all)``: the downstream classifier on every feature (no
  selection; the reference).

Columns of the k = 50 table: ``seeds`` the seeds that finished, ``selected``
the number of features given to ExtraTrees (mean), ``acc_mean``/``acc_min``
ExtraTrees' test accuracy over seeds, ``fit_s`` the selector's median fit
time (LassoNet: measured in its child; STG: standardizing, training and
ranking), ``x_STG`` the median over seeds of that time over STG's on the
same seed and data, ``note`` per seed: STG's open gates, LassoNet's path
point (features kept at the point used / path points trained), L0's final
input multiplier ``alpha_``.

Alpha table (after it): on COIL-20 and ISOLET (``--alpha-datasets``), seed
0's split, ``L0MLPClassifier(hidden_layer_sizes=(64,), alpha=a,
random_state=0, device="cpu")`` for ``a`` in ``np.logspace(-4, -1, 7)``:
features selected, the network's own test accuracy (``score``) and fit
time. ``cliff`` = max over consecutive alphas of
``selected[i] / max(selected[i + 1], 1)``: how much one step of the grid
(a factor of 10**0.5) can cut the selection.

Threads: one per library (torch, BLAS, OpenMP; ``--threads``), the
LassoNet child included. Progress goes to stderr, tables to stdout. Run
from the repository root (``pip install -e ".[bench]"`` for STG and
LassoNet):

    OMP_NUM_THREADS=1 python benchmarks/bench_real.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import (
    FILES,
    MNIST_DATA,
    call_with_budget,
    environment,
    limit_threads,
    load_mnist,
    markdown_table,
    median_time_ratio,
)
from bench_mlp import LassoNetMethod, STGMethod, TunedSTGMethod, build_methods
from scipy.io import loadmat
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import train_test_split

from sklearn_l0 import L0MLPClassifier

HIDDEN = (64,)
ALPHAS = np.logspace(-4, -1, 7)
DATA_DIR = MNIST_DATA.parent
LASSONET_VAL = 0.2

# name: (file under the data folder, rows of the fixed train split or None)
DATASETS = {
    "MNIST": ("mnist", None),
    "ISOLET": ("Isolet/Isolet1.mat", None),
    "COIL-20": ("COIL20/COIL20.mat", None),
    "MADELON": ("madelon/madelon.mat", 2000),
    "BASEHOCK": ("BASEHOCK/BASEHOCK.mat", None),
    "Yale": ("Yale/Yale_32x32.mat", None),
    "TOX_171": ("TOX_171/TOX_171.mat", None),
}
# the other sets with more features than rows, read the same way (bench_small_n.py's)
SMALL_SETS = {
    name: (f"{name}/{name}.mat", None)
    for name in ("warpAR10P", "lymphoma", "Prostate_GE", "GLIOMA", "arcene", "nci9")
}
MNIST_TRAIN, MNIST_TEST = 8000, 2000
L0_NAME, STG_NAME, LASSONET_NAME, ALL_NAME = "L0 k=50", "STG", "LassoNet", "ExtraTrees (all)"
STG_TUNED_NAME, STG_TOPK_NAME = "STG tuned", "STG tuned top-k"
METHODS = (L0_NAME, STG_NAME, STG_TUNED_NAME, STG_TOPK_NAME, LASSONET_NAME, ALL_NAME)


# ----------------------------------------------------------------------------- data


def missing_files(name, data_dir):
    """The files of data set ``name`` that ``data_dir`` lacks."""
    path, _ = {**DATASETS, **SMALL_SETS}[name]
    if name == "MNIST":
        return [
            str(data_dir / path / f) for f in FILES.values() if not (data_dir / path / f).is_file()
        ]
    return [] if (data_dir / path).is_file() else [str(data_dir / path)]


def load_dataset(name, data_dir, seed, mnist_train=MNIST_TRAIN):
    """X_train, y_train, X_test, y_test (float32 X, labels 0..K-1)."""
    path, n_train = {**DATASETS, **SMALL_SETS}[name]
    if name == "MNIST":
        Xt, yt, Xs, ys = load_mnist(data_dir / path)  # pixels / 255
        return Xt[:mnist_train], yt[:mnist_train], Xs[:MNIST_TEST], ys[:MNIST_TEST]
    m = loadmat(str(data_dir / path))
    X = np.asarray(m["X"], dtype=np.float32)
    _, y = np.unique(np.asarray(m["Y"]).ravel(), return_inverse=True)
    if n_train is not None:
        return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    Xt, Xs, yt, ys = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    return Xt, yt, Xs, ys


# -------------------------------------------------------------------------- methods


def top_k(scores, k, tiebreak=None):
    """Indices of the ``k`` largest ``scores``; ties by ``tiebreak`` (larger first), then index."""
    keys = [np.arange(scores.size)]
    if tiebreak is not None:
        keys.append(-np.asarray(tiebreak, dtype=float))
    keys.append(-np.asarray(scores, dtype=float))
    return np.lexsort(keys)[:k]  # lexsort: the last key is the primary one


def mask(indices, p):
    out = np.zeros(p, dtype=bool)
    out[indices] = True
    return out


def select_l0(Xt, yt, k, seed):
    est = L0MLPClassifier(
        hidden_layer_sizes=HIDDEN, n_features_to_select=k, random_state=seed, device="cpu"
    )
    est.fit(Xt, yt)
    return np.asarray(est.support_, dtype=bool), f"alpha_={est.alpha_:.3g}"


def stg_top_k(model, k):
    """STG's k features: the largest gate probabilities, ties by the gate mean ``mu``."""
    prob, mu = model.est.get_gates(mode="prob"), model.est.get_gates(mode="raw")
    return top_k(prob, k, tiebreak=mu), int((prob > 0).sum())


def select_stg(stg_cls, tuned=None):
    """STG at lam=0.5 (``tuned=None``), or with lam chosen on a validation split by the
    network's accuracy (``"network"``) or by ExtraTrees on its top k (``"top-k"``)."""

    def select(Xt, yt, k, seed):
        note = ""
        if tuned is None:  # lam=0.5, bench_mlp's
            model = STGMethod(stg_cls).fit(Xt, yt, HIDDEN, True, seed)
        else:
            score = None
            if tuned == "top-k":

                def score(model, Xa, ya, Xv, yv):
                    cols = mask(stg_top_k(model, k)[0], Xa.shape[1])
                    return extra_trees_accuracy(Xa, ya, Xv, yv, cols, seed)

            model = TunedSTGMethod(stg_cls, score=score).fit(Xt, yt, HIDDEN, True, seed)
            note = f"lam={model.lam:g},"
        cols, n_open = stg_top_k(model, k)
        return mask(cols, Xt.shape[1]), f"{note}open={n_open}"

    return select


class _StopPath(Exception):
    """Raised by the path callback once a point keeps at most k features."""


def _lassonet_timed(module, Xt, yt, k, seed, status):
    start = time.perf_counter()
    result = _lassonet_fit(module, Xt, yt, k, seed, status)
    return (*result, time.perf_counter() - start)


def _lassonet_fit(module, Xt, yt, k, seed, status=None):
    method = LassoNetMethod(module)
    Xs, ys = method._scale(Xt, yt, True)
    Xa, Xv, ya, yv = train_test_split(
        Xs, ys, test_size=LASSONET_VAL, random_state=seed, stratify=ys
    )
    est = module.LassoNetClassifier(
        hidden_dims=HIDDEN, verbose=0, device="cpu", random_state=seed, torch_seed=seed
    )
    path = []

    def callback(model, hist):
        path[:] = hist
        if status is not None and hist:  # how far the path got, for a timeout's message
            status[0], status[1] = int(hist[-1].selected.sum()), len(hist)
        if len(hist) > 1 and int(hist[-1].selected.sum()) <= k:
            raise _StopPath

    try:
        path = list(est.path(Xa, ya, X_val=Xv, y_val=yv, callback=callback))
    except _StopPath:
        pass
    p = Xt.shape[1]
    # The last point with at most k features (the path's end if it never gets there).
    point = path[-1].selected.numpy().astype(bool)
    # When each feature leaves the path (inf: never), as LassoNet's feature_importances_.
    importance = est._compute_feature_importances(path).numpy()
    if point.sum() < k:
        extra = top_k(np.where(point, -np.inf, importance), k - int(point.sum()))
        point = point | mask(extra, p)
    elif point.sum() > k:  # the path ended above k features (cannot happen: it runs to none)
        point = mask(top_k(importance, k), p)
    note = f"point {int(path[-1].selected.sum())}/{len(path)}"
    return point, note


def select_lassonet(module, budget):
    def select(Xt, yt, k, seed):
        # features kept at the last point, points: shared with the child, read on a timeout
        status = multiprocessing.get_context("fork").Array("i", [Xt.shape[1], 0])

        def progress():
            if not status[1]:
                return "still training the dense model"
            return f"{status[0]} features still kept after {status[1] - 1} lambda steps"

        args = (module, Xt, yt, k, seed, status)
        return call_with_budget(_lassonet_timed, args, budget=budget, progress=progress)

    return select


def extra_trees_accuracy(Xt, yt, Xs, ys, selected, seed):
    cols = np.flatnonzero(selected)
    trees = ExtraTreesClassifier(n_estimators=50, random_state=seed, n_jobs=1)
    trees.fit(Xt[:, cols], yt)
    return float(trees.score(Xs[:, cols], ys))


def build_selectors(args):
    peers, skipped = build_methods()  # also aliases collections for stg
    selectors = {L0_NAME: select_l0}
    if "STG" in peers:
        selectors[STG_NAME] = select_stg(peers["STG"]().cls)
        selectors[STG_TUNED_NAME] = select_stg(peers["STG"]().cls, tuned="network")
        selectors[STG_TOPK_NAME] = select_stg(peers["STG"]().cls, tuned="top-k")
    if "LassoNet" in peers:
        selectors[LASSONET_NAME] = select_lassonet(peers["LassoNet"]().module, args.lassonet_budget)
    selectors[ALL_NAME] = None
    selectors = {name: fit for name, fit in selectors.items() if name in args.methods}
    return selectors, skipped


# ------------------------------------------------------------------------------ run


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run(args, selectors, datasets):
    rows, shapes = [], {}
    for name in datasets:
        for seed in range(args.seeds):
            Xt, yt, Xs, ys = load_dataset(name, args.data, seed, args.mnist_train)
            shapes[name] = (Xt.shape[0], Xs.shape[0], Xt.shape[1])
            progress(f"{name} seed {seed}: train {Xt.shape}, test {Xs.shape}")
            for method, select in selectors.items():
                if method == LASSONET_NAME and seed >= args.lassonet_seeds:
                    continue
                row = dict(dataset=name, seed=seed, method=method)
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        if select is None:
                            selected, note, fit_s = np.ones(Xt.shape[1], bool), "", np.nan
                        elif method == LASSONET_NAME:
                            selected, note, fit_s = select(Xt, yt, args.k, seed)
                        else:
                            selected, note = select(Xt, yt, args.k, seed)
                            fit_s = time.perf_counter() - start
                except Exception as exc:  # a timeout or a peer's failure: a row, not a crash
                    kind = "timeout" if isinstance(exc, TimeoutError) else "error"
                    row.update(error=f"{kind} ({exc})", fit_s=time.perf_counter() - start)
                    rows.append(row)
                    progress(f"  {method}: {row['error']}")
                    continue
                acc = extra_trees_accuracy(Xt, yt, Xs, ys, selected, seed)
                row.update(selected=int(selected.sum()), acc=acc, fit_s=fit_s, note=note)
                rows.append(row)
                progress(
                    f"  {method}: selected {row['selected']} acc {acc:.4f} "
                    f"fit {fit_s:.1f} s {note} (with ExtraTrees: "
                    f"{time.perf_counter() - start:.1f} s)"
                )
    return pd.DataFrame(rows), shapes


def summarize(df, name):
    part = df[df.dataset == name]
    ok = part[part["error"].isna()] if "error" in part else part
    stg = ok[ok.method == STG_NAME]
    out = []
    for method in dict.fromkeys(part.method):
        m = ok[ok.method == method]
        errors = part.error[part.method == method].dropna() if "error" in part else []
        notes = [n for n in m.note if n] + [e.split(" ")[0] for e in errors]
        note = "/".join(notes)
        out.append(
            {
                "method": method,
                "seeds": len(m),
                "selected": m.selected.mean() if len(m) else np.nan,
                "acc_mean": m.acc.mean() if len(m) else np.nan,
                "acc_min": m.acc.min() if len(m) else np.nan,
                "fit_s": m.fit_s.median() if m.fit_s.notna().any() else np.nan,
                "x_STG": median_time_ratio(m, stg, ["seed"]),
                "note": note,
            }
        )
    return pd.DataFrame(out)


def targets(tables):
    """Issue 28, item 2: L0's mean accuracy at least tuned STG's (and the fixed-lam STG's)
    on every set, and a faster fit than one STG fit."""
    lines = [
        "| dataset | acc L0 vs STG tuned | vs STG tuned top-k | vs STG lam=0.5 "
        "| fit L0 vs one STG fit |",
        "|---|---|---|---|---|",
    ]
    for name, t in tables.items():
        t = t.set_index("method")
        if L0_NAME not in t.index:
            lines.append(f"| {name} | not run | not run | not run | not run |")
            continue
        l0, cells = t.loc[L0_NAME], []
        for peer in (STG_TUNED_NAME, STG_TOPK_NAME, STG_NAME):
            if peer not in t.index:
                cells.append("not run")
                continue
            # accuracies are fractions of the test rows, so equal means are an exact tie; the
            # tolerance absorbs the float sums only
            ok = l0.acc_mean >= t.loc[peer].acc_mean - 1e-12
            cells.append(
                f"{l0.acc_mean:.4f} vs {t.loc[peer].acc_mean:.4f} {'PASS' if ok else 'FAIL'}"
            )
        fit = (
            "not run"
            if np.isnan(l0.x_STG)
            else f"x_STG {l0.x_STG:.2f} {'PASS' if l0.x_STG < 1 else 'FAIL'}"
        )
        lines.append(f"| {name} | {' | '.join(cells)} | {fit} |")
    return "\n".join(lines)


def alpha_grid(name, data_dir, alphas):
    Xt, yt, Xs, ys = load_dataset(name, data_dir, 0)
    rows = []
    for alpha in alphas:
        est = L0MLPClassifier(
            hidden_layer_sizes=HIDDEN, alpha=float(alpha), random_state=0, device="cpu"
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xt, yt)
        fit_s = time.perf_counter() - start
        row = {
            "alpha": float(alpha),
            "selected": int(est.support_.sum()),
            "accuracy": float(est.score(Xs, ys)),
            "fit_s": fit_s,
        }
        rows.append(row)
        progress(
            f"  {name} alpha {alpha:.2e}: selected {row['selected']} "
            f"acc {row['accuracy']:.3f} fit {fit_s:.1f} s"
        )
    table = pd.DataFrame(rows)
    counts = table.selected.to_numpy()
    cliff = max((c / max(n, 1) for c, n in zip(counts[:-1], counts[1:], strict=True)), default=1.0)
    return table, cliff


def warm_up(selectors):
    """Untimed tiny fits (torch's lazy imports and first-call overheads)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L0MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, device="cpu").fit(X, y)
        if STG_NAME in selectors:
            selectors[STG_NAME](X[:100], y[:100], 2, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--k", type=int, default=50, help="features to select")
    parser.add_argument("--lassonet-budget", type=float, default=300.0, help="seconds per fit")
    parser.add_argument("--lassonet-seeds", type=int, default=1, help="seeds LassoNet runs on")
    parser.add_argument(
        "--alpha-datasets", nargs="*", default=["COIL-20", "ISOLET"], choices=list(DATASETS)
    )
    parser.add_argument(
        "--alphas", nargs="+", type=float, default=list(ALPHAS), help="the alpha table's grid"
    )
    parser.add_argument(
        "--mnist-train", type=int, default=MNIST_TRAIN, help="MNIST training images (first n)"
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the shared/data folder")
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    selectors, skipped = build_selectors(args)  # imports the peers before the thread limits
    pools = limit_threads(args.threads)
    print(environment(pools))
    print(
        f"data: {args.data}; k={args.k}; seeds={args.seeds}; methods: {', '.join(selectors)}; "
        f"LassoNet budget {args.lassonet_budget:.0f} s"
    )
    for line in skipped:
        print(line)
    available = []
    for name in dict.fromkeys(args.datasets + args.alpha_datasets):
        missing = missing_files(name, args.data)
        if missing:
            print(f"{name}: skipped, data not found ({', '.join(missing)})")
        else:
            available.append(name)
    datasets = [name for name in args.datasets if name in available]
    start = time.perf_counter()
    warm_up(selectors)

    if datasets and selectors:
        df, shapes = run(args, selectors, datasets)
        tables = {name: summarize(df, name) for name in datasets}
        for name, table in tables.items():
            n_train, n_test, p = shapes[name]
            print(
                f"\n### {name} (train {n_train}, test {n_test}, p={p}, k={args.k}, "
                "ExtraTrees downstream)\n"
            )
            print(markdown_table(table, {"selected": 1, "fit_s": 1, "x_STG": 2}))
        if "error" in df:
            print()
            for row in df[df.error.notna()].itertuples():
                print(f"{row.dataset} seed {row.seed} {row.method}: {row.error}")
        print(f"\n### targets (issue 28, item 2): L0 k={args.k} against STG\n")
        print(targets(tables))

    for name in [n for n in args.alpha_datasets if n in available]:
        progress(f"alpha grid: {name}")
        table, cliff = alpha_grid(name, args.data, args.alphas)
        print(
            f"\n### {name}: L0MLPClassifier(hidden_layer_sizes={HIDDEN}, alpha=a), "
            "seed 0's split, the network's own test accuracy\n"
        )
        print(markdown_table(table, {"alpha": 5, "fit_s": 1}))
        print(f"\ncliff (max selected[i] / max(selected[i+1], 1)): {cliff:.2f}")
    print(f"\ntotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
