"""LASSO-PCR decoder: principal component regression with LASSO-ranked components.

The model is fitted in three steps:

1. the centered features are decomposed by a singular value decomposition
   (PCA), dropping the null component left by centering;
2. a LASSO on the standardized component scores selects ``k`` components.
   Standardized scores are orthogonal with equal norms, so the LASSO path
   enters the components in order of decreasing absolute correlation with the
   target, and the ``k`` first to enter are simply the ``k`` best correlated;
3. an ordinary least-squares fit with intercept on the ``k`` selected scores
   (relaxed LASSO) gives the weights, which are projected back to feature
   space. Orthogonality again makes each multiple-regression weight equal to
   its simple-regression weight, so no linear system needs to be solved.

Because the ranking and the weights do not depend on ``k``, the predictions of
every ``k`` follow from a single decomposition (:func:`component_path`), which
keeps the inner loop of nested cross-validation cheap. The same model fitted
from inner products of the samples only is :mod:`painflow.model.dual`.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_array, check_X_y
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["LassoPCR", "available_components", "component_path"]

# Singular values below this fraction of the largest one are rounding noise:
# their components carry no variance and would give unstable weights.
_RELATIVE_RANK_TOLERANCE = 1e-10
_MIN_SAMPLES = 3


def available_components(n_samples: int, n_features: int) -> int:
    """Return the largest number of components a LASSO-PCR model may use.

    Centering leaves at most ``n_samples - 1`` informative components, and a
    least-squares fit with intercept on all of them would reproduce the
    training targets exactly; one more is therefore held back.

    Parameters
    ----------
    n_samples : int
        Number of training samples.
    n_features : int
        Number of features.

    Returns
    -------
    int
        ``min(n_samples - 2, n_features)``, and 0 when that is negative.
    """
    return max(0, min(n_samples - 2, n_features))


class _RankedComponents(NamedTuple):
    """Principal components in LASSO entry order, with their OLS weights."""

    x_mean: np.ndarray  # (n_features,)
    y_mean: float
    indices: np.ndarray  # (k,) positions among the components by variance
    axes: np.ndarray  # (k, n_features) unit-norm principal axes
    weights: np.ndarray  # (k,) regression weight of each component score


def check_n_components(value, name: str) -> None:
    """Raise ValueError unless ``value`` is None or an integer >= 1."""
    if value is None:
        return
    is_integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_integer or value < 1:
        raise ValueError(f"{name} must be None or an integer >= 1; got {value!r}")


def check_n_samples(n_samples: int) -> None:
    """Raise ValueError when there are too few samples to fit a model."""
    if n_samples < _MIN_SAMPLES:
        raise ValueError(
            f"LassoPCR needs at least {_MIN_SAMPLES} samples; "
            f"got n_samples = {n_samples}"
        )


def _rank_components(
    X: np.ndarray, y: np.ndarray, max_components: int | None
) -> _RankedComponents:
    """Decompose ``X`` and keep the components best correlated with ``y``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training features, at least three samples.
    y : ndarray of shape (n_samples,)
        Training targets.
    max_components : int or None
        Number of components to keep; None keeps every available one. It is
        clipped to :func:`available_components` and to the numerical rank of
        the centered ``X``.

    Returns
    -------
    _RankedComponents
        The kept components in decreasing order of absolute correlation with
        ``y``; ties keep the order of decreasing variance.
    """
    n_samples, n_features = X.shape
    x_mean = X.mean(axis=0)
    y_centered, y_mean = centered_target(y)

    U, s, Vt = linalg.svd(X - x_mean, full_matrices=False, check_finite=False)
    # Centering removes one dimension: the last component is null.
    n_nonzero = min(n_samples - 1, n_features)
    n_nonzero = int(np.count_nonzero(s[:n_nonzero] > _RELATIVE_RANK_TOLERANCE * s[0]))
    U, s, Vt = U[:, :n_nonzero], s[:n_nonzero], Vt[:n_nonzero]

    order, weights = rank_by_target(
        U, s, y_centered, n_kept_components(n_samples, n_features, max_components)
    )
    return _RankedComponents(
        x_mean=x_mean, y_mean=y_mean, indices=order, axes=Vt[order], weights=weights
    )


def n_kept_components(
    n_samples: int, n_features: int, max_components: int | None
) -> int:
    """Number of components to rank: the available ones, at most ``max_components``."""
    n_keep = available_components(n_samples, n_features)
    return n_keep if max_components is None else min(n_keep, max_components)


def centered_target(y: np.ndarray) -> tuple[np.ndarray, float]:
    """Centered target and its mean; a constant target centers to exact zeros."""
    y_mean = float(y.mean())
    # A constant target must give exactly zero weights, whatever the rounding
    # of its mean.
    return (y - y_mean if np.ptp(y) > 0 else np.zeros_like(y)), y_mean


def rank_by_target(
    U: np.ndarray, s: np.ndarray, y_centered: np.ndarray, n_keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Order components by |correlation| with the target; their OLS weights.

    Score j is ``s_j * U[:, j]``, so its correlation with y is proportional to
    ``U[:, j] . y_centered``, and its simple-regression weight is that over
    ``s_j``. Ties keep the order of decreasing variance.
    """
    projections = U.T @ y_centered
    order = np.argsort(-np.abs(projections), kind="stable")[:n_keep]
    return order, projections[order] / s[order]


class LassoPCR(RegressorMixin, BaseEstimator):
    """Principal component regression on LASSO-selected components.

    The features are centered and decomposed by PCA. The ``n_components``
    components whose scores correlate best with the target in absolute value
    (the first to enter the LASSO path on standardized scores) are refitted
    by ordinary least squares with intercept, and the weights are projected
    back to feature space, so the model is linear in the features.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of principal components to select. None selects every
        available component. Values above ``min(n_samples - 2, n_features)``
        or the rank of the centered training data are clipped.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights of the features.
    intercept_ : float
        Constant term.
    n_components_ : int
        Number of components actually used.
    selected_components_ : ndarray of shape (n_components_,)
        Indices of the selected components among the principal components
        sorted by decreasing variance, in order of selection.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    component_path : Predictions for every number of components at once.

    Notes
    -----
    Standardized principal component scores are orthogonal and have equal
    norms, so a LASSO on them selects components in order of decreasing
    absolute correlation with the target, and the least-squares refit on the
    selected components reduces to one simple regression per component.

    Examples
    --------
    >>> import numpy as np
    >>> from painflow.model.decoder import LassoPCR
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 100))
    >>> y = X[:, 0] + 0.1 * rng.standard_normal(30)
    >>> model = LassoPCR(n_components=5).fit(X, y)
    >>> model.coef_.shape
    (100,)
    """

    def __init__(self, n_components=None):
        self.n_components = n_components

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; at least three samples.
        y : array-like of shape (n_samples,)
            Training targets.

        Returns
        -------
        self : LassoPCR
            The fitted estimator.
        """
        check_n_components(self.n_components, "n_components")
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        check_n_samples(X.shape[0])
        ranked = _rank_components(X, y.astype(np.float64), self.n_components)

        self.coef_ = ranked.axes.T @ ranked.weights
        self.intercept_ = float(ranked.y_mean - ranked.x_mean @ self.coef_)
        self.n_components_ = len(ranked.indices)
        self.selected_components_ = ranked.indices
        return self

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted targets.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_


def component_path(X_train, y_train, X_test, max_components=None) -> np.ndarray:
    """Predict with LASSO-PCR models of 1 to ``K`` components from one fit.

    Parameters
    ----------
    X_train : array-like of shape (n_train, n_features)
        Training features; at least three samples.
    y_train : array-like of shape (n_train,)
        Training targets.
    X_test : array-like of shape (n_test, n_features)
        Features to predict from.
    max_components : int or None, default=None
        Largest number of components. None goes up to every available
        component.

    Returns
    -------
    ndarray of shape (n_test, K)
        Column ``k - 1`` holds the predictions of
        ``LassoPCR(n_components=k).fit(X_train, y_train)``. ``K`` is
        ``max_components`` clipped to ``min(n_train - 2, n_features)`` and to
        the rank of the centered training data.

    Raises
    ------
    ValueError
        If ``max_components`` is invalid, there are fewer than three training
        samples, or the training and test features differ in number.
    """
    check_n_components(max_components, "max_components")
    X_train, y_train = check_X_y(X_train, y_train, dtype=np.float64, y_numeric=True)
    X_test = check_array(X_test, dtype=np.float64)
    check_n_samples(X_train.shape[0])
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_test has {X_test.shape[1]} features, but X_train has {X_train.shape[1]}"
        )
    ranked = _rank_components(X_train, y_train.astype(np.float64), max_components)

    # Each component adds its own term to the prediction, so the models of
    # increasing size are cumulative sums over the ranked components.
    scores = (X_test - ranked.x_mean) @ ranked.axes.T
    return ranked.y_mean + np.cumsum(scores * ranked.weights, axis=1)
