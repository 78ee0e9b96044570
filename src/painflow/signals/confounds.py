"""fMRIPrep confounds: nuisance regressors, framewise displacement, censoring."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from nilearn.interfaces.fmriprep import load_confounds
from nilearn.signal import butterworth

from painflow.core.fileio import read_json, read_tsv

MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
# Masks of aCompCor components in fMRIPrep's confounds JSON.
COMPCOR_MASKS = ("WM", "CSF", "combined")
# std_dvars above this is reported for kept volumes (QC), whatever is censored.
STD_DVARS_REPORTED = 1.5
# nilearn's 5th-order low-pass Butterworth runs through scipy's sosfiltfilt,
# which pads 18 samples at each end: a shorter series cannot be filtered.
MIN_LOW_PASS_VOLUMES = 19


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
    dummy_seconds : float
        The first ``ceil(dummy_seconds / TR)`` volumes of each run are
        censored (data without fMRIPrep's non-steady-state columns).
    spike_std_dvars : float or None
        Also censor volumes whose fMRIPrep ``std_dvars`` exceeds it.
    spike_fd_mm : float or None
        Also censor volumes whose framewise displacement from unfiltered
        motion exceeds it.
    """

    motion: str
    compcor: str
    n_compcor: int
    fmriprep_cosines: bool
    detrend: bool
    high_pass_hz: float | None
    low_pass_hz: float | None
    fd_threshold_mm: float
    fd_low_pass_hz: float | None
    head_radius_mm: float
    max_censored_fraction: float
    dummy_seconds: float
    spike_std_dvars: float | None
    spike_fd_mm: float | None


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
            f"n_compcor={settings.n_compcor}; aCompCor components listed per "
            f"mask: {_listed_compcor(confounds_path)}): {error!r}"
        ) from error
    if not settings.fmriprep_cosines:
        regressors = regressors.loc[:, ~regressors.columns.str.startswith("cosine")]
    return regressors


def compcor_counts(
    regressors: pd.DataFrame, confounds_path: str | Path, settings: DenoiseSettings
) -> dict[str, int]:
    """Count the aCompCor components selected per mask, warning when short.

    fMRIPrep keeps the components that explain half the variance of a mask,
    which can be fewer than ``n_compcor``; nilearn then selects fewer columns
    without a word. The counts go into the run's QC record.

    Parameters
    ----------
    regressors : pandas.DataFrame
        The selected regressors (:func:`nuisance_regressors`).
    confounds_path : str or Path
        The confounds table; its JSON sidecar names each component's mask.
    settings : DenoiseSettings

    Returns
    -------
    dict
        ``n_compcor_wm``, ``n_compcor_csf`` and ``n_compcor_combined``.
    """
    masks = _compcor_masks(confounds_path)
    counts = {mask: 0 for mask in COMPCOR_MASKS}
    for column in regressors.columns:
        if column in masks:
            counts[masks[column]] += 1
    asked = ("combined",) if settings.compcor == "anat_combined" else ("WM", "CSF")
    short = [mask for mask in asked if counts[mask] < settings.n_compcor]
    if short:
        found = ", ".join(f"{counts[mask]} {mask}" for mask in short)
        warnings.warn(
            f"{confounds_path}: {found} aCompCor components where "
            f"{settings.n_compcor} per mask were asked",
            stacklevel=2,
        )
    return {f"n_compcor_{mask.lower()}": count for mask, count in counts.items()}


def _compcor_masks(confounds_path: str | Path) -> dict[str, str]:
    """Map each aCompCor column of the JSON sidecar to its mask."""
    sidecar = Path(confounds_path).with_suffix(".json")
    if not sidecar.exists():
        return {}
    return {
        column: entry["Mask"]
        for column, entry in read_json(sidecar).items()
        if isinstance(entry, dict) and entry.get("Mask") in COMPCOR_MASKS
    }


def _listed_compcor(confounds_path: str | Path) -> dict[str, int]:
    """Number of aCompCor components the JSON sidecar lists per mask."""
    masks = list(_compcor_masks(confounds_path).values())
    return {mask: masks.count(mask) for mask in COMPCOR_MASKS}


def motion_parameters(confounds_path: str | Path) -> np.ndarray:
    """Return the 6 rigid-body parameters (mm, radians) of a confounds table.

    Raises
    ------
    ValueError
        Naming the file and the missing columns.
    """
    return _motion(read_tsv(confounds_path), confounds_path)


def _motion(table: pd.DataFrame, confounds_path: str | Path) -> np.ndarray:
    """The motion columns of a confounds table, naming the file if missing."""
    missing = [column for column in MOTION_COLUMNS if column not in table]
    if missing:
        raise ValueError(f"{confounds_path}: missing motion columns {missing}")
    return table.loc[:, list(MOTION_COLUMNS)].to_numpy(float)


def non_steady_state_volumes(confounds_path: str | Path) -> np.ndarray:
    """Return a boolean mask of the volumes fMRIPrep flagged as non-steady-state."""
    return _non_steady_state(read_tsv(confounds_path))


def _non_steady_state(table: pd.DataFrame) -> np.ndarray:
    """Volumes flagged by any ``non_steady_state_outlierXX`` column."""
    flags = table.loc[:, table.columns.str.startswith("non_steady_state_outlier")]
    return flags.fillna(0).to_numpy(float).sum(axis=1) > 0


def motion_in_mm(motion: np.ndarray, head_radius_mm: float) -> np.ndarray:
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
    low_pass_hz: float | None,
    head_radius_mm: float,
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
        Cut-off; None, a cut-off at or above the Nyquist frequency, or a run
        shorter than ``MIN_LOW_PASS_VOLUMES`` skips the filter.
    head_radius_mm : float
        Rotations become arc lengths on a sphere of this radius.

    Returns
    -------
    numpy.ndarray
        (volumes,) FD in mm; the first volume has 0.
    """
    params = motion_in_mm(motion, head_radius_mm)
    if (
        low_pass_hz is not None
        and low_pass_hz < 0.5 / tr
        and len(params) >= MIN_LOW_PASS_VOLUMES
    ):
        params = butterworth(params, sampling_rate=1.0 / tr, low_pass=low_pass_hz)
    return np.concatenate([[0.0], np.abs(np.diff(params, axis=0)).sum(axis=1)])


@dataclass(frozen=True)
class Censoring:
    """The censored volumes of a run and why.

    Attributes
    ----------
    censored : numpy.ndarray
        Boolean (volumes,): censored for any reason below.
    fd : numpy.ndarray
        Framewise displacement of each volume from low-pass filtered motion
        (mm), the study's measure.
    reasons : dict
        Boolean (volumes,) per reason: ``fd`` (filtered FD above threshold),
        ``non_steady_state``, ``dummy``, ``spike_fd`` (unfiltered FD above
        ``spike_fd_mm``) and ``spike_std_dvars``; the options left off are
        all False.
    std_dvars : numpy.ndarray
        fMRIPrep's standardized DVARS (NaN where missing or absent).
    motion : numpy.ndarray
        (volumes, 6) rigid-body parameters as read (mm, radians).
    """

    censored: np.ndarray
    fd: np.ndarray
    reasons: dict
    std_dvars: np.ndarray
    motion: np.ndarray


def censoring(
    confounds_path: str | Path, tr: float, settings: DenoiseSettings
) -> Censoring:
    """Find the volumes to censor in a run, and why.

    The study censors volumes whose FD, computed from motion low-pass filtered
    at 0.1 Hz, exceeds 0.15 mm. The filter removes respiration aliased into
    multiband motion estimates, but it also flattens brief jerks: a one-volume
    jerk of 1.5 mm at TR 0.8 s gives a filtered FD of about 0.05 mm and is
    never censored. ``spike_fd_mm`` (FD of unfiltered motion) and
    ``spike_std_dvars`` (fMRIPrep's standardized DVARS) catch such volumes;
    both are off by default, as in the study.

    Parameters
    ----------
    confounds_path : str or Path
        fMRIPrep's confounds table.
    tr : float
        Repetition time (s).
    settings : DenoiseSettings

    Returns
    -------
    Censoring

    Raises
    ------
    ValueError
        Naming the file when a motion column, or ``std_dvars`` while
        ``spike_std_dvars`` is set, is missing.
    """
    table = read_tsv(confounds_path)
    motion = _motion(table, confounds_path)
    fd = framewise_displacement(
        motion,
        tr,
        low_pass_hz=settings.fd_low_pass_hz,
        head_radius_mm=settings.head_radius_mm,
    )
    std_dvars = _std_dvars(table, confounds_path, settings.spike_std_dvars)
    n_dummy = math.ceil(settings.dummy_seconds / tr - 1e-9)
    reasons = {
        "fd": fd > settings.fd_threshold_mm,
        "non_steady_state": _non_steady_state(table),
        "dummy": np.arange(len(table)) < n_dummy,
        "spike_fd": _above(
            framewise_displacement(motion, tr, None, settings.head_radius_mm),
            settings.spike_fd_mm,
        ),
        "spike_std_dvars": _above(std_dvars, settings.spike_std_dvars),
    }
    censored = np.logical_or.reduce(list(reasons.values()))
    return Censoring(
        censored=censored, fd=fd, reasons=reasons, std_dvars=std_dvars, motion=motion
    )


def _above(values: np.ndarray, threshold: float | None) -> np.ndarray:
    """Where values exceed an optional threshold (never where NaN or off)."""
    if threshold is None:
        return np.zeros(len(values), dtype=bool)
    return np.nan_to_num(values, nan=-np.inf) > threshold


def _std_dvars(
    table: pd.DataFrame, confounds_path: str | Path, threshold: float | None
) -> np.ndarray:
    """The ``std_dvars`` column (NaN when absent, an error if it is needed)."""
    if "std_dvars" in table:
        return table["std_dvars"].to_numpy(float)
    if threshold is not None:
        raise ValueError(
            f"{confounds_path}: no std_dvars column, which denoise.spike_std_dvars "
            "needs"
        )
    return np.full(len(table), np.nan)


def censored_volumes(
    confounds_path: str | Path, tr: float, settings: DenoiseSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Find the volumes to censor in a run (:func:`censoring`).

    Returns
    -------
    censored : numpy.ndarray
        Boolean (volumes,): censored for any reason.
    fd : numpy.ndarray
        The framewise displacement of each volume (mm).
    """
    found = censoring(confounds_path, tr, settings)
    return found.censored, found.fd
