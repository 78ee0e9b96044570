"""Nuisance series of a run: what a pain decoder might track instead of pain.

Each series has one value per retained volume of a run, aligned with the
run's edge features (their ``volume`` array). Head motion, DVARS and the
global signal are taken at the BOLD volume itself (no hemodynamic delay):
they act on the image directly. Cursor movement comes from the aligned
ratings, so it is paired with the volumes as the ratings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from painflow.core.fileio import read_tsv

NUISANCE_TARGETS = ("fd", "dvars", "globalsignal", "cursor", "timeontask")
# Targets read from fMRIPrep's confounds table, and their columns there.
CONFOUND_COLUMNS = {"dvars": "std_dvars", "globalsignal": "global_signal"}
# The motion summary of the run features holding painflow's filtered FD.
FD_COLUMN = "fd"


def cursor_speed(rating: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Speed of the rating cursor at each retained volume (rating units per s).

    The change of the rating since the previous retained volume, divided by
    the time elapsed between the two. After a censoring gap this is the mean
    speed over the gap rather than one jump; the first volume takes the speed
    towards the second.

    Parameters
    ----------
    rating : numpy.ndarray
        (volumes,) aligned ratings of the retained volumes, in time order.
    time : numpy.ndarray
        (volumes,) their times (s).

    Returns
    -------
    numpy.ndarray
        (volumes,) absolute speeds; zeros for a run of one volume.
    """
    rating, time = np.asarray(rating, float), np.asarray(time, float)
    if rating.size < 2:
        return np.zeros(rating.size)
    steps = np.abs(np.diff(rating)) / np.diff(time)
    return np.concatenate([steps[:1], steps])


def confound_series(
    confounds_path: str | Path, column: str, volumes: np.ndarray
) -> np.ndarray:
    """A column of fMRIPrep's confounds table at the given BOLD volumes.

    Raises
    ------
    ValueError
        Naming the file when the column is missing, too short, or has no
        value at one of the volumes.
    """
    table = read_tsv(confounds_path)
    if column not in table:
        raise ValueError(
            f"{confounds_path}: no {column} column; leave its target out of "
            "nuisance.targets"
        )
    volumes = np.asarray(volumes, dtype=np.int64)
    if volumes.size and volumes.max() >= len(table):
        raise ValueError(
            f"{confounds_path}: {len(table)} rows, but volume {volumes.max()} "
            "is retained"
        )
    values = table[column].to_numpy(float)[volumes]
    if np.isnan(values).any():
        missing = volumes[np.isnan(values)]
        raise ValueError(
            f"{confounds_path}: {column} has no value at retained volume(s) "
            f"{missing.tolist()[:5]}"
        )
    return values


def nuisance_series(
    features: dict, target: str, confounds_path: str | Path | None = None
) -> np.ndarray:
    """One nuisance target at every retained volume of a run.

    Parameters
    ----------
    features : dict
        The run's edge features (:func:`painflow.signals.edges.run_features`).
    target : str
        One of ``NUISANCE_TARGETS``: ``fd`` (painflow's filtered framewise
        displacement, mm), ``dvars`` (fMRIPrep's standardized DVARS),
        ``globalsignal`` (fMRIPrep's global signal), ``cursor``
        (:func:`cursor_speed`) or ``timeontask`` (s since the run's first
        volume).
    confounds_path : str or Path, optional
        The run's fMRIPrep confounds table; needed for the targets of
        ``CONFOUND_COLUMNS``.

    Returns
    -------
    numpy.ndarray
        (volumes,) aligned with ``features["volume"]``.
    """
    if target in CONFOUND_COLUMNS:
        if confounds_path is None:
            raise ValueError(f"nuisance target {target} needs the confounds table")
        return confound_series(
            confounds_path, CONFOUND_COLUMNS[target], features["volume"]
        )
    if target == "fd":
        names = list(features["motion_names"])
        if FD_COLUMN not in names:
            raise ValueError(f"run features hold no {FD_COLUMN} column: {names}")
        return features["motion"][:, names.index(FD_COLUMN)].astype(float)
    if target == "cursor":
        return cursor_speed(features["rating"], features["time"])
    if target == "timeontask":
        return np.asarray(features["time"], dtype=float)
    raise ValueError(f"unknown nuisance target {target!r}; one of {NUISANCE_TARGETS}")
