"""Nested leave-one-session-out decoding of one person's ratings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.core.bids import ENTITY_ORDER, label_entities
from painflow.core.stats import pearson_r
from painflow.inputs.dataset import MIN_SESSIONS
from painflow.model.decoder import available_components
from painflow.model.dual import dual_weights, gram_component_path, gram_dual_fit
from painflow.signals.edges import predict_volumes

PREDICTION_COLUMNS = ("session", "run", "volume", "time", "rating", "predicted", "fold")


@dataclass(frozen=True)
class RunFeatures:
    """The edge features of one included run.

    Attributes
    ----------
    session, run : str
        BIDS labels.
    arrays : dict
        As returned by :func:`painflow.signals.edges.run_features`.
    """

    session: str
    run: str
    arrays: dict


@dataclass(frozen=True)
class FeatureSpace:
    """Which features of a run a model reads.

    Attributes
    ----------
    name : str
        Short name (``edges`` or ``motion``).
    prefix : str
        Array-name suffix of the bin means in a run's features: the training
        samples are ``rating_bin_<prefix>``, the time bins of scale ``S`` are
        ``timebin_S_<prefix>``.
    predict : callable
        ``predict(arrays, coef, intercept)``: the per-volume predictions of
        edge-space weights for one run.
    """

    name: str
    prefix: str
    predict: Callable[[dict, np.ndarray, float], np.ndarray]


def _predict_edges(arrays: dict, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Per-volume predictions from edge weights (never builds edge vectors)."""
    return predict_volumes(arrays["zscored"], coef, intercept)


def _predict_motion(arrays: dict, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Per-volume predictions from head-motion weights."""
    return arrays["motion"] @ coef + intercept


EDGES = FeatureSpace("edges", "edges", _predict_edges)
MOTION = FeatureSpace("motion", "motion", _predict_motion)


@dataclass(frozen=True)
class FittedModel:
    """An edge-space linear model.

    Attributes
    ----------
    coef : numpy.ndarray
        (edges,) weights.
    intercept : float
    n_components : int
        Number of principal components it uses.
    inner_r : numpy.ndarray
        Inner cross-validated correlation for each number of components.
    """

    coef: np.ndarray
    intercept: float
    n_components: int
    inner_r: np.ndarray


def model_arrays(model: FittedModel, region_names: np.ndarray) -> dict:
    """The arrays of a model's ``.npz`` file (DESIGN.md's ``model.npz``)."""
    return {
        "edge_weights": model.coef,
        "intercept": np.array(model.intercept),
        "n_components": np.array(model.n_components),
        "region_names": region_names,
        "inner_r": model.inner_r,
    }


def model_from_arrays(arrays: dict) -> FittedModel:
    """The model saved by :func:`model_arrays`."""
    return FittedModel(
        coef=arrays["edge_weights"],
        intercept=float(arrays["intercept"]),
        n_components=int(arrays["n_components"]),
        inner_r=arrays["inner_r"],
    )


def fold_model_arrays(fold_models: dict, region_names: np.ndarray) -> dict:
    """The arrays of the outer folds' models (``desc-loso_model.npz``).

    Parameters
    ----------
    fold_models : dict
        Held-out session to the model trained without it.
    region_names : numpy.ndarray

    Returns
    -------
    dict
        ``sessions`` (held out), ``edge_weights`` (folds, edges),
        ``intercept``, ``n_components``, ``region_names``.
    """
    sessions = list(fold_models)
    return {
        "sessions": np.array(sessions, dtype=str),
        "edge_weights": np.array([fold_models[s].coef for s in sessions]),
        "intercept": np.array([fold_models[s].intercept for s in sessions]),
        "n_components": np.array([fold_models[s].n_components for s in sessions]),
        "region_names": region_names,
    }


def fold_models_from_arrays(arrays: dict) -> dict[str, FittedModel]:
    """The fold models saved by :func:`fold_model_arrays`, by held-out session."""
    return {
        str(session): FittedModel(
            coef=arrays["edge_weights"][i],
            intercept=float(arrays["intercept"][i]),
            n_components=int(arrays["n_components"][i]),
            inner_r=np.empty(0),
        )
        for i, session in enumerate(arrays["sessions"])
    }


def training_set(
    runs: list[RunFeatures], space: FeatureSpace = EDGES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack the rating-bin samples of runs.

    Parameters
    ----------
    runs : list of RunFeatures
    space : FeatureSpace
        The features to stack.

    Returns
    -------
    X : numpy.ndarray
        (samples, features) bin means, e.g. mean edge vectors.
    y : numpy.ndarray
        (samples,) bin mean ratings.
    groups : numpy.ndarray
        (samples,) session label of each sample.
    """
    X = np.concatenate([run.arrays[f"rating_bin_{space.prefix}"] for run in runs])
    y = np.concatenate([run.arrays["rating_bin_rating"] for run in runs])
    groups = np.concatenate(
        [np.full(len(run.arrays["rating_bin_rating"]), run.session) for run in runs]
    )
    return X, y, groups


def inner_curve(
    gram: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    train: np.ndarray,
    n_features: int,
    max_components: int | None,
) -> np.ndarray:
    """Leave-one-session-out correlation of every number of components.

    Every inner fit reads the one Gram matrix of the subject's samples, so
    each costs a (samples x samples) eigendecomposition whatever the number
    of features.

    Parameters
    ----------
    gram : numpy.ndarray
        (samples, samples) inner products of every sample.
    y, groups : numpy.ndarray
        Targets and session labels of every sample.
    train : numpy.ndarray
        Indices of the samples of the model being tuned.
    n_features : int
        Number of features (bounds the number of components).
    max_components : int or None
        Upper limit of the grid (None: as many as every inner fold allows).

    Returns
    -------
    numpy.ndarray
        Correlation between pooled held-out predictions and targets for
        k = 1 .. K components.
    """
    train_groups = groups[train]
    sessions = np.unique(train_groups)
    n_largest_test = max(int(np.sum(train_groups == s)) for s in sessions)
    limit = available_components(len(train) - n_largest_test, n_features)
    if max_components is not None:
        limit = min(limit, max_components)
    if limit < 1:
        raise ValueError(f"too few training samples ({len(train)}) to fit any model")
    paths = {
        session: gram_component_path(
            gram,
            y,
            train[train_groups != session],
            train[train_groups == session],
            n_features,
            limit,
        )
        for session in sessions
    }
    # Rank-deficient folds may offer fewer components than asked for.
    limit = min(path.shape[1] for path in paths.values())
    predictions = np.empty((len(train), limit))
    for session, path in paths.items():
        predictions[train_groups == session] = path[:, :limit]
    return np.array([pearson_r(column, y[train]) for column in predictions.T])


def fit_with_inner_selection(
    gram: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    train: np.ndarray,
    max_components: int | None,
) -> FittedModel:
    """Choose the number of components by inner LOSO and fit on ``train``.

    Parameters
    ----------
    gram : numpy.ndarray
        ``X @ X.T``.
    X, y, groups : numpy.ndarray
        Features, targets and session labels of every sample.
    train : numpy.ndarray
        Indices of the samples to fit on.
    max_components : int or None
        Upper limit of the number of components.

    Returns
    -------
    FittedModel
        With explicit feature-space weights.
    """
    curve = inner_curve(gram, y, groups, train, X.shape[1], max_components)
    best = int(np.nanargmax(np.where(np.isnan(curve), -np.inf, curve))) + 1
    dual = gram_dual_fit(gram, y, train, X.shape[1], best)
    coef, intercept = dual_weights(dual, X)
    return FittedModel(
        coef=coef, intercept=intercept, n_components=dual.n_components, inner_r=curve
    )


def check_sessions(runs: list[RunFeatures], subject: str) -> list[str]:
    """Return the sessions with included runs; raise when fewer than three."""
    sessions = sorted({run.session for run in runs})
    if len(sessions) < MIN_SESSIONS:
        raise ValueError(
            f"subject {subject}: {len(sessions)} session(s) with usable runs "
            f"({sessions}); nested leave-one-session-out cross-validation needs "
            f"at least {MIN_SESSIONS}"
        )
    return sessions


def predict_runs(
    runs: list[RunFeatures],
    model: FittedModel,
    fold: str,
    space: FeatureSpace = EDGES,
) -> pd.DataFrame:
    """Per-volume predictions of a model for runs, one row per retained volume."""
    tables = [
        pd.DataFrame(
            {
                "session": run.session,
                "run": run.run,
                "volume": run.arrays["volume"],
                "time": run.arrays["time"],
                "rating": run.arrays["rating"],
                "predicted": space.predict(run.arrays, model.coef, model.intercept),
                "fold": fold,
            }
        )
        for run in runs
    ]
    return with_run_entities(pd.concat(tables, ignore_index=True))


def with_run_entities(table: pd.DataFrame) -> pd.DataFrame:
    """A table with a column per entity its run labels carry, before ``run``.

    Where a study's runs differ by more than their run entity, the ``run``
    label holds those entities (``acq-fullbrain_run-1``); each entity besides
    the run then gets a column of its own (``acq``), missing where a run has
    none. Tables of other studies are returned as they are.
    """
    parsed = [label_entities(label) for label in table["run"]]
    keys = [
        key
        for _, key in ENTITY_ORDER
        if key != "run" and any(key in entities for entities in parsed)
    ]
    table = table.copy()
    for key in keys:  # each goes just before run, so they keep BIDS order
        values = [entities.get(key) for entities in parsed]
        table.insert(table.columns.get_loc("run"), key, values)
    return table


@dataclass(frozen=True)
class NestedResult:
    """Everything nested leave-one-session-out decoding produces.

    Attributes
    ----------
    predictions : pandas.DataFrame
        Per-volume predictions (``PREDICTION_COLUMNS``); ``fold`` is the
        held-out session.
    folds : pandas.DataFrame
        One row per outer fold and one for the all-sessions model:
        ``fold, n_train_sessions, n_train_samples, n_components, inner_r``.
    fold_models : dict
        Held-out session to the model that predicted it.
    model : FittedModel
        Trained on every session, components chosen by LOSO over them.
    """

    predictions: pd.DataFrame
    folds: pd.DataFrame
    fold_models: dict
    model: FittedModel


def nested_loso(
    runs: list[RunFeatures],
    subject: str,
    max_components: int | None = None,
    space: FeatureSpace = EDGES,
) -> NestedResult:
    """Nested leave-one-session-out decoding, and the all-sessions model.

    Every held-out session is predicted by a model that never saw it, with
    its number of components chosen by an inner leave-one-session-out loop
    over the training sessions only. One Gram matrix of the subject's
    samples serves every fit; explicit weights are formed once per model.

    Parameters
    ----------
    runs : list of RunFeatures
        The subject's included runs.
    subject : str
        Subject label (for messages).
    max_components : int or None
        Upper limit of the number of components.
    space : FeatureSpace
        The features to decode from (brain edges or head motion).

    Returns
    -------
    NestedResult
    """
    sessions = check_sessions(runs, subject)
    X, y, groups = training_set(runs, space)
    gram = X @ X.T
    tables, folds, fold_models = [], [], {}
    for session in sessions:
        train = np.flatnonzero(groups != session)
        model = fit_with_inner_selection(gram, X, y, groups, train, max_components)
        held_out = [run for run in runs if run.session == session]
        tables.append(predict_runs(held_out, model, session, space))
        folds.append(_fold_row(session, groups[train], model))
        fold_models[session] = model
    everything = np.arange(len(y))
    final = fit_with_inner_selection(gram, X, y, groups, everything, max_components)
    folds.append(_fold_row("all", groups, final))
    predictions = pd.concat(tables, ignore_index=True).loc[:, list(PREDICTION_COLUMNS)]
    return NestedResult(predictions, pd.DataFrame(folds), fold_models, final)


def _fold_row(fold: str, train_groups: np.ndarray, model: FittedModel) -> dict:
    """One row of the folds table."""
    return {
        "fold": fold,
        "n_train_sessions": int(np.unique(train_groups).size),
        "n_train_samples": int(train_groups.size),
        "n_components": model.n_components,
        "inner_r": float(model.inner_r[model.n_components - 1]),
    }
