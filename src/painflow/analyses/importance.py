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

from painflow.core.bids import natural_key
from painflow.core.stats import pearson_r
from painflow.core.streams import step_rng
from painflow.model.crossval import RunFeatures
from painflow.model.kernels import region_contributions

IMPORTANCE_COLUMNS = ("region", "name", "network", "importance", "rank")
# Permutations evaluated together: bounds memory at about
# chunk x bins x regions x 8 bytes.
_PERMUTATION_CHUNK = 32
# Name of the permutations' random stream (painflow.core.streams).
IMPORTANCE_STREAM = "region_importance"


def fold_contributions(
    runs: list[RunFeatures], fold_models: dict, scale: str
) -> dict[str, np.ndarray]:
    """Per-region contributions to the out-of-sample predictions of time bins.

    Parameters
    ----------
    runs : list of RunFeatures
        A subject's included runs.
    fold_models : dict
        Held-out session to the :class:`painflow.model.crossval.FittedModel` that
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


def unit_hierarchy(sessions: np.ndarray, runs: np.ndarray) -> list[list[np.ndarray]]:
    """Positions of the units of every run of every session.

    Parameters
    ----------
    sessions, runs : numpy.ndarray
        Session and run label of every unit.

    Returns
    -------
    list of list of numpy.ndarray
        Per session (labels in natural order), per run (likewise), the unit
        positions in their original order. Sessions may hold different
        numbers of runs and runs different numbers of units.
    """
    keys = pd.DataFrame({"session": sessions, "run": runs})
    hierarchy = []
    for session in sorted(keys["session"].unique(), key=natural_key):
        rows = keys[keys["session"] == session]
        hierarchy.append(
            [
                rows.index[rows["run"] == run].to_numpy()
                for run in sorted(rows["run"].unique(), key=natural_key)
            ]
        )
    return hierarchy


def session_shape(session: list[np.ndarray]) -> tuple:
    """The sizes of a session's runs, as a sorted tuple (a multiset)."""
    return tuple(sorted(run.size for run in session))


def exchangeable_groups(keys: list) -> dict:
    """Positions of equal keys, grouped: key to positions, in first-seen order."""
    groups: dict = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return groups


def _shuffled_rows(rng: np.random.Generator, n_rows: int, width: int) -> np.ndarray:
    """``n_rows`` independent random permutations of ``range(width)``."""
    return rng.permuted(np.tile(np.arange(width), (n_rows, 1)), axis=1)


def hierarchical_permutations(
    hierarchy: list[list[np.ndarray]], n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Permutations within exchangeability blocks: sessions, runs, bins.

    The rule (as the exchangeability blocks of FSL PALM): a session is
    exchanged only with sessions of the same shape (the same multiset of
    run sizes), a run only with a run of the same size inside the session
    it was exchanged with, and bins freely within a run. Every permuted run
    then reads all its bins from one source run, runs of a session from one
    source session, and each permutation is a true permutation of the units.
    On a balanced design (every session with as many runs of as many bins)
    this is the plain hierarchical shuffle: sessions, runs within them and
    bins within those in random orders. A session or run whose shape is
    unique stays in place (its bins are still shuffled).

    Parameters
    ----------
    hierarchy : list of list of numpy.ndarray
        From :func:`unit_hierarchy`.
    n_permutations : int
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (n_permutations, units): the source unit read at every position.
    """
    n_units = sum(run.size for session in hierarchy for run in session)
    permutations = np.empty((n_permutations, n_units), dtype=np.int64)
    shapes = [session_shape(session) for session in hierarchy]
    for members in exchangeable_groups(shapes).values():
        source = np.asarray(members)[_shuffled_rows(rng, n_permutations, len(members))]
        for target_slot, target in enumerate(members):
            _fill_session(
                permutations, hierarchy, target, members, source[:, target_slot], rng
            )
    return permutations


def _fill_session(
    permutations: np.ndarray,
    hierarchy: list[list[np.ndarray]],
    target: int,
    members: list[int],
    source: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Fill a session's positions from its source session of every permutation.

    ``members`` are the sessions of the target's shape and ``source`` the
    session (one of them) each permutation reads the target from.
    """
    local = np.searchsorted(members, source)
    sizes = [run.size for run in hierarchy[target]]
    for size, target_runs in exchangeable_groups(sizes).items():
        # Units of the runs of this size in every member session: (members,
        # runs, size); all members of a shape have equally many such runs.
        units = np.stack(
            [
                np.stack([run for run in hierarchy[member] if run.size == size])
                for member in members
            ]
        )
        run_order = _shuffled_rows(rng, len(source), len(target_runs))
        for slot, run in enumerate(target_runs):
            drawn = units[local, run_order[:, slot]]
            permutations[:, hierarchy[target][run]] = rng.permuted(drawn, axis=1)


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
    observed = pearson_r(predicted, rating)
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
    seed: int,
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
    seed : int
        The workflow's seed; the permutations draw from its own named stream
        (``IMPORTANCE_STREAM``), shared with no other step.

    Returns
    -------
    pandas.DataFrame
        As :func:`importance_table`.
    """
    permutations = hierarchical_permutations(
        unit_hierarchy(contributions["session"], contributions["run"]),
        n_permutations,
        step_rng(seed, IMPORTANCE_STREAM),
    )
    importance = permutation_importance(
        contributions["contributions"],
        contributions["predicted"],
        contributions["rating"],
        permutations,
    )
    return importance_table(importance, regions)
