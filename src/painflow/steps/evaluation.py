"""Steps ``evaluate``, ``summarize_qc`` and ``describe_dataset``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from painflow import __version__
from painflow.fileio import read_json, read_tsv, write_json, write_tsv
from painflow.metrics import add_time_bins, metrics_table, scale_units
from painflow.plots import plot_roc, plot_scatter, plot_timecourses

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
)


def run_windows(qc_files: list[str], sessions: list, runs: list) -> pd.DataFrame:
    """Analysis window of every run, from the runs' QC sidecars."""
    rows = []
    for path, session, run in zip(qc_files, sessions, runs, strict=True):
        record = read_json(path)
        rows.append(
            {
                "session": str(session),
                "run": str(run),
                "window_start": record["window_start"],
                "window_stop": record["window_stop"],
            }
        )
    return pd.DataFrame(rows)


def evaluate(
    predictions: str,
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
    volumes = read_tsv(predictions, dtype={"session": str, "run": str, "fold": str})
    volumes = add_time_bins(volumes, run_windows(qc_files, sessions, runs), time_bins)
    write_tsv(metrics_out, metrics_table(volumes, scales, n_bootstrap, seed))
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


def qc_table(qc_files: list[str], sessions: list, runs: list, qc_out: str) -> None:
    """Gather the per-run QC records of a subject into one table.

    Parameters
    ----------
    qc_files : list of str
        QC sidecars of the subject's runs.
    sessions, runs : list
        Session (or cross-validation unit) and run label of each.
    qc_out : str
        Destination TSV.
    """
    rows = [
        {
            "session": session,
            "run": run,
            **{key: read_json(path)[key] for key in QC_COLUMNS},
        }
        for path, session, run in zip(qc_files, sessions, runs, strict=True)
    ]
    write_tsv(qc_out, pd.DataFrame(rows))


def describe_dataset(bids_dir: str, fmriprep_dir: str, description_out: str) -> None:
    """Write the BIDS-derivatives ``dataset_description.json`` of the outputs.

    Parameters
    ----------
    bids_dir, fmriprep_dir : str
        The source datasets.
    description_out : str
        Destination.
    """
    write_json(
        description_out,
        {
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
        },
    )
