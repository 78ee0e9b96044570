"""Steps ``group_model`` and ``summarize_group_model``: personal against group."""

from __future__ import annotations

import logging

import pandas as pd

from painflow.analyses.groupmodel import (
    PERSONAL,
    fewer_than_three_note,
    group_predictions,
    paired_volumes,
    pool_training_set,
)
from painflow.analyses.metrics import METRIC_COLUMNS, paired_metrics_table
from painflow.analyses.windows import read_predictions, run_windows
from painflow.core.bids import file_key
from painflow.core.fileio import read_tsv, write_tsv
from painflow.model.loading import check_same_atlas, load_subject_features
from painflow.report.comparisonplots import plot_group_model

log = logging.getLogger(__name__)

GROUP_MODEL_COLUMNS = ("subject", "model", *METRIC_COLUMNS, "note")


def group_model(
    features: list[str],
    pool_features: list[str],
    qc_files: list[str],
    predictions: str,
    units: dict,
    pool_subjects: dict,
    subject: str,
    max_components: int | None,
    matched: bool,
    time_bins: dict,
    scales: list[str],
    n_bootstrap: int,
    seed: int,
    table_out: str,
) -> None:
    """Compare a person's own model with models of the other people.

    Parameters
    ----------
    features : list of str
        The held-out person's run features.
    pool_features : list of str
        Every other person's run features.
    qc_files : list of str
        The held-out person's QC sidecars (analysis windows).
    predictions : str
        The held-out person's nested leave-one-session-out predictions.
    units : dict
        Name (file_key) of each feature and QC file to its run's ``session``
        (cross-validation unit) and ``run`` labels.
    pool_subjects : dict
        Name (file_key) of each of ``pool_features`` to its person.
    subject : str
        The held-out person.
    max_components : int or None
        Config ``decoder.max_components``.
    matched : bool
        Config ``group_model.matched``: also fit the matched-size group model.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the table.
    n_bootstrap, seed : int
        Bootstrap resamples and seed (the evaluation's: the same resamples).
    table_out : str
        Destination TSV (``GROUP_MODEL_COLUMNS``).

    Raises
    ------
    ValueError
        When the people's features come from different atlases.
    """
    runs = load_subject_features(features, units)
    others = _pool_runs(pool_features, units, pool_subjects)
    regions = runs[0].arrays["region_names"]
    for person, person_runs in others.items():
        check_same_atlas(
            person_runs[0].arrays["region_names"],
            f"sub-{person}'s features",
            regions,
            features[0],
        )
    pool = pool_training_set(others)
    fitted = group_predictions(runs, pool, subject, max_components, matched, seed)
    log.info("sub-%s: group models\n%s", subject, fitted.fits.to_string(index=False))
    note = fewer_than_three_note(pool)
    if note:
        log.warning("sub-%s: %s", subject, note)
    windows = run_windows(qc_files, units)
    personal = read_predictions(predictions, windows, time_bins)
    volumes = paired_volumes(personal, fitted.predictions)
    table = paired_metrics_table(volumes, PERSONAL, scales, n_bootstrap, seed)
    table.insert(0, "subject", subject)
    table["note"] = note or None  # n/a with 3 people or more
    write_tsv(table_out, table.loc[:, list(GROUP_MODEL_COLUMNS)])


def _pool_runs(paths: list[str], units: dict, subjects: dict) -> dict:
    """The other people's included runs, by person; people without any left out."""
    by_person = {}
    for path in paths:
        by_person.setdefault(subjects[file_key(path)], []).append(path)
    runs = {}
    for person, files in by_person.items():
        runs[person] = load_subject_features(files, units)
        if not runs[person]:
            log.warning("sub-%s: no included run, left out of the pool", person)
            del runs[person]
    return runs


def summarize_group_model(tables: list[str], table_out: str, figure_out: str) -> None:
    """Gather every person's comparison in one table and its figure.

    Parameters
    ----------
    tables : list of str
        Outputs of :func:`group_model`.
    table_out, figure_out : str
        Destinations of the group table and its figure.
    """
    table = pd.concat(
        [read_tsv(path, dtype={"subject": str, "note": str}) for path in tables],
        ignore_index=True,
    )
    for note in table["note"].dropna().unique():
        log.warning("%s", note)
    write_tsv(table_out, table.loc[:, list(GROUP_MODEL_COLUMNS)])
    plot_group_model(table, figure_out)
