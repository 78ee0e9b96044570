"""Steps ``learning_curve_kernels``, ``learning_curve`` and its summary."""

from __future__ import annotations

import pandas as pd

from painflow.crossval import (
    kernel_arrays,
    kernel_data,
    kernel_data_from_arrays,
    learning_curve_scores,
)
from painflow.fileio import read_npz, read_tsv, write_npz, write_tsv
from painflow.plots import plot_learning_curve
from painflow.steps.decoding import load_subject_features
from painflow.steps.logs import log

LEARNING_CURVE_COLUMNS = ("n_train_sessions", "repeat", "test_session", "scale", "r")


def learning_curve_kernels(
    features: list[str], sessions: list, runs: list, scales: list[str], kernels_out: str
) -> None:
    """Save a subject's Gram matrix and unit kernels, read by every training size.

    Parameters
    ----------
    features : list of str
        Feature files of every run of the subject (excluded runs are skipped).
    sessions, runs : list
        Session and run label of each file.
    scales : list of str
        Scales of the learning curve.
    kernels_out : str
        Destination ``.npz`` (:func:`painflow.crossval.kernel_arrays`).
    """
    loaded = load_subject_features(features, sessions, runs)
    write_npz(kernels_out, **kernel_arrays(kernel_data(loaded, scales)))


def learning_curve(
    kernels: str,
    folds: str,
    n_train_sessions: int,
    n_repeats: int,
    seed: int,
    scales: list[str],
    table_out: str,
) -> None:
    """Within-session r of every held-out session for one training-set size.

    Parameters
    ----------
    kernels : str
        Output of :func:`learning_curve_kernels`.
    folds : str
        The nested cross-validation's folds table (components per session).
    n_train_sessions, n_repeats, seed : int
        Training-set size, draws per held-out session, seed.
    scales : list of str
        Scales of the table.
    table_out : str
        Destination TSV (``LEARNING_CURVE_COLUMNS``).
    """
    data = kernel_data_from_arrays(read_npz(kernels))
    n_usable = len(data.units)
    if n_train_sessions > n_usable - 2:
        # Runs left out by QC removed sessions since the jobs were planned.
        log.warning(
            "%d sessions with usable runs: no training size %d",
            n_usable,
            n_train_sessions,
        )
        write_tsv(table_out, pd.DataFrame(columns=list(LEARNING_CURVE_COLUMNS)))
        return
    choices = read_tsv(folds, dtype={"fold": str}).set_index("fold")["n_components"]
    table = learning_curve_scores(
        data, choices.to_dict(), n_train_sessions, n_repeats, seed, scales
    )
    table.insert(0, "n_train_sessions", n_train_sessions)
    write_tsv(table_out, table.loc[:, list(LEARNING_CURVE_COLUMNS)])


def summarize_learning_curve(
    tables: list[str], subject: str, table_out: str, figure_out: str
) -> None:
    """Gather a subject's training-set sizes into one table and a figure.

    Parameters
    ----------
    tables : list of str
        Outputs of :func:`learning_curve`, by size.
    subject : str
        Subject label (figure title).
    table_out, figure_out : str
        Destinations.
    """
    table = pd.concat(
        [read_tsv(path, dtype={"test_session": str, "r": float}) for path in tables],
        ignore_index=True,
    ).loc[:, list(LEARNING_CURVE_COLUMNS)]
    write_tsv(table_out, table)
    plot_learning_curve(table, f"sub-{subject}", figure_out)
