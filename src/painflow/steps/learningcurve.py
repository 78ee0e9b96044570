"""Steps ``learning_curve_kernels``, ``learning_curve`` and its summary."""

from __future__ import annotations

import pandas as pd

from painflow.analyses.learningcurve import (
    LEARNING_CURVE_COLUMNS,
    SUMMARY_COLUMNS,
    draw_scores,
    kernel_arrays,
    kernel_data,
    kernel_data_from_arrays,
    learning_curve_predictions,
    size_metrics,
    training_sizes,
)
from painflow.core.fileio import read_npz, read_tsv, write_npz, write_tsv
from painflow.model.loading import load_subject_features
from painflow.report.plots import plot_learning_curve
from painflow.workflow.logs import log

SUMMARY_TYPES = {
    "scale": str,
    "metric": str,
    "estimate": float,
    "ci_low": float,
    "ci_high": float,
}


def learning_curve_kernels(
    features: list[str], units: dict, scales: list[str], kernels_out: str
) -> None:
    """Save a subject's Gram matrix and unit kernels, read by every training size.

    Parameters
    ----------
    features : list of str
        Feature files of every run of the subject (excluded runs are skipped).
    units : dict
        Name (file_key) of each feature file to its run's ``session`` (cross-validation
        unit) and ``run`` labels.
    scales : list of str
        Scales of the learning curve.
    kernels_out : str
        Destination ``.npz`` (:func:`painflow.analyses.learningcurve.kernel_arrays`).
    """
    loaded = load_subject_features(features, units)
    write_npz(kernels_out, **kernel_arrays(kernel_data(loaded, scales)))


def learning_curve(
    kernels: str,
    folds: str,
    n_train_sessions: int,
    n_repeats: int,
    n_bootstrap: int,
    seed: int,
    scales: list[str],
    table_out: str,
    summary_out: str,
) -> None:
    """Predictions of every held-out session for one training-set size, scored.

    Parameters
    ----------
    kernels : str
        Output of :func:`learning_curve_kernels`.
    folds : str
        The nested cross-validation's folds table (components per session).
    n_train_sessions, n_repeats : int
        Training-set size and draws per held-out session.
    n_bootstrap : int
        Resamples of the metrics' hierarchical bootstrap.
    seed : int
        The workflow's seed.
    scales : list of str
        Scales of the tables.
    table_out : str
        Destination of the within-session r of every draw
        (``LEARNING_CURVE_COLUMNS``).
    summary_out : str
        Destination of the size's metrics (``SUMMARY_COLUMNS``).
    """
    data = kernel_data_from_arrays(read_npz(kernels))
    n_usable = len(data.units)
    if n_train_sessions not in training_sizes(n_usable):
        # Runs left out by QC removed sessions since the jobs were planned.
        log.warning(
            "%d sessions with usable runs: no training size %d",
            n_usable,
            n_train_sessions,
        )
        write_tsv(table_out, pd.DataFrame(columns=list(LEARNING_CURVE_COLUMNS)))
        write_tsv(summary_out, pd.DataFrame(columns=list(SUMMARY_COLUMNS)))
        return
    choices = read_tsv(folds, dtype={"fold": str}).set_index("fold")["n_components"]
    predictions = learning_curve_predictions(
        data, choices.to_dict(), n_train_sessions, n_repeats, seed
    )
    table = draw_scores(data, predictions, scales)
    table.insert(0, "n_train_sessions", n_train_sessions)
    write_tsv(table_out, table.loc[:, list(LEARNING_CURVE_COLUMNS)])
    summary = size_metrics(
        data, predictions, n_train_sessions, scales, n_bootstrap, seed
    )
    write_tsv(summary_out, summary)


def summarize_learning_curve(
    tables: list[str],
    summaries: list[str],
    metrics: str,
    subject: str,
    table_out: str,
    summary_out: str,
    figure_out: str,
) -> None:
    """Gather a subject's training-set sizes into two tables and a figure.

    Parameters
    ----------
    tables, summaries : list of str
        Outputs of :func:`learning_curve`, by size.
    metrics : str
        The subject's main metrics table (reference lines of the figure).
    subject : str
        Subject label (figure title).
    table_out, summary_out, figure_out : str
        Destinations.
    """
    table = pd.concat(
        [read_tsv(path, dtype={"test_session": str, "r": float}) for path in tables],
        ignore_index=True,
    ).loc[:, list(LEARNING_CURVE_COLUMNS)]
    write_tsv(table_out, table)
    read = [read_tsv(path, dtype=SUMMARY_TYPES) for path in summaries]
    # Sizes that quality control left without enough sessions have no rows.
    filled = [table for table in read if not table.empty]
    summary = (
        pd.concat(filled, ignore_index=True)
        if filled
        else pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    ).loc[:, list(SUMMARY_COLUMNS)]
    write_tsv(summary_out, summary)
    plot_learning_curve(summary, read_tsv(metrics), f"sub-{subject}", figure_out)
