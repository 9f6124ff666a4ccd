"""sklearn-l0: L0-regularized linear models and neural networks for scikit-learn.

Implements *Learning Sparse Neural Networks through L0 Regularization*
(Louizos, Welling & Kingma, ICLR 2018) with hard concrete gates in PyTorch.
"""

from ._cv import L0ClassifierCV, L0CoxRegressorCV, L0PoissonRegressorCV, L0RegressorCV
from ._network_cv import L0MLPClassifierCV, L0MLPRegressorCV
from .feature_selection import L0Selector
from .groups import feature_groups
from .linear_model import L0Classifier, L0CoxRegressor, L0PoissonRegressor, L0Regressor
from .neural_network import L0MLPClassifier, L0MLPRegressor
from .path import PriceSchedule
from .stability import StabilitySelection
from .training import TrainingDivergedError
from .utils import AllFeaturesPrunedWarning

__version__ = "0.1.0"

__all__ = [
    "AllFeaturesPrunedWarning",
    "L0Classifier",
    "L0ClassifierCV",
    "L0CoxRegressor",
    "L0CoxRegressorCV",
    "L0MLPClassifier",
    "L0MLPClassifierCV",
    "L0MLPRegressor",
    "L0MLPRegressorCV",
    "L0PoissonRegressor",
    "L0PoissonRegressorCV",
    "L0Regressor",
    "L0RegressorCV",
    "L0Selector",
    "PriceSchedule",
    "StabilitySelection",
    "TrainingDivergedError",
    "__version__",
    "feature_groups",
]
