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

from painflow.atlas.surface import brain_models, load_cifti
from painflow.signals.confounds import (
    DenoiseSettings,
    censoring,
    nuisance_regressors,
)
from painflow.signals.scrubbing import clean_series

CORTEX_STRUCTURES = {
    "CIFTI_STRUCTURE_CORTEX_LEFT": "left",
    "CIFTI_STRUCTURE_CORTEX_RIGHT": "right",
}
_BLOCK_COLUMNS = 4096


@dataclass(frozen=True)
class CortexColumns:
    """Where a dense time series keeps each hemisphere's cortex.

    Attributes
    ----------
    columns : dict
        ``left``/``right`` -> the file's column indices of that cortex.
    vertices : dict
        ``left``/``right`` -> the surface vertex index of each of those columns.
    n_surface : dict
        ``left``/``right`` -> the number of vertices of the surface mesh.
    """

    columns: dict
    vertices: dict
    n_surface: dict

    @property
    def all_columns(self) -> np.ndarray:
        """The cortex columns, left hemisphere first."""
        return np.concatenate([self.columns["left"], self.columns["right"]])


def cortex_columns(path: str | Path) -> CortexColumns:
    """The cortex columns of a dense CIFTI file and their surface vertices.

    Raises
    ------
    ValueError
        Naming the file when it lacks the left or right cortex.
    """
    models = brain_models(load_cifti(path, "dense time series"), path)
    columns, vertices, n_surface = {}, {}, {}
    for structure, block, model in models.iter_structures():
        side = CORTEX_STRUCTURES.get(structure)
        if side is not None:
            columns[side] = np.arange(block.start, block.stop)
            vertices[side] = np.asarray(model.vertex)
            n_surface[side] = int(model.nvertices[structure])
    missing = [side for side in ("left", "right") if side not in columns]
    if missing:
        raise ValueError(f"{path}: no {' or '.join(missing)} cortex in its models")
    return CortexColumns(columns, vertices, n_surface)


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
