"""Per-run signal extraction: parcellate, clean, censor and pair with ratings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from painflow.atlas.configured import atlas_region_means
from painflow.atlas.surface import GrayordinateAtlas
from painflow.atlas.volume import Atlas
from painflow.signals.confounds import (
    MOTION_COLUMNS,
    STD_DVARS_REPORTED,
    Censoring,
    DenoiseSettings,
    censoring,
    compcor_counts,
    motion_in_mm,
    nuisance_regressors,
)
from painflow.signals.ratings import aligned_ratings, alignment, read_recording
from painflow.signals.scrubbing import CleanedSeries, clean_series

# Head-motion summaries kept beside each volume: FD, then the six rigid-body
# parameters with rotations as arc lengths, all in mm.
MOTION_SUMMARIES = ("fd", *MOTION_COLUMNS)
PAIR_COLUMNS = ("volume", "time", "rating", *MOTION_SUMMARIES)
RATING_SUMMARIES = {
    "rating_min": np.min,
    "rating_max": np.max,
    "rating_mean": np.mean,
    "rating_sd": np.std,
}


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

    drop_initial_seconds: float
    hemodynamic_delay_seconds: float


@dataclass(frozen=True)
class RunFiles:
    """The inputs of one run.

    Attributes
    ----------
    bold : Path
        fMRIPrep's preprocessed BOLD.
    confounds : Path
        fMRIPrep's ``desc-confounds_timeseries.tsv``.
    ratings : Path or None
        The ``recording-<label>_physio.tsv.gz`` rating recording (None for a
        run without ratings).
    """

    bold: Path
    confounds: Path
    ratings: Path | None


def extract_run(
    files: RunFiles,
    tr: float,
    atlas: Atlas | GrayordinateAtlas,
    denoise: DenoiseSettings,
    align: AlignmentSettings,
    rating_column: str,
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
        delay; NaN for a run without a recording, ``files.ratings`` None),
        ``fd`` and the six motion parameters (``MOTION_SUMMARIES``, mm),
        then one column per region. Empty when the run is
        left out.
    qc : dict
        Quality measures, the analysis window and whether the run is included.
        Censoring is counted by reason (``n_non_steady_state``,
        ``n_dummy_censored`` over the run; ``n_censored_spike_fd``,
        ``n_censored_spike_std_dvars`` in the window), with
        ``n_std_dvars_above_1_5`` (kept window volumes whose std_dvars exceeds
        1.5; None without the column) and the aCompCor components actually
        used per mask (``n_compcor_wm``, ``n_compcor_csf``,
        ``n_compcor_combined``).
    """
    run = _parcellate_and_censor(files, tr, atlas, denoise, align)
    ratings = _window_ratings(files.ratings, rating_column, run.pairs, tr)
    qc = _run_qc(run.found, run.window, ratings, run.pairs, tr, denoise)
    qc.update(compcor_counts(run.regressors, files.confounds, denoise))
    if not qc["included"]:
        return pd.DataFrame(columns=[*PAIR_COLUMNS, *atlas.names]), qc
    table, volumes, positions = _kept_volumes(run, tr, denoise, atlas.names)
    motion = motion_in_mm(run.found.motion, denoise.head_radius_mm)
    for position, column in enumerate(MOTION_COLUMNS):
        table.insert(3 + position, column, motion[volumes, position])
    table.insert(2, "rating", ratings[positions])
    return table, qc


def extract_rest_run(
    bold: str | Path,
    confounds: str | Path,
    tr: float,
    atlas: Atlas | GrayordinateAtlas,
    denoise: DenoiseSettings,
    align: AlignmentSettings,
) -> tuple[pd.DataFrame, dict]:
    """Clean region series of a run without ratings, in the rating runs' window.

    The run is parcellated, censored and cleaned as a rating run is (with the
    filter ``denoise`` gives: the rest runs' band-pass), and its analysis
    window starts where a rating run's would (the initial drop and the
    hemodynamic delay), so that a decoder sees the same kind of volumes.

    Parameters
    ----------
    bold, confounds : str or Path
        fMRIPrep's preprocessed BOLD and confounds table of the run.
    tr : float
        Repetition time (s).
    atlas : Atlas or GrayordinateAtlas
    denoise : DenoiseSettings
    align : AlignmentSettings

    Returns
    -------
    table : pandas.DataFrame
        One row per kept volume of the window: ``volume``, ``time``, ``fd``,
        then one column per region; empty when the run is left out.
    qc : dict
        The censoring measures of :func:`extract_run`'s record, without the
        rating's, and whether the run is included.
    """
    files = RunFiles(bold=Path(bold), confounds=Path(confounds), ratings=None)
    run = _parcellate_and_censor(files, tr, atlas, denoise, align)
    qc = _censoring_qc(run.found, run.window, run.pairs, tr, denoise)
    qc.update(compcor_counts(run.regressors, files.confounds, denoise))
    if not qc["included"]:
        return pd.DataFrame(columns=["volume", "time", "fd", *atlas.names]), qc
    return _kept_volumes(run, tr, denoise, atlas.names)[0], qc


def _window_ratings(
    path: Path | None, rating_column: str, pairs, tr: float
) -> np.ndarray:
    """The rating of each window volume; NaN without a recording (to predict)."""
    if path is None:
        return np.full(len(pairs.bold_volumes), np.nan)
    return aligned_ratings(read_recording(path, rating_column), pairs, tr)


@dataclass(frozen=True)
class _CensoredRun:
    """A run's region series, analysis window, censoring and regressors."""

    series: np.ndarray
    pairs: object
    found: Censoring
    regressors: pd.DataFrame

    @property
    def window(self) -> np.ndarray:
        """The analysis window's BOLD volumes."""
        return self.pairs.bold_volumes


def _parcellate_and_censor(
    files: RunFiles,
    tr: float,
    atlas: Atlas | GrayordinateAtlas,
    denoise: DenoiseSettings,
    align: AlignmentSettings,
) -> _CensoredRun:
    """Region series, window, censoring and regressors of a run, lengths checked."""
    series = atlas_region_means(files.bold, atlas)
    pairs = alignment(
        len(series), tr, align.drop_initial_seconds, align.hemodynamic_delay_seconds
    )
    found = censoring(files.confounds, tr, denoise)
    _check_length(files, len(series), len(found.fd))
    regressors = nuisance_regressors(files.bold, files.confounds, denoise)
    return _CensoredRun(series, pairs, found, regressors)


def _kept_volumes(
    run: _CensoredRun, tr: float, denoise: DenoiseSettings, names: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Clean a run; its kept window volumes as ``volume, time, fd`` + regions.

    Also returns the kept volumes' BOLD indices and their positions in the
    window (:func:`paired_volumes`).
    """
    cleaned = clean_series(
        run.series, run.regressors.to_numpy(float), run.found.censored, tr, denoise
    )
    volumes, rows, positions = paired_volumes(cleaned, run.window)
    table = pd.DataFrame(cleaned.values[rows], columns=names)
    table.insert(0, "fd", run.found.fd[volumes])
    table.insert(0, "time", (volumes + 0.5) * tr)
    table.insert(0, "volume", volumes)
    return table, volumes, positions


def paired_volumes(
    cleaned: CleanedSeries, window: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair the cleaned volumes of the analysis window with their ratings.

    Pairing goes through the volume indices the cleaning carried, so ratings,
    motion and BOLD cannot slip against each other whatever was censored.

    Parameters
    ----------
    cleaned : CleanedSeries
        The run's kept volumes and their cleaned values.
    window : numpy.ndarray
        The analysis window's BOLD volumes, increasing; the rating of
        ``window[k]`` is the k-th aligned rating.

    Returns
    -------
    volumes : numpy.ndarray
        BOLD indices of the kept volumes in the window.
    rows : numpy.ndarray
        Their rows in ``cleaned.values``.
    positions : numpy.ndarray
        Their positions in ``window`` (and in the aligned ratings).
    """
    rows = np.flatnonzero(np.isin(cleaned.volumes, window))
    volumes = cleaned.volumes[rows]
    return volumes, rows, np.searchsorted(window, volumes)


def _check_length(files: RunFiles, n_bold: int, n_confounds: int) -> None:
    """Raise when the confounds table and the BOLD have different lengths."""
    if n_bold != n_confounds:
        raise ValueError(
            f"{files.confounds}: {n_confounds} rows, but {files.bold} has "
            f"{n_bold} volumes"
        )


def _run_qc(
    found: Censoring,
    window: np.ndarray,
    ratings: np.ndarray,
    pairs,
    tr: float,
    denoise: DenoiseSettings,
) -> dict:
    """Quality measures of a rating run and the decision to include it."""
    qc = _censoring_qc(found, window, pairs, tr, denoise)
    included = qc.pop("included"), qc.pop("reason")
    rated = not np.isnan(ratings).all()
    qc.update(
        {
            name: round(float(summary(ratings)), 6) if rated else None
            for name, summary in RATING_SUMMARIES.items()
        }
    )
    qc["included"], qc["reason"] = included
    return qc


def _censoring_qc(
    found: Censoring,
    window: np.ndarray,
    pairs,
    tr: float,
    denoise: DenoiseSettings,
) -> dict:
    """Censoring measures of a run's window and the decision to include it."""
    censored = found.censored[window]
    fraction = float(censored.mean())
    included = fraction <= denoise.max_censored_fraction
    reason = (
        ""
        if included
        else f"{fraction:.0%} of volumes censored (limit "
        f"{denoise.max_censored_fraction:.0%})"
    )
    kept_std_dvars = found.std_dvars[window][~censored]
    return {
        "RepetitionTime": float(tr),
        "n_volumes": int(len(found.fd)),
        "window_start": int(window[0]),
        "window_stop": int(window[-1] + 1),
        "drop_volumes": int(pairs.drop),
        "delay_volumes": int(pairs.delay),
        "n_censored": int(censored.sum()),
        "fraction_censored": round(fraction, 6),
        "n_non_steady_state": int(found.reasons["non_steady_state"].sum()),
        "n_dummy_censored": int(found.reasons["dummy"].sum()),
        "n_censored_spike_fd": int(found.reasons["spike_fd"][window].sum()),
        "n_censored_spike_std_dvars": int(
            found.reasons["spike_std_dvars"][window].sum()
        ),
        "n_std_dvars_above_1_5": (
            None
            if np.isnan(found.std_dvars).all()
            else int((kept_std_dvars > STD_DVARS_REPORTED).sum())
        ),
        "mean_fd": round(float(found.fd.mean()), 6),
        "included": bool(included),
        "reason": reason,
    }
