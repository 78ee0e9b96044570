"""fMRIPrep confounds: nuisance regressors, framewise displacement, censoring."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from nilearn.interfaces.fmriprep import load_confounds
from nilearn.signal import butterworth

from painflow.fileio import read_tsv

MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


@dataclass(frozen=True)
class DenoiseSettings:
    """Denoising choices (config key ``denoise``).

    Attributes
    ----------
    motion : str
        nilearn's ``motion`` option: ``basic`` = the 6 rigid-body parameters.
    compcor : str
        nilearn's ``compcor`` option: ``anat_separated`` = WM and CSF apart.
    n_compcor : int
        aCompCor components per mask.
    fmriprep_cosines : bool
        Keep fMRIPrep's cosine regressors. nilearn loads them with aCompCor
        (fMRIPrep computes aCompCor after that high-pass); painflow high-passes
        the region series itself at ``high_pass_hz`` and drops them by default.
    detrend : bool
        Remove a linear trend.
    high_pass_hz, low_pass_hz : float or None
        Butterworth filter cut-offs of the region series.
    fd_threshold_mm : float
        Volumes whose framewise displacement exceeds it are censored.
    fd_low_pass_hz : float or None
        Low-pass cut-off of the motion parameters before computing FD.
    head_radius_mm : float
        Radius of the sphere that converts rotations to millimetres.
    max_censored_fraction : float
        Runs with a larger fraction of censored volumes are left out.
    """

    motion: str = "basic"
    compcor: str = "anat_separated"
    n_compcor: int = 5
    fmriprep_cosines: bool = False
    detrend: bool = True
    high_pass_hz: float | None = 0.005
    low_pass_hz: float | None = None
    fd_threshold_mm: float = 0.15
    fd_low_pass_hz: float | None = 0.1
    head_radius_mm: float = 50.0
    max_censored_fraction: float = 0.5


def nuisance_regressors(
    preproc_path: str | Path, confounds_path: str | Path, settings: DenoiseSettings
) -> pd.DataFrame:
    """Select the nuisance regressors of a run with nilearn's ``load_confounds``.

    Parameters
    ----------
    preproc_path : str or Path
        fMRIPrep's preprocessed BOLD; nilearn finds the confounds beside it.
    confounds_path : str or Path
        The ``desc-confounds_timeseries.tsv`` it should find (for messages).
    settings : DenoiseSettings

    Returns
    -------
    pandas.DataFrame
        One column per regressor, one row per volume.

    Raises
    ------
    ValueError
        Naming the confounds file when a regressor the strategy needs is
        missing.
    """
    strategy = ["motion"]
    if settings.n_compcor > 0:
        strategy += ["high_pass", "compcor"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=DeprecationWarning)
            regressors, _ = load_confounds(
                str(preproc_path),
                strategy=tuple(strategy),
                motion=settings.motion,
                compcor=settings.compcor,
                n_compcor=settings.n_compcor,
                demean=False,
            )
    except (ValueError, KeyError, FileNotFoundError) as error:
        raise ValueError(
            f"{confounds_path}: cannot select the regressors of strategy "
            f"{strategy} (motion={settings.motion}, compcor={settings.compcor}, "
            f"n_compcor={settings.n_compcor}): {error}"
        ) from error
    if not settings.fmriprep_cosines:
        regressors = regressors.loc[:, ~regressors.columns.str.startswith("cosine")]
    return regressors


def motion_parameters(confounds_path: str | Path) -> np.ndarray:
    """Return the 6 rigid-body parameters (mm, radians) of a confounds table.

    Raises
    ------
    ValueError
        Naming the file and the missing columns.
    """
    table = read_tsv(confounds_path)
    missing = [column for column in MOTION_COLUMNS if column not in table]
    if missing:
        raise ValueError(f"{confounds_path}: missing motion columns {missing}")
    return table.loc[:, list(MOTION_COLUMNS)].to_numpy(float)


def non_steady_state_volumes(confounds_path: str | Path) -> np.ndarray:
    """Return a boolean mask of the volumes fMRIPrep flagged as non-steady-state."""
    table = read_tsv(confounds_path)
    flags = table.loc[:, table.columns.str.startswith("non_steady_state_outlier")]
    return flags.fillna(0).to_numpy(float).sum(axis=1) > 0


def motion_in_mm(motion: np.ndarray, head_radius_mm: float = 50.0) -> np.ndarray:
    """Express rotations (radians) as arc lengths (mm) on a sphere.

    Parameters
    ----------
    motion : numpy.ndarray
        (volumes, 6): three translations (mm), then three rotations (rad).
    head_radius_mm : float
        Radius of the sphere.

    Returns
    -------
    numpy.ndarray
        (volumes, 6), all in mm.
    """
    motion = np.asarray(motion, dtype=float)
    return np.hstack([motion[:, :3], motion[:, 3:] * head_radius_mm])


def framewise_displacement(
    motion: np.ndarray,
    tr: float,
    low_pass_hz: float | None = 0.1,
    head_radius_mm: float = 50.0,
) -> np.ndarray:
    """Framewise displacement from low-pass filtered motion parameters.

    Multiband acquisitions alias respiration into the motion estimates; the
    low-pass removes it before displacement is summed.

    Parameters
    ----------
    motion : numpy.ndarray
        (volumes, 6): three translations (mm), then three rotations (rad).
    tr : float
        Repetition time in seconds.
    low_pass_hz : float or None
        Cut-off; None, or a cut-off at or above the Nyquist frequency, skips
        the filter.
    head_radius_mm : float
        Rotations become arc lengths on a sphere of this radius.

    Returns
    -------
    numpy.ndarray
        (volumes,) FD in mm; the first volume has 0.
    """
    params = motion_in_mm(motion, head_radius_mm)
    if low_pass_hz is not None and low_pass_hz < 0.5 / tr and len(params) > 15:
        params = butterworth(params, sampling_rate=1.0 / tr, low_pass=low_pass_hz)
    return np.concatenate([[0.0], np.abs(np.diff(params, axis=0)).sum(axis=1)])


def censored_volumes(
    confounds_path: str | Path, tr: float, settings: DenoiseSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Find the volumes to censor in a run.

    Returns
    -------
    censored : numpy.ndarray
        Boolean (volumes,): FD above threshold or non-steady-state.
    fd : numpy.ndarray
        The framewise displacement of each volume (mm).
    """
    fd = framewise_displacement(
        motion_parameters(confounds_path),
        tr,
        low_pass_hz=settings.fd_low_pass_hz,
        head_radius_mm=settings.head_radius_mm,
    )
    censored = (fd > settings.fd_threshold_mm) | non_steady_state_volumes(
        confounds_path
    )
    return censored, fd
