"""Paths and inputs of the univariate GLM: per-session effect maps, subject maps.

Every file lies in ``sub-S/glm/``: a session's effect map carries the session
(the cross-validation unit: a run without sessions) in its ``desc`` entity.
The functions take the study (:class:`painflow.workflow.study.Study`) whose
paths they build.
"""

from __future__ import annotations

import re

FOLDER = "glm"
SESSION_DESC = "ses{session}"


def map_extension(study) -> str:
    """A map's extension: a dscalar on grayordinates, else a NIfTI."""
    return ".dscalar.nii" if study.grayordinates else ".nii.gz"


def glm_map(
    study, stat: str, desc: str | None = None, json: bool = False, **given
) -> str:
    """A statistical map's path pattern (or its JSON sidecar's).

    Parameters
    ----------
    study : painflow.workflow.study.Study
    stat : str
        ``effect`` (a session's), ``t`` (the subject's).
    desc : str, optional
        ``fdr`` (thresholded) or ``SESSION_DESC`` with the session.
    json : bool
        The sidecar instead of the map.
    **given : str
        Entity values in place of wildcards (``subject``).
    """
    extension = ".json" if json else map_extension(study)
    return study.output(
        "statmap", extension, folder=FOLDER, stat=stat, desc=desc, **given
    )


def unit_label(unit: str) -> str:
    """A cross-validation unit as a BIDS label: its letters and digits.

    A session label is one already; a run label made of entities (a dataset
    without sessions, ``acq-fullbrain_run-1``) loses its separators.
    """
    return re.sub(r"[^a-zA-Z0-9]", "", str(unit))


def session_map(
    study,
    subject: str = "{subject}",
    session: str | None = None,
    json: bool = False,
) -> str:
    """One session's effect map (or its sidecar); a pattern without ``session``."""
    desc = SESSION_DESC
    if session is not None:
        desc = SESSION_DESC.format(session=unit_label(session))
    return glm_map(study, "effect", desc, json, subject=subject)


def session_runs(study, subject: str, session: str):
    """The subject's runs in one cross-validation unit (as :func:`unit_label`)."""
    rows = study.subject_runs(subject)
    return rows[rows[study.unit_column].map(unit_label) == session]


def glm_session_inputs(study, subject: str, session: str) -> dict:
    """A session's rating runs: preprocessed BOLD, confounds and ratings."""
    rows = session_runs(study, subject, session)
    return {
        name: [str(path) for path in rows[name]]
        for name in ("bold", "confounds", "ratings")
    }


def glm_session_runs(study, subject: str, session: str) -> dict:
    """A session's run labels and repetition times, in input order."""
    rows = session_runs(study, subject, session)
    return {"runs": list(rows["run_id"]), "trs": [float(tr) for tr in rows["tr"]]}


def glm_inputs(study, subject: str) -> dict:
    """A subject's session maps and sidecars, and the atlas."""
    units = study.cv_units(subject)
    labels = [unit_label(unit) for unit in units]
    if len(set(labels)) < len(labels):
        raise ValueError(
            f"sub-{subject}: the runs {units} give GLM maps the same name; "
            "give them distinct run labels"
        )
    return {
        "effects": [session_map(study, subject, unit) for unit in units],
        "sidecars": [session_map(study, subject, unit, json=True) for unit in units],
        **study.atlas_inputs(subject),
    }


def glm_outputs(study, **given: str) -> dict:
    """The subject-level GLM outputs' path patterns (the figure aside)."""
    return {
        "tmap": glm_map(study, "t", **given),
        "tmap_json": glm_map(study, "t", json=True, **given),
        "fdr": glm_map(study, "t", "fdr", **given),
        "fdr_json": glm_map(study, "t", "fdr", json=True, **given),
        "table": study.output("glm", ".tsv", folder=FOLDER, **given),
    }


def glm_targets(study) -> list[str]:
    """Every subject's GLM maps, network table and figure (none if disabled)."""
    if not study.config["glm"]["enabled"]:
        return []
    return [
        path
        for subject in study.subjects
        for path in [
            *glm_outputs(study, subject=subject).values(),
            study.figure("glm", subject=subject),
        ]
    ]


def glm_surfaces(study, subject: str) -> dict[str, str] | None:
    """Surfaces of a subject's grayordinates (None: the fsLR 32k group's).

    The individual atlas's surfaces of the subject, else ``atlas.surfaces``.
    """
    if study.individual:
        return study.individual.surfaces(subject)
    return study.atlas_surfaces()


def session_record(study, folder: str, suffix: str, extension: str) -> str:
    """A glm_session job's log or benchmark file.

    The session goes in ``desc``, so that datasets without sessions (runs as
    units) keep one file per job.
    """
    root = study.output_dir / folder / "glm_session"
    return study.path(root, "subject", suffix, extension, None, desc=SESSION_DESC)
