"""Nested leave-one-session-out decoding of one person's ratings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.dataset import MIN_SESSIONS
from painflow.decoder import (
    LassoPCR,
    available_components,
    gram_component_path,
    gram_fit,
)
from painflow.edges import predict_volumes

MIN_TRAINING_SAMPLES = 3
PREDICTION_COLUMNS = ("session", "run", "volume", "time", "rating", "predicted", "fold")


@dataclass(frozen=True)
class RunFeatures:
    """The edge features of one included run.

    Attributes
    ----------
    session, run : str
        BIDS labels.
    arrays : dict
        As returned by :func:`painflow.edges.run_features`.
    """

    session: str
    run: str
    arrays: dict


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


def training_set(runs: list[RunFeatures]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack the rating-bin samples of runs.

    Returns
    -------
    X : numpy.ndarray
        (samples, edges) bin mean edge vectors.
    y : numpy.ndarray
        (samples,) bin mean ratings.
    groups : numpy.ndarray
        (samples,) session label of each sample.
    """
    X = np.concatenate([run.arrays["rating_bin_edges"] for run in runs])
    y = np.concatenate([run.arrays["rating_bin_rating"] for run in runs])
    groups = np.concatenate(
        [np.full(len(run.arrays["rating_bin_rating"]), run.session) for run in runs]
    )
    return X, y, groups


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant."""
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denominator) if denominator > 0 else float("nan")


def inner_curve(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, max_components: int | None
) -> np.ndarray:
    """Leave-one-session-out correlation of every number of components.

    All inner fits share one Gram matrix of the training samples, so each
    costs a (samples x samples) eigendecomposition whatever the number of
    edges.

    Parameters
    ----------
    X, y, groups : numpy.ndarray
        Training samples, targets and session labels.
    max_components : int or None
        Upper limit of the grid (None: as many as every inner fold allows).

    Returns
    -------
    numpy.ndarray
        Correlation between pooled held-out predictions and targets for
        k = 1 .. K components.
    """
    sessions = np.unique(groups)
    n_largest_test = max(int(np.sum(groups == s)) for s in sessions)
    limit = available_components(len(y) - n_largest_test, X.shape[1])
    if max_components is not None:
        limit = min(limit, max_components)
    if limit < 1:
        raise ValueError(f"too few training samples ({len(y)}) to fit any model")
    gram = X @ X.T
    paths = {
        session: gram_component_path(
            gram,
            y,
            np.flatnonzero(groups != session),
            np.flatnonzero(groups == session),
            X.shape[1],
            limit,
        )
        for session in sessions
    }
    # Rank-deficient folds may offer fewer components than asked for.
    limit = min(path.shape[1] for path in paths.values())
    predictions = np.empty((len(y), limit))
    for session, path in paths.items():
        predictions[groups == session] = path[:, :limit]
    return np.array([correlation(column, y) for column in predictions.T])


def fit_with_inner_selection(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, max_components: int | None
) -> FittedModel:
    """Choose the number of components by inner LOSO and fit on all samples."""
    curve = inner_curve(X, y, groups, max_components)
    best = int(np.nanargmax(np.where(np.isnan(curve), -np.inf, curve))) + 1
    model = LassoPCR(n_components=best).fit(X, y)
    return FittedModel(
        coef=model.coef_,
        intercept=float(model.intercept_),
        n_components=int(model.n_components_),
        inner_r=curve,
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
    runs: list[RunFeatures], model: FittedModel, fold: str
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
                "predicted": predict_volumes(
                    run.arrays["zscored"], model.coef, model.intercept
                ),
                "fold": fold,
            }
        )
        for run in runs
    ]
    return pd.concat(tables, ignore_index=True)


def nested_loso(
    runs: list[RunFeatures], subject: str, max_components: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, FittedModel]:
    """Nested leave-one-session-out decoding, and the all-sessions model.

    Every held-out session is predicted by a model that never saw it, with
    its number of components chosen by an inner leave-one-session-out loop
    over the training sessions only.

    Parameters
    ----------
    runs : list of RunFeatures
        The subject's included runs.
    subject : str
        Subject label (for messages).
    max_components : int or None
        Upper limit of the number of components.

    Returns
    -------
    predictions : pandas.DataFrame
        Columns ``PREDICTION_COLUMNS``; ``fold`` is the held-out session.
    folds : pandas.DataFrame
        One row per outer fold and one for the all-sessions model:
        ``fold, n_train_sessions, n_train_samples, n_components, inner_r``.
    model : FittedModel
        Trained on every session, components chosen by LOSO over them.
    """
    sessions = check_sessions(runs, subject)
    X, y, groups = training_set(runs)
    tables, folds = [], []
    for session in sessions:
        train = groups != session
        model = fit_with_inner_selection(
            X[train], y[train], groups[train], max_components
        )
        held_out = [run for run in runs if run.session == session]
        tables.append(predict_runs(held_out, model, fold=session))
        folds.append(_fold_row(session, groups[train], model))
    final = fit_with_inner_selection(X, y, groups, max_components)
    folds.append(_fold_row("all", groups, final))
    predictions = pd.concat(tables, ignore_index=True).loc[:, list(PREDICTION_COLUMNS)]
    return predictions, pd.DataFrame(folds), final


def _fold_row(fold: str, train_groups: np.ndarray, model: FittedModel) -> dict:
    """One row of the folds table."""
    return {
        "fold": fold,
        "n_train_sessions": int(np.unique(train_groups).size),
        "n_train_samples": int(train_groups.size),
        "n_components": model.n_components,
        "inner_r": float(model.inner_r[model.n_components - 1]),
    }


def prospective_predictions(
    runs: list[RunFeatures],
    order: list[str],
    test_session: str,
    min_train_sessions: int,
    max_components: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Predict a session with a model trained only on the sessions before it.

    The number of components is chosen by leave-one-session-out over those
    earlier sessions, as in the nested cross-validation.

    Parameters
    ----------
    runs : list of RunFeatures
        Included runs of the test session and of earlier sessions.
    order : list of str
        Every session of the subject in scan order.
    test_session : str
        The session to predict.
    min_train_sessions : int
        Fewest earlier sessions to train on.
    max_components : int or None
        Upper limit of the number of components.

    Returns
    -------
    predictions : pandas.DataFrame
        Per-volume predictions of the test session (``PREDICTION_COLUMNS``).
    n_train_sessions : int
        Number of earlier sessions trained on.

    Raises
    ------
    ValueError
        When fewer than ``min_train_sessions`` earlier sessions have usable runs.
    """
    earlier = set(order[: order.index(test_session)])
    training = [run for run in runs if run.session in earlier]
    n_train = len({run.session for run in training})
    if n_train < max(min_train_sessions, 2):
        raise ValueError(
            f"session {test_session}: {n_train} earlier session(s) with usable "
            f"runs; the prospective test needs at least {min_train_sessions}"
        )
    X, y, groups = training_set(training)
    model = fit_with_inner_selection(X, y, groups, max_components)
    held_out = [run for run in runs if run.session == test_session]
    return predict_runs(held_out, model, fold=f"before-{test_session}"), n_train


def learning_curve_predictions(
    runs: list[RunFeatures],
    fold_components: dict,
    n_train_sessions: int,
    n_repeats: int,
    seed: int,
):
    """Predict each session from random subsets of the other sessions.

    For every repeat and every held-out session, ``n_train_sessions`` of the
    other sessions are drawn without replacement and a model with the number
    of components the nested cross-validation chose for that held-out
    session is fitted on them. All fits share one Gram matrix.

    Parameters
    ----------
    runs : list of RunFeatures
        The subject's included runs.
    fold_components : dict
        Held-out session to its number of components (the folds table).
    n_train_sessions : int
        Training-set size, from 1 to the number of sessions minus 2.
    n_repeats : int
        Random draws per held-out session.
    seed : int
        Seed; each (size, repeat) has its own stream.

    Yields
    ------
    repeat : int
    test_session : str
    predictions : pandas.DataFrame or None
        Per-volume predictions of the held-out session; None when the drawn
        sessions hold fewer than three training samples.
    """
    sessions = sorted({run.session for run in runs})
    if not 1 <= n_train_sessions <= len(sessions) - 2:
        raise ValueError(
            f"training size {n_train_sessions} outside 1..{len(sessions) - 2} "
            f"for {len(sessions)} sessions"
        )
    X, y, groups = training_set(runs)
    gram = X @ X.T
    for repeat in range(n_repeats):
        rng = np.random.default_rng([seed, n_train_sessions, repeat])
        for test_session in sessions:
            others = [session for session in sessions if session != test_session]
            chosen = rng.choice(others, size=n_train_sessions, replace=False)
            train = np.flatnonzero(np.isin(groups, chosen))
            if train.size < MIN_TRAINING_SAMPLES:
                yield repeat, test_session, None
                continue
            n_components = int(fold_components[test_session])
            coef, intercept = gram_fit(gram, X, y, train, n_components)
            model = FittedModel(coef, intercept, n_components, np.array([]))
            held_out = [run for run in runs if run.session == test_session]
            yield repeat, test_session, predict_runs(held_out, model, test_session)
