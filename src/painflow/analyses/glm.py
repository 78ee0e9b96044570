"""Univariate GLM of the ratings: first-level design, OLS weights, second level.

The first level of a session stacks its rating runs: one rating regressor
(the ratings convolved with the canonical HRF) shared by the runs, and a
block-diagonal nuisance design, one block per run. The model is the same for
every voxel or grayordinate, so the rating's OLS effect is one weight vector
over the volumes applied to every column of the data; the data can then be
read a few volumes at a time (:mod:`painflow.analyses.glmdata`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from nilearn.glm.first_level import compute_regressor, make_first_level_design_matrix
from scipy import linalg, stats

from painflow.signals.confounds import DenoiseSettings, censoring, nuisance_regressors
from painflow.signals.extract import RunFiles
from painflow.signals.ratings import (
    alignment,
    ratings_at,
    read_recording,
    volume_midpoints,
)

RATING = "rating"
NO_NETWORK = "n/a"


@dataclass(frozen=True)
class GlmSettings:
    """Univariate GLM choices (config key ``glm``).

    Attributes
    ----------
    enabled : bool
        Whether the workflow makes the maps at all.
    smoothing_fwhm_mm : float
        Spatial smoothing of the first-level effect maps (FWHM, mm; 0: none).
    fdr_q : float
        Benjamini-Hochberg false discovery rate of the second level.
    hrf_model : str
        nilearn's HRF model of the rating regressor (``glover``: SPM's
        canonical HRF).
    chunk_volumes : int
        Volumes of data read at a time.
    """

    enabled: bool
    smoothing_fwhm_mm: float
    fdr_q: float
    hrf_model: str
    chunk_volumes: int


@dataclass(frozen=True)
class RunDesign:
    """The first-level design of one run, over its kept volumes.

    Attributes
    ----------
    volumes : numpy.ndarray
        The run's volume index of each row (the volumes after the drop).
    rating : numpy.ndarray
        The HRF-convolved ratings at those volumes.
    nuisance : pandas.DataFrame
        The run's nuisance regressors at those volumes: intercept, linear
        trend, cosine high-pass, the confounds given, one spike per censored
        volume.
    n_volumes : int
        Volumes in the run.
    """

    volumes: np.ndarray
    rating: np.ndarray
    nuisance: pd.DataFrame
    n_volumes: int


def rating_regressor(ratings: np.ndarray, tr: float, hrf_model: str) -> np.ndarray:
    """Ratings at each volume convolved with the HRF (not delay-shifted).

    Each volume's rating is a block of one TR starting at the volume's onset;
    nilearn convolves the blocks with the HRF and samples the result at the
    volume onsets.

    Parameters
    ----------
    ratings : numpy.ndarray
        (volumes,) the rating at the middle of each volume.
    tr : float
        Repetition time (s).
    hrf_model : str
        nilearn's HRF model.

    Returns
    -------
    numpy.ndarray
        (volumes,) the regressor.
    """
    onsets = np.arange(len(ratings)) * tr
    blocks = np.vstack([onsets, np.full(len(ratings), tr), np.asarray(ratings, float)])
    regressor, _ = compute_regressor(blocks, hrf_model, onsets)
    return regressor[:, 0]


def nuisance_design(
    n_volumes: int, tr: float, confounds: pd.DataFrame, high_pass_hz: float | None
) -> pd.DataFrame:
    """A run's confounds, a linear trend, nilearn's cosine drifts and an intercept."""
    confounds = pd.concat(
        [
            pd.DataFrame({"trend": np.linspace(-1.0, 1.0, n_volumes)}),
            confounds.reset_index(drop=True),
        ],
        axis=1,
    )
    return make_first_level_design_matrix(
        np.arange(n_volumes) * tr,
        drift_model=None if high_pass_hz is None else "cosine",
        high_pass=high_pass_hz or 0.01,
        add_regs=np.nan_to_num(confounds.to_numpy(float)),
        add_reg_names=list(confounds.columns),
    )


def run_design(
    ratings: np.ndarray,
    tr: float,
    confounds: pd.DataFrame,
    censored: np.ndarray,
    drop: int,
    hrf_model: str,
    high_pass_hz: float,
) -> RunDesign:
    """The first-level design of one run.

    Parameters
    ----------
    ratings : numpy.ndarray
        (volumes,) the rating at the middle of each volume of the run.
    tr : float
        Repetition time (s).
    confounds : pandas.DataFrame
        (volumes, regressors): motion and aCompCor, as the pipeline selects them.
    censored : numpy.ndarray
        Boolean (volumes,): censored volumes, each given a spike regressor.
    drop : int
        Leading volumes left out (the HRF is convolved over them first).
    hrf_model : str
        nilearn's HRF model.
    high_pass_hz : float
        Cut-off of the cosine high-pass regressors.

    Returns
    -------
    RunDesign
    """
    n_volumes = len(ratings)
    volumes = np.arange(drop, n_volumes)
    nuisance = nuisance_design(n_volumes, tr, confounds, high_pass_hz).iloc[drop:]
    spike_volumes = volumes[np.asarray(censored, bool)[drop:]]
    spikes = (volumes[:, None] == spike_volumes[None, :]).astype(float)
    names = [*nuisance.columns, *(f"spike{v}" for v in spike_volumes)]
    return RunDesign(
        volumes=volumes,
        rating=rating_regressor(ratings, tr, hrf_model)[drop:],
        nuisance=pd.DataFrame(np.hstack([nuisance, spikes]), columns=names),
        n_volumes=n_volumes,
    )


def design_of_run(
    files: RunFiles,
    tr: float,
    denoise: DenoiseSettings,
    drop_seconds: float,
    rating_column: str,
    settings: GlmSettings,
) -> tuple[RunDesign, float]:
    """The first-level design of a run from its files.

    The regressors and the censored volumes are the pipeline's own
    (:func:`painflow.signals.confounds.nuisance_regressors`, :func:`censoring`).

    Parameters
    ----------
    files : RunFiles
        The run's preprocessed BOLD, confounds and rating recording.
    tr : float
        Repetition time (s).
    denoise : DenoiseSettings
        Regressor selection, censoring and the high-pass cut-off.
    drop_seconds : float
        Leading seconds left out (config ``alignment.drop_initial_seconds``).
    rating_column : str
        The rating's column in the recording.
    settings : GlmSettings

    Returns
    -------
    design : RunDesign
    fraction_censored : float
        Censored share of the kept volumes.
    """
    confounds = nuisance_regressors(files.bold, files.confounds, denoise)
    n_volumes = len(confounds)
    drop = alignment(n_volumes, tr, drop_seconds, 0.0).drop
    recording = read_recording(files.ratings, rating_column)
    times = volume_midpoints(n_volumes, tr)
    ratings_at(recording, times[drop:])  # the kept volumes must be rated
    # Before the drop the convolution only needs a history: edge values held.
    ratings = np.interp(times, recording.times, recording.values)
    censored = censoring(files.confounds, tr, denoise).censored
    design = run_design(
        ratings,
        tr,
        confounds,
        censored,
        drop,
        settings.hrf_model,
        denoise.high_pass_hz,
    )
    return design, float(censored[drop:].mean())


def session_design(runs: list[RunDesign], labels: list[str]) -> pd.DataFrame:
    """A session's design: the shared rating column, nuisance block-diagonal.

    Parameters
    ----------
    runs : list of RunDesign
    labels : list of str
        The runs' labels, prefixed to their nuisance columns.

    Returns
    -------
    pandas.DataFrame
        (kept volumes of every run, 1 + nuisance columns); ``rating`` first.
    """
    blocks = linalg.block_diag(*(run.nuisance.to_numpy() for run in runs))
    names = [
        f"run-{label}_{c}"
        for run, label in zip(runs, labels, strict=True)
        for c in run.nuisance
    ]
    rating = np.concatenate([run.rating for run in runs])
    return pd.DataFrame(np.column_stack([rating, blocks]), columns=[RATING, *names])


def rating_weights(design: pd.DataFrame) -> np.ndarray:
    """OLS weights giving the rating's effect: its row of the pseudo-inverse.

    The effect of every data column ``y`` is ``weights @ y``.

    Parameters
    ----------
    design : pandas.DataFrame
        From :func:`session_design`.

    Returns
    -------
    numpy.ndarray
        (rows of the design,).

    Raises
    ------
    ValueError
        When the rating is a combination of the nuisance regressors.
    """
    matrix = design.to_numpy(float)
    if np.linalg.matrix_rank(matrix) <= np.linalg.matrix_rank(matrix[:, 1:]):
        raise ValueError("the rating regressor is explained by the nuisance design")
    return np.linalg.pinv(matrix)[0]


def benjamini_hochberg(p_values: np.ndarray, q: float) -> np.ndarray:
    """Benjamini-Hochberg: which p-values are discoveries at false discovery rate q.

    NaN p-values are never discoveries and do not count as tests.

    Parameters
    ----------
    p_values : numpy.ndarray
        Any shape.
    q : float
        The false discovery rate, in (0, 1).

    Returns
    -------
    numpy.ndarray
        Boolean, the shape of ``p_values``.
    """
    p_values = np.asarray(p_values, float)
    tested = np.isfinite(p_values)
    discoveries = np.zeros(p_values.shape, dtype=bool)
    if tested.any():
        adjusted = stats.false_discovery_control(p_values[tested], method="bh")
        discoveries[tested] = adjusted <= q
    return discoveries


@dataclass(frozen=True)
class SecondLevel:
    """One-sample t across sessions, per column.

    Attributes
    ----------
    t, p : numpy.ndarray
        (columns,) t and two-sided p (NaN where every effect is equal).
    significant : numpy.ndarray
        Boolean (columns,): FDR discoveries.
    """

    t: np.ndarray
    p: np.ndarray
    significant: np.ndarray

    @property
    def thresholded(self) -> np.ndarray:
        """The t map, 0 where not significant."""
        return np.where(self.significant, self.t, 0.0)

    def counts(self) -> dict:
        """Columns tested, positive and negative discoveries."""
        return {
            "n_tested": int(np.isfinite(self.p).sum()),
            "n_positive": int((self.significant & (self.t > 0)).sum()),
            "n_negative": int((self.significant & (self.t < 0)).sum()),
        }


def second_level(effects: np.ndarray, q: float) -> SecondLevel:
    """One-sample t-test of session effects per column, FDR-thresholded.

    Parameters
    ----------
    effects : numpy.ndarray
        (sessions, columns) first-level rating effects.
    q : float
        False discovery rate.

    Returns
    -------
    SecondLevel

    Raises
    ------
    ValueError
        With fewer than 2 sessions.
    """
    if len(effects) < 2:
        raise ValueError(f"a one-sample t needs 2 or more sessions, got {len(effects)}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t, p = stats.ttest_1samp(effects, 0.0, axis=0)
    t = np.where(np.isfinite(t), t, np.nan)
    p = np.where(np.isfinite(t), p, np.nan)
    return SecondLevel(t=t, p=p, significant=benjamini_hochberg(p, q))


def network_summary(
    result: SecondLevel, labels: np.ndarray, regions: pd.DataFrame
) -> pd.DataFrame:
    """Share of positive, negative and non-significant columns per network.

    Parameters
    ----------
    result : SecondLevel
    labels : numpy.ndarray
        (columns,) the atlas region of each column (0: in no region, left out).
    regions : pandas.DataFrame
        The atlas's ``index`` and ``network`` (missing: ``n/a``).

    Returns
    -------
    pandas.DataFrame
        ``network, n, share_positive, share_negative, share_not_significant``,
        one row per network in order of first appearance in ``regions``;
        ``n`` counts the tested columns of its regions.
    """
    networks = regions.set_index("index")["network"].fillna(NO_NETWORK)
    networks = networks.replace("", NO_NETWORK)
    tested = np.isfinite(result.p) & np.isin(labels, networks.index)
    column_network = networks.reindex(labels[tested]).to_numpy()
    sign = np.sign(result.t[tested]) * result.significant[tested]
    rows = []
    for network in dict.fromkeys(networks):
        signs = sign[column_network == network]
        n = len(signs)
        rows.append(
            {
                "network": network,
                "n": n,
                "share_positive": _share(signs > 0, n),
                "share_negative": _share(signs < 0, n),
                "share_not_significant": _share(signs == 0, n),
            }
        )
    return pd.DataFrame(rows)


def _share(selected: np.ndarray, n: int) -> float:
    """Fraction of True values (NaN when there are none to count)."""
    return float(selected.sum() / n) if n else float("nan")
