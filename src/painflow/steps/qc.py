"""Step ``summarize_qc``: a subject's per-run quality measures, table and figure."""

from __future__ import annotations

import pandas as pd

from painflow.core.bids import file_key
from painflow.core.fileio import read_json, read_npz_array, write_tsv
from painflow.report.plots import plot_qc
from painflow.signals.edges import low_binned_fraction
from painflow.workflow.logs import log

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


def summarize_qc(
    qc_files: list[str],
    feature_files: list[str],
    units: dict,
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
        The runs' edge features (their ``rating_bin_fraction``).
    units : dict
        Name (file_key) of each QC and feature file to its run's ``session``
        (cross-validation unit) and ``run`` labels, which pair them.
    subject : str
        Subject label (figure title).
    max_censored_fraction : float
        Config ``denoise.max_censored_fraction`` (drawn in the figure).
    min_binned_fraction : float
        Config ``features.min_binned_fraction`` (flag, warning and figure).
    qc_out, figure_out : str
        Destinations of the TSV and the PNG.
    """
    features_of = {run_key(units[file_key(path)]): path for path in feature_files}
    rows = []
    for qc in qc_files:
        labels = units[file_key(qc)]
        record = read_json(qc)
        features = features_of[run_key(labels)]
        fraction = float(read_npz_array(features, "rating_bin_fraction"))
        rows.append(
            {
                "session": labels["session"],
                "run": labels["run"],
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


def run_key(labels: dict) -> tuple:
    """A run's (session, run) labels, which pair its files."""
    return labels["session"], labels["run"]
