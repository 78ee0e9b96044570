"""Steps of the prospective test: train on earlier sessions only.

Split mode: ``prospective_model`` (once per subject) and ``prospective`` (per
later session). Expanding mode: ``prospective_expanding`` (per session).
Both: ``summarize_prospective``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.analyses.metrics import add_time_bins, metrics_table
from painflow.analyses.predict import model_metadata
from painflow.analyses.prospective import (
    fit_on_sessions,
    inner_predictions,
    predict_session,
    prospective_predictions,
)
from painflow.analyses.windows import run_windows, scale_estimates
from painflow.core.fileio import read_npz, read_tsv, write_npz, write_tsv
from painflow.model.crossval import PREDICTION_COLUMNS, model_arrays, model_from_arrays
from painflow.model.loading import load_subject_features
from painflow.report.plots import plot_prospective
from painflow.workflow.logs import log

PROSPECTIVE_COLUMNS = ("test_session", "n_train_sessions", "scale", "r")


def prospective_model(
    features: list[str],
    units: dict,
    qc_files: list[str],
    training_sessions: list[str],
    subject: str,
    max_components: int | None,
    settings: dict,
    atlas_files: dict,
    model_out: str,
) -> None:
    """Train the split design's one model on the first sessions in scan order.

    Parameters
    ----------
    features : list of str
        Run features of the training sessions.
    units : dict
        Name (file_key) of each file to its run's ``session`` and ``run`` labels.
    qc_files : list of str
        QC sidecars of the training sessions' runs.
    training_sessions : list of str
        The first ``prospective.train_sessions`` sessions in scan order.
    subject : str
        Subject label (for messages).
    max_components : int or None
        Upper limit of the number of components.
    settings, atlas_files : dict
        What the model's metadata records
        (:func:`painflow.analyses.predict.model_metadata`); its errors are
        those of the inner leave-one-session-out predictions at the chosen
        number of components (:func:`painflow.analyses.prospective.inner_predictions`).
    model_out : str
        Destination ``.npz``: the model's arrays (as ``model.npz``),
        ``train_sessions``, the sessions with usable runs it was trained on,
        and its metadata.
    """
    loaded = load_subject_features(features, units)
    try:
        model, used = fit_on_sessions(loaded, training_sessions, max_components)
    except ValueError as error:
        raise ValueError(f"sub-{subject}: {error}") from error
    metadata = model_metadata(
        subject,
        settings,
        atlas_files,
        inner_predictions(loaded, used, model.n_components),
        run_windows(qc_files, units),
        used,
        "inner leave-one-session-out at the chosen number of components",
    )
    write_npz(
        model_out,
        **model_arrays(model, loaded[0].arrays["region_names"]),
        train_sessions=np.array(used, dtype=str),
        **metadata,
    )


def prospective(
    model: str,
    features: list[str],
    units: dict,
    qc_files: list[str],
    test_session: str,
    time_bins: dict,
    scales: list[str],
    table_out: str,
    predictions_out: str,
) -> None:
    """Predict one later session with the split design's model; r at each scale.

    Parameters
    ----------
    model : str
        Output of :func:`prospective_model`.
    features, qc_files : list of str
        Run features and QC sidecars of the test session.
    units : dict
        Name (file_key) of each file to its run's ``session`` and ``run`` labels.
    test_session : str
        The session to predict.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the table.
    table_out, predictions_out : str
        Destinations (``PROSPECTIVE_COLUMNS``; per-volume predictions).
    """
    arrays = read_npz(model)
    loaded = load_subject_features(features, units)
    fold = f"first-{arrays['train_sessions'].size}"
    predictions = predict_session(loaded, model_from_arrays(arrays), test_session, fold)
    write_session_test(
        predictions,
        run_windows(qc_files, units),
        test_session,
        int(arrays["train_sessions"].size),
        time_bins,
        scales,
        table_out,
        predictions_out,
    )


def prospective_expanding(
    features: list[str],
    units: dict,
    qc_files: list[str],
    order: list[str],
    test_session: str,
    min_train_sessions: int,
    max_components: int | None,
    time_bins: dict,
    scales: list[str],
    table_out: str,
    predictions_out: str,
) -> None:
    """Predict one session from the sessions scanned before it; r at each scale.

    Parameters
    ----------
    features, qc_files : list of str
        Run features and QC sidecars of the test session and earlier ones.
    units : dict
        Name (file_key) of each file to its run's ``session`` and ``run`` labels.
    order : list of str
        The subject's sessions in scan order, up to the test session at least.
    test_session : str
        The session to predict.
    min_train_sessions : int
        Fewest earlier sessions to train on.
    max_components : int or None
        Upper limit of the number of components.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the table.
    table_out, predictions_out : str
        Destinations (``PROSPECTIVE_COLUMNS``; per-volume predictions).
    """
    loaded = load_subject_features(features, units)
    predictions, n_train = prospective_predictions(
        loaded, order, test_session, min_train_sessions, max_components
    )
    write_session_test(
        predictions,
        run_windows(qc_files, units),
        test_session,
        n_train,
        time_bins,
        scales,
        table_out,
        predictions_out,
    )


def write_session_test(
    predictions: pd.DataFrame,
    windows: pd.DataFrame,
    test_session: str,
    n_train: int,
    time_bins: dict,
    scales: list[str],
    table_out: str,
    predictions_out: str,
) -> None:
    """Write a tested session's predictions and its r within the session per scale.

    r is undefined (``n/a``) where the session has fewer than three units,
    and at every scale when none of its runs is usable.
    """
    if predictions.empty:
        log.warning("session %s: no usable run to predict", test_session)
        table = pd.DataFrame({"scale": scales, "r": np.nan})
    else:
        table = scale_estimates(predictions, windows, time_bins, scales, ("r",))
    table.insert(0, "n_train_sessions", n_train)
    table.insert(0, "test_session", test_session)
    write_tsv(table_out, table.loc[:, list(PROSPECTIVE_COLUMNS)])
    write_tsv(predictions_out, predictions.loc[:, list(PREDICTION_COLUMNS)])


def summarize_prospective(
    tables: list[str],
    predictions: list[str],
    qc_files: list[str],
    units: dict,
    subject: str,
    time_bins: dict,
    scales: list[str],
    n_bootstrap: int,
    seed: int,
    table_out: str,
    metrics_out: str,
    figure_out: str,
) -> None:
    """Gather a subject's prospective tests, in scan order, with pooled metrics.

    Parameters
    ----------
    tables, predictions : list of str
        Outputs of the per-session steps, in scan order.
    qc_files : list of str
        QC sidecars of the tested sessions' runs (analysis windows).
    units : dict
        Name (file_key) of each QC sidecar to its run's ``session`` and ``run`` labels.
    subject : str
        Subject label.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the metrics.
    n_bootstrap, seed : int
        Hierarchical-bootstrap resamples (over the tested sessions) and seed.
    table_out, metrics_out, figure_out : str
        Destinations: the per-session table, the metrics table (the main
        metrics table's columns) and the figure.
    """
    table = pd.concat(
        [read_tsv(path, dtype={"test_session": str}) for path in tables],
        ignore_index=True,
    ).loc[:, list(PROSPECTIVE_COLUMNS)]
    write_tsv(table_out, table)
    volumes = pd.concat(
        [
            read_tsv(path, dtype={"session": str, "run": str, "fold": str})
            for path in predictions
        ],
        ignore_index=True,
    )
    if volumes.empty:
        raise ValueError(
            f"sub-{subject}: no usable run in the prospectively tested sessions "
            f"{table['test_session'].tolist()}"
        )
    volumes = add_time_bins(volumes, run_windows(qc_files, units), time_bins)
    write_tsv(metrics_out, metrics_table(volumes, scales, n_bootstrap, seed))
    plot_prospective(table, f"sub-{subject}", figure_out)
