"""The analysis levels of a BIDS App: what each person alone needs, then the rest.

``painflow run ... participant`` makes every final output that lies in a
subject's own folder (``sub-<label>/``) and is computed from that person's data
alone; ``group`` makes the others: the outputs that need every person (the
cross-subject test, the group model) and the description of the whole output
folder. Together they are :meth:`painflow.workflow.study.Study.targets`.
"""

from __future__ import annotations

from pathlib import Path

ANALYSIS_LEVELS = ("participant", "group")


def level_targets(study, level: str) -> list[str]:
    """The final outputs of one analysis level, in the order of ``targets()``.

    Parameters
    ----------
    study : painflow.workflow.study.Study
    level : {"participant", "group"}

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        For a level other than ``participant`` and ``group``.
    """
    if level not in ANALYSIS_LEVELS:
        raise ValueError(
            f"analysis level {level!r}: not one of {', '.join(ANALYSIS_LEVELS)}"
        )
    participant = level == "participant"
    return [
        target
        for target in study.targets()
        if is_participant_output(study, target) == participant
    ]


def is_participant_output(study, path: str) -> bool:
    """Whether an output lies in the folder of one of the study's subjects."""
    path = Path(path)
    if not path.is_relative_to(study.output_dir):
        return False
    folders = {f"sub-{subject}" for subject in study.subjects}
    return path.relative_to(study.output_dir).parts[0] in folders
