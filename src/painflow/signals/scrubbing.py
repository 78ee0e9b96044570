"""Scrubbing: denoise a run's time series with censored volumes left out.

painflow does the interpolation and censoring itself instead of passing
``sample_mask`` to :func:`nilearn.signal.clean`: nilearn 0.13-0.14 index the
censored volumes with ``~`` on an integer mask, so when the first and the last
volumes are both censored the cleaned series comes out shifted by one volume
against the ratings (``tests/test_scrubbing.py`` reproduces it). nilearn still
does what it does right: detrending, Butterworth filtering and confound
regression, each on a complete series.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from nilearn.signal import butterworth, clean
from scipy.interpolate import CubicSpline

from painflow.signals.confounds import DenoiseSettings


@dataclass(frozen=True)
class CleanedSeries:
    """Cleaned time series of the kept volumes, with their indices.

    Attributes
    ----------
    values : numpy.ndarray
        (kept volumes, signals).
    volumes : numpy.ndarray
        The run's index of each row of ``values``, increasing.
    """

    values: np.ndarray
    volumes: np.ndarray


def clean_series(
    series: np.ndarray,
    regressors: np.ndarray,
    censored: np.ndarray,
    tr: float,
    settings: DenoiseSettings,
) -> CleanedSeries:
    """Denoise time series, censored volumes excluded, in this order.

    1. Leading and trailing censored volumes are dropped: there is nothing to
       interpolate from on one side.
    2. Interior censored volumes of the signals and of the regressors are
       replaced by a cubic spline through the kept volumes.
    3. Signals and regressors are detrended and Butterworth filtered on this
       complete series (filters stay orthogonal to the regression).
    4. Only the kept volumes go on: the regressors, centred, are regressed out
       of the signals by least squares over them.

    Every step is linear in the signals, so cleaning region means equals
    averaging cleaned voxels.

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
    CleanedSeries
        The kept volumes, ``numpy.flatnonzero(~censored)``, and their values.

    Raises
    ------
    ValueError
        When every volume is censored.
    """
    censored = np.asarray(censored, dtype=bool)
    volumes = np.flatnonzero(~censored)
    if volumes.size == 0:
        raise ValueError(f"all {censored.size} volumes are censored")
    span = slice(volumes[0], volumes[-1] + 1)
    n_signals = series.shape[1]
    stacked = np.hstack([series, regressors]).astype(float)[span]
    stacked = interpolate_censored(stacked, censored[span], tr)
    filtered = detrend_and_filter(stacked, tr, settings)[~censored[span]]
    values = regress_out(filtered[:, :n_signals], filtered[:, n_signals:])
    return CleanedSeries(values=values, volumes=volumes)


def interpolate_censored(series: np.ndarray, censored: np.ndarray, tr: float):
    """Replace censored volumes by a cubic spline through the kept ones.

    Parameters
    ----------
    series : numpy.ndarray
        (volumes, signals); the first and last volumes must be kept.
    censored : numpy.ndarray
        Boolean (volumes,).
    tr : float
        Repetition time (s).

    Returns
    -------
    numpy.ndarray
        A copy of ``series`` with censored volumes interpolated.
    """
    series = np.array(series, dtype=float)
    if not censored.any():
        return series
    times = np.arange(len(series)) * tr
    spline = CubicSpline(times[~censored], series[~censored], axis=0)
    series[censored] = spline(times[censored])
    return series


def detrend_and_filter(
    series: np.ndarray, tr: float, settings: DenoiseSettings
) -> np.ndarray:
    """Detrend and Butterworth filter complete time series with nilearn.

    nilearn's ``clean`` filters column by column in place; its ``butterworth``
    with ``copy=True`` filters every column at once, with the same result.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        detrended = clean(
            series, detrend=settings.detrend, standardize=None, filter=False, t_r=tr
        )
    if settings.high_pass_hz is None and settings.low_pass_hz is None:
        return detrended
    return butterworth(
        detrended,
        sampling_rate=1.0 / tr,
        low_pass=settings.low_pass_hz,
        high_pass=settings.high_pass_hz,
        copy=True,
    )


def regress_out(signals: np.ndarray, regressors: np.ndarray) -> np.ndarray:
    """Remove the least-squares fit of centred regressors from the signals.

    nilearn standardizes the regressors (so they are centred) and projects
    the signals onto their orthogonal complement.
    """
    if regressors.shape[1] == 0:
        return signals
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        return clean(
            signals,
            detrend=False,
            standardize=None,
            confounds=regressors,
            standardize_confounds=True,
            filter=False,
        )
