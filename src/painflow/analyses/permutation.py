"""An autocorrelation-preserving permutation null of the pooled r at every scale.

Time-bin scales: each run's ratings are shifted circularly by a random lag
(over its retained volumes), which keeps their autocorrelation and the run's
set of values, and breaks their alignment with the predictions; the bin means
are then recomputed. Run and session scales: a shift within a run leaves its
mean unchanged, so whole runs' ratings are permuted across the runs instead
(a session's mean is then that of the runs it receives, weighted by its runs'
volumes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.analyses.metrics import RUN_SCALES
from painflow.core.stats import pearson_r
from painflow.core.streams import step_rng

# Name of the permutations' random streams (painflow.core.streams), one per scale.
PERMUTATION_STREAM = "permutation"
# Null values this close to the observed one count as reaching it.
TIE_TOLERANCE = 1e-12


def permutation_p(observed: float, null: np.ndarray) -> float:
    """Two-sided permutation p: ``(1 + #|null| >= |observed|) / (1 + n)``."""
    null = np.asarray(null, dtype=float)
    if np.isnan(observed):
        return float("nan")
    extreme = np.abs(null) >= abs(observed) - TIE_TOLERANCE
    return float((1 + np.sum(extreme)) / (1 + null.size))


def shifted_bin_means(
    values: np.ndarray, labels: np.ndarray, shifts: np.ndarray
) -> np.ndarray:
    """Bin means of circularly shifted copies of a run's series.

    Parameters
    ----------
    values : numpy.ndarray
        (volumes,) the run's series, in time order.
    labels : numpy.ndarray
        (volumes,) bin of each volume, non-decreasing (consecutive bins).
    shifts : numpy.ndarray
        (permutations,) lags: copy ``p`` holds ``values[(i - shifts[p]) % n]``
        at volume ``i``.

    Returns
    -------
    numpy.ndarray
        (permutations, bins) means, bins in increasing order.
    """
    values = np.asarray(values, dtype=float)
    n = values.size
    _, starts, lengths = np.unique(labels, return_index=True, return_counts=True)
    cumulative = np.concatenate([[0.0], np.cumsum(np.concatenate([values, values]))])
    first = (starts[None, :] - np.asarray(shifts)[:, None]) % n
    return (cumulative[first + lengths] - cumulative[first]) / lengths


def circular_shifts(
    volumes: pd.DataFrame, column: str, n_permutations: int, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Bin-mean predictions and circularly shifted bin-mean ratings of every run.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run, volume, rating, predicted`` and ``column``
        (each volume's time bin).
    column : str
        The bin column of the scale.
    n_permutations : int
        Shifted copies; copy 0 is the data unshifted.
    rng : numpy.random.Generator

    Returns
    -------
    predicted : numpy.ndarray
        (units,) bin-mean predictions, runs in (session, run) order.
    ratings : numpy.ndarray
        (n_permutations + 1, units) bin-mean ratings of each copy.
    """
    predicted, ratings = [], []
    for _, run in volumes.sort_values("volume").groupby(["session", "run"]):
        labels = run[column].to_numpy()
        n = len(run)
        lags = (
            rng.integers(1, n, size=n_permutations)
            if n > 1
            else np.zeros(n_permutations, dtype=np.int64)
        )
        shifts = np.concatenate([[0], lags])
        ratings.append(shifted_bin_means(run["rating"].to_numpy(), labels, shifts))
        predicted.append(shifted_bin_means(run["predicted"].to_numpy(), labels, [0])[0])
    return np.concatenate(predicted), np.concatenate(ratings, axis=1)


def swapped_runs(
    volumes: pd.DataFrame, scale: str, n_permutations: int, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Unit predictions and unit ratings with whole runs' ratings permuted.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run, rating, predicted``.
    scale : str
        ``run`` or ``session``.
    n_permutations : int
        Permuted copies; copy 0 is the data as it is.
    rng : numpy.random.Generator

    Returns
    -------
    predicted : numpy.ndarray
        (units,) predictions of the scale's units.
    ratings : numpy.ndarray
        (n_permutations + 1, units) ratings of each copy.
    """
    runs = volumes.groupby(["session", "run"], sort=True).agg(
        rating=("rating", "mean"),
        predicted=("predicted", "mean"),
        n=("rating", "size"),
    )
    order = np.array(
        [np.arange(len(runs))]
        + [rng.permutation(len(runs)) for _ in range(n_permutations)]
    )
    rating = runs["rating"].to_numpy()[order]
    if scale == "run":
        return runs["predicted"].to_numpy(), rating
    sessions = runs.index.get_level_values("session")
    membership = np.array([sessions == s for s in sessions.unique()], dtype=float)
    weights = membership * runs["n"].to_numpy()
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ runs["predicted"].to_numpy(), rating @ weights.T


def permutation_null(
    volumes: pd.DataFrame, scales: list[str], n_permutations: int, seed: int
) -> pd.DataFrame:
    """Observed pooled r, its null distribution's spread and p, at every scale.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run, volume, rating, predicted`` and
        ``bin_<scale>`` for time-bin scales.
    scales : list of str
        Scales to test.
    n_permutations : int
        Permutations per scale.
    seed : int
        Seed; each scale draws from its own stream (``PERMUTATION_STREAM``).

    Returns
    -------
    pandas.DataFrame
        ``scale, r, null_mean, null_sd, permutation_p``.
    """
    rows = []
    for scale in scales:
        rng = step_rng(seed, PERMUTATION_STREAM, scale)
        if scale in RUN_SCALES:
            predicted, ratings = swapped_runs(volumes, scale, n_permutations, rng)
        else:
            predicted, ratings = circular_shifts(
                volumes, f"bin_{scale}", n_permutations, rng
            )
        r = pearson_r(ratings, np.broadcast_to(predicted, ratings.shape), axis=1)
        null = r[1:]
        rows.append(
            {
                "scale": scale,
                "r": float(r[0]),
                "null_mean": float(np.nanmean(null)),
                "null_sd": float(np.nanstd(null)),
                "permutation_p": permutation_p(float(r[0]), null[~np.isnan(null)]),
            }
        )
    return pd.DataFrame(rows)
