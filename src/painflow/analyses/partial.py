"""Partial correlations of predictions with ratings, at every scale, bootstrapped.

The partial r of predictions and ratings given a covariate is computed from
the three pairwise correlations of each resample, so estimate, interval and
plain r share one set of hierarchical draws: those of
:func:`painflow.analyses.metrics.metrics_table`, whose ``r`` this module's
plain r reproduces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.analyses.metrics import (
    BOOTSTRAP_STREAM,
    MIN_UNITS_FOR_R,
    bootstrap_p_value,
    hierarchical_draws,
    nested_index,
    scale_units,
)
from painflow.core.stats import pearson_r, percentile_interval
from painflow.core.streams import step_rng

ROW_COLUMNS = ("target", "scale", "metric", "estimate", "ci_low", "ci_high", "p_value")
PLAIN = ("pain", "r")
_AXES = (1, 2, 3)


def partial_r(r_xy, r_xz, r_yz):
    """Partial correlation of x and y given z, from the three pairwise r's.

    Parameters
    ----------
    r_xy, r_xz, r_yz : float or numpy.ndarray
        Pairwise Pearson correlations (broadcast together).

    Returns
    -------
    float or numpy.ndarray
        ``(r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2))``; NaN where z is
        perfectly correlated with x or y.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz**2) * (1 - r_yz**2))


def _draw_r(values: dict, mask: np.ndarray, x: str, y: str) -> np.ndarray:
    """Pooled r of two drawn unit columns per resample."""
    return pearson_r(values[x], values[y], axis=_AXES, mask=mask)


def draw_correlations(
    units: pd.DataFrame, draws: np.ndarray, covariates: list[str]
) -> dict:
    """Plain r of ratings and predictions, and each partial r, per draw.

    Parameters
    ----------
    units : pandas.DataFrame
        ``rating``, ``predicted`` and one column per covariate, one row per unit.
    draws : numpy.ndarray
        From :func:`painflow.analyses.metrics.hierarchical_draws`.
    covariates : list of str
        Columns of ``units`` to control for, one at a time.

    Returns
    -------
    dict
        ``None`` to the plain r and each covariate to its partial r, each
        (draws,); NaN where a draw has too few units (one more than a plain r
        needs for a partial r).
    """
    mask = draws >= 0
    safe = np.maximum(draws, 0)
    count = mask.sum(axis=_AXES)
    columns = ["rating", "predicted", *covariates]
    values = {name: units[name].to_numpy(float)[safe] for name in columns}
    r_xy = _draw_r(values, mask, "rating", "predicted")
    result = {None: np.where(count >= MIN_UNITS_FOR_R, r_xy, np.nan)}
    for covariate in covariates:
        r_xz = _draw_r(values, mask, "rating", covariate)
        r_yz = _draw_r(values, mask, "predicted", covariate)
        partial = partial_r(r_xy, r_xz, r_yz)
        result[covariate] = np.where(count > MIN_UNITS_FOR_R, partial, np.nan)
    return result


def partial_r_table(
    volumes: pd.DataFrame,
    covariates: dict,
    scales: list[str],
    n_resamples: int,
    seed: int,
) -> pd.DataFrame:
    """Plain and partial r of predictions with ratings at every scale.

    Parameters
    ----------
    volumes : pandas.DataFrame
        Per-volume ``session, run, rating, predicted``, the covariate columns
        and ``bin_<scale>`` for time-bin scales.
    covariates : dict
        Covariate column to the ``(target, metric)`` labels of its rows.
    scales : list of str
        Scales to evaluate.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed; each scale draws from the bootstrap's own stream of that scale,
        so the resamples are those of the metrics table of the same volumes.

    Returns
    -------
    pandas.DataFrame
        ``ROW_COLUMNS``: the plain r (target ``pain``, metric ``r``) and each
        covariate's partial r, per scale; p-values against 0.
    """
    labels = {None: PLAIN, **covariates}
    rows = []
    for scale in scales:
        units = scale_units(volumes, scale, ("rating", "predicted", *covariates))
        index = nested_index(units)
        rng = step_rng(seed, BOOTSTRAP_STREAM, scale)
        estimates = draw_correlations(units, index[None], list(covariates))
        boot = draw_correlations(
            units, hierarchical_draws(index, n_resamples, rng), list(covariates)
        )
        for key, (target, metric) in labels.items():
            low, high = percentile_interval(boot[key])
            rows.append(
                {
                    "target": target,
                    "scale": scale,
                    "metric": metric,
                    "estimate": float(estimates[key][0]),
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": bootstrap_p_value(boot[key], 0.0),
                }
            )
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))
