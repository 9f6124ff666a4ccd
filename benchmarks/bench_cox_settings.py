"""L0 Cox settings on one real set: criteria, CV scores and ridge, over bench_survival's splits.

For a set of ``bench_survival.real_sets()`` (default ``breast_cancer``: 198 rows, 51 events,
82 candidates, where the Lasso-type peers keep ~25 features), fits each variant on the
same 70/30 splits as ``bench_survival.py`` and prints the test concordance (mean, min, per
split), the features kept and the median fit time. Variants: a criterion (``ebic``,
``bic``, ``aic``) or a number for :class:`~sklearn_l0.L0CoxRegressor`, ``@wd`` after it for
``weight_decay``; ``cv`` for :class:`~sklearn_l0.L0CoxRegressorCV`, ``cvcidx`` to score
its folds by the concordance index, ``cvwd0.1`` for ``weight_decay=0.1``. One thread.

Run: ``python benchmarks/bench_cox_settings.py`` (``--set``, ``--variants ebic,bic``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, limit_threads  # noqa: E402
from bench_survival import real_sets  # noqa: E402

from sklearn_l0 import L0CoxRegressor, L0CoxRegressorCV  # noqa: E402
from sklearn_l0.metrics import concordance_index  # noqa: E402


def make(variant: str, seed: int):
    if variant.startswith("cv"):
        options = {}
        if "cidx" in variant:
            options["scoring"] = L0CoxRegressor.score
        if "wd" in variant:
            options["weight_decay"] = float(variant.split("wd")[1])
        return L0CoxRegressorCV(random_state=seed, n_threads=1, **options)
    alpha, *decay = variant.split("@")
    return L0CoxRegressor(
        alpha=alpha if alpha in ("aic", "bic", "ebic") else float(alpha),
        weight_decay=float(decay[0]) if decay else 1e-3,
        random_state=seed,
        n_threads=1,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="breast_cancer")
    parser.add_argument("--variants", default="ebic,bic,aic,cv,cvcidx,cvwd0.1")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(environment(limit_threads(1)))
    X, y = real_sets()[args.set]
    for variant in args.variants.split(","):
        scores, kept, seconds = [], [], []
        for seed in range(args.seeds):
            train, test = train_test_split(np.arange(len(X)), test_size=0.3, random_state=seed)
            scaler = StandardScaler().fit(X[train])
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make(variant, seed).fit(scaler.transform(X[train]), y[train])
            seconds.append(time.perf_counter() - start)
            risk = model.predict(scaler.transform(X[test]))
            scores.append(concordance_index(y[test, 0], y[test, 1], risk))
            kept.append(int(model.support_.sum()))
        print(
            f"{args.set} {variant:10s} C {np.mean(scores):.3f} min {np.min(scores):.3f} "
            f"kept {np.mean(kept):.1f} time {np.median(seconds):.1f}s  per split "
            f"{np.round(scores, 3).tolist()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
