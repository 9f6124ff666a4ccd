"""Quickstart: choose the L0 strength by cross-validation inside a pipeline.

Breast cancer diagnosis (569 tumours, 30 features, bundled with
scikit-learn): which measurements does a sparse logistic model need?
Runs in well under a minute on a laptop CPU.
"""

import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_l0 import L0Classifier

data = load_breast_cancer()
X, y, names = data.data, data.target, data.feature_names
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(), L0Classifier(random_state=0))
# alpha is the price of one feature in nats of mean log-loss.
grid = {"l0classifier__alpha": np.logspace(-3, -1, 7)}
search = GridSearchCV(pipe, grid, cv=5)

start = time.perf_counter()
search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

model = search.best_estimator_[-1]
results = search.cv_results_
print("alpha    CV accuracy (5 folds)")
columns = ("param_l0classifier__alpha", "mean_test_score", "std_test_score")
for alpha, score, std in zip(*(results[c] for c in columns), strict=True):
    best = "  <- chosen" if alpha == search.best_params_["l0classifier__alpha"] else ""
    print(f"{alpha:<8.4g} {score:.3f} +/- {std:.3f}{best}")
coef = model.coef_[0]  # per standard deviation of each feature (the pipeline scales X)
print(f"selected features   : {model.support_.sum()} of {X.shape[1]}, by effect on the log-odds")
for i in np.argsort(-np.abs(coef))[: model.support_.sum()]:
    print(f"  {names[i]:<25s} {coef[i]:+.2f} per standard deviation")
print(f"test accuracy       : {search.score(X_test, y_test):.3f}")
n_alphas = len(grid["l0classifier__alpha"])
print(f"grid search time    : {elapsed:.1f} s ({n_alphas} alphas x 5 folds)")
