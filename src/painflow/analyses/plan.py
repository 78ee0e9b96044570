"""How many sessions? A saturating curve fitted to a person's learning curve.

The learning curve (:mod:`painflow.analyses.learningcurve`) scores every
held-out session, in every repeat, with a model of ``s`` other sessions. Its
mean over sessions and repeats at each size is fitted with an inverse power
law, ``r(s) = a - b * s ** -c``: ``a`` is the asymptote (the r of a model of
endlessly many sessions), ``b`` how far one session falls short of it and
``c`` how fast the gap closes. The fitted curve extrapolates the expected r
to ``1 .. 2N`` sessions (``N`` the person's sessions), the number of
sessions at which it reaches a target r and the gain of ``K`` more sessions.

Intervals come from a bootstrap that resamples the held-out sessions with
replacement and the repeats within each drawn session
(:func:`painflow.analyses.metrics.hierarchical_draws`), refits the curve to
every resample and takes percentile intervals; the same draws serve every
training size, as one resampled person.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from painflow.analyses.learningcurve import LEARNING_CURVE_COLUMNS
from painflow.analyses.metrics import hierarchical_draws, nanmean_rows
from painflow.analyses.plansettings import PlanSettings
from painflow.core.bids import natural_key
from painflow.core.stats import CONFIDENCE_PERCENTILES, percentile_interval
from painflow.core.streams import step_rng

PLAN_COLUMNS = (
    "scale",
    "quantity",
    "n_sessions",
    "estimate",
    "ci_low",
    "ci_high",
    "observed",
    "note",
)
# Bounds of (a, b, c): an r is in [-1, 1], so the asymptote is too and one
# session's shortfall b is at most 2; b >= 0 keeps the curve non-decreasing
# (more sessions never cost accuracy on average). c below 0.1 would be a
# curve still rising at thousands of sessions; above 3, one with no rise
# left after the second session.
A_BOUNDS = (-1.0, 1.0)
B_BOUNDS = (0.0, 2.0)
C_BOUNDS = (0.1, 3.0)
# The exponent is searched on a log grid, then refined by golden sections
# between the best point's neighbours.
C_GRID_POINTS = 64
GOLDEN_STEPS = 36
MIN_SIZES_TO_FIT = 3


def power_law(sessions, a: float, b: float, c: float) -> np.ndarray:
    """The inverse power law ``a - b * sessions ** -c``."""
    return a - b * np.asarray(sessions, dtype=float) ** -c


def fit_power_law(sizes: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Least-squares fit of :func:`power_law` within the bounds.

    For a fixed exponent ``c`` the curve is linear in ``a`` and ``b``, whose
    bounded least-squares solution is exact (:func:`_linear_fit`); the
    exponent minimising the residual is found on a log grid and refined by
    golden-section search. Every curve of a stack is fitted at once.

    Parameters
    ----------
    sizes : numpy.ndarray
        (sizes,) training sizes (sessions).
    r : numpy.ndarray
        (..., sizes) mean r at each size; NaN sizes are left out of a curve.

    Returns
    -------
    numpy.ndarray
        (..., 3) ``(a, b, c)``; NaN where a curve has fewer than three sizes
        with a finite r.
    """
    r = np.asarray(r, dtype=float)
    stack = r.reshape(-1, r.shape[-1])
    weights = np.isfinite(stack).astype(float)
    values = np.where(weights > 0, stack, 0.0)
    sizes = np.asarray(sizes, dtype=float)
    grid = np.geomspace(*C_BOUNDS, C_GRID_POINTS)
    costs = np.stack([_linear_fit(sizes, values, weights, c)[2] for c in grid])
    best = np.argmin(costs, axis=0)
    low = grid[np.maximum(best - 1, 0)]
    high = grid[np.minimum(best + 1, grid.size - 1)]
    c = _golden_section(lambda c: _linear_fit(sizes, values, weights, c)[2], low, high)
    a, b, _ = _linear_fit(sizes, values, weights, c)
    params = np.stack([a, b, c], axis=-1)
    params[weights.sum(axis=1) < MIN_SIZES_TO_FIT] = np.nan
    return params.reshape(*r.shape[:-1], 3)


def _linear_fit(sizes, values, weights, c) -> tuple:
    """Best ``a, b`` in their bounds for exponent(s) ``c``, and the residual cost.

    With ``x = sizes ** -c`` the curve is ``a - b x``, a line. The bounded
    optimum of a convex quadratic on a rectangle is its free optimum when that
    lies inside, else the best of the optima along the four edges.
    """
    x = sizes[None, :] ** -np.asarray(c, dtype=float).reshape(-1, 1)
    x = np.broadcast_to(x, values.shape)
    n = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = (weights * x).sum(axis=1) / n
        mean_r = (weights * values).sum(axis=1) / n
        dx = x - mean_x[:, None]
        slope = (weights * dx * (values - mean_r[:, None])).sum(axis=1) / (
            weights * dx**2
        ).sum(axis=1)
        free_b = -slope
        free_a = mean_r + free_b * mean_x
        candidates = [(free_a, free_b)]
        for a_edge in A_BOUNDS:
            b = (weights * x * (a_edge - values)).sum(axis=1) / (weights * x**2).sum(
                axis=1
            )
            candidates.append((np.full_like(b, a_edge), np.clip(b, *B_BOUNDS)))
        for b_edge in B_BOUNDS:
            a = mean_r + b_edge * mean_x
            candidates.append((np.clip(a, *A_BOUNDS), np.full_like(a, b_edge)))
    best_a, best_b = free_a, free_b
    best_cost = np.full(n.shape, np.inf)
    for a, b in candidates:
        inside = (
            (A_BOUNDS[0] <= a)
            & (a <= A_BOUNDS[1])
            & (B_BOUNDS[0] <= b)
            & (b <= B_BOUNDS[1])
        )
        cost = np.where(
            inside,
            (weights * (a[:, None] - b[:, None] * x - values) ** 2).sum(axis=1),
            np.inf,
        )
        better = cost < best_cost
        best_a = np.where(better, a, best_a)
        best_b = np.where(better, b, best_b)
        best_cost = np.where(better, cost, best_cost)
    return best_a, best_b, best_cost


def _golden_section(cost, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Minimise a vectorised one-dimensional ``cost`` within ``[low, high]``."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    low, high = low.copy(), high.copy()
    for _ in range(GOLDEN_STEPS):
        left = high - ratio * (high - low)
        right = low + ratio * (high - low)
        keep_left = cost(left) <= cost(right)
        high = np.where(keep_left, right, high)
        low = np.where(keep_left, low, left)
    return (low + high) / 2.0


def sessions_to_target(
    params: np.ndarray, target_r: float, max_sessions: float = math.inf
) -> float:
    """Sessions at which the curve reaches ``target_r``: ``a - b s^-c = target``.

    Parameters
    ----------
    params : numpy.ndarray
        ``(a, b, c)``.
    target_r : float
    max_sessions : float
        Beyond this, the target counts as never reached.

    Returns
    -------
    float
        ``(b / (a - target)) ** (1 / c)``, at least 1 (a single session
        already reaching it); ``inf`` when the asymptote is not above the
        target or the solution exceeds ``max_sessions``; NaN without a fit.
    """
    a, b, c = params
    if not np.isfinite(a):
        return math.nan
    if a <= target_r:
        return math.inf
    sessions = max(1.0, (b / (a - target_r)) ** (1.0 / c)) if b > 0 else 1.0
    return sessions if sessions <= max_sessions else math.inf


def interval_with_infinity(samples: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of samples that may be infinite.

    NaN samples (failed fits) are left out; infinite ones ("never") count as
    the largest values, and the interval takes sample values without
    interpolating, so an upper end of ``inf`` reads "possibly never".
    """
    samples = np.asarray(samples, dtype=float)
    kept = samples[~np.isnan(samples)]
    if not kept.size:
        return math.nan, math.nan
    low, high = np.percentile(kept, CONFIDENCE_PERCENTILES, method="inverted_cdf")
    return float(low), float(high)


def curve_values(table: pd.DataFrame, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """A scale's r of every (size, held-out session, repeat).

    Parameters
    ----------
    table : pandas.DataFrame
        The learning-curve table (``n_train_sessions, repeat, test_session,
        scale, r``).
    scale : str

    Returns
    -------
    sizes : numpy.ndarray
        Sorted training sizes.
    values : numpy.ndarray
        (sizes, sessions, repeats) r, NaN where a draw has none.
    """
    rows = table[table["scale"] == scale]
    sizes = np.sort(rows["n_train_sessions"].unique()).astype(int)
    sessions = sorted(rows["test_session"].unique(), key=natural_key)
    position = {session: i for i, session in enumerate(sessions)}
    repeats = np.sort(rows["repeat"].unique())
    values = np.full((sizes.size, len(sessions), repeats.size), np.nan)
    values[
        np.searchsorted(sizes, rows["n_train_sessions"]),
        rows["test_session"].map(position).to_numpy(),
        np.searchsorted(repeats, rows["repeat"]),
    ] = rows["r"].to_numpy(dtype=float)
    return sizes, values


def bootstrap_curves(
    values: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Mean r per size of resampled sessions and repeats.

    Parameters
    ----------
    values : numpy.ndarray
        (sizes, sessions, repeats), from :func:`curve_values`.
    n_resamples : int
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (resamples, sizes): each resample draws sessions with replacement and
        repeats with replacement within each drawn session, the same draws at
        every size.
    """
    n_sizes, n_sessions, n_repeats = values.shape
    index = np.arange(n_sessions * n_repeats).reshape(n_sessions, n_repeats, 1)
    draws = hierarchical_draws(index, n_resamples, rng).reshape(n_resamples, -1)
    flat = values.reshape(n_sizes, -1)
    curves = np.empty((n_resamples, n_sizes))
    for size in range(n_sizes):
        curves[:, size] = nanmean_rows(flat[size][draws])
    return curves


def plan_scale(
    sizes: np.ndarray,
    values: np.ndarray,
    settings: PlanSettings,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The plan of one scale: extrapolated r, sessions to the target, gain.

    Parameters
    ----------
    sizes, values : numpy.ndarray
        From :func:`curve_values`; ``values`` has one column per held-out
        session, so ``N`` is its second dimension.
    settings : PlanSettings
    rng : numpy.random.Generator
        Stream of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``PLAN_COLUMNS`` without ``scale``: quantity ``r`` at ``1 .. 2N``
        sessions (``observed``: the learning curve's mean r at that size),
        ``asymptote``, ``sessions_to_target``, ``gain`` (from ``N`` to
        ``N + K`` sessions; ``n_sessions`` is ``N + K``) and
        ``reach_probability`` (the share of resamples whose curve reaches the
        target within ``max_sessions``; no interval).
    """
    n_sessions = values.shape[1]
    observed = nanmean_rows(values.reshape(values.shape[0], -1))
    point = fit_power_law(sizes, observed)
    if np.isnan(point[0]):
        note = f"fewer than {MIN_SIZES_TO_FIT} training sizes with an r: no fit"
        return pd.DataFrame(
            [_row("sessions_to_target", math.nan, (math.nan, math.nan), note=note)]
        )
    curves = (
        bootstrap_curves(values, settings.n_bootstrap, rng)
        if settings.n_bootstrap
        else np.empty((0, sizes.size))
    )
    boot = fit_power_law(sizes, curves)
    horizon = np.arange(1, 2 * n_sessions + 1)
    by_size = dict(zip(sizes.tolist(), observed.tolist(), strict=True))
    rows = [
        _row(
            "r",
            power_law(s, *point),
            percentile_interval(power_law(s, *boot.T)),
            n_sessions=s,
            observed=by_size.get(int(s), math.nan),
        )
        for s in horizon
    ]
    rows.append(_row("asymptote", point[0], percentile_interval(boot[:, 0])))
    reach = np.array([_sessions(p, settings) for p in boot])
    rows.append(
        _row(
            "sessions_to_target",
            _sessions(point, settings),
            interval_with_infinity(reach),
            note=_target_note(point, settings),
        )
    )
    rows.append(
        _row(
            "gain",
            _gain(point, n_sessions, settings.extra_sessions),
            percentile_interval(_gain(boot.T, n_sessions, settings.extra_sessions)),
            n_sessions=n_sessions + settings.extra_sessions,
            note=f"from {n_sessions} to {n_sessions + settings.extra_sessions} "
            "sessions",
        )
    )
    fitted = reach[~np.isnan(reach)]
    share = float(np.isfinite(fitted).mean()) if fitted.size else math.nan
    rows.append(
        _row(
            "reach_probability",
            share,
            (math.nan, math.nan),
            n_sessions=settings.max_sessions,
            note=f"resamples reaching r {settings.target_r:g} within "
            f"{settings.max_sessions} sessions",
        )
    )
    return pd.DataFrame(rows)


def _row(quantity, estimate, interval, n_sessions=math.nan, observed=math.nan, note=""):
    """One row of a plan table (without its scale)."""
    return {
        "quantity": quantity,
        "n_sessions": n_sessions,
        "estimate": float(estimate),
        "ci_low": interval[0],
        "ci_high": interval[1],
        "observed": observed,
        "note": note,
    }


def _sessions(params: np.ndarray, settings: PlanSettings) -> float:
    """:func:`sessions_to_target` with the settings' target and limit."""
    return sessions_to_target(params, settings.target_r, settings.max_sessions)


def _gain(params, n_sessions: int, extra: int):
    """The curve's rise from ``n_sessions`` to ``n_sessions + extra`` sessions."""
    return power_law(n_sessions + extra, *params) - power_law(n_sessions, *params)


def _target_note(params: np.ndarray, settings: PlanSettings) -> str:
    """Why a target is never reached, after the target itself."""
    note = f"target r {settings.target_r:g}"
    if params[0] <= settings.target_r:
        return f"{note}; the fitted asymptote is below it: never"
    if math.isinf(_sessions(params, settings)):
        return f"{note}; not within max_sessions ({settings.max_sessions})"
    return note


def missing_columns(table: pd.DataFrame) -> list[str]:
    """The learning curve's columns a table lacks."""
    return sorted(set(LEARNING_CURVE_COLUMNS) - set(table.columns))


def plan_table(table: pd.DataFrame, settings: PlanSettings, seed: int) -> pd.DataFrame:
    """The plan of every scale of a person's learning curve.

    Parameters
    ----------
    table : pandas.DataFrame
        The learning-curve table (``n_train_sessions, repeat, test_session,
        scale, r``).
    settings : PlanSettings
    seed : int
        The workflow's seed; each scale draws from
        ``step_rng(seed, "plan", scale)``.

    Returns
    -------
    pandas.DataFrame
        ``PLAN_COLUMNS`` (:func:`plan_scale`), scales in the table's order;
        scales with no r at all (``session``: one unit per session) have no rows.
    """
    missing = missing_columns(table)
    if missing:
        raise ValueError(f"learning-curve table lacks columns {missing}")
    tables = []
    for scale in pd.unique(table["scale"]):
        sizes, values = curve_values(table, scale)
        if not np.isfinite(values).any():
            continue
        rows = plan_scale(sizes, values, settings, step_rng(seed, "plan", scale))
        rows.insert(0, "scale", scale)
        tables.append(rows)
    if not tables:
        return pd.DataFrame(columns=list(PLAN_COLUMNS))
    return pd.concat(tables, ignore_index=True).loc[:, list(PLAN_COLUMNS)]
