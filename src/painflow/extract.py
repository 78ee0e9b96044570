"""Per-run signal extraction: parcellate, clean, censor and pair with ratings."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from nilearn.signal import clean

from painflow.configured_atlas import atlas_region_means
from painflow.confounds import (
    MOTION_COLUMNS,
    DenoiseSettings,
    censored_volumes,
    motion_in_mm,
    motion_parameters,
    nuisance_regressors,
)
from painflow.grayordinates import GrayordinateAtlas
from painflow.parcellate import Atlas
from painflow.ratings import aligned_ratings, alignment, read_recording

# Head-motion summaries kept beside each volume: FD, then the six rigid-body
# parameters with rotations as arc lengths, all in mm.
MOTION_SUMMARIES = ("fd", *MOTION_COLUMNS)
PAIR_COLUMNS = ("volume", "time", "rating", *MOTION_SUMMARIES)


@dataclass(frozen=True)
class AlignmentSettings:
    """Rating alignment (config key ``alignment``).

    Attributes
    ----------
    drop_initial_seconds : float
        Seconds at the start of each run left out of the analysis.
    hemodynamic_delay_seconds : float
        BOLD lags the rating by this much.
    """

    drop_initial_seconds: float = 30.0
    hemodynamic_delay_seconds: float = 6.0


@dataclass(frozen=True)
class RunFiles:
    """The inputs of one run.

    Attributes
    ----------
    bold : Path
        fMRIPrep's preprocessed BOLD.
    confounds : Path
        fMRIPrep's ``desc-confounds_timeseries.tsv``.
    ratings : Path
        The ``recording-<label>_physio.tsv.gz`` rating recording.
    """

    bold: Path
    confounds: Path
    ratings: Path


def clean_series(
    series: np.ndarray,
    regressors: np.ndarray,
    censored: np.ndarray,
    tr: float,
    settings: DenoiseSettings,
) -> np.ndarray:
    """Denoise time series with nilearn, censored volumes excluded.

    Censored volumes are interpolated over before filtering and left out of
    the result (nilearn's ``sample_mask``). Every step is linear, so cleaning
    region means equals averaging cleaned voxels.

    Parameters
    ----------
    series : numpy.ndarray
        (volumes, signals).
    regressors : numpy.ndarray
        (volumes, regressors) nuisance regressors.
    censored : numpy.ndarray
        Boolean (volumes,).
    tr : float
        Repetition time (s).
    settings : DenoiseSettings

    Returns
    -------
    numpy.ndarray
        (uncensored volumes, signals).
    """
    filtering = settings.high_pass_hz is not None or settings.low_pass_hz is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        return clean(
            series,
            detrend=settings.detrend,
            standardize=False,
            confounds=regressors if regressors.shape[1] else None,
            high_pass=settings.high_pass_hz,
            low_pass=settings.low_pass_hz,
            t_r=tr,
            filter="butterworth" if filtering else False,
            sample_mask=np.flatnonzero(~censored),
        )


def extract_run(
    files: RunFiles,
    tr: float,
    atlas: Atlas | GrayordinateAtlas,
    denoise: DenoiseSettings,
    align: AlignmentSettings,
    rating_column: str = "pain",
) -> tuple[pd.DataFrame, dict]:
    """Clean region series of one run and pair each kept volume with its rating.

    Parameters
    ----------
    files : RunFiles
    tr : float
        Repetition time (s).
    atlas : Atlas or GrayordinateAtlas
        A volume atlas for NIfTI BOLD, a dlabel atlas for a dense CIFTI.
    denoise : DenoiseSettings
    align : AlignmentSettings
    rating_column : str
        The rating's column in the recording.

    Returns
    -------
    table : pandas.DataFrame
        One row per retained volume of the analysis window: ``volume`` (BOLD
        index), ``time`` (its midpoint, s), ``rating`` (at ``time`` minus the
        delay), ``fd`` and the six motion parameters (``MOTION_SUMMARIES``, mm),
        then one column per region. Empty when the run is
        left out.
    qc : dict
        Quality measures, the analysis window and whether the run is included.
    """
    recording = read_recording(files.ratings, rating_column)
    series = atlas_region_means(files.bold, atlas)
    pairs = alignment(
        len(series), tr, align.drop_initial_seconds, align.hemodynamic_delay_seconds
    )
    ratings = aligned_ratings(recording, pairs, tr)
    censored, fd = censored_volumes(files.confounds, tr, denoise)
    _check_length(files, len(series), len(fd))
    window = pairs.bold_volumes
    kept = ~censored[window]
    qc = _run_qc(fd, censored, window, ratings, pairs, tr, denoise)
    columns = [*PAIR_COLUMNS, *atlas.names]
    if not qc["included"]:
        return pd.DataFrame(columns=columns), qc
    regressors = nuisance_regressors(files.bold, files.confounds, denoise)
    cleaned = np.full_like(series, np.nan)
    cleaned[~censored] = clean_series(
        series, regressors.to_numpy(float), censored, tr, denoise
    )
    volumes = window[kept]
    motion = motion_in_mm(motion_parameters(files.confounds), denoise.head_radius_mm)
    table = pd.DataFrame(cleaned[volumes], columns=atlas.names)
    for position, column in enumerate(MOTION_COLUMNS):
        table.insert(position, column, motion[volumes, position])
    table.insert(0, "fd", fd[volumes])
    table.insert(0, "rating", ratings[kept])
    table.insert(0, "time", (volumes + 0.5) * tr)
    table.insert(0, "volume", volumes)
    return table, qc


def _check_length(files: RunFiles, n_bold: int, n_confounds: int) -> None:
    """Raise when the confounds table and the BOLD have different lengths."""
    if n_bold != n_confounds:
        raise ValueError(
            f"{files.confounds}: {n_confounds} rows, but {files.bold} has "
            f"{n_bold} volumes"
        )


def _run_qc(
    fd: np.ndarray,
    censored: np.ndarray,
    window: np.ndarray,
    ratings: np.ndarray,
    pairs,
    tr: float,
    denoise: DenoiseSettings,
) -> dict:
    """Quality measures of a run and the decision to include it."""
    fraction = float(censored[window].mean())
    included = fraction <= denoise.max_censored_fraction
    reason = (
        ""
        if included
        else f"{fraction:.0%} of volumes censored (limit "
        f"{denoise.max_censored_fraction:.0%})"
    )
    return {
        "RepetitionTime": float(tr),
        "n_volumes": int(len(fd)),
        "window_start": int(window[0]),
        "window_stop": int(window[-1] + 1),
        "drop_volumes": int(pairs.drop),
        "delay_volumes": int(pairs.delay),
        "n_censored": int(censored[window].sum()),
        "fraction_censored": round(fraction, 6),
        "mean_fd": round(float(fd.mean()), 6),
        "rating_min": round(float(ratings.min()), 6),
        "rating_max": round(float(ratings.max()), 6),
        "rating_mean": round(float(ratings.mean()), 6),
        "rating_sd": round(float(ratings.std()), 6),
        "included": bool(included),
        "reason": reason,
    }
