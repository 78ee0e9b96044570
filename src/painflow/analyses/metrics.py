"""Accuracy at every time scale, with hierarchical-bootstrap uncertainty.

Units of a scale are nested: sessions hold runs, runs hold time bins. A
resample draws sessions with replacement, then runs within each drawn
session, then bins within each drawn run. The point estimate is the same
computation on the identity draw, so estimate and bootstrap share one code
path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from painflow.core.stats import pearson_r, percentile_interval
from painflow.core.streams import step_rng
from painflow.signals.edges import time_bins

METRICS = ("r", "r2", "mae", "auc", "within_run_r", "within_session_r")
METRIC_COLUMNS = ("scale", "metric", "estimate", "ci_low", "ci_high", "p_value")
# Value of each metric under no relation between predictions and ratings.
NULL_VALUES = {
    "r": 0.0,
    "r2": 0.0,
    "auc": 0.5,
    "within_run_r": 0.0,
    "within_session_r": 0.0,
}
# Fewest units for a correlation: with two, r is always +-1.
MIN_UNITS_FOR_R = 3
RUN_SCALES = {"run": ("session", "run"), "session": ("session",)}
# Name of the bootstrap's random streams (painflow.core.streams), one per scale.
BOOTSTRAP_STREAM = "bootstrap"


def add_time_bins(
    volumes: pd.DataFrame, windows: pd.DataFrame, bin_seconds: dict
) -> pd.DataFrame:
    """Add a ``bin_<scale>`` column per time scale to per-volume predictions.

    The bins are those of :func:`painflow.signals.edges.time_bins`, the same as the
    time-bin features of the run.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume rows with ``session``, ``run`` and ``volume``.
    windows : pandas.DataFrame
        One row per run: ``session``, ``run``, ``window_start``,
        ``window_stop`` and ``tr`` (repetition time, s).
    bin_seconds : dict
        Scale name to the length of its bins in seconds (config
        ``features.time_bins``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``volumes`` with the bin columns.
    """
    merged = volumes.merge(windows, on=["session", "run"], how="left", validate="m:1")
    if merged["window_start"].isna().any():
        raise ValueError("predictions hold runs that have no analysis window")
    positions = (merged["volume"] - merged["window_start"]).to_numpy()
    length = (merged["window_stop"] - merged["window_start"]).to_numpy()
    tr = merged["tr"].to_numpy(float)
    result = volumes.copy()
    for scale, seconds in bin_seconds.items():
        result[f"bin_{scale}"] = time_bins(positions, length, tr, seconds)
    return result


def scale_units(
    volumes: pd.DataFrame, scale: str, values: tuple = ("rating", "predicted")
) -> pd.DataFrame:
    """Average ratings and predictions within the units of a scale.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run`` and ``values`` and, for time-bin scales,
        ``bin_<scale>``.
    scale : str
        ``run``, ``session`` or a time-bin scale name.
    values : tuple of str
        The columns averaged (by default ``rating`` and ``predicted``).

    Returns
    -------
    pandas.DataFrame
        ``session, run, bin`` and ``values``, one row per unit (``run`` and
        ``bin`` are empty strings where the scale is coarser).
    """
    keys = list(RUN_SCALES.get(scale, ("session", "run", f"bin_{scale}")))
    units = volumes.groupby(keys, sort=True)[list(values)].mean().reset_index()
    units = units.rename(columns={f"bin_{scale}": "bin"})
    for level in ("run", "bin"):
        if level not in units:
            units[level] = ""
    return units.loc[:, ["session", "run", "bin", *values]]


def nested_index(units: pd.DataFrame) -> np.ndarray:
    """Padded (sessions, runs, bins) array of unit row numbers, -1 where absent."""
    sessions = [group for _, group in units.groupby("session", sort=True)]
    runs = [[rows for _, rows in group.groupby("run", sort=True)] for group in sessions]
    n_runs = max(len(session) for session in runs)
    n_bins = max(len(rows) for session in runs for rows in session)
    index = np.full((len(sessions), n_runs, n_bins), -1, dtype=np.int64)
    for s, session in enumerate(runs):
        for r, rows in enumerate(session):
            index[s, r, : len(rows)] = units.index.get_indexer(rows.index)
    return index


def hierarchical_draws(
    index: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw units hierarchically: sessions, runs within them, bins within those.

    The hierarchy is taken as it is, balanced or not: each resample draws as
    many sessions as there are, with replacement; each drawn session gets as
    many runs as it has, drawn with replacement from its own runs; each drawn
    run as many bins as it has, drawn with replacement from its own bins.
    Every drawn run's bins thus come from one run of the drawn session.

    Parameters
    ----------
    index : numpy.ndarray
        From :func:`nested_index`.
    n_resamples : int
        Number of resamples; 0 gives the identity draw (no resampling).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (resamples, sessions, runs, bins) unit row numbers, -1 where absent.
    """
    n_sessions, n_runs, n_bins = index.shape
    runs_in = (index[:, :, 0] >= 0).sum(axis=1)
    bins_in = (index >= 0).sum(axis=2)
    if n_resamples == 0:
        return index[None]
    session = rng.integers(0, n_sessions, size=(n_resamples, n_sessions))
    run = _draw_within(rng, runs_in[session], n_runs)
    run_ok = run >= 0
    run_safe = np.where(run_ok, run, 0)
    available = np.where(run_ok, bins_in[session[..., None], run_safe], 0)
    bin_ = _draw_within(rng, available, n_bins)
    draws = index[session[..., None, None], run_safe[..., None], np.maximum(bin_, 0)]
    return np.where(run_ok[..., None] & (bin_ >= 0), draws, -1)


def _draw_within(
    rng: np.random.Generator, counts: np.ndarray, width: int
) -> np.ndarray:
    """For each cell with ``counts`` members, draw that many positions with replacement.

    Returns an array with a trailing axis of ``width``: positions, -1 past the count.
    """
    uniform = rng.random(counts.shape + (width,))
    draws = np.floor(uniform * counts[..., None]).astype(np.int64)
    return np.where(np.arange(width) < counts[..., None], draws, -1)


def _masked_r(actual, predicted, mask, axes):
    """Pearson r over ``axes`` of masked arrays; NaN with too few units."""
    r = pearson_r(actual, predicted, axis=axes, mask=mask)
    return np.where(mask.sum(axis=axes) >= MIN_UNITS_FOR_R, r, np.nan)


def _auc(predicted, positive, mask):
    """Area under the ROC curve per resample (rows), ties counted half."""
    flat_p = np.where(mask, predicted, np.inf).reshape(len(predicted), -1)
    flat_pos = (positive & mask).reshape(len(predicted), -1)
    flat_neg = (~positive & mask).reshape(len(predicted), -1)
    ranks = rankdata(flat_p, axis=1)
    n_pos, n_neg = flat_pos.sum(axis=1), flat_neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * flat_pos).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (
            n_pos * n_neg
        )
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def draw_metrics(units: pd.DataFrame, draws: np.ndarray, scale: str) -> dict:
    """Every metric for each draw.

    Parameters
    ----------
    units : pandas.DataFrame
        From :func:`scale_units`.
    draws : numpy.ndarray
        From :func:`hierarchical_draws`.
    scale : str
        The scale (decides which within-unit correlations exist).

    Returns
    -------
    dict
        Metric name to (draws,) values.
    """
    actual_units = units["rating"].to_numpy(float)
    predicted_units = units["predicted"].to_numpy(float)
    high_units = actual_units > np.median(actual_units)
    mask = draws >= 0
    safe = np.maximum(draws, 0)
    actual, predicted = actual_units[safe], predicted_units[safe]
    axes = (1, 2, 3)
    count = mask.sum(axis=axes)
    residual = (actual - predicted) * mask
    mean_actual = (actual * mask).sum(axis=axes, keepdims=True) / count[
        :, None, None, None
    ]
    total_ss = (((actual - mean_actual) * mask) ** 2).sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Undefined (NaN, left out of the intervals) when a resample repeats
        # one rating only, e.g. one session drawn every time.
        r2 = np.where(total_ss > 0, 1 - (residual**2).sum(axis=axes) / total_ss, np.nan)
    values = {
        "r": _masked_r(actual, predicted, mask, axes),
        "r2": r2,
        "mae": np.abs(residual).sum(axis=axes) / count,
        "auc": _auc(predicted, high_units[safe], mask),
        "within_run_r": np.full(len(draws), np.nan),
        "within_session_r": np.full(len(draws), np.nan),
    }
    with np.errstate(invalid="ignore"):
        if scale not in RUN_SCALES:
            values["within_run_r"] = nanmean_rows(_masked_r(actual, predicted, mask, 3))
        if scale != "session":
            values["within_session_r"] = nanmean_rows(
                _masked_r(actual, predicted, mask, (2, 3))
            )
    return values


def nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean over every axis but the first, ignoring NaN (NaN when all are)."""
    flat = values.reshape(len(values), -1)
    valid = ~np.isnan(flat)
    total = np.where(valid, flat, 0).sum(axis=1)
    count = valid.sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def bootstrap_p_value(samples: np.ndarray, null: float) -> float:
    """Two-sided bootstrap p-value of the null value, never exactly 0."""
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return float("nan")
    below = (np.sum(samples <= null) + 1) / (samples.size + 1)
    above = (np.sum(samples >= null) + 1) / (samples.size + 1)
    return float(min(1.0, 2 * min(below, above)))


def scale_metrics(
    units: pd.DataFrame, scale: str, n_resamples: int, rng
) -> pd.DataFrame:
    """Estimates, 95% percentile intervals and p-values of every metric at a scale."""
    units = units.reset_index(drop=True)
    index = nested_index(units)
    estimates = draw_metrics(units, hierarchical_draws(index, 0, rng), scale)
    boot = draw_metrics(units, hierarchical_draws(index, n_resamples, rng), scale)
    return metric_rows(estimates, boot, scale)


def metric_rows(
    estimates: dict, boot: dict, scale: str, nulls: dict = NULL_VALUES
) -> pd.DataFrame:
    """One row per metric: estimate, 95% percentile interval and bootstrap p.

    Parameters
    ----------
    estimates, boot : dict
        Metric name to its value on the identity draw (a one-element array)
        and to its bootstrap values, as :func:`draw_metrics` returns them.
    scale : str
        The scale of the rows.
    nulls : dict
        Metric name to its value under the null; metrics without one get no p.

    Returns
    -------
    pandas.DataFrame
        Columns ``METRIC_COLUMNS``.
    """
    rows = []
    for metric in METRICS:
        samples = boot[metric]
        low, high = percentile_interval(samples)
        null = nulls.get(metric)
        rows.append(
            {
                "scale": scale,
                "metric": metric,
                "estimate": float(estimates[metric][0]),
                "ci_low": low,
                "ci_high": high,
                "p_value": bootstrap_p_value(samples, null)
                if null is not None
                else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def metrics_table(
    volumes: pd.DataFrame, scales: list[str], n_resamples: int, seed: int
) -> pd.DataFrame:
    """Metrics at every scale, with hierarchical-bootstrap intervals.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume predictions with ``bin_<scale>`` columns for time-bin scales.
    scales : list of str
        Scales to evaluate, e.g. ``["1min", "2min", "run", "session"]``.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling. Each scale draws from its own named stream
        (``BOOTSTRAP_STREAM`` and the scale's name), so adding, removing or
        reordering scales leaves the others' resamples as they were, and two
        tables of the same units (the brain model and the motion control)
        share their resamples.

    Returns
    -------
    pandas.DataFrame
        Columns ``METRIC_COLUMNS``.
    """
    tables = [
        scale_metrics(
            scale_units(volumes, scale),
            scale,
            n_resamples,
            step_rng(seed, BOOTSTRAP_STREAM, scale),
        )
        for scale in scales
    ]
    return pd.concat(tables, ignore_index=True).loc[:, list(METRIC_COLUMNS)]


def point_metrics(
    volumes: pd.DataFrame, scales: list[str], metrics: tuple
) -> pd.DataFrame:
    """Point estimates of some metrics at every scale, without resampling.

    Parameters
    ----------
    volumes : pandas.DataFrame
        As for :func:`metrics_table`.
    scales : list of str
        Scales to evaluate.
    metrics : tuple of str
        Names among ``METRICS``.

    Returns
    -------
    pandas.DataFrame
        Column ``scale`` and one column per metric.
    """
    rows = []
    for scale in scales:
        units = scale_units(volumes, scale).reset_index(drop=True)
        values = draw_metrics(units, nested_index(units)[None], scale)
        rows.append(
            {"scale": scale, **{name: float(values[name][0]) for name in metrics}}
        )
    return pd.DataFrame(rows)


def paired_metrics_table(
    volumes_by_model: dict,
    reference: str,
    scales: list[str],
    n_resamples: int,
    seed: int,
) -> pd.DataFrame:
    """Metrics of several models' predictions of the same volumes, and differences.

    Every model is scored on the same resamples of the same units: the draws
    of a scale come from its stream (``BOOTSTRAP_STREAM`` and the scale's
    name), as in :func:`metrics_table`, so each model's rows are those
    :func:`metrics_table` gives it alone. A difference ``<model>-<reference>``
    is computed draw by draw; its p-value is that of no difference.

    Parameters
    ----------
    volumes_by_model : dict
        Model name to its per-volume predictions (``session, run, rating,
        predicted`` and ``bin_<scale>`` columns), all of the same volumes.
    reference : str
        The model every other one is compared with.
    scales : list of str
        Scales to evaluate.
    n_resamples, seed : int
        Bootstrap resamples and seed.

    Returns
    -------
    pandas.DataFrame
        ``model`` and ``METRIC_COLUMNS``: each model's rows, then each
        difference's.

    Raises
    ------
    ValueError
        When the models' units or ratings differ.
    """
    no_difference = dict.fromkeys(METRICS, 0.0)
    tables = []
    for scale in scales:
        units = {name: scale_units(v, scale) for name, v in volumes_by_model.items()}
        _check_same_units(units, reference, scale)
        index = nested_index(units[reference])
        rng = step_rng(seed, BOOTSTRAP_STREAM, scale)
        identity = hierarchical_draws(index, 0, rng)
        draws = hierarchical_draws(index, n_resamples, rng)
        estimates = {
            name: draw_metrics(u, identity, scale) for name, u in units.items()
        }
        boot = {name: draw_metrics(u, draws, scale) for name, u in units.items()}
        for name in units:
            tables.append(
                metric_rows(estimates[name], boot[name], scale).assign(model=name)
            )
        for name in (name for name in units if name != reference):
            tables.append(
                metric_rows(
                    _difference(estimates[name], estimates[reference]),
                    _difference(boot[name], boot[reference]),
                    scale,
                    no_difference,
                ).assign(model=f"{name}-{reference}")
            )
    table = pd.concat(tables, ignore_index=True)
    order = {name: rank for rank, name in enumerate(dict.fromkeys(table["model"]))}
    table = table.sort_values("model", key=lambda c: c.map(order), kind="stable")
    return table.loc[:, ["model", *METRIC_COLUMNS]].reset_index(drop=True)


def _difference(values: dict, reference: dict) -> dict:
    """Metric by metric, draw by draw: ``values`` minus ``reference``."""
    return {metric: values[metric] - reference[metric] for metric in METRICS}


def _check_same_units(units: dict, reference: str, scale: str) -> None:
    """Raise unless every model has the reference's units and ratings."""
    keys = ["session", "run", "bin", "rating"]
    expected = units[reference].loc[:, keys]
    for name, table in units.items():
        if not table.loc[:, keys].equals(expected):
            raise ValueError(
                f"the predictions of {name} and {reference} cover different "
                f"{scale} units or ratings: a paired comparison needs the same volumes"
            )
