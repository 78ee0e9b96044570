"""Paths and settings of ``predict``: a later session scored by a saved model."""

from __future__ import annotations

from pathlib import Path

from painflow.core.bids import bids_path

# Values of config atlas.subcortex that name no file.
SUBCORTEX_SETTINGS = ("structures", "none")
# Name of each output to its suffix, extension and folder.
PREDICT_FILES = {
    "predictions": ("predictions", ".tsv", "decoding"),
    "timebins": ("timebins", ".tsv", "decoding"),
    "metrics": ("metrics", ".tsv", "decoding"),
    "figure": ("predict", ".png", "figures"),
}


def predict_paths(
    root: str | Path,
    subject: str = "{subject}",
    session: str = "{session}",
    atlas: str = "{atlas}",
) -> dict[str, str]:
    """Every output of one session's prediction below an output folder.

    The workflow's rule and ``painflow predict`` write the same names.

    Parameters
    ----------
    root : str or Path
        The output folder.
    subject, session, atlas : str
        Labels (or Snakemake wildcards).

    Returns
    -------
    dict
        ``predictions``, ``timebins``, ``metrics`` and ``figure`` paths.
    """
    entities = {"subject": subject, "session": session, "atlas": atlas}
    return {
        name: str(
            bids_path(root, {**entities, "desc": "predict"}, suffix, extension, folder)
        )
        for name, (suffix, extension, folder) in PREDICT_FILES.items()
    }


def predict_sessions(study) -> dict[str, list[str]]:
    """Subject to the sessions the rule ``predict`` scores.

    Split prospective design: every session after the training sessions,
    scored by the prospective model. Expanding design: none (its sessions
    are each scored by a model trained in the job, never saved).
    """
    if study.prospective.mode != "split":
        return {}
    return {s: study.prospective_sessions(s) for s in study.prospective_subjects()}


def predict_targets(study) -> list[str]:
    """The per-session predictions of every scored session."""
    return [
        path
        for subject, sessions in predict_sessions(study).items()
        for session in sessions
        for path in predict_paths(
            study.output_dir, subject, session, study.atlas
        ).values()
    ]


def atlas_location(path: str | None, output_dir: str | Path) -> str | None:
    """Where a model's atlas file is, as the model records it.

    Relative to the output folder when the file is inside it (a named or
    individual atlas the workflow wrote), else the file's name alone, so the
    model file has the same bytes wherever the outputs are.
    """
    if path is None:
        return None
    resolved, root = Path(path).resolve(), Path(output_dir).resolve()
    if resolved.is_relative_to(root):
        return resolved.relative_to(root).as_posix()
    return Path(path).name


def config_settings(config: dict) -> dict:
    """What model files record of a config, the atlas aside.

    Returns
    -------
    dict
        ``task``, ``bold_filters``, ``rating_column``, ``rating_recording``,
        ``space`` (space, res, den), ``denoise``, ``alignment``, ``features``,
        ``scales`` (``evaluation.scales``) and ``predict``.
    """
    return {
        "task": config["task"],
        "bold_filters": config["bold_filters"],
        "rating_column": config["ratings"]["column"],
        "rating_recording": config["ratings"]["recording"],
        "space": {key: config[key] for key in ("space", "res", "den")},
        "denoise": config["denoise"],
        "alignment": config["alignment"],
        "features": config["features"],
        "scales": config["evaluation"]["scales"],
        "predict": config["predict"],
    }


def model_settings(study, subject: str) -> dict:
    """What a subject's model files record of the config (see ``model_metadata``).

    Parameters
    ----------
    study : painflow.workflow.study.Study
    subject : str

    Returns
    -------
    dict
        :func:`config_settings` and ``atlas``: its name, its files' locations
        (:func:`atlas_location`) and the subcortex setting when it is no file.
    """
    files = study.atlas_inputs(subject)
    subcortex = files.get("atlas_subcortex")
    return {
        **config_settings(study.config),
        "atlas": {
            "name": study.atlas,
            "image": atlas_location(files["atlas_image"], study.output_dir),
            "labels": atlas_location(files.get("atlas_labels"), study.output_dir),
            "subcortex": atlas_location(subcortex or study.subcortex, study.output_dir)
            if subcortex or study.subcortex not in SUBCORTEX_SETTINGS
            else study.subcortex,
        },
    }
