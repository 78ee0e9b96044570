"""FMRIPrep-style confounds of a simulated run.

The columns fMRIPrep writes, computed from the simulated BOLD, motion and
physiological components: global, CSF and white-matter signals with their
expansions, the motion parameters with theirs, framewise displacement, DVARS,
aCompCor, the discrete cosine basis and, when a run has them, the
non-steady-state indicators (:mod:`painflow.simulation.artifacts`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from painflow.signals.confounds import MOTION_COLUMNS, framewise_displacement
from painflow.simulation.artifacts import non_steady_state_columns

N_COMPCOR = 5  # components per aCompCor mask
COMPCOR_MASKS = ("CSF", "WM", "combined")  # column order of a_comp_cor_XX
FMRIPREP_COSINE_PERIOD = 128.0  # s, cutoff of fMRIPrep's discrete cosine basis

# Tissue means of the ``csf`` and ``white_matter`` columns relative to the gray
# matter baseline (T2*-weighted contrast: CSF brighter, white matter darker).
_CSF_CONTRAST = 1.3
_WM_CONTRAST = 0.9


class IntensityScale(Protocol):
    """The simulation parameters the confounds depend on."""

    baseline_intensity: float
    bold_scale: float
    head_radius: float


def power_framewise_displacement(
    motion: np.ndarray, tr: float, head_radius: float = 50.0
) -> np.ndarray:
    """Power's framewise displacement as fMRIPrep writes it: unfiltered, NaN first.

    Parameters
    ----------
    motion : numpy.ndarray
        (volumes, 6): translations in mm, rotations in radians.
    tr : float
        Repetition time (s).
    head_radius : float

    Returns
    -------
    numpy.ndarray
    """
    fd = framewise_displacement(
        motion, tr, low_pass_hz=None, head_radius_mm=head_radius
    )
    fd[0] = np.nan
    return fd


def dct_basis(n_volumes: int, tr: float, period: float = FMRIPREP_COSINE_PERIOD):
    """Discrete cosine high-pass basis as in fMRIPrep's ``cosineXX`` columns.

    Parameters
    ----------
    n_volumes : int
    tr : float
    period : float
        Cutoff period (s); fMRIPrep uses 128 s.

    Returns
    -------
    numpy.ndarray
        (volumes, k) unit-norm cosines of the frequencies below ``1 / period``,
        without the constant.
    """
    order = max(int(np.floor(2 * n_volumes * tr / period)), 1)
    samples = np.arange(n_volumes) + 0.5
    k = np.arange(1, order)
    return np.sqrt(2.0 / n_volumes) * np.cos(np.pi / n_volumes * np.outer(samples, k))


def dvars(voxels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DVARS and standardized DVARS of voxel time series, NaN for volume 0.

    Parameters
    ----------
    voxels : numpy.ndarray
        (volumes, voxels).

    Returns
    -------
    dvars, std_dvars : numpy.ndarray
        Root mean square over voxels of the temporal difference, and the same
        divided by its expectation under stationarity (Nichols' robust
        estimate from each voxel's interquartile range and lag-1
        autocorrelation).
    """
    voxels = np.asarray(voxels, dtype=float)
    value = np.sqrt(np.mean(np.diff(voxels, axis=0) ** 2, axis=1))
    trend = np.vstack([np.ones(len(voxels)), np.arange(len(voxels))]).T
    residual = voxels - trend @ np.linalg.lstsq(trend, voxels, rcond=None)[0]
    q75, q25 = np.percentile(residual, [75, 25], axis=0)
    sd = (q75 - q25) / 1.349
    ar1 = np.sum(residual[1:] * residual[:-1], axis=0) / np.sum(residual**2, axis=0)
    expected = np.mean(np.sqrt(2.0 * (1.0 - ar1)) * sd)
    value = np.concatenate([[np.nan], value])
    return value, value / expected


def _with_expansions(name: str, values: np.ndarray) -> dict:
    """A confound with fMRIPrep's derivative and power expansions."""
    derivative = np.concatenate([[np.nan], np.diff(values)])
    return {
        name: values,
        f"{name}_derivative1": derivative,
        f"{name}_power2": values**2,
        f"{name}_derivative1_power2": derivative**2,
    }


def confounds_table(
    bold: np.ndarray,
    motion: np.ndarray,
    compcor: np.ndarray,
    compcor_amplitude: np.ndarray,
    tr: float,
    params: IntensityScale,
    non_steady_state: int = 0,
) -> pd.DataFrame:
    """Build an fMRIPrep-style confounds table of a run.

    Parameters
    ----------
    bold : numpy.ndarray
        (volumes, voxels) preprocessed BOLD inside the brain mask.
    motion : numpy.ndarray
        (volumes, 6) motion parameters (mm, radians).
    compcor : numpy.ndarray
        (volumes, 15) aCompCor columns: CSF, WM, combined.
    compcor_amplitude : numpy.ndarray
        (15,) amplitude of each component in the data.
    tr : float
    params : IntensityScale
        The simulation's parameters.
    non_steady_state : int
        Non-steady-state volumes at the start, each flagged by a
        ``non_steady_state_outlierXX`` column.

    Returns
    -------
    pandas.DataFrame
        ``global_signal``, ``csf``, ``white_matter`` and the six motion
        parameters with their ``_derivative1``, ``_power2`` and
        ``_derivative1_power2`` expansions, ``framewise_displacement``,
        ``dvars``, ``std_dvars``, ``a_comp_cor_XX``, ``cosineXX`` and any
        ``non_steady_state_outlierXX``.
    """
    n_volumes = len(bold)
    scaled = compcor * compcor_amplitude * np.sqrt(n_volumes)
    tissue = {
        "csf": _CSF_CONTRAST * params.baseline_intensity
        + params.bold_scale * scaled[:, :N_COMPCOR].sum(axis=1),
        "white_matter": _WM_CONTRAST * params.baseline_intensity
        + params.bold_scale * scaled[:, N_COMPCOR : 2 * N_COMPCOR].sum(axis=1),
    }
    columns = _with_expansions("global_signal", bold.mean(axis=1, dtype=float))
    for name, values in tissue.items():
        columns.update(_with_expansions(name, values))
    dvars_value, std_dvars = dvars(bold)
    columns["std_dvars"] = std_dvars
    columns["dvars"] = dvars_value
    columns["framewise_displacement"] = power_framewise_displacement(
        motion, tr, params.head_radius
    )
    for i in range(compcor.shape[1]):
        columns[f"a_comp_cor_{i:02d}"] = compcor[:, i]
    for i, cosine in enumerate(dct_basis(n_volumes, tr).T):
        columns[f"cosine{i:02d}"] = cosine
    for i, name in enumerate(MOTION_COLUMNS):
        columns.update(_with_expansions(name, motion[:, i]))
    columns.update(non_steady_state_columns(n_volumes, non_steady_state))
    return pd.DataFrame(columns)


def compcor_metadata(compcor_amplitude: np.ndarray, n_volumes: int) -> dict:
    """FMRIPrep's JSON description of the ``a_comp_cor_XX`` columns.

    Each mask's simulated signal consists of its components only, so the
    variance explained is relative to their sum.

    Parameters
    ----------
    compcor_amplitude : numpy.ndarray
        (15,) amplitudes of the CSF, WM and combined components.
    n_volumes : int

    Returns
    -------
    dict
        Column name to {Method, Mask, Retained, SingularValue,
        VarianceExplained, CumulativeVarianceExplained}.
    """
    metadata = {}
    for m, mask in enumerate(COMPCOR_MASKS):
        singular = compcor_amplitude[m * N_COMPCOR : (m + 1) * N_COMPCOR] * np.sqrt(
            n_volumes
        )
        total = np.sum(singular**2)
        explained = singular**2 / total if total > 0 else np.zeros(N_COMPCOR)
        for i in range(N_COMPCOR):
            metadata[f"a_comp_cor_{m * N_COMPCOR + i:02d}"] = {
                "Method": "aCompCor",
                "Mask": mask,
                "Retained": True,
                "SingularValue": round(float(singular[i]), 8),
                "VarianceExplained": round(float(explained[i]), 8),
                "CumulativeVarianceExplained": round(
                    float(explained[: i + 1].sum()), 8
                ),
            }
    return metadata
