"""Step ``predict``: a session scored by a saved model, with prediction intervals."""

from __future__ import annotations

from painflow.analyses.predict import has_ratings, predicted_tables, session_metrics
from painflow.analyses.windows import run_windows
from painflow.core.fileio import write_tsv
from painflow.model.crossval import model_from_arrays
from painflow.model.loading import check_same_atlas, load_subject_features
from painflow.model.metadata import read_model
from painflow.report.predictplots import plot_prediction
from painflow.workflow.logs import log


def predict(
    model: str,
    features: list[str],
    qc_files: list[str],
    units: dict,
    level: float | None,
    title: str,
    predictions_out: str,
    timebins_out: str,
    figure_out: str,
    metrics_out: str | None = None,
) -> None:
    """Predict a session's runs with a saved model; intervals, figure, metrics.

    Parameters
    ----------
    model : str
        A model file with its metadata (:func:`painflow.model.metadata.read_model`).
    features, qc_files : list of str
        Edge features and QC sidecars of the session's runs.
    units : dict
        Name (file_key) of each file to its run's ``session`` and ``run`` labels.
    level : float or None
        Coverage of the prediction intervals (None: the model's recorded level).
    title : str
        Figure title.
    predictions_out, timebins_out, figure_out : str
        Destinations: per-volume and per-time-bin predictions
        (:data:`painflow.analyses.predict.PREDICT_COLUMNS`), the figure.
    metrics_out : str or None
        Destination of the metrics at every scale the model records
        (``scale, metric, estimate``), written when the runs have ratings.
    """
    arrays, record = read_model(model)
    level = record["errors"]["level"] if level is None else level
    runs = load_subject_features(features, units)
    for run in runs:
        source = f"{title} run {run.run}"
        check_same_atlas(
            run.arrays["region_names"], source, arrays["region_names"], model
        )
    if not runs:
        log.warning("%s: no usable run to predict", title)
    windows = run_windows(qc_files, units)
    volumes, bins = predicted_tables(
        runs, model_from_arrays(arrays), windows, record, level
    )
    write_tsv(predictions_out, volumes)
    write_tsv(timebins_out, bins)
    plot_prediction(bins, level, title, figure_out)
    if metrics_out is None:
        return
    if not has_ratings(volumes):
        raise ValueError(f"{title}: no ratings to compute metrics from")
    scales = list(record["metrics"]["scales"])
    time_bins = record["features"]["time_bins"]
    write_tsv(metrics_out, session_metrics(volumes, windows, time_bins, scales))
