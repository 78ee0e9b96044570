"""Predicting a new session with a saved model, with prediction intervals.

A model file carries its out-of-sample errors (rating - predicted) per
volume and per time bin of one scale (:mod:`painflow.model.metadata`). A new
prediction's interval at level ``1 - alpha`` adds to it the split-conformal
quantiles of those errors: if the new session's errors are exchangeable with
them, the rating lies inside with probability at least ``1 - alpha``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from painflow import __version__
from painflow.analyses.metrics import METRICS, add_time_bins, scale_units
from painflow.analyses.windows import scale_estimates
from painflow.model.crossval import (
    FittedModel,
    RunFeatures,
    predict_runs,
    with_run_entities,
)
from painflow.model.metadata import atlas_checksums, metadata_arrays

VOLUME_SCALE = "volume"
# Point metrics a model's record carries for each scale.
RECORDED_METRICS = ("r", "r2", "mae")
PREDICT_COLUMNS = (
    "session",
    "run",
    "volume",
    "time",
    "predicted",
    "pi_low",
    "pi_high",
    "rating",
)
TIMEBIN_COLUMNS = tuple("bin" if c == "volume" else c for c in PREDICT_COLUMNS)
SESSION_METRIC_COLUMNS = ("scale", "metric", "estimate")


def out_of_sample_errors(
    predictions: pd.DataFrame, windows: pd.DataFrame, time_bins: dict, scale: str
) -> dict:
    """Errors (rating - predicted) of out-of-sample predictions per volume and bin.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Per-volume out-of-sample predictions (``PREDICTION_COLUMNS``).
    windows : pandas.DataFrame
        :func:`painflow.analyses.windows.run_windows` of their runs.
    time_bins : dict
        Config ``features.time_bins``.
    scale : str
        The time-bin scale of the second set of errors.

    Returns
    -------
    dict
        ``volume`` and ``scale`` to their error arrays.
    """
    if scale not in time_bins:
        raise ValueError(
            f"config predict.scale is {scale!r}, not a time-bin scale of "
            f"features.time_bins {sorted(time_bins)}"
        )
    volumes = add_time_bins(predictions, windows, {scale: time_bins[scale]})
    units = scale_units(volumes, scale)
    return {
        VOLUME_SCALE: (volumes["rating"] - volumes["predicted"]).to_numpy(float),
        scale: (units["rating"] - units["predicted"]).to_numpy(float),
    }


def model_metadata(
    subject: str,
    settings: dict,
    atlas_files: dict,
    predictions: pd.DataFrame,
    windows: pd.DataFrame,
    training_sessions: list[str],
    source: str,
) -> dict:
    """The record and error arrays a model file carries.

    Parameters
    ----------
    subject : str
        Whose model it is.
    settings : dict
        :func:`painflow.workflow.predict.model_settings` of the config: task,
        ``bold_filters``, rating column, space, denoise, alignment and
        features sections, evaluation scales, the interval's ``predict``
        section and the atlas's name and file locations (relative to the
        output folder).
    atlas_files : dict
        The atlas's ``image``, ``labels`` and ``subcortex`` files (None:
        none), whose checksums are recorded.
    predictions : pandas.DataFrame
        The model's out-of-sample per-volume predictions.
    windows : pandas.DataFrame
        Analysis windows of the training runs (their TRs give the range).
    training_sessions : list of str
        The sessions the model was trained on.
    source : str
        Where the out-of-sample predictions come from (for the record).

    Returns
    -------
    dict
        Arrays for the model's ``.npz``
        (:func:`painflow.model.metadata.metadata_arrays`).
    """
    time_bins = settings["features"]["time_bins"]
    estimates = scale_estimates(
        predictions, windows, time_bins, settings["scales"], RECORDED_METRICS
    )
    record = {
        "subject": str(subject),
        "atlas": {**settings["atlas"], **atlas_checksums(atlas_files)},
        "space": settings["space"],
        "task": settings["task"],
        # The acquisitions the model was trained on, which it scores.
        "bold_filters": settings["bold_filters"],
        "rating_column": settings["rating_column"],
        "rating_recording": settings["rating_recording"],
        "tr_range": [float(windows["tr"].min()), float(windows["tr"].max())],
        "alignment": settings["alignment"],
        "denoise": settings["denoise"],
        "features": settings["features"],
        "training_sessions": [str(session) for session in training_sessions],
        "metrics": {
            "source": source,
            "scales": estimates.set_index("scale").to_dict(orient="index"),
        },
        "errors": {"source": source, "level": settings["predict"]["level"]},
        "painflow_version": __version__,
    }
    errors = out_of_sample_errors(
        predictions, windows, time_bins, settings["predict"]["scale"]
    )
    return metadata_arrays(record, errors)


def interval_offsets(errors: np.ndarray, level: float) -> tuple[float, float]:
    """Split-conformal offsets of a prediction interval from out-of-sample errors.

    With ``n`` errors and ``alpha = 1 - level``, the offsets are the
    ``floor((n + 1) alpha / 2)``-th smallest and the
    ``ceil((n + 1) (1 - alpha / 2))``-th smallest error (clipped to the
    smallest and largest), so that ``predicted + offsets`` covers a new rating
    with probability at least ``level`` when errors are exchangeable.

    Parameters
    ----------
    errors : numpy.ndarray
        Out-of-sample errors (rating - predicted); NaN ignored.
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    low, high : float
    """
    if not 0 < level < 1:
        raise ValueError(f"an interval's level must be in (0, 1), got {level}")
    ordered = np.sort(np.asarray(errors, float)[~np.isnan(errors)])
    n = ordered.size
    if n == 0:
        raise ValueError("no out-of-sample errors to build an interval from")
    alpha = 1 - level
    lower = min(max(math.floor((n + 1) * alpha / 2), 1), n)
    upper = min(max(math.ceil((n + 1) * (1 - alpha / 2)), 1), n)
    return float(ordered[lower - 1]), float(ordered[upper - 1])


def predicted_tables(
    runs: list[RunFeatures],
    model: FittedModel,
    windows: pd.DataFrame,
    record: dict,
    level: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-volume and per-time-bin predictions of runs, with intervals.

    Parameters
    ----------
    runs : list of RunFeatures
        The included runs to predict.
    model : FittedModel
    windows : pandas.DataFrame
        :func:`painflow.analyses.windows.run_windows` of the runs.
    record : dict
        The model's record (:func:`painflow.model.metadata.read_model`).
    level : float
        Coverage of the intervals.

    Returns
    -------
    volumes : pandas.DataFrame
        ``PREDICT_COLUMNS``, one row per retained volume.
    bins : pandas.DataFrame
        ``TIMEBIN_COLUMNS``, one row per time bin of the record's scale
        (``time``: mean time of its volumes).
    """
    if not runs:
        return (
            pd.DataFrame(columns=list(PREDICT_COLUMNS)),
            pd.DataFrame(columns=list(TIMEBIN_COLUMNS)),
        )
    errors = record["errors_by_scale"]
    scale = next(name for name in errors if name != VOLUME_SCALE)
    predictions = predict_runs(runs, model, "predict")
    volumes = _with_interval(predictions, errors[VOLUME_SCALE], level)
    binned = add_time_bins(
        predictions, windows, {scale: record["features"]["time_bins"][scale]}
    )
    units = scale_units(binned, scale, ("time", "predicted", "rating"))
    bins = _with_interval(units, errors[scale], level)
    return (
        with_run_entities(volumes.loc[:, list(PREDICT_COLUMNS)]),
        with_run_entities(bins.loc[:, list(TIMEBIN_COLUMNS)]),
    )


def _with_interval(table: pd.DataFrame, errors: np.ndarray, level: float):
    """A copy of ``table`` with ``pi_low`` and ``pi_high`` around ``predicted``."""
    low, high = interval_offsets(errors, level)
    return table.assign(
        pi_low=table["predicted"] + low, pi_high=table["predicted"] + high
    )


def has_ratings(volumes: pd.DataFrame) -> bool:
    """Whether the predicted volumes have ratings to score them against."""
    return bool(len(volumes)) and bool(volumes["rating"].notna().all())


def session_metrics(
    volumes: pd.DataFrame, windows: pd.DataFrame, time_bins: dict, scales: list[str]
) -> pd.DataFrame:
    """Point estimates of every metric of a predicted session at every scale.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run, volume, rating, predicted``.
    windows : pandas.DataFrame
        The runs' analysis windows.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales to evaluate.

    Returns
    -------
    pandas.DataFrame
        ``SESSION_METRIC_COLUMNS``; metrics a single session cannot give
        (e.g. r across sessions) are NaN.
    """
    wide = scale_estimates(volumes, windows, time_bins, scales, METRICS)
    long = wide.melt(id_vars="scale", var_name="metric", value_name="estimate")
    order = {metric: position for position, metric in enumerate(METRICS)}
    long["position"] = long["metric"].map(order)
    long["scale_position"] = long["scale"].map(scales.index)
    long = long.sort_values(["scale_position", "position"], kind="stable")
    return long.loc[:, list(SESSION_METRIC_COLUMNS)].reset_index(drop=True)
