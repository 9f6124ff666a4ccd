"""A transformer that keeps exactly the features an L0 estimator selected."""

from __future__ import annotations

from sklearn.feature_selection import SelectFromModel

from .utils import DocLinkMixin


class L0Selector(DocLinkMixin, SelectFromModel):
    """Keep the features selected by an L0 estimator (its ``support_``).

    A :class:`~sklearn.feature_selection.SelectFromModel` whose importance is
    the estimator's boolean ``support_``: the output has exactly the selected
    columns, with no threshold to tune. It inherits ``get_support``,
    ``get_feature_names_out``, ``inverse_transform`` and ``set_output``.

    Parameters
    ----------
    estimator : estimator with a ``support_`` attribute after fit
        For example :class:`~sklearn_l0.L0Regressor` or
        :class:`~sklearn_l0.L0Classifier`.
    prefit : bool, default=False
        Whether ``estimator`` is already fitted (then ``fit`` only validates).

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l0 import L0Regressor, L0Selector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 10)
    >>> y = X[:, 2] - X[:, 7] + 0.1 * rng.randn(200)
    >>> selector = L0Selector(L0Regressor(random_state=0)).fit(X, y)
    >>> selector.get_support(indices=True)
    array([2, 7])
    >>> selector.transform(X).shape
    (200, 2)
    """

    # Fixed settings of SelectFromModel: select where support_ is True.
    threshold = 0.5
    importance_getter = "support_"
    norm_order = 1
    max_features = None

    _parameter_constraints: dict = {
        "estimator": [SelectFromModel._parameter_constraints["estimator"][0]],
        "prefit": ["boolean"],
    }

    def __init__(self, estimator, *, prefit: bool = False) -> None:
        self.estimator = estimator
        self.prefit = prefit
