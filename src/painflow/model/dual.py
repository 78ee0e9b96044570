"""LASSO-PCR from inner products of the samples: the Gram (dual) engine.

With many more features than samples, the decomposition of the centered
(samples x samples) Gram matrix gives the components of
:class:`painflow.model.decoder.LassoPCR` at a cost independent of the number of
features, and one Gram matrix of every sample serves all the fits of a
cross-validation. Models are held through their training samples
(:class:`DualModel`); explicit feature-space weights are formed on request.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

from painflow.model.decoder import (
    centered_target,
    check_n_components,
    check_n_samples,
    n_kept_components,
    rank_by_target,
)

__all__ = [
    "DualModel",
    "GramEigen",
    "dual_predict",
    "dual_weights",
    "eigen_dual_fit",
    "gram_component_path",
    "gram_dual_fit",
    "gram_eigen",
    "gram_fit",
]

# From a Gram matrix, singular values are square roots of eigenvalues known
# to about machine precision times the largest, so the floor is higher.
_GRAM_RANK_TOLERANCE = 1e-6


def gram_component_path(
    gram: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_features: int,
    max_components: int | None = None,
) -> np.ndarray:
    """:func:`component_path` from inner products of the samples only.

    With many more features than samples, the decomposition of the centered
    (samples x samples) Gram matrix gives the same components as the SVD of
    the data, at a cost independent of the number of features. One Gram
    matrix of every sample serves all the fits of a cross-validation.

    Parameters
    ----------
    gram : ndarray of shape (n_samples, n_samples)
        ``X @ X.T`` over every sample.
    y : ndarray of shape (n_samples,)
        Targets of every sample.
    train, test : ndarray of int
        Indices of the training and test samples.
    n_features : int
        Number of features of ``X`` (bounds the number of components).
    max_components : int or None, default=None
        Largest number of components.

    Returns
    -------
    ndarray of shape (len(test), K)
        As :func:`component_path` on ``X[train], y[train], X[test]``, to
        rounding; components whose singular value is below ``1e-6`` times
        the largest are left out.
    """
    check_n_components(max_components, "max_components")
    check_n_samples(len(train))
    ranked = _gram_ranked(gram, y, train, n_features, max_components)
    cross = _centered_cross(gram[np.ix_(test, train)], ranked)
    # Test score j is (centered cross-kernel . U_j) / s_j.
    scores = cross @ ranked.U / ranked.s
    return ranked.y_mean + np.cumsum(scores * ranked.weights, axis=1)


class GramEigen(NamedTuple):
    """Decomposition of the centered Gram matrix of some training samples."""

    train: np.ndarray  # (n_train,) indices of the training samples
    U: np.ndarray  # (n_train, rank) eigenvectors, decreasing variance
    s: np.ndarray  # (rank,) singular values of the centered samples
    column_mean: np.ndarray  # (n_train,) mean inner product with each sample
    grand_mean: float
    n_features: int


class _GramRanked(NamedTuple):
    """Ranked components of a Gram decomposition, in entry order."""

    U: np.ndarray  # (n_train, k) eigenvectors of the centered Gram matrix
    s: np.ndarray  # (k,) singular values
    weights: np.ndarray  # (k,) regression weight of each component score
    y_mean: float
    column_mean: np.ndarray
    grand_mean: float


def gram_eigen(gram: np.ndarray, train: np.ndarray, n_features: int) -> GramEigen:
    """Centre the training samples' Gram matrix and decompose it.

    The decomposition depends on the training samples only, not on the
    targets or the number of components, so fits that share a training set
    can share it.

    Parameters
    ----------
    gram : ndarray of shape (n_samples, n_samples)
        ``X @ X.T`` over every sample.
    train : ndarray of int
        Indices of the training samples.
    n_features : int
        Number of features of ``X`` (bounds the rank).

    Returns
    -------
    GramEigen
        Components with a singular value above ``1e-6`` times the largest.
    """
    train = np.asarray(train)
    inner = gram[np.ix_(train, train)]
    # Centering on the training mean, expressed with inner products only.
    column_mean = inner.mean(axis=0)
    grand_mean = float(column_mean.mean())
    inner = inner - column_mean[:, None] - column_mean[None, :] + grand_mean
    eigenvalues, U = linalg.eigh(inner, check_finite=False, driver="evd")
    eigenvalues, U = eigenvalues[::-1], U[:, ::-1]
    s = np.sqrt(np.clip(eigenvalues, 0, None))
    n_nonzero = min(len(train) - 1, n_features)
    kept = s[:n_nonzero] > _GRAM_RANK_TOLERANCE * s[0] if s[0] > 0 else []
    n_nonzero = int(np.count_nonzero(kept))
    return GramEigen(
        train, U[:, :n_nonzero], s[:n_nonzero], column_mean, grand_mean, n_features
    )


def _gram_ranked(
    gram: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    n_features: int,
    max_components: int | None,
) -> _GramRanked:
    """Centre the training Gram matrix, decompose it and rank the components."""
    return _rank_eigen(gram_eigen(gram, train, n_features), y, max_components)


def _rank_eigen(
    eigen: GramEigen, y: np.ndarray, max_components: int | None
) -> _GramRanked:
    """Rank the components of a decomposition by their relation to ``y``."""
    y_centered, y_mean = centered_target(np.asarray(y, dtype=float)[eigen.train])
    n_keep = n_kept_components(len(eigen.train), eigen.n_features, max_components)
    order, weights = rank_by_target(eigen.U, eigen.s, y_centered, n_keep)
    return _GramRanked(
        eigen.U[:, order],
        eigen.s[order],
        weights,
        y_mean,
        eigen.column_mean,
        eigen.grand_mean,
    )


class DualModel(NamedTuple):
    """A LASSO-PCR model expressed through its training samples.

    The prediction for a sample ``x`` is ``y_mean + c(x) @ dual_coef``, where
    ``c(x)`` holds the inner products of ``x - x_mean`` with the centered
    training samples; the edge-space weights are ``X_c' dual_coef``.
    """

    train: np.ndarray  # (n_train,) indices of the training samples
    dual_coef: np.ndarray  # (n_train,)
    y_mean: float
    column_mean: np.ndarray  # (n_train,) mean inner product with each sample
    grand_mean: float
    n_components: int


def gram_dual_fit(
    gram: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    n_features: int,
    n_components: int,
) -> DualModel:
    """Fit ``LassoPCR(n_components)`` on the samples ``train`` from inner products.

    Parameters
    ----------
    gram : ndarray of shape (n_samples, n_samples)
        ``X @ X.T`` over every sample.
    y : ndarray of shape (n_samples,)
        Targets of every sample.
    train : ndarray of int
        Indices of the training samples.
    n_features : int
        Number of features of ``X``.
    n_components : int
        Number of components (clipped as in :class:`LassoPCR`).

    Returns
    -------
    DualModel
        Predicts as :class:`LassoPCR` fitted on ``X[train], y[train]``, to
        rounding, through :func:`dual_predict`.
    """
    check_n_samples(len(train))
    return eigen_dual_fit(gram_eigen(gram, train, n_features), y, n_components)


def eigen_dual_fit(eigen: GramEigen, y: np.ndarray, n_components: int) -> DualModel:
    """:func:`gram_dual_fit` from a decomposition already made.

    Parameters
    ----------
    eigen : GramEigen
        From :func:`gram_eigen` on the training samples.
    y : ndarray of shape (n_samples,)
        Targets of every sample.
    n_components : int
        Number of components.

    Returns
    -------
    DualModel
    """
    check_n_components(n_components, "n_components")
    ranked = _rank_eigen(eigen, y, n_components)
    return DualModel(
        train=eigen.train,
        # Axis j is X_c' U_j / s_j, so the weights are X_c' (U w / s).
        dual_coef=ranked.U @ (ranked.weights / ranked.s),
        y_mean=ranked.y_mean,
        column_mean=ranked.column_mean,
        grand_mean=ranked.grand_mean,
        n_components=len(ranked.weights),
    )


def dual_predict(model: DualModel, cross: np.ndarray) -> np.ndarray:
    """Predictions of a :class:`DualModel`.

    Parameters
    ----------
    model : DualModel
    cross : ndarray of shape (n_test, n_train)
        Inner products of the test samples with the training samples
        ``model.train``, uncentered.

    Returns
    -------
    ndarray of shape (n_test,)
    """
    return model.y_mean + _centered_cross(cross, model) @ model.dual_coef


def dual_weights(model: DualModel, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Feature-space weights and intercept of a :class:`DualModel`.

    Parameters
    ----------
    model : DualModel
    X : ndarray of shape (n_samples, n_features)
        Features of every sample (the rows ``model.train`` are used).

    Returns
    -------
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    # Full-length weight vectors avoid copying the training rows of X.
    dual = np.zeros(X.shape[0])
    dual[model.train] = model.dual_coef
    indicator = np.zeros(X.shape[0])
    indicator[model.train] = 1.0 / len(model.train)
    x_mean = indicator @ X
    coef = dual @ X - model.dual_coef.sum() * x_mean
    return coef, float(model.y_mean - x_mean @ coef)


def gram_fit(
    gram: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    n_components: int,
) -> tuple[np.ndarray, float]:
    """Fit ``LassoPCR(n_components)`` on ``X[train]`` through the Gram matrix.

    Parameters
    ----------
    gram : ndarray of shape (n_samples, n_samples)
        ``X @ X.T`` over every sample.
    X : ndarray of shape (n_samples, n_features)
        Features of every sample.
    y : ndarray of shape (n_samples,)
        Targets of every sample.
    train : ndarray of int
        Indices of the training samples.
    n_components : int
        Number of components (clipped as in :class:`LassoPCR`).

    Returns
    -------
    coef : ndarray of shape (n_features,)
    intercept : float
        As :class:`LassoPCR` fitted on ``X[train], y[train]``, to rounding.
    """
    return dual_weights(gram_dual_fit(gram, y, train, X.shape[1], n_components), X)


def _centered_cross(cross: np.ndarray, centering) -> np.ndarray:
    """Centre inner products with training samples on the training mean.

    ``(x - m) . (x_j - m) = x . x_j - x . m - m . x_j + m . m``, where
    ``x . m`` is the row mean of ``cross``.
    """
    return (
        cross
        - cross.mean(axis=1, keepdims=True)
        - centering.column_mean
        + centering.grand_mean
    )
