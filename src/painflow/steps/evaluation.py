"""Step ``evaluate``: a subject's metrics at every scale, and its figures."""

from __future__ import annotations

import pandas as pd

from painflow.analyses.metrics import metrics_table, scale_units
from painflow.analyses.windows import read_predictions, run_windows
from painflow.core.fileio import write_tsv
from painflow.report.plots import plot_roc, plot_scatter, plot_timecourses

MOTION_PREFIX = "motion_"


def evaluate(
    predictions: str,
    motion_predictions: str,
    qc_files: list[str],
    units: dict,
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
    units : dict
        Name (file_key) of each QC file to its run's ``session`` (cross-validation
        unit) and ``run`` labels.
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
    windows = run_windows(qc_files, units)
    volumes = read_predictions(predictions, windows, time_bins)
    motion = read_predictions(motion_predictions, windows, time_bins)
    table = metrics_table(volumes, scales, n_bootstrap, seed)
    # The same seed gives the motion control the same resamples.
    control = metrics_table(motion, scales, n_bootstrap, seed)
    control["metric"] = MOTION_PREFIX + control["metric"]
    write_tsv(metrics_out, pd.concat([table, control], ignore_index=True))
    units_by_scale = {scale: scale_units(volumes, scale) for scale in scales}
    finest = next(iter(time_bins))
    title = f"sub-{subject}"
    plot_timecourses(
        scale_units(volumes, finest),
        f"{title}: {finest} bins",
        figures_out["timecourse"],
    )
    plot_scatter(units_by_scale, title, figures_out["scatter"])
    plot_roc(units_by_scale, title, figures_out["roc"])
