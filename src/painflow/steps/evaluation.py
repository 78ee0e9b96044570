"""Steps ``evaluate``, ``cross_subject``, ``summarize_qc`` and ``describe_dataset``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from painflow import __version__
from painflow.analyses.metrics import (
    add_time_bins,
    metrics_table,
    point_metrics,
    scale_units,
)
from painflow.core.fileio import (
    read_json,
    read_npz,
    read_npz_array,
    read_tsv,
    write_json,
    write_tsv,
)
from painflow.inputs.dataset import (
    ORDER_ASSUMED,
    SCAN_ORDER_COLUMNS,
    assumed_order_warning,
    sessions_table_path,
)
from painflow.inputs.fmriprep import DOCKER_IMAGE, FMRIPREP_VERSION
from painflow.model.crossval import model_from_arrays, predict_runs
from painflow.report.plots import (
    plot_cross_subject,
    plot_qc,
    plot_roc,
    plot_scatter,
    plot_timecourses,
)
from painflow.signals.edges import low_binned_fraction
from painflow.steps.decoding import load_subject_features
from painflow.steps.features import read_run_qc
from painflow.steps.logs import log

MOTION_PREFIX = "motion_"
QC_COLUMNS = (
    "n_volumes",
    "n_censored",
    "fraction_censored",
    "mean_fd",
    "rating_min",
    "rating_max",
    "rating_mean",
    "rating_sd",
    "included",
    "reason",
    "n_non_steady_state",
    "n_compcor_wm",
    "n_compcor_csf",
    "n_std_dvars_above_1_5",
)


def run_windows(qc_files: list[str], sessions: list, runs: list) -> pd.DataFrame:
    """Analysis window and repetition time of every run, from its QC sidecar."""
    rows = []
    for path, session, run in zip(qc_files, sessions, runs, strict=True):
        record = read_run_qc(path)
        rows.append(
            {
                "session": str(session),
                "run": str(run),
                "window_start": record["window_start"],
                "window_stop": record["window_stop"],
                "tr": record["RepetitionTime"],
            }
        )
    return pd.DataFrame(rows)


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


def read_predictions(path: str, windows: pd.DataFrame, time_bins: dict) -> pd.DataFrame:
    """Read per-volume predictions and add their time-bin columns."""
    volumes = read_tsv(path, dtype={"session": str, "run": str, "fold": str})
    return add_time_bins(volumes, windows, time_bins)


def evaluate(
    predictions: str,
    motion_predictions: str,
    qc_files: list[str],
    sessions: list,
    runs: list,
    subject: str,
    time_bins: dict,
    scales: list[str],
    n_bootstrap: int,
    seed: int,
    metrics_out: str,
    figures_out: dict,
) -> None:
    """Metrics at every scale with bootstrap intervals, and the subject's figures.

    Parameters
    ----------
    predictions : str
        Per-volume predictions of the subject.
    motion_predictions : str
        Per-volume predictions of the motion control; its metrics are added
        with names prefixed ``motion_``.
    qc_files : list of str
        QC sidecars of the subject's runs (analysis windows).
    sessions, runs : list
        Cross-validation unit and run label of each QC file.
    subject : str
        Subject label.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the metrics.
    n_bootstrap, seed : int
        Bootstrap resamples and seed.
    metrics_out : str
        Destination of the metrics table.
    figures_out : dict
        Destinations of the ``timecourse``, ``scatter`` and ``roc`` figures.
    """
    windows = run_windows(qc_files, sessions, runs)
    volumes = read_predictions(predictions, windows, time_bins)
    motion = read_predictions(motion_predictions, windows, time_bins)
    table = metrics_table(volumes, scales, n_bootstrap, seed)
    # The same seed gives the motion control the same resamples.
    control = metrics_table(motion, scales, n_bootstrap, seed)
    control["metric"] = MOTION_PREFIX + control["metric"]
    write_tsv(metrics_out, pd.concat([table, control], ignore_index=True))
    units = {scale: scale_units(volumes, scale) for scale in scales}
    finest = next(iter(time_bins))
    title = f"sub-{subject}"
    plot_timecourses(
        scale_units(volumes, finest),
        f"{title}: {finest} bins",
        figures_out["timecourse"],
    )
    plot_scatter(units, title, figures_out["scatter"])
    plot_roc(units, title, figures_out["roc"])


CROSS_SUBJECT_COLUMNS = ("train_subject", "test_subject", "scale", "r", "auc")


def cross_subject(
    model: str,
    features: list[str],
    sessions: list,
    runs: list,
    qc_files: list[str],
    train_subject: str,
    test_subject: str,
    time_bins: dict,
    scales: list[str],
    table_out: str,
) -> None:
    """Apply one subject's all-sessions model to every run of another.

    Parameters
    ----------
    model : str
        The training subject's ``model.npz``.
    features : list of str
        The test subject's run features.
    sessions, runs : list
        Cross-validation unit and run label of each run.
    qc_files : list of str
        The test subject's QC sidecars (analysis windows).
    train_subject, test_subject : str
        Subject labels.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the table.
    table_out : str
        Destination TSV (``CROSS_SUBJECT_COLUMNS``).

    Raises
    ------
    ValueError
        When the model and the features come from different atlases.
    """
    weights = read_npz(model)
    loaded = load_subject_features(features, sessions, runs)
    regions = loaded[0].arrays["region_names"]
    if not np.array_equal(weights["region_names"], regions):
        raise ValueError(
            f"{model} was trained on {weights['region_names'].size} regions of "
            f"another atlas than the {regions.size} of {features[0]}: a model can "
            "only be applied to data parcellated with the same atlas"
        )
    fitted = model_from_arrays(weights)
    predictions = predict_runs(loaded, fitted, fold=f"sub-{train_subject}")
    windows = run_windows(qc_files, sessions, runs)
    table = scale_estimates(predictions, windows, time_bins, scales, ("r", "auc"))
    table.insert(0, "test_subject", test_subject)
    table.insert(0, "train_subject", train_subject)
    write_tsv(table_out, table)


def cross_subject_summary(
    pair_tables: list[str],
    metrics_files: list[str],
    subjects: list[str],
    table_out: str,
    figure_out: str,
) -> None:
    """Gather every ordered pair and the within-subject results in one table.

    Parameters
    ----------
    pair_tables : list of str
        Outputs of :func:`cross_subject`.
    metrics_files : list of str
        Each subject's metrics table (its cross-validated r and AUC form the
        diagonal).
    subjects : list of str
        Subject of each metrics table.
    table_out, figure_out : str
        Destinations of the group table and its figure.
    """
    tables = [
        read_tsv(path, dtype={"train_subject": str, "test_subject": str})
        for path in pair_tables
    ]
    for path, subject in zip(metrics_files, subjects, strict=True):
        metrics = read_tsv(path)
        wide = metrics.pivot(index="scale", columns="metric", values="estimate")
        own = wide.loc[
            list(dict.fromkeys(metrics["scale"])), ["r", "auc"]
        ].reset_index()
        own.insert(0, "test_subject", subject)
        own.insert(0, "train_subject", subject)
        tables.append(own)
    table = pd.concat(tables, ignore_index=True).loc[:, list(CROSS_SUBJECT_COLUMNS)]
    table = table.sort_values(["train_subject", "test_subject"], kind="stable")
    write_tsv(table_out, table.reset_index(drop=True))
    plot_cross_subject(table, figure_out)


def qc_table(
    qc_files: list[str],
    feature_files: list[str],
    sessions: list,
    runs: list,
    subject: str,
    max_censored_fraction: float,
    min_binned_fraction: float,
    qc_out: str,
    figure_out: str,
) -> None:
    """Gather the per-run QC records of a subject into one table and a figure.

    Runs whose share of kept volumes in rating bins is below
    ``min_binned_fraction`` are flagged (``low_binned``) and named in a
    logged warning.

    Parameters
    ----------
    qc_files : list of str
        QC sidecars of the subject's runs.
    feature_files : list of str
        The runs' edge features (their ``rating_bin_fraction``), in the same
        order.
    sessions, runs : list
        Session (or cross-validation unit) and run label of each.
    subject : str
        Subject label (figure title).
    max_censored_fraction : float
        Config ``denoise.max_censored_fraction`` (drawn in the figure).
    min_binned_fraction : float
        Config ``features.min_binned_fraction`` (flag, warning and figure).
    qc_out, figure_out : str
        Destinations of the TSV and the PNG.
    """
    rows = []
    for qc, features, session, run in zip(
        qc_files, feature_files, sessions, runs, strict=True
    ):
        record = read_json(qc)
        fraction = float(read_npz_array(features, "rating_bin_fraction"))
        rows.append(
            {
                "session": session,
                "run": run,
                **{key: record[key] for key in QC_COLUMNS},
                "fraction_binned": round(fraction, 6),
                "low_binned": low_binned_fraction(fraction, min_binned_fraction),
            }
        )
    table = pd.DataFrame(rows)
    _warn_low_binned(table, subject, min_binned_fraction)
    write_tsv(qc_out, table)
    plot_qc(
        table, f"sub-{subject}", max_censored_fraction, min_binned_fraction, figure_out
    )


def _warn_low_binned(table: pd.DataFrame, subject: str, floor: float) -> None:
    """Log a warning naming the runs with few volumes in rating bins."""
    low = table[table["low_binned"]]
    if low.empty:
        return
    runs = ", ".join(
        f"{session}/{run} ({fraction:.0%})"
        for session, run, fraction in zip(
            low["session"], low["run"], low["fraction_binned"], strict=True
        )
    )
    log.warning(
        "sub-%s: runs with less than %.0f%% of kept volumes in rating bins "
        "(features.min_binned_fraction): %s",
        subject,
        100 * floor,
        runs,
    )


def describe_dataset(
    bids_dir: str,
    fmriprep_dir: str,
    scan_order: list[dict],
    description_out: str,
    scan_order_out: str,
    fmriprep_run: dict | None = None,
) -> None:
    """Describe the outputs: ``dataset_description.json`` and the scan order.

    Parameters
    ----------
    bids_dir, fmriprep_dir : str
        The source datasets.
    scan_order : list of dict
        Rows of :func:`painflow.inputs.dataset.scan_order_table`; a subject whose
        order was assumed from its labels is warned about in the log.
    description_out, scan_order_out : str
        Destinations of the description and the scan-order table.
    fmriprep_run : dict or None
        The config's ``fmriprep`` section when painflow ran fMRIPrep, which
        then appears in ``GeneratedBy`` with its version and container.
    """
    description = {
        "Name": "painflow personalized pain decoding",
        "BIDSVersion": "1.10.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "painflow",
                "Version": __version__,
                "CodeURL": "https://github.com/painflow/painflow",
            }
        ],
        "SourceDatasets": [
            {"URL": Path(bids_dir).resolve().as_uri()},
            {"URL": Path(fmriprep_dir).resolve().as_uri()},
        ],
    }
    if fmriprep_run is not None:
        description["GeneratedBy"].append(fmriprep_generator(fmriprep_run))
    write_json(description_out, description)
    order = pd.DataFrame(scan_order, columns=list(SCAN_ORDER_COLUMNS))
    assumed = order.loc[order["order_source"] == ORDER_ASSUMED, "subject"]
    for subject in dict.fromkeys(assumed):
        log.warning(
            assumed_order_warning(subject, sessions_table_path(Path(bids_dir), subject))
        )
    write_tsv(scan_order_out, order)


def fmriprep_generator(fmriprep_run: dict) -> dict:
    """The ``GeneratedBy`` entry of an fMRIPrep run by painflow."""
    entry = {"Name": "fMRIPrep", "Version": FMRIPREP_VERSION}
    if fmriprep_run["engine"] == "docker":
        entry["Container"] = {"Type": "docker", "Tag": DOCKER_IMAGE}
    elif fmriprep_run["engine"] == "apptainer":
        uri = Path(fmriprep_run["image"]).resolve().as_uri()
        entry["Container"] = {"Type": "apptainer", "URI": uri}
    return entry
