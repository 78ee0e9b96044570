"""The statistics every analysis shares: Pearson r and the percentile interval."""

from __future__ import annotations

import numpy as np

CONFIDENCE_PERCENTILES = (2.5, 97.5)


def pearson_r(x, y, axis=None, mask=None):
    """Pearson correlation of ``x`` and ``y``; NaN where it is undefined.

    Two forms share the definition. Two vectors (``axis`` None) give one r
    from dot products of the centered vectors; a side without spread gives
    NaN. Arrays with an ``axis`` (and optionally a boolean ``mask`` of the
    values that count) give one r per position of the other axes, from sums
    over ``axis`` of the masked centered values: this batch form serves
    bootstrap resamples, where masked-out cells pad the shorter units.

    Parameters
    ----------
    x, y : array-like
        Vectors (``axis`` None) or arrays of equal shape.
    axis : int or tuple of int, optional
        The axes to correlate over; None for two vectors.
    mask : numpy.ndarray, optional
        Boolean array of the shape of ``x``: the values that count (batch form
        only; every value counts when None).

    Returns
    -------
    float or numpy.ndarray
        A float for two vectors; otherwise r over ``axis``, NaN where no
        value counts or a side has no variance.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"pearson_r needs equal shapes, got {x.shape} and {y.shape}")
    if axis is None:
        if mask is not None or x.ndim != 1:
            raise ValueError("pearson_r of two vectors takes no mask; give an axis")
        return _vector_r(x, y)
    return _batch_r(x, y, np.ones(x.shape, bool) if mask is None else mask, axis)


def _vector_r(x: np.ndarray, y: np.ndarray) -> float:
    """R of two vectors from dot products; NaN when either side is constant."""
    if x.size == 0 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denominator) if denominator > 0 else float("nan")


def _batch_r(x: np.ndarray, y: np.ndarray, mask: np.ndarray, axis) -> np.ndarray:
    """R over ``axis`` of the masked values, from sums of centered products."""
    with np.errstate(invalid="ignore", divide="ignore"):
        count = mask.sum(axis=axis, keepdims=True)
        mean_x = (x * mask).sum(axis=axis, keepdims=True) / count
        mean_y = (y * mask).sum(axis=axis, keepdims=True) / count
        dx, dy = (x - mean_x) * mask, (y - mean_y) * mask
        return (dx * dy).sum(axis=axis) / np.sqrt(
            (dx**2).sum(axis=axis) * (dy**2).sum(axis=axis)
        )


def percentile_interval(samples: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of bootstrap samples, non-finite ones left out.

    Parameters
    ----------
    samples : numpy.ndarray
        Bootstrap values of one statistic; NaN or infinite values (resamples
        where it is undefined) are left out.

    Returns
    -------
    low, high : float
        The 2.5th and 97.5th percentiles; NaN when no sample is finite.
    """
    samples = np.asarray(samples, dtype=float)
    finite = samples[np.isfinite(samples)]
    if not finite.size:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, CONFIDENCE_PERCENTILES)
    return float(low), float(high)
