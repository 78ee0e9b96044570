"""Runs' analysis windows, and point metrics of predictions at every scale."""

from __future__ import annotations

import pandas as pd

from painflow.analyses.metrics import add_time_bins, point_metrics
from painflow.core.bids import file_key
from painflow.core.fileio import read_tsv
from painflow.signals.qc import read_run_qc


def run_windows(qc_files: list[str], units: dict) -> pd.DataFrame:
    """Analysis window and repetition time of every run, from its QC sidecar.

    Parameters
    ----------
    qc_files : list of str
        The runs' QC sidecars.
    units : dict
        File name (:func:`painflow.core.bids.file_key`) to the run's labels:
        ``session`` (its cross-validation unit)
        and ``run``; holds every path of ``qc_files``.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``session, run, window_start, window_stop, tr``.
    """
    fields = {
        "window_start": "window_start",
        "window_stop": "window_stop",
        "tr": "RepetitionTime",
    }
    return run_qc_table(qc_files, units, fields)


def run_qc_table(qc_files: list[str], units: dict, fields: dict) -> pd.DataFrame:
    """Some fields of every run's QC sidecar, beside the run's labels.

    Parameters
    ----------
    qc_files : list of str
        The runs' QC sidecars.
    units : dict
        As for :func:`run_windows`.
    fields : dict
        Column of the table to the sidecar's key it is read from.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``session, run`` and the ``fields``' columns.
    """
    rows = []
    for path in qc_files:
        record = read_run_qc(path)
        labels = units[file_key(path)]
        rows.append(
            {
                "session": str(labels["session"]),
                "run": str(labels["run"]),
                **{column: record[key] for column, key in fields.items()},
            }
        )
    return pd.DataFrame(rows, columns=["session", "run", *fields])


def read_predictions(path: str, windows: pd.DataFrame, time_bins: dict) -> pd.DataFrame:
    """Read per-volume predictions and add their time-bin columns.

    Parameters
    ----------
    path : str
        A predictions table (``PREDICTION_COLUMNS``).
    windows : pandas.DataFrame
        From :func:`run_windows`.
    time_bins : dict
        Config ``features.time_bins``.

    Returns
    -------
    pandas.DataFrame
    """
    volumes = read_tsv(path, dtype={"session": str, "run": str, "fold": str})
    return add_time_bins(volumes, windows, time_bins)


def scale_estimates(
    predictions: pd.DataFrame,
    windows: pd.DataFrame,
    time_bins: dict,
    scales: list[str],
    metrics: tuple,
) -> pd.DataFrame:
    """Point estimates of metrics at every scale for per-volume predictions.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Per-volume predictions (``PREDICTION_COLUMNS``).
    windows : pandas.DataFrame
        From :func:`run_windows`.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales to evaluate.
    metrics : tuple of str
        Metric names.

    Returns
    -------
    pandas.DataFrame
        Column ``scale`` and one column per metric.
    """
    volumes = add_time_bins(predictions, windows, time_bins)
    return point_metrics(volumes, scales, metrics)
