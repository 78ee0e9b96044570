"""Continuous pain ratings: reading the BIDS recording and aligning it to volumes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from painflow.core.fileio import read_json

REQUIRED_RECORDING_FIELDS = ("SamplingFrequency", "StartTime", "Columns")


@dataclass(frozen=True)
class Recording:
    """A continuous rating recording.

    Attributes
    ----------
    times : numpy.ndarray
        Sample times in seconds, relative to the first volume.
    values : numpy.ndarray
        The rating at each sample.
    path : Path
        The ``_physio.tsv.gz`` file it was read from.
    """

    times: np.ndarray
    values: np.ndarray
    path: Path


def sidecar_path(recording_path: str | Path) -> Path:
    """Return the JSON sidecar of a ``.tsv.gz`` recording."""
    recording_path = Path(recording_path)
    return recording_path.with_name(
        recording_path.name.removesuffix(".tsv.gz") + ".json"
    )


def read_recording_sidecar(sidecar: str | Path) -> dict:
    """Read and check the JSON sidecar of a continuous recording.

    Raises
    ------
    ValueError
        Naming the file and the first missing field.
    """
    metadata = read_json(sidecar)
    for field in REQUIRED_RECORDING_FIELDS:
        if field not in metadata:
            raise ValueError(f"{sidecar}: the sidecar has no '{field}'")
    if not float(metadata["SamplingFrequency"]) > 0:
        raise ValueError(f"{sidecar}: SamplingFrequency must be positive")
    return metadata


def read_recording(path: str | Path, column: str) -> Recording:
    """Read one column of a BIDS continuous recording.

    Parameters
    ----------
    path : str or Path
        The headerless ``_physio.tsv.gz`` file; its sidecar sits beside it.
    column : str
        The name of the rating column in the sidecar's ``Columns``.

    Returns
    -------
    Recording

    Raises
    ------
    ValueError
        When the sidecar lacks a field, the column is not listed, the table
        has another number of columns, or a rating is missing, NaN or not a
        number. The message names the file.
    """
    path = Path(path)
    metadata = read_recording_sidecar(sidecar_path(path))
    columns = list(metadata["Columns"])
    if column not in columns:
        raise ValueError(f"{sidecar_path(path)}: no column '{column}' in {columns}")
    table = pd.read_csv(
        path,
        sep="\t",
        header=None,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
    )
    if table.shape[1] != len(columns):
        raise ValueError(
            f"{path}: {table.shape[1]} columns, but the sidecar lists {len(columns)}"
        )
    values = _numeric_ratings(table.iloc[:, columns.index(column)], path)
    step = 1.0 / float(metadata["SamplingFrequency"])
    times = float(metadata["StartTime"]) + step * np.arange(values.size)
    return Recording(times=times, values=values, path=path)


def _numeric_ratings(column: pd.Series, path: Path) -> np.ndarray:
    """Convert a column of text to finite floats, naming the first bad row."""
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f"{path}: rating on line {row + 1} is not a finite number "
            f"({column.iloc[row]!r}); {bad.size} such values in all"
        )
    if values.size < 2:
        raise ValueError(f"{path}: fewer than 2 rating samples")
    return values


def volume_midpoints(n_volumes: int, tr: float) -> np.ndarray:
    """Return the time (s) of the middle of each volume."""
    return (np.arange(n_volumes) + 0.5) * tr


def ratings_at(recording: Recording, times: np.ndarray) -> np.ndarray:
    """Interpolate a recording linearly at the given times.

    Raises
    ------
    ValueError
        When the recording does not cover every requested time, e.g. when the
        ratings end before the scan does.
    """
    half_step = 0.5 * (recording.times[1] - recording.times[0])
    first, last = recording.times[0] - half_step, recording.times[-1] + half_step
    if times.size and (times.min() < first or times.max() > last):
        raise ValueError(
            f"{recording.path}: ratings cover {recording.times[0]:.2f}-"
            f"{recording.times[-1]:.2f} s, but the scan needs them from "
            f"{times.min():.2f} to {times.max():.2f} s"
        )
    return np.interp(times, recording.times, recording.values)


@dataclass(frozen=True)
class Alignment:
    """How ratings and BOLD volumes are paired within a run.

    The BOLD volume ``v + delay`` is paired with the rating at volume ``v``
    for ``v`` from ``drop`` to ``n_volumes - delay - 1``.

    Attributes
    ----------
    drop : int
        Volumes dropped at the start of the run.
    delay : int
        Hemodynamic delay in volumes.
    n_volumes : int
        Volumes in the run.
    """

    drop: int
    delay: int
    n_volumes: int

    @property
    def bold_volumes(self) -> np.ndarray:
        """BOLD volume indices of the pairs (the analysis window)."""
        return np.arange(self.drop + self.delay, self.n_volumes)

    @property
    def rating_volumes(self) -> np.ndarray:
        """Indices of the volumes whose midpoint gives each pair's rating."""
        return np.arange(self.drop, self.n_volumes - self.delay)


def alignment(
    n_volumes: int, tr: float, drop_seconds: float, delay_seconds: float
) -> Alignment:
    """Pair ratings with delayed BOLD volumes, for any repetition time.

    Parameters
    ----------
    n_volumes : int
        Volumes in the run.
    tr : float
        Repetition time in seconds.
    drop_seconds : float
        Initial seconds left out (``ceil(drop_seconds / tr)`` volumes).
    delay_seconds : float
        Hemodynamic delay (``round(delay_seconds / tr)`` volumes).

    Returns
    -------
    Alignment

    Raises
    ------
    ValueError
        When nothing is left to pair.
    """
    drop = math.ceil(drop_seconds / tr - 1e-9)
    delay = round(delay_seconds / tr)
    if drop + delay >= n_volumes:
        raise ValueError(
            f"a run of {n_volumes} volumes leaves no volume after dropping "
            f"{drop} and delaying by {delay}"
        )
    return Alignment(drop=drop, delay=delay, n_volumes=n_volumes)


def aligned_ratings(recording: Recording, align: Alignment, tr: float) -> np.ndarray:
    """Return the rating paired with each BOLD volume of the analysis window."""
    times = volume_midpoints(align.n_volumes, tr)[align.rating_volumes]
    return ratings_at(recording, times)
