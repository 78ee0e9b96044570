"""Edge time series: products of z-scored region series, and their bin means.

The edge vector of a volume holds ``z_i(t) * z_j(t)`` for every region pair
``i < j`` in ``numpy.triu_indices`` order. Bin means are computed as the upper
triangle of ``Z_b' Z_b / |b|``, never through the (volumes x edges) matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EXCLUDED = -1


@dataclass(frozen=True)
class FeatureSettings:
    """Binning of edge time series (config key ``features``).

    Attributes
    ----------
    n_rating_bins : int
        Quantile bins of a run's rating (training samples).
    min_stretch_volumes : int
        Stretches of consecutive volumes in one rating bin shorter than this
        are left out.
    time_bins : dict
        Scale name to the number of equal consecutive stretches of a run.
    """

    n_rating_bins: int = 10
    min_stretch_volumes: int = 5
    time_bins: dict = field(default_factory=lambda: {"1min": 10, "2min": 5, "5min": 2})


def zscore(series: np.ndarray) -> np.ndarray:
    """Z-score each column over rows (population SD); constant columns become 0."""
    centered = series - series.mean(axis=0)
    sd = series.std(axis=0)
    return np.divide(centered, sd, out=np.zeros_like(centered), where=sd > 0)


def n_edges(n_regions: int) -> int:
    """Number of region pairs ``i < j``."""
    return n_regions * (n_regions - 1) // 2


def edge_time_series(zscored: np.ndarray) -> np.ndarray:
    """Explicit (volumes, edges) matrix of edge products (for small data only)."""
    rows, cols = np.triu_indices(zscored.shape[1], k=1)
    return zscored[:, rows] * zscored[:, cols]


def bin_mean_edges(
    zscored: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean edge vector of every bin.

    Parameters
    ----------
    zscored : numpy.ndarray
        (volumes, regions) z-scored series.
    labels : numpy.ndarray
        (volumes,) integer bin of each volume; ``EXCLUDED`` (-1) is left out.

    Returns
    -------
    bins : numpy.ndarray
        The bin labels present, sorted.
    means : numpy.ndarray
        (bins, edges) mean edge vectors.
    """
    rows, cols = np.triu_indices(zscored.shape[1], k=1)
    bins = np.unique(labels[labels != EXCLUDED])
    means = np.empty((bins.size, rows.size))
    for position, label in enumerate(bins):
        members = zscored[labels == label]
        means[position] = (members.T @ members)[rows, cols] / len(members)
    return bins, means


def bin_means(values: np.ndarray, labels: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Mean of ``values`` within each of ``bins``."""
    return np.array([values[labels == label].mean() for label in bins])


def rating_bins(ratings: np.ndarray, n_bins: int, min_stretch: int) -> np.ndarray:
    """Assign volumes to quantile bins of the run's rating.

    Parameters
    ----------
    ratings : numpy.ndarray
        (volumes,) ratings of the retained volumes, in time order.
    n_bins : int
        Number of quantile bins.
    min_stretch : int
        Consecutive volumes in the same bin shorter than this, where the
        rating crosses a quantile, are left out.

    Returns
    -------
    numpy.ndarray
        (volumes,) bin 0..n_bins-1, or ``EXCLUDED``.
    """
    edges = np.quantile(ratings, np.linspace(0, 1, n_bins + 1))
    labels = np.searchsorted(edges[1:-1], ratings, side="right")
    starts = np.flatnonzero(np.diff(labels, prepend=labels[0] - 1))
    lengths = np.diff(np.append(starts, len(labels)))
    short = np.repeat(lengths < min_stretch, lengths)
    return np.where(short, EXCLUDED, labels)


def time_bins(positions: np.ndarray, window_length: int, n_bins: int) -> np.ndarray:
    """Assign volumes to ``n_bins`` equal consecutive stretches of the run.

    Parameters
    ----------
    positions : numpy.ndarray
        Position of each retained volume in the analysis window (0-based).
    window_length : int
        Volumes in the analysis window, censored ones included.
    n_bins : int
        Number of stretches.

    Returns
    -------
    numpy.ndarray
        (volumes,) bin of each volume.
    """
    return (np.asarray(positions) * n_bins) // window_length


def edge_weight_matrix(coef: np.ndarray, n_regions: int) -> np.ndarray:
    """Symmetric (regions, regions) matrix of edge weights, zero diagonal."""
    rows, cols = np.triu_indices(n_regions, k=1)
    weights = np.zeros((n_regions, n_regions))
    weights[rows, cols] = coef
    return weights + weights.T


def predict_volumes(
    zscored: np.ndarray, coef: np.ndarray, intercept: float
) -> np.ndarray:
    """Apply edge-space weights to every volume's edge vector.

    ``sum_{i<j} w_ij z_i z_j = z' W z / 2`` with ``W`` symmetric, so no edge
    vector is built.

    Returns
    -------
    numpy.ndarray
        (volumes,) predictions.
    """
    weights = edge_weight_matrix(coef, zscored.shape[1])
    return intercept + 0.5 * np.einsum("ti,ti->t", zscored @ weights, zscored)


def run_features(
    table: pd.DataFrame,
    qc: dict,
    region_names: list[str],
    settings: FeatureSettings,
    motion_columns: list[str],
) -> dict:
    """Edge features of one run.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's retained volumes as written by signal extraction.
    qc : dict
        The run's QC record (analysis window, inclusion).
    region_names : list of str
        Region columns of ``table``, in order.
    settings : FeatureSettings
    motion_columns : list of str
        Head-motion columns of ``table`` (the motion control's features).

    Returns
    -------
    dict
        Arrays: ``zscored`` (volumes, regions), ``motion`` (volumes, motion
        columns), ``volume``, ``time``, ``rating``, ``rating_bin`` labels with
        ``rating_bin_ids``, ``rating_bin_edges``, ``rating_bin_motion`` and
        ``rating_bin_rating``; the same per time scale ``S`` under
        ``timebin_S``; ``region_names``, ``motion_names`` and ``included``.
    """
    features = {
        "region_names": np.array(region_names, dtype=str),
        "motion_names": np.array(motion_columns, dtype=str),
        "included": np.array(bool(qc["included"])),
        "volume": table["volume"].to_numpy(np.int64),
        "time": table["time"].to_numpy(float),
        "rating": table["rating"].to_numpy(float),
        "motion": table.loc[:, list(motion_columns)].to_numpy(float),
    }
    if not qc["included"] or table.empty:
        features["zscored"] = np.zeros((0, len(region_names)))
        return features
    zscored = zscore(table[region_names].to_numpy(float))
    features["zscored"] = zscored
    labels = rating_bins(
        features["rating"], settings.n_rating_bins, settings.min_stretch_volumes
    )
    _add_bins(features, "rating_bin", labels)
    positions = features["volume"] - qc["window_start"]
    window = qc["window_stop"] - qc["window_start"]
    for scale, count in settings.time_bins.items():
        _add_bins(features, f"timebin_{scale}", time_bins(positions, window, count))
    return features


def _add_bins(features: dict, prefix: str, labels: np.ndarray) -> None:
    """Store bin labels and bin means of edges, motion and ratings under ``prefix``."""
    bins, means = bin_mean_edges(features["zscored"], labels)
    features[prefix] = labels
    features[f"{prefix}_ids"] = bins
    features[f"{prefix}_edges"] = means
    features[f"{prefix}_motion"] = np.stack(
        [features["motion"][labels == label].mean(axis=0) for label in bins]
    )
    features[f"{prefix}_rating"] = bin_means(features["rating"], labels, bins)
