"""Rest runs on the cortex: read, cleaned as the rating runs, band-passed.

A rest run's dense time series is smoothed on the surface (by Connectome
Workbench, before this module reads it), its nuisance regressed out and its
censored volumes dropped with the rating runs' own functions
(:func:`painflow.signals.scrubbing.clean_series`), but with the band-pass of
the individual parcellation. Cleaning is the same linear map for every
vertex, so it runs on blocks of columns and never holds more than one block
in double precision.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painflow.atlas.surface import load_cifti
from painflow.parcellation.mesh import CortexColumns
from painflow.signals.confounds import (
    DenoiseSettings,
    censoring,
    nuisance_regressors,
)
from painflow.signals.scrubbing import clean_series

_BLOCK_COLUMNS = 4096


def rest_settings(denoise: DenoiseSettings, band_hz: tuple) -> DenoiseSettings:
    """The rating runs' denoising with the rest runs' band-pass (Hz)."""
    high, low = band_hz
    return dataclasses.replace(denoise, high_pass_hz=high, low_pass_hz=low)


@dataclass(frozen=True)
class CleanedRest:
    """A rest run's cleaned cortex, kept volumes only.

    Attributes
    ----------
    values : numpy.ndarray
        float32 (kept volumes, cortex vertices), left hemisphere first.
    n_volumes : int
        Volumes in the run.
    n_censored : int
        Volumes censored (for any reason).
    """

    values: np.ndarray
    n_volumes: int
    n_censored: int


def clean_rest_run(
    bold: str | Path,
    confounds: str | Path,
    tr: float,
    settings: DenoiseSettings,
    columns: CortexColumns,
    values_from: str | Path | None = None,
) -> CleanedRest | None:
    """Clean a rest run's cortex; None when too many volumes are censored.

    Parameters
    ----------
    bold : str or Path
        fMRIPrep's dense time series of the run (nilearn finds the confounds
        beside it).
    confounds : str or Path
        fMRIPrep's confounds table of the run.
    tr : float
        Repetition time (s).
    settings : DenoiseSettings
        :func:`rest_settings`: the run is left out, as a rating run would be,
        when more than ``max_censored_fraction`` of its volumes are censored.
    columns : CortexColumns
        The cortex of the run's file.
    values_from : str or Path, optional
        The same series smoothed on the surface, read in place of ``bold``.

    Returns
    -------
    CleanedRest or None
    """
    found = censoring(confounds, tr, settings)
    source = bold if values_from is None else values_from
    image = load_cifti(source, "dense time series")
    if image.shape[0] != found.censored.size:
        raise ValueError(
            f"{source}: {image.shape[0]} volumes, but its confounds {confounds} have "
            f"{found.censored.size} rows"
        )
    n_censored = int(found.censored.sum())
    if n_censored > settings.max_censored_fraction * found.censored.size:
        return None
    regressors = nuisance_regressors(bold, confounds, settings).to_numpy(float)
    series = np.asarray(image.dataobj)[:, columns.all_columns]
    blocks = [
        clean_series(
            series[:, start : start + _BLOCK_COLUMNS],
            regressors,
            found.censored,
            tr,
            settings,
        ).values.astype(np.float32)
        for start in range(0, series.shape[1], _BLOCK_COLUMNS)
    ]
    return CleanedRest(np.hstack(blocks), found.censored.size, n_censored)
