"""Reading a subject's run features for the models."""

from __future__ import annotations

import logging

import numpy as np

from painflow.core.bids import file_key
from painflow.core.fileio import read_npz
from painflow.model.crossval import RunFeatures

log = logging.getLogger(__name__)


def load_subject_features(paths: list[str], units: dict) -> list[RunFeatures]:
    """Read a subject's run features, keeping the included runs.

    Parameters
    ----------
    paths : list of str
        One ``.npz`` per run.
    units : dict
        File name (:func:`painflow.core.bids.file_key`) to the run's labels:
        ``session`` (its cross-validation unit)
        and ``run``; holds every path of ``paths``.

    Returns
    -------
    list of RunFeatures
        In the order of ``paths``.
    """
    loaded = []
    for path in paths:
        arrays = read_npz(path)
        if bool(arrays["included"]) and arrays["zscored"].shape[0]:
            labels = units[file_key(path)]
            loaded.append(
                RunFeatures(
                    session=str(labels["session"]),
                    run=str(labels["run"]),
                    arrays=arrays,
                )
            )
        else:
            log.warning("%s: run left out (see the QC table)", path)
    return loaded


def check_same_atlas(
    regions: np.ndarray, source: str, other_regions: np.ndarray, other_source: str
) -> None:
    """Raise unless two files hold the same regions, naming both files.

    Parameters
    ----------
    regions, other_regions : numpy.ndarray
        Region names of each file.
    source, other_source : str
        The files.

    Raises
    ------
    ValueError
        When the regions differ: the files come from different atlases.
    """
    if not np.array_equal(regions, other_regions):
        raise ValueError(
            f"{source} holds {regions.size} regions of another atlas than the "
            f"{other_regions.size} of {other_source}: models and data of several "
            "people need data parcellated with the same atlas"
        )
