"""scikit-learn's API checks over every public estimator of the library (the registry's)."""

from _estimators import CHECKED
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_l0 import L0MLPClassifier, L0MLPRegressor

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
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
