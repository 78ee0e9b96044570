"""Steps ``prospective`` and ``summarize_prospective``: train on the past only."""

from __future__ import annotations

import pandas as pd

from painflow.crossval import prospective_predictions
from painflow.fileio import read_tsv, write_tsv
from painflow.plots import plot_prospective
from painflow.steps.decoding import load_subject_features
from painflow.steps.evaluation import run_windows, scale_estimates

PROSPECTIVE_COLUMNS = ("test_session", "n_train_sessions", "scale", "r")


def prospective(
    features: list[str],
    sessions: list,
    runs: list,
    qc_files: list[str],
    order: list[str],
    test_session: str,
    min_train_sessions: int,
    max_components: int | None,
    time_bins: dict,
    scales: list[str],
    table_out: str,
) -> None:
    """Predict one session from the sessions scanned before it; r at each scale.

    Parameters
    ----------
    features, qc_files : list of str
        Run features and QC sidecars of the test session and earlier ones.
    sessions, runs : list
        Session and run label of each.
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
        Scales of the table; r is undefined (``n/a``) where the session has
        fewer than three units.
    table_out : str
        Destination TSV (``PROSPECTIVE_COLUMNS``).
    """
    loaded = load_subject_features(features, sessions, runs)
    predictions, n_train = prospective_predictions(
        loaded, order, test_session, min_train_sessions, max_components
    )
    windows = run_windows(qc_files, sessions, runs)
    table = scale_estimates(predictions, windows, time_bins, scales, ("r",))
    table.insert(0, "n_train_sessions", n_train)
    table.insert(0, "test_session", test_session)
    write_tsv(table_out, table)


def summarize_prospective(
    tables: list[str], subject: str, table_out: str, figure_out: str
) -> None:
    """Gather a subject's prospective tests, in scan order, with a figure.

    Parameters
    ----------
    tables : list of str
        Outputs of :func:`prospective`, in scan order.
    subject : str
        Subject label (figure title).
    table_out, figure_out : str
        Destinations.
    """
    table = pd.concat(
        [read_tsv(path, dtype={"test_session": str}) for path in tables],
        ignore_index=True,
    ).loc[:, list(PROSPECTIVE_COLUMNS)]
    write_tsv(table_out, table)
    plot_prospective(table, f"sub-{subject}", figure_out)
