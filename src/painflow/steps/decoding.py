"""Steps ``fit_decoder`` and ``fit_motion_control``: nested cross-validated models."""

from __future__ import annotations

import numpy as np

from painflow.analyses.importance import fold_contributions
from painflow.analyses.predict import model_metadata
from painflow.analyses.windows import run_windows
from painflow.core.bids import natural_key
from painflow.core.fileio import write_npz, write_tsv
from painflow.model.crossval import (
    MOTION,
    fold_model_arrays,
    model_arrays,
    nested_loso,
)
from painflow.model.loading import load_subject_features


def fit_decoder(
    features: list[str],
    units: dict,
    qc_files: list[str],
    subject: str,
    max_components: int | None,
    importance_scale: str,
    settings: dict,
    atlas_files: dict,
    predictions_out: str,
    folds_out: str,
    model_out: str,
    contributions_out: str,
    fold_models_out: str,
) -> None:
    """Nested LOSO predictions, fold choices and the all-sessions model of a subject.

    Parameters
    ----------
    features : list of str
        The subject's run features.
    units : dict
        Name (file_key) of each feature file and QC sidecar to its run's
        ``session`` (cross-validation unit) and ``run`` labels.
    qc_files : list of str
        The runs' QC sidecars (analysis windows and repetition times).
    subject : str
        Subject label.
    max_components : int or None
        Upper limit of the number of components.
    importance_scale : str
        Time-bin scale of the per-region contributions.
    settings, atlas_files : dict
        What the model's metadata records
        (:func:`painflow.analyses.predict.model_metadata`).
    predictions_out, folds_out, model_out, contributions_out : str
        Destinations.
    fold_models_out : str
        Destination of the outer folds' models (each trained without one
        session), which score that session's rest run.
    """
    loaded = load_subject_features(features, units)
    result = nested_loso(loaded, subject, max_components)
    write_tsv(predictions_out, result.predictions)
    write_tsv(folds_out, result.folds)
    sessions = sorted({run.session for run in loaded}, key=natural_key)
    metadata = model_metadata(
        subject,
        settings,
        atlas_files,
        result.predictions,
        run_windows(qc_files, units),
        sessions,
        "nested leave-one-session-out",
    )
    write_npz(
        model_out,
        **model_arrays(result.model, loaded[0].arrays["region_names"]),
        sessions=np.array(sessions, dtype=str),
        **metadata,
    )
    write_npz(
        fold_models_out,
        **fold_model_arrays(result.fold_models, loaded[0].arrays["region_names"]),
    )
    contributions = fold_contributions(loaded, result.fold_models, importance_scale)
    write_npz(
        contributions_out,
        region_names=loaded[0].arrays["region_names"],
        **contributions,
    )


def fit_motion_control(
    features: list[str],
    units: dict,
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
    units : dict
        Name (file_key) of each feature file to its run's ``session`` (cross-validation
        unit) and ``run`` labels.
    subject : str
        Subject label.
    max_components : int or None
        Upper limit of the number of components.
    predictions_out, folds_out : str
        Destinations.
    """
    loaded = load_subject_features(features, units)
    result = nested_loso(loaded, subject, max_components, space=MOTION)
    write_tsv(predictions_out, result.predictions)
    write_tsv(folds_out, result.folds)
