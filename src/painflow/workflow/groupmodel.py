"""The group model's place in the study: its targets and its pool of people."""

from __future__ import annotations

import pandas as pd


def group_model_targets(study) -> list[str]:
    """The group model's outputs; none on individual atlases or with one person.

    Parameters
    ----------
    study : painflow.workflow.study.Study

    Returns
    -------
    list of str
        The group table and its figure.
    """
    if study.individual or len(study.subjects) < 2:  # no common regions, no pool
        return []
    return [
        study.group_output("groupmodel", ".tsv"),
        study.group_output("groupmodel", ".png", folder="figures"),
    ]


def other_people_runs(runs: pd.DataFrame, subject: str) -> pd.DataFrame:
    """Rows of the runs of everyone but ``subject``: a group model's pool."""
    return runs[runs["subject"] != subject]
