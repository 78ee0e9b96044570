"""Region importance by hierarchical permutation of per-region contributions.

The out-of-sample prediction of a time bin is ``intercept + sum_e w_e x_e``
over the edges ``e`` of the model that never saw the bin's session. The
contribution of region ``r`` is the part of that sum over the edges touching
``r``. Replacing it by the contribution of another bin, drawn by a
hierarchical permutation, breaks whatever region ``r`` added to the tracking
of pain; the importance of ``r`` is the mean drop in the correlation between
predictions and ratings over many permutations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.crossval import RunFeatures
from painflow.kernels import region_contributions

IMPORTANCE_COLUMNS = ("region", "name", "network", "importance", "rank")
# Permutations evaluated together: bounds memory at about
# chunk x bins x regions x 8 bytes.
_PERMUTATION_CHUNK = 32


def fold_contributions(
    runs: list[RunFeatures], fold_models: dict, scale: str
) -> dict[str, np.ndarray]:
    """Per-region contributions to the out-of-sample predictions of time bins.

    Parameters
    ----------
    runs : list of RunFeatures
        A subject's included runs.
    fold_models : dict
        Held-out session to the :class:`painflow.crossval.FittedModel` that
        predicted it.
    scale : str
        Time-bin scale (e.g. ``1min``).

    Returns
    -------
    dict
        Arrays over the bins, in run order: ``session``, ``run``, ``bin``,
        ``rating``, ``predicted`` (equal to the mean of the per-volume
        predictions), ``intercept`` and ``contributions`` (bins, regions).
    """
    parts = {key: [] for key in ("session", "run", "bin", "rating", "predicted")}
    parts.update(intercept=[], contributions=[])
    for run in runs:
        model = fold_models[run.session]
        edges = run.arrays[f"timebin_{scale}_edges"]
        ids = run.arrays[f"timebin_{scale}_ids"]
        parts["session"].append(np.full(ids.size, run.session))
        parts["run"].append(np.full(ids.size, run.run))
        parts["bin"].append(ids)
        parts["rating"].append(run.arrays[f"timebin_{scale}_rating"])
        parts["predicted"].append(edges @ model.coef + model.intercept)
        parts["intercept"].append(np.full(ids.size, model.intercept))
        parts["contributions"].append(region_contributions(edges, model.coef))
    return {key: np.concatenate(values) for key, values in parts.items()}


def unit_index(sessions: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Padded (sessions, runs, bins) array of unit positions, -1 where absent.

    Parameters
    ----------
    sessions, runs : numpy.ndarray
        Session and run label of every unit, units of a run consecutive.
    """
    keys = pd.DataFrame({"session": sessions, "run": runs})
    session_groups = [group for _, group in keys.groupby("session", sort=True)]
    run_groups = [
        [rows.index.to_numpy() for _, rows in group.groupby("run", sort=True)]
        for group in session_groups
    ]
    n_runs = max(len(group) for group in run_groups)
    n_bins = max(len(rows) for group in run_groups for rows in group)
    index = np.full((len(run_groups), n_runs, n_bins), -1, dtype=np.int64)
    for s, group in enumerate(run_groups):
        for r, rows in enumerate(group):
            index[s, r, : rows.size] = rows
    return index


def hierarchical_permutations(
    index: np.ndarray, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Permutations that shuffle sessions, runs within them and bins within those.

    Each permutation puts the sessions in a random order, the runs of each
    session in a random order and the bins of each run in a random order, and
    reads the units in that order: units of a run stay together, and so do
    the runs of a session.

    Parameters
    ----------
    index : numpy.ndarray
        From :func:`unit_index`.
    n_permutations : int
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (n_permutations, units) source unit of every position.
    """
    n_sessions, n_runs, _ = index.shape
    n_units = int(np.count_nonzero(index >= 0))
    permutations = np.empty((n_permutations, n_units), dtype=np.int64)
    for p in range(n_permutations):
        shuffled = index[rng.permutation(n_sessions)]
        run_order = rng.permuted(np.tile(np.arange(n_runs), (n_sessions, 1)), axis=1)
        shuffled = np.take_along_axis(shuffled, run_order[:, :, None], axis=1)
        shuffled = rng.permuted(shuffled, axis=2).ravel()
        permutations[p] = shuffled[shuffled >= 0]
    return permutations


def permutation_importance(
    contributions: np.ndarray,
    predicted: np.ndarray,
    rating: np.ndarray,
    permutations: np.ndarray,
) -> np.ndarray:
    """Mean drop in r when each region's contribution is permuted.

    With ``q = predicted - c_r`` and ``u = c_r`` read in a permuted order,
    r of ``q + u`` needs only ``u . y`` (one matrix product for all regions)
    and ``q . u`` per region: the (bins x edges) features are not touched.

    Parameters
    ----------
    contributions : numpy.ndarray
        (units, regions) from :func:`fold_contributions`.
    predicted, rating : numpy.ndarray
        (units,) predictions and ratings.
    permutations : numpy.ndarray
        (n_permutations, units) from :func:`hierarchical_permutations`.

    Returns
    -------
    numpy.ndarray
        (regions,) observed r minus the mean r under permutation.
    """
    y = rating - rating.mean()
    c = contributions - contributions.mean(axis=0)
    p = predicted - predicted.mean()
    q = p[:, None] - c
    observed = (p @ y) / np.sqrt((p @ p) * (y @ y))
    fixed_cov = y @ q
    fixed_var = np.einsum("ir,ir->r", q, q) + np.einsum("ir,ir->r", c, c)
    total = np.zeros(c.shape[1])
    for start in range(0, len(permutations), _PERMUTATION_CHUNK):
        chunk = permutations[start : start + _PERMUTATION_CHUNK]
        permuted = c[chunk]  # (chunk, units, regions)
        cov = fixed_cov + np.einsum("i,pir->pr", y, permuted)
        var = fixed_var + 2 * np.einsum("ir,pir->pr", q, permuted)
        r = cov / np.sqrt(np.clip(var, 0, None) * (y @ y))
        total += r.sum(axis=0)
    return observed - total / len(permutations)


def importance_table(importance: np.ndarray, regions: pd.DataFrame) -> pd.DataFrame:
    """Importance of every region with its rank (1 = most important).

    Parameters
    ----------
    importance : numpy.ndarray
        (regions,) mean drop in r.
    regions : pandas.DataFrame
        Atlas table (``index``, ``name``, ``network``), in region order.

    Returns
    -------
    pandas.DataFrame
        Columns ``IMPORTANCE_COLUMNS``, sorted by rank.
    """
    table = pd.DataFrame(
        {
            "region": regions["index"].to_numpy(),
            "name": regions["name"].to_numpy(),
            "network": regions["network"].fillna("n/a").to_numpy(),
            "importance": importance,
        }
    )
    order = np.argsort(-importance, kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table.loc[:, list(IMPORTANCE_COLUMNS)]


def rank_regions(
    contributions: dict,
    regions: pd.DataFrame,
    n_permutations: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Importance table of a subject from its fold contributions.

    Parameters
    ----------
    contributions : dict
        From :func:`fold_contributions`.
    regions : pandas.DataFrame
        Atlas table (``index``, ``name``, ``network``), in region order.
    n_permutations : int
        Hierarchical permutations.
    rng : numpy.random.Generator
        Source of the permutations.

    Returns
    -------
    pandas.DataFrame
        As :func:`importance_table`.
    """
    permutations = hierarchical_permutations(
        unit_index(contributions["session"], contributions["run"]), n_permutations, rng
    )
    importance = permutation_importance(
        contributions["contributions"],
        contributions["predicted"],
        contributions["rating"],
        permutations,
    )
    return importance_table(importance, regions)
