"""scikit-learn's API checks over every estimator of the library."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_l0 import (
    L0Classifier,
    L0ClassifierCV,
    L0MLPClassifier,
    L0MLPRegressor,
    L0Regressor,
    L0RegressorCV,
)

ESTIMATORS = [
    L0Regressor(device="cpu"),
    L0Classifier(device="cpu"),
    L0MLPRegressor(device="cpu"),
    L0MLPClassifier(device="cpu"),
    L0RegressorCV(alphas=4, cv=3, max_iter=300, device="cpu"),
    L0ClassifierCV(alphas=4, cv=3, max_iter=300, device="cpu"),
]

_ITERATIVE_LOGISTIC_REFIT = (
    "the logistic refit is iterative (float64 L-BFGS); on this near-separable 15-sample "
    "problem weighted and repeated fits agree to ~5e-7, just above the check's rtol=1e-7 "
    "(tests/test_linear_model.py checks the equivalence at rtol=1e-5)"
)


_MINI_BATCHES = (
    "mini-batch training: repeating rows changes the batches, so weights and repetitions "
    "agree only in expectation (sklearn's own MLPs are excluded from this check too)"
)


def expected_failed_checks(estimator):
    if isinstance(estimator, (L0MLPClassifier, L0MLPRegressor)):
        return {
            "check_sample_weight_equivalence_on_dense_data": _MINI_BATCHES,
            "check_sample_weight_equivalence_on_sparse_data": _MINI_BATCHES,
        }
    if isinstance(estimator, L0Classifier):
        return {
            "check_sample_weight_equivalence_on_dense_data": _ITERATIVE_LOGISTIC_REFIT,
            "check_sample_weight_equivalence_on_sparse_data": _ITERATIVE_LOGISTIC_REFIT,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
