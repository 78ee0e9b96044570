"""Outputs of the plan (config ``plan``): sessions a person's decoder needs."""

from __future__ import annotations


def plan_targets(study) -> list[str]:
    """The plan table and figure of every subject."""
    return [
        path
        for subject in study.subjects
        for path in (
            study.output("plan", ".tsv", subject=subject),
            study.figure("plan", subject=subject),
        )
    ]
