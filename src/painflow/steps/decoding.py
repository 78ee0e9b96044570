"""Steps ``fit_decoder`` and ``fit_motion_control``: nested cross-validated models."""

from __future__ import annotations

import numpy as np

from painflow.analyses.importance import fold_contributions
from painflow.core.bids import natural_key
from painflow.core.fileio import read_npz, write_npz, write_tsv
from painflow.model.crossval import MOTION, RunFeatures, model_arrays, nested_loso
from painflow.steps.logs import log


def load_subject_features(
    paths: list[str], sessions: list, runs: list
) -> list[RunFeatures]:
    """Read a subject's run features, keeping the included runs.

    Parameters
    ----------
    paths : list of str
        One ``.npz`` per run.
    sessions, runs : list
        Cross-validation unit and run label of each.

    Returns
    -------
    list of RunFeatures
    """
    loaded = []
    for path, session, run in zip(paths, sessions, runs, strict=True):
        arrays = read_npz(path)
        if bool(arrays["included"]) and arrays["zscored"].shape[0]:
            loaded.append(
                RunFeatures(session=str(session), run=str(run), arrays=arrays)
            )
        else:
            log.warning("%s: run left out (see the QC table)", path)
    return loaded


def fit_decoder(
    features: list[str],
    sessions: list,
    runs: list,
    subject: str,
    max_components: int | None,
    importance_scale: str,
    predictions_out: str,
    folds_out: str,
    model_out: str,
    contributions_out: str,
) -> None:
    """Nested LOSO predictions, fold choices and the all-sessions model of a subject.

    Parameters
    ----------
    features : list of str
        The subject's run features.
    sessions, runs : list
        Cross-validation unit and run label of each.
    subject : str
        Subject label.
    max_components : int or None
        Upper limit of the number of components.
    importance_scale : str
        Time-bin scale of the per-region contributions.
    predictions_out, folds_out, model_out, contributions_out : str
        Destinations.
    """
    loaded = load_subject_features(features, sessions, runs)
    result = nested_loso(loaded, subject, max_components)
    write_tsv(predictions_out, result.predictions)
    write_tsv(folds_out, result.folds)
    write_npz(
        model_out,
        **model_arrays(result.model, loaded[0].arrays["region_names"]),
        sessions=np.array(
            sorted({run.session for run in loaded}, key=natural_key), dtype=str
        ),
    )
    contributions = fold_contributions(loaded, result.fold_models, importance_scale)
    write_npz(
        contributions_out,
        region_names=loaded[0].arrays["region_names"],
        **contributions,
    )


def fit_motion_control(
    features: list[str],
    sessions: list,
    runs: list,
    subject: str,
    max_components: int | None,
    predictions_out: str,
    folds_out: str,
) -> None:
    """Nested LOSO decoding from head-motion summaries alone.

    Parameters
    ----------
    features : list of str
        The subject's run features (their ``motion`` arrays are used).
    sessions, runs : list
        Cross-validation unit and run label of each.
    subject : str
        Subject label.
    max_components : int or None
        Upper limit of the number of components.
    predictions_out, folds_out : str
        Destinations.
    """
    loaded = load_subject_features(features, sessions, runs)
    result = nested_loso(loaded, subject, max_components, space=MOTION)
    write_tsv(predictions_out, result.predictions)
    write_tsv(folds_out, result.folds)
