"""Edge time series: products of z-scored region series, and their bin means.

The edge vector of a volume holds ``z_i(t) * z_j(t)`` for every region pair
``i < j`` in ``numpy.triu_indices`` order. Bin means are computed as the upper
triangle of ``Z_b' Z_b / |b|``, never through the (volumes x edges) matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EXCLUDED = -1


# Durations this close to a limit count as reaching it: 5 x 0.46 s is 2.3 s.
DURATION_TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True)
class FeatureSettings:
    """Binning of edge time series (config key ``features``).

    Attributes
    ----------
    n_rating_bins : int
        Bins of a run's rating ranks (training samples).
    min_stretch_seconds : float
        Stretches of consecutive volumes in one rating bin lasting less than
        this (volumes x TR) are left out.
    time_bins : dict
        Scale name to the length of its time bins in seconds.
    min_binned_fraction : float
        Share of a run's kept volumes in rating bins below which the run is
        flagged in the QC table.
    """

    n_rating_bins: int
    min_stretch_seconds: float
    time_bins: dict
    min_binned_fraction: float


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


def rank_bins(ratings: np.ndarray, n_bins: int) -> np.ndarray:
    """Split a run's volumes into ``n_bins`` equal groups by rating rank.

    Volumes are ranked by (rating, time), so tied ratings are ordered by time,
    and rank ``k`` of ``n`` goes to bin ``k * n_bins // n``. Every bin holds
    ``n / n_bins`` volumes up to one, whatever the ties: quantile edges would
    put a whole plateau of equal ratings in one bin and leave others empty.
    Bin means of the rating never decrease with the bin. With fewer volumes
    than bins, every volume is a bin of its own.

    Parameters
    ----------
    ratings : numpy.ndarray
        (volumes,) ratings of the retained volumes, in time order.
    n_bins : int
        Number of bins.

    Returns
    -------
    numpy.ndarray
        (volumes,) bin 0..n_bins-1 of each volume.
    """
    ratings = np.asarray(ratings)
    ranks = np.empty(ratings.size, dtype=np.int64)
    ranks[np.argsort(ratings, kind="stable")] = np.arange(ratings.size)
    return ranks * n_bins // max(ratings.size, 1)


def drop_short_stretches(
    labels: np.ndarray, tr: float, min_seconds: float
) -> np.ndarray:
    """Leave out stretches of consecutive volumes in one bin lasting under a limit.

    Parameters
    ----------
    labels : numpy.ndarray
        (volumes,) bin of each retained volume, in time order.
    tr : float
        Repetition time (s): a stretch of ``n`` volumes lasts ``n * tr``.
    min_seconds : float
        Shortest stretch kept (s), up to ``DURATION_TOLERANCE_SECONDS``.

    Returns
    -------
    numpy.ndarray
        ``labels`` with the volumes of short stretches set to ``EXCLUDED``.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        return labels
    starts = np.flatnonzero(np.diff(labels, prepend=labels[0] - 1))
    lengths = np.diff(np.append(starts, labels.size))
    short = lengths * tr < min_seconds - DURATION_TOLERANCE_SECONDS
    return np.where(np.repeat(short, lengths), EXCLUDED, labels)


def rating_bins(
    ratings: np.ndarray, n_bins: int, tr: float, min_stretch_seconds: float
) -> np.ndarray:
    """Assign volumes to rank bins of the run's rating, short stretches left out.

    Parameters
    ----------
    ratings : numpy.ndarray
        (volumes,) ratings of the retained volumes, in time order.
    n_bins : int
        Number of bins (:func:`rank_bins`).
    tr : float
        Repetition time (s).
    min_stretch_seconds : float
        Stretches in one bin lasting less are left out
        (:func:`drop_short_stretches`).

    Returns
    -------
    numpy.ndarray
        (volumes,) bin 0..n_bins-1, or ``EXCLUDED``.
    """
    return drop_short_stretches(rank_bins(ratings, n_bins), tr, min_stretch_seconds)


def binned_fraction(labels: np.ndarray) -> float:
    """Share of volumes in a bin (not ``EXCLUDED``); NaN without volumes."""
    labels = np.asarray(labels)
    return float((labels != EXCLUDED).mean()) if labels.size else float("nan")


def low_binned_fraction(fraction: float, floor: float) -> bool:
    """Whether a run's share of volumes in rating bins is below the floor.

    An unknown share (NaN: a run left out or without volumes) is not flagged.
    """
    return bool(fraction < floor)


def n_time_bins(window_seconds, bin_seconds: float):
    """Number of time bins of an analysis window: its length in bins, rounded.

    A remainder of at least half a bin is a bin of its own; a shorter one
    joins the previous bin; a window shorter than one bin is one bin.

    Parameters
    ----------
    window_seconds : float or numpy.ndarray
        Length of the analysis window (s), censored volumes included.
    bin_seconds : float
        Length of a bin (s).

    Returns
    -------
    int or numpy.ndarray
        Number of bins, at least 1.
    """
    seconds = np.asarray(window_seconds) + DURATION_TOLERANCE_SECONDS
    return np.maximum(np.floor(seconds / bin_seconds + 0.5), 1).astype(np.int64)


def time_bins(positions, window_length, tr, bin_seconds: float) -> np.ndarray:
    """Assign volumes to consecutive stretches of ``bin_seconds`` of scan time.

    Bins are counted from the start of the analysis window, censored volumes
    included, so a volume's bin depends only on its time. A volume belongs to
    the bin holding its midpoint; the last bin takes the remainder as
    :func:`n_time_bins` says.

    Parameters
    ----------
    positions : numpy.ndarray
        Position of each retained volume in the analysis window (0-based).
    window_length : int or numpy.ndarray
        Volumes in the analysis window, censored ones included.
    tr : float or numpy.ndarray
        Repetition time (s).
    bin_seconds : float
        Length of a bin (s).

    Returns
    -------
    numpy.ndarray
        (volumes,) bin of each volume.
    """
    count = n_time_bins(np.asarray(window_length) * tr, bin_seconds)
    midpoints = (np.asarray(positions) + 0.5) * tr
    return np.minimum(np.floor(midpoints / bin_seconds).astype(np.int64), count - 1)


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
        The run's QC record (analysis window, ``RepetitionTime``, inclusion).
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
        ``rating_bin_rating``, ``rating_bin_fraction`` (share of the volumes in a
        rating bin; NaN for a run left out); the same per time scale ``S`` under
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
        features["rating_bin_fraction"] = np.array(float("nan"))
        return features
    zscored = zscore(table[region_names].to_numpy(float))
    features["zscored"] = zscored
    tr = float(qc["RepetitionTime"])
    labels = rating_bins(
        features["rating"], settings.n_rating_bins, tr, settings.min_stretch_seconds
    )
    _add_bins(features, "rating_bin", labels)
    features["rating_bin_fraction"] = np.array(binned_fraction(labels))
    positions = features["volume"] - qc["window_start"]
    window = qc["window_stop"] - qc["window_start"]
    for scale, seconds in settings.time_bins.items():
        labels = time_bins(positions, window, tr, seconds)
        _add_bins(features, f"timebin_{scale}", labels)
    return features


def retarget_features(
    features: dict, values: np.ndarray, settings: FeatureSettings, tr: float
) -> dict:
    """A run's features with another per-volume target in place of the rating.

    The target's rank bins replace the rating bins, exactly as
    :func:`run_features` bins the rating, so a model trained on the result
    decodes the target with the rating's pipeline.

    Parameters
    ----------
    features : dict
        From :func:`run_features`, of an included run.
    values : numpy.ndarray
        (volumes,) the target at each retained volume.
    settings : FeatureSettings
    tr : float
        Repetition time (s).

    Returns
    -------
    dict
        A copy of ``features`` whose ``rating`` is ``values`` and whose
        ``rating_bin`` arrays are the target's.
    """
    values = np.asarray(values, dtype=float)
    if values.shape != features["rating"].shape:
        raise ValueError(
            f"a target of {values.size} volumes for a run of {features['rating'].size}"
        )
    retargeted = {**features, "rating": values}
    labels = rating_bins(
        values, settings.n_rating_bins, tr, settings.min_stretch_seconds
    )
    _add_bins(retargeted, "rating_bin", labels)
    retargeted["rating_bin_fraction"] = np.array(binned_fraction(labels))
    return retargeted


def _add_bins(features: dict, prefix: str, labels: np.ndarray) -> None:
    """Store bin labels and bin means of edges, motion and ratings under ``prefix``."""
    bins, means = bin_mean_edges(features["zscored"], labels)
    features[prefix] = labels
    features[f"{prefix}_ids"] = bins
    features[f"{prefix}_edges"] = means
    motion = features["motion"]
    features[f"{prefix}_motion"] = np.array(
        [motion[labels == label].mean(axis=0) for label in bins]
    ).reshape(bins.size, motion.shape[1])
    features[f"{prefix}_rating"] = bin_means(features["rating"], labels, bins)
