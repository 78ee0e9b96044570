"""Discovery of the rest runs that make each subject's individual parcellation.

Rest runs have no ratings: they are found by task beside the rating runs, with
the same fMRIPrep outputs, and never enter a decoder's training data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from painflow.inputs.dataset import (
    RUN_COLUMNS,
    DatasetSpec,
    describe_series,
    sort_runs,
    task_bold,
)
from painflow.inputs.series import group_echoes

# A rest run's columns: a rating run's, but for the ratings.
REST_COLUMNS = tuple(column for column in RUN_COLUMNS if column != "ratings")


def discover_rest_runs(
    spec: DatasetSpec, rest_task: str, subjects: Iterable[str]
) -> pd.DataFrame:
    """Find every rest run of the subjects.

    Parameters
    ----------
    spec : DatasetSpec
        The rating runs' dataset (its task is replaced by ``rest_task``).
    rest_task : str
        Task label of the rest runs (config ``individual.rest_task``).
    subjects : iterable of str
        Subjects that need rest runs (those with rating runs).

    Returns
    -------
    pandas.DataFrame
        One row per rest run: ``REST_COLUMNS``, in subject, session and run order.

    Raises
    ------
    FileNotFoundError
        Naming a subject without rest runs and the task looked for, or a
        missing fMRIPrep output.
    """
    subjects = [str(subject) for subject in subjects]
    runs = find_rest_runs(spec, rest_task, subjects)
    missing = [s for s in subjects if s not in set(runs["subject"])]
    if missing:
        raise FileNotFoundError(
            f"{spec.bids_dir}: no BOLD runs of task '{rest_task}' for subject(s) "
            f"{', '.join(f'sub-{s}' for s in missing)}; the individual atlas is made "
            "from each subject's rest runs (config individual.rest_task)"
        )
    return runs


def find_rest_runs(
    spec: DatasetSpec, rest_task: str, subjects: Iterable[str]
) -> pd.DataFrame:
    """The rest runs of the subjects that have any (none is not an error).

    Parameters are those of :func:`discover_rest_runs`.

    Returns
    -------
    pandas.DataFrame
        One row per rest run: ``REST_COLUMNS``, in subject, session and run order.
    """
    rest = dataclasses.replace(spec, task=rest_task)
    found = task_bold(rest.bids_dir, rest_task)
    rows = [describe_series(rest, series) for series in group_echoes(found)]
    runs = pd.DataFrame(rows, columns=list(REST_COLUMNS))
    runs = runs[runs["subject"].isin([str(s) for s in subjects])]
    return sort_runs(runs, label="scan")
