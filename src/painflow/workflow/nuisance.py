"""Paths and inputs of the specificity tests (config ``nuisance``)."""

from __future__ import annotations

from painflow.signals.nuisance import CONFOUND_COLUMNS

DECODER_FOLDER = "decoding/nuisance"


def decoder_predictions(study, subject: str = "{subject}", target="{target}") -> str:
    """A nuisance decoder's per-volume predictions (desc = the target)."""
    return study.output(
        "predictions", ".tsv", folder=DECODER_FOLDER, subject=subject, desc=target
    )


def nuisance_decoder_tables(study, subject: str) -> list[str]:
    """Every configured nuisance decoder's predictions of a subject."""
    return [
        decoder_predictions(study, subject, target)
        for target in study.config["nuisance"]["targets"]
    ]


def nuisance_confounds(study, subject: str, target: str) -> list[str]:
    """The subject's confounds tables, if the target is read from them."""
    if target not in CONFOUND_COLUMNS:
        return []
    return [str(path) for path in study.subject_runs(subject)["confounds"]]


def nuisance_targets(study) -> list[str]:
    """The specificity table and figure of every subject."""
    return [
        path
        for subject in study.subjects
        for path in (
            study.output("nuisance", ".tsv", subject=subject),
            study.figure("nuisance", subject=subject),
        )
    ]
