"""Steps ``cross_subject`` and ``summarize_cross_subject``: models across people."""

from __future__ import annotations

import pandas as pd

from painflow.analyses.windows import run_windows, scale_estimates
from painflow.core.bids import file_key
from painflow.core.fileio import read_npz, read_tsv, write_tsv
from painflow.model.crossval import model_from_arrays, predict_runs
from painflow.model.loading import check_same_atlas, load_subject_features
from painflow.report.plots import plot_cross_subject

CROSS_SUBJECT_COLUMNS = ("train_subject", "test_subject", "scale", "r", "auc")


def cross_subject(
    model: str,
    features: list[str],
    qc_files: list[str],
    units: dict,
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
    qc_files : list of str
        The test subject's QC sidecars (analysis windows).
    units : dict
        Name (file_key) of each feature and QC file to its run's ``session``
        (cross-validation unit) and ``run`` labels.
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
    loaded = load_subject_features(features, units)
    regions = loaded[0].arrays["region_names"]
    check_same_atlas(weights["region_names"], model, regions, features[0])
    fitted = model_from_arrays(weights)
    predictions = predict_runs(loaded, fitted, fold=f"sub-{train_subject}")
    windows = run_windows(qc_files, units)
    table = scale_estimates(predictions, windows, time_bins, scales, ("r", "auc"))
    table.insert(0, "test_subject", test_subject)
    table.insert(0, "train_subject", train_subject)
    write_tsv(table_out, table)


def summarize_cross_subject(
    pair_tables: list[str],
    metrics_files: list[str],
    subjects: dict,
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
    subjects : dict
        File name of each metrics table to its subject.
    table_out, figure_out : str
        Destinations of the group table and its figure.
    """
    tables = [
        read_tsv(path, dtype={"train_subject": str, "test_subject": str})
        for path in pair_tables
    ]
    for path in metrics_files:
        subject = subjects[file_key(path)]
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
