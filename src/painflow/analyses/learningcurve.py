"""Learning curve: accuracy against the number of training sessions.

For a training size ``s`` and a repeat, every session is predicted by a model
fitted on ``s`` of the other sessions drawn at random. The fits run in the
dual, from one Gram matrix of the subject's training samples and one kernel
between each session's test units and those samples (:class:`KernelData`).

A (size, repeat) gives one full set of out-of-sample unit predictions, which
is scored with the main evaluation's metrics (:mod:`painflow.analyses.metrics`); a
size's estimate is the mean over its repeats, and its interval comes from a
hierarchical bootstrap whose every resample draws the same sessions, runs
and bins for all repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.analyses.metrics import (
    METRICS,
    MIN_UNITS_FOR_R,
    RUN_SCALES,
    draw_metrics,
    hierarchical_draws,
    nested_index,
)
from painflow.core.bids import natural_key
from painflow.core.stats import pearson_r, percentile_interval
from painflow.core.streams import step_rng
from painflow.model.crossval import RunFeatures, training_set
from painflow.model.dual import dual_predict, eigen_dual_fit, gram_eigen
from painflow.signals.edges import bin_mean_edges

MIN_TRAINING_SAMPLES = 3
# Columns of the table of every draw's within-session r.
LEARNING_CURVE_COLUMNS = ("n_train_sessions", "repeat", "test_session", "scale", "r")
SUMMARY_COLUMNS = (
    "n_train_sessions",
    "scale",
    "metric",
    "estimate",
    "ci_low",
    "ci_high",
)
# Cells (resamples x sessions x runs x bins) of one block of bootstrap draws:
# bounds the memory of a block whatever the number of resamples.
MAX_DRAW_CELLS = 2_000_000


def training_sizes(n_units: int) -> list[int]:
    """Training-set sizes of a learning curve over ``n_units`` units: 1 .. n - 2.

    One unit is held out for testing; of the ``n - 1`` others, a size of
    ``n - 1`` would leave a single draw (the nested cross-validation itself).

    Parameters
    ----------
    n_units : int
        Cross-validation units (sessions, or runs without sessions).

    Returns
    -------
    list of int
        Empty when there are fewer than three units.
    """
    return list(range(1, n_units - 1))


def learning_curve_draws(
    sessions: list[str], n_train_sessions: int, n_repeats: int, seed: int
) -> list[tuple[int, str, tuple]]:
    """The training sessions of every (repeat, held-out session) of one size.

    Each (size, repeat) has its own named random stream
    (``step_rng(seed, "learning_curve", size, repeat)``), so that adding
    repeats or sizes leaves the other draws unchanged.

    Returns
    -------
    list of (repeat, test_session, training sessions)
    """
    if n_train_sessions not in training_sizes(len(sessions)):
        raise ValueError(
            f"training size {n_train_sessions} outside 1..{len(sessions) - 2} "
            f"for {len(sessions)} sessions"
        )
    draws = []
    for repeat in range(n_repeats):
        rng = step_rng(seed, "learning_curve", n_train_sessions, repeat)
        for test_session in sessions:
            others = [session for session in sessions if session != test_session]
            chosen = rng.choice(others, size=n_train_sessions, replace=False)
            draws.append((repeat, test_session, tuple(sorted(chosen))))
    return draws


def unit_features(run: RunFeatures, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean edge vectors and ratings of a run's units at a scale.

    Time-bin scales read the run's stored bin means; the ``run`` scale is the
    mean over all the run's retained volumes.

    Returns
    -------
    features : numpy.ndarray
        (units, edges).
    ratings : numpy.ndarray
        (units,).
    """
    arrays = run.arrays
    if scale != "run":
        prefix = f"timebin_{scale}"
        return arrays[f"{prefix}_edges"], arrays[f"{prefix}_rating"]
    everything = np.zeros(len(arrays["rating"]), dtype=int)
    features = bin_mean_edges(arrays["zscored"], everything)[1]
    return features, np.array([arrays["rating"].mean()])


def unit_bins(run: RunFeatures, scale: str) -> np.ndarray:
    """Bin label of each of a run's units at a scale (0 for whole runs)."""
    if scale == "run":
        return np.zeros(1, dtype=np.int64)
    return np.asarray(run.arrays[f"timebin_{scale}_ids"], dtype=np.int64)


def session_mean_features(
    runs: list[RunFeatures],
) -> tuple[np.ndarray, np.ndarray]:
    """Mean edge vector and rating over every retained volume of a session's runs.

    The mean of the run means weighted by their volumes, as the evaluation's
    ``session`` unit averages the session's volumes.
    """
    counts = np.array([len(run.arrays["rating"]) for run in runs], dtype=float)
    means = np.concatenate([unit_features(run, "run")[0] for run in runs])
    total = counts.sum()
    rating = sum(run.arrays["rating"].sum() for run in runs) / total
    return (counts @ means)[None] / total, np.array([rating])


@dataclass(frozen=True)
class SessionUnits:
    """A held-out session's units at every scale, seen through the kernel.

    Attributes
    ----------
    kernel : numpy.ndarray
        (units, samples) inner products of the units' mean features with every
        training sample of the subject.
    ratings : numpy.ndarray
        (units,) mean ratings.
    rows : dict
        Scale to the row indices of its units.
    runs : numpy.ndarray
        (units,) run label of each unit (empty for the ``session`` unit).
    bins : numpy.ndarray
        (units,) time-bin label of each unit (0 for whole runs and sessions).
    """

    kernel: np.ndarray
    ratings: np.ndarray
    rows: dict
    runs: np.ndarray
    bins: np.ndarray


@dataclass(frozen=True)
class KernelData:
    """Everything the learning curve's fits read: no feature matrix.

    Attributes
    ----------
    gram : numpy.ndarray
        (samples, samples) inner products of the training samples.
    y, groups : numpy.ndarray
        Targets and session labels of the samples.
    n_features : int
    units : dict
        Session to its :class:`SessionUnits`.
    """

    gram: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    n_features: int
    units: dict


def session_units(
    runs: list[RunFeatures], scales: list[str], X: np.ndarray
) -> SessionUnits:
    """The units of one session's runs at every scale, and their kernel with ``X``."""
    features, ratings, labels, bins, rows, start = [], [], [], [], {}, 0
    for scale in scales:
        if scale == "session":
            parts = [(session_mean_features(runs), "", np.zeros(1, dtype=np.int64))]
        else:
            parts = [
                (unit_features(run, scale), run.run, unit_bins(run, scale))
                for run in runs
            ]
        for (run_features, run_ratings), run_label, run_bins in parts:
            features.append(run_features)
            ratings.append(run_ratings)
            labels.append(np.full(len(run_ratings), run_label))
            bins.append(run_bins)
        count = sum(map(len, ratings)) - start
        rows[scale] = np.arange(start, start + count)
        start += count
    return SessionUnits(
        kernel=np.concatenate(features) @ X.T,
        ratings=np.concatenate(ratings),
        rows=rows,
        runs=np.concatenate(labels).astype(str),
        bins=np.concatenate(bins),
    )


def kernel_data(runs: list[RunFeatures], scales: list[str]) -> KernelData:
    """Gram matrix of a subject's training samples and kernels of its units.

    Parameters
    ----------
    runs : list of RunFeatures
        The subject's included runs.
    scales : list of str
        Time-bin scales, ``run`` and ``session``.

    Returns
    -------
    KernelData
    """
    X, y, groups = training_set(runs)
    units = {
        session: session_units(
            [run for run in runs if run.session == session], scales, X
        )
        for session in sorted({run.session for run in runs})
    }
    return KernelData(X @ X.T, y, groups, X.shape[1], units)


def kernel_arrays(data: KernelData) -> dict:
    """Flatten :class:`KernelData` into named arrays, for an ``.npz`` file."""
    arrays = {
        "gram": data.gram,
        "y": data.y,
        "groups": data.groups.astype(str),
        "n_features": np.array(data.n_features),
        "sessions": np.array(sorted(data.units), dtype=str),
    }
    for position, session in enumerate(sorted(data.units)):
        unit = data.units[session]
        # Sessions by position, so that no label can clash with a scale name.
        arrays[f"kernel_{position}"] = unit.kernel
        arrays[f"ratings_{position}"] = unit.ratings
        arrays[f"runs_{position}"] = unit.runs
        arrays[f"bins_{position}"] = unit.bins
        arrays[f"scales_{position}"] = np.array(list(unit.rows), dtype=str)
        for scale, rows in unit.rows.items():
            arrays[f"rows_{position}_{scale}"] = rows
    return arrays


def kernel_data_from_arrays(arrays: dict) -> KernelData:
    """Rebuild :class:`KernelData` from :func:`kernel_arrays`."""
    units = {}
    for position, session in enumerate(arrays["sessions"].tolist()):
        rows = {
            scale: arrays[f"rows_{position}_{scale}"]
            for scale in arrays[f"scales_{position}"].tolist()
        }
        units[session] = SessionUnits(
            kernel=arrays[f"kernel_{position}"],
            ratings=arrays[f"ratings_{position}"],
            rows=rows,
            runs=arrays[f"runs_{position}"].astype(str),
            bins=arrays[f"bins_{position}"],
        )
    return KernelData(
        arrays["gram"],
        arrays["y"],
        arrays["groups"].astype(str),
        int(arrays["n_features"]),
        units,
    )


def learning_curve_predictions(
    data: KernelData,
    fold_components: dict,
    n_train_sessions: int,
    n_repeats: int,
    seed: int,
) -> dict:
    """Predict each session's units from random subsets of the other sessions.

    For every repeat and every held-out session, ``n_train_sessions`` of the
    other sessions are drawn (:func:`learning_curve_draws`) and a model with
    the number of components the nested cross-validation chose for that
    held-out session is fitted on them, in the dual: a fit is an
    eigendecomposition of the drawn samples' Gram matrix, shared by every
    held-out session that drew the same sessions, and a prediction is a
    kernel row times dual coefficients. A unit's prediction equals the mean
    of its volumes' predictions.

    Parameters
    ----------
    data : KernelData
        From :func:`kernel_data`.
    fold_components : dict
        Held-out session to its number of components (the folds table).
    n_train_sessions : int
        Training-set size, from 1 to the number of sessions minus 2.
    n_repeats : int
        Random draws per held-out session.
    seed : int
        Seed of the draws.

    Returns
    -------
    dict
        ``(repeat, test_session)`` to the predictions of the session's units
        (rows as in ``data.units[test_session].rows``), or None when the
        drawn sessions hold fewer than three training samples.
    """
    sessions = sorted(data.units, key=natural_key)
    draws = learning_curve_draws(sessions, n_train_sessions, n_repeats, seed)
    predictions, eigen = {}, None
    # Sorting by training set puts draws that share a decomposition together.
    for repeat, test_session, chosen in sorted(draws, key=lambda draw: draw[2]):
        train = np.flatnonzero(np.isin(data.groups, chosen))
        if train.size < MIN_TRAINING_SAMPLES:
            predictions[repeat, test_session] = None
            continue
        if eigen is None or not np.array_equal(eigen.train, train):
            eigen = gram_eigen(data.gram, train, data.n_features)
        model = eigen_dual_fit(eigen, data.y, int(fold_components[test_session]))
        cross = data.units[test_session].kernel[:, train]
        predictions[repeat, test_session] = dual_predict(model, cross)
    return {draw[:2]: predictions[draw[:2]] for draw in draws}


def draw_scores(data: KernelData, predictions: dict, scales: list[str]) -> pd.DataFrame:
    """Correlation within each held-out session of every draw's predictions.

    Parameters
    ----------
    data : KernelData
    predictions : dict
        From :func:`learning_curve_predictions`.
    scales : list of str
        Scales of the table.

    Returns
    -------
    pandas.DataFrame
        ``repeat, test_session, scale, r``: the correlation between predicted
        and rated pain over the held-out session's units; NaN when the drawn
        sessions hold fewer than three training samples, or the session fewer
        than three units at that scale (always so for ``session``).
    """
    rows = []
    for (repeat, test_session), predicted in predictions.items():
        unit = data.units[test_session]
        for scale in scales:
            r = float("nan")
            rows_of_scale = unit.rows.get(scale, ())
            if predicted is not None and len(rows_of_scale) >= MIN_UNITS_FOR_R:
                r = pearson_r(predicted[rows_of_scale], unit.ratings[rows_of_scale])
            rows.append(
                {"repeat": repeat, "test_session": test_session, "scale": scale, "r": r}
            )
    return pd.DataFrame(rows)


def learning_curve_scores(
    data: KernelData,
    fold_components: dict,
    n_train_sessions: int,
    n_repeats: int,
    seed: int,
    scales: list[str],
) -> pd.DataFrame:
    """:func:`draw_scores` of :func:`learning_curve_predictions` (same arguments)."""
    predictions = learning_curve_predictions(
        data, fold_components, n_train_sessions, n_repeats, seed
    )
    return draw_scores(data, predictions, scales)


def scale_units_of_repeats(
    data: KernelData, predictions: dict, scale: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every session's units at a scale, and their predictions in every repeat.

    Parameters
    ----------
    data : KernelData
    predictions : dict
        From :func:`learning_curve_predictions`.
    scale : str

    Returns
    -------
    units : pandas.DataFrame
        ``session, run, bin, rating`` as :func:`painflow.analyses.metrics.scale_units`
        labels them (``run`` and ``bin`` empty where the scale is coarser).
    predicted : numpy.ndarray
        (units, repeats) predictions; NaN where a draw had too few samples.
    """
    repeats = sorted({repeat for repeat, _ in predictions})
    tables, columns = [], []
    for session in sorted(data.units):
        unit = data.units[session]
        rows = unit.rows[scale]
        tables.append(
            pd.DataFrame(
                {
                    "session": session,
                    "run": "" if scale == "session" else unit.runs[rows],
                    "bin": unit.bins[rows] if scale not in RUN_SCALES else "",
                    "rating": unit.ratings[rows],
                }
            )
        )
        columns.append(
            np.stack(
                [
                    np.full(len(rows), np.nan)
                    if predictions[repeat, session] is None
                    else predictions[repeat, session][rows]
                    for repeat in repeats
                ],
                axis=1,
            )
        )
    return pd.concat(tables, ignore_index=True), np.concatenate(columns)


def repeat_metrics(
    units: pd.DataFrame,
    predicted: np.ndarray,
    scale: str,
    n_resamples: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every metric averaged over repeats, with a shared hierarchical bootstrap.

    Parameters
    ----------
    units : pandas.DataFrame
        ``session, run, bin, rating``, one row per unit.
    predicted : numpy.ndarray
        (units, repeats) predictions of each repeat.
    scale : str
        The scale of the units.
    n_resamples : int
        Bootstrap resamples (0: intervals are NaN).
    rng : numpy.random.Generator
        Stream of the resamples.

    Returns
    -------
    pandas.DataFrame
        ``scale, metric, estimate, ci_low, ci_high``: the mean over repeats of
        each metric on all units, and the 95% percentile interval of that mean
        when every repeat is scored on the same resampled units.
    """
    units = units.reset_index(drop=True)
    index = nested_index(units)
    estimates = _mean_over_repeats(units, predicted, index[None], scale)
    block = max(1, MAX_DRAW_CELLS // index.size)
    boot = {metric: [] for metric in METRICS}
    for start in range(0, n_resamples, block):
        draws = hierarchical_draws(index, min(block, n_resamples - start), rng)
        for metric, values in _mean_over_repeats(
            units, predicted, draws, scale
        ).items():
            boot[metric].append(values)
    rows = []
    for metric in METRICS:
        samples = np.concatenate(boot[metric]) if n_resamples else np.array([])
        low, high = percentile_interval(samples)
        rows.append(
            {
                "scale": scale,
                "metric": metric,
                "estimate": float(estimates[metric][0]),
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def _mean_over_repeats(
    units: pd.DataFrame, predicted: np.ndarray, draws: np.ndarray, scale: str
) -> dict:
    """Metric name to (draws,) means over repeats, NaN repeats left out."""
    totals = {metric: np.zeros(len(draws)) for metric in METRICS}
    counts = {metric: np.zeros(len(draws)) for metric in METRICS}
    for column in predicted.T:
        values = draw_metrics(units.assign(predicted=column), draws, scale)
        for metric in METRICS:
            finite = np.isfinite(values[metric])
            totals[metric] += np.where(finite, values[metric], 0.0)
            counts[metric] += finite
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            metric: np.where(
                counts[metric] > 0, totals[metric] / counts[metric], np.nan
            )
            for metric in METRICS
        }


def size_metrics(
    data: KernelData,
    predictions: dict,
    n_train_sessions: int,
    scales: list[str],
    n_resamples: int,
    seed: int,
) -> pd.DataFrame:
    """The learning curve's metrics of one training size at every scale.

    Parameters
    ----------
    data : KernelData
    predictions : dict
        From :func:`learning_curve_predictions` for this size.
    n_train_sessions : int
        The training size (names the bootstrap's streams).
    scales : list of str
        Scales of the table, as in the main evaluation.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        The workflow's seed; each (size, scale) has its own stream
        ``step_rng(seed, "learning_curve_bootstrap", size, scale)``.

    Returns
    -------
    pandas.DataFrame
        ``SUMMARY_COLUMNS``.
    """
    tables = []
    for scale in scales:
        units, predicted = scale_units_of_repeats(data, predictions, scale)
        rng = step_rng(seed, "learning_curve_bootstrap", n_train_sessions, scale)
        tables.append(repeat_metrics(units, predicted, scale, n_resamples, rng))
    table = pd.concat(tables, ignore_index=True)
    table.insert(0, "n_train_sessions", n_train_sessions)
    return table.loc[:, list(SUMMARY_COLUMNS)]
