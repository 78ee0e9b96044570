"""A group model against a person's own: leave one person out.

The group model of a held-out person is the personal decoder (the same edge
features, the same LASSO-PCR, :mod:`painflow.model.crossval`) trained on the
rating-bin samples of every other person, all their sessions pooled. Its
number of components is chosen by the same inner cross-validation, whose
folds are the other people when there are at least two of them, else the
other person's sessions (then the group model is that person's all-sessions
model).

The matched group model has, for each held-out session of the person, as
many training samples as the person's own model of that fold had: a simple
random sample, without replacement, of the pooled samples (all of them when
the pool is smaller), drawn from a stream named by the person and the session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.core.streams import step_rng
from painflow.model.crossval import (
    FittedModel,
    RunFeatures,
    fit_with_inner_selection,
    predict_runs,
    training_set,
)

PERSONAL, GROUP, GROUP_MATCHED = "personal", "group", "group_matched"
# Name of the random streams of the matched training sets.
MATCHED_STREAM = "group_model_matched"
FIT_COLUMNS = ("model", "fold", "n_train_samples", "n_train_people", "n_components")


@dataclass(frozen=True)
class Pool:
    """The pooled rating-bin samples of the other people.

    Attributes
    ----------
    X : numpy.ndarray
        (samples, edges) bin means.
    y : numpy.ndarray
        (samples,) bin mean ratings.
    people : numpy.ndarray
        (samples,) person of each sample.
    folds : numpy.ndarray
        (samples,) inner cross-validation fold of each sample: its person,
        or its session when the pool holds one person.
    gram : numpy.ndarray
        ``X @ X.T``, shared by every fit.
    """

    X: np.ndarray
    y: np.ndarray
    people: np.ndarray
    folds: np.ndarray
    gram: np.ndarray

    @property
    def n_people(self) -> int:
        """Number of people in the pool."""
        return int(np.unique(self.people).size)


def pool_training_set(others: dict[str, list[RunFeatures]]) -> Pool:
    """Stack the rating-bin samples of other people, person by person.

    Parameters
    ----------
    others : dict
        Person label to their included runs (every session).

    Returns
    -------
    Pool

    Raises
    ------
    ValueError
        When there is no other person.
    """
    if not others:
        raise ValueError("a group model needs at least one other person")
    people = sorted(others)
    parts = [training_set(others[person]) for person in people]
    X = np.concatenate([X for X, _, _ in parts])
    y = np.concatenate([y for _, y, _ in parts])
    labels = np.concatenate(
        [
            np.full(len(part[1]), person)
            for person, part in zip(people, parts, strict=True)
        ]
    )
    sessions = np.concatenate([groups for _, _, groups in parts])
    folds = labels if len(people) >= 2 else sessions
    return Pool(X=X, y=y, people=labels, folds=folds, gram=X @ X.T)


def fit_pool(pool: Pool, train: np.ndarray, max_components: int | None) -> FittedModel:
    """LASSO-PCR on some of the pool's samples, components chosen by inner CV."""
    return fit_with_inner_selection(
        pool.gram, pool.X, pool.y, pool.folds, train, max_components
    )


def personal_fold_sizes(runs: list[RunFeatures]) -> dict[str, int]:
    """Training samples of a person's own model of each held-out session.

    Parameters
    ----------
    runs : list of RunFeatures
        The person's included runs.

    Returns
    -------
    dict
        Session to the number of rating-bin samples of the other sessions.
    """
    _, _, sessions = training_set(runs)
    return {str(s): int(np.sum(sessions != s)) for s in np.unique(sessions)}


def matched_subset(n_pool: int, n_samples: int, rng: np.random.Generator):
    """Sorted indices of a simple random sample of the pool, without replacement.

    Parameters
    ----------
    n_pool : int
        Samples in the pool.
    n_samples : int
        Samples wanted (all of the pool when it has fewer).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
    """
    return np.sort(rng.choice(n_pool, size=min(n_samples, n_pool), replace=False))


@dataclass(frozen=True)
class GroupPredictions:
    """The group models' per-volume predictions of one person.

    Attributes
    ----------
    predictions : dict
        Model name (``group``, ``group_matched``) to per-volume predictions
        (``PREDICTION_COLUMNS``; ``fold`` is ``group`` or the held-out session).
    fits : pandas.DataFrame
        One row per fitted model: ``FIT_COLUMNS``.
    """

    predictions: dict
    fits: pd.DataFrame


def group_predictions(
    runs: list[RunFeatures],
    pool: Pool,
    subject: str,
    max_components: int | None,
    matched: bool,
    seed: int,
) -> GroupPredictions:
    """Predict every retained volume of a person with the group models.

    Parameters
    ----------
    runs : list of RunFeatures
        The held-out person's included runs.
    pool : Pool
        The other people's samples.
    subject : str
        The held-out person (names the matched draws' streams).
    max_components : int or None
        Upper limit of the number of components.
    matched : bool
        Whether to fit the matched group model too.
    seed : int
        The workflow's seed.

    Returns
    -------
    GroupPredictions
    """
    everything = np.arange(len(pool.y))
    model = fit_pool(pool, everything, max_components)
    predictions = {GROUP: predict_runs(runs, model, GROUP)}
    fits = [_fit_row(GROUP, GROUP, pool, everything, model)]
    if matched:
        tables = []
        for session, size in personal_fold_sizes(runs).items():
            rng = step_rng(seed, MATCHED_STREAM, subject, session)
            train = matched_subset(len(pool.y), size, rng)
            fitted = fit_pool(pool, train, max_components)
            held_out = [run for run in runs if run.session == session]
            tables.append(predict_runs(held_out, fitted, session))
            fits.append(_fit_row(GROUP_MATCHED, session, pool, train, fitted))
        predictions[GROUP_MATCHED] = pd.concat(tables, ignore_index=True)
    return GroupPredictions(predictions, pd.DataFrame(fits, columns=list(FIT_COLUMNS)))


def _fit_row(
    name: str, fold: str, pool: Pool, train: np.ndarray, model: FittedModel
) -> dict:
    """One row of the fits table."""
    return {
        "model": name,
        "fold": fold,
        "n_train_samples": int(train.size),
        "n_train_people": int(np.unique(pool.people[train]).size),
        "n_components": model.n_components,
    }


def paired_volumes(personal: pd.DataFrame, others: dict) -> dict:
    """Every model's predictions of the same volumes, with the same ratings.

    The personal predictions are read from a table (ratings rounded on
    writing); each model's frame is the personal one with that model's
    predictions in ``predicted``, so every model is scored on identical units.

    Parameters
    ----------
    personal : pandas.DataFrame
        The person's nested leave-one-session-out predictions.
    others : dict
        Model name to its predictions of the person's volumes.

    Returns
    -------
    dict
        ``personal`` first, then ``others``; each sorted by session, run and
        volume.

    Raises
    ------
    ValueError
        When a model's volumes or ratings are not the personal model's.
    """
    keys = ["session", "run", "volume"]
    base = personal.sort_values(keys, kind="stable").reset_index(drop=True)
    paired = {PERSONAL: base}
    for name, table in others.items():
        table = table.sort_values(keys, kind="stable").reset_index(drop=True)
        same_volumes = len(table) == len(base) and table.loc[:, keys].equals(
            base.loc[:, keys]
        )
        if not same_volumes or not np.allclose(table["rating"], base["rating"]):
            raise ValueError(
                f"the {name} model's predictions and the personal predictions "
                "cover different volumes or ratings (features and predictions "
                "out of date?)"
            )
        paired[name] = base.assign(predicted=table["predicted"].to_numpy())
    return paired


def fewer_than_three_note(pool: Pool) -> str:
    """What the group model is when the pool holds one person; else empty."""
    if pool.n_people >= 2:
        return ""
    other = str(pool.people[0])
    return (
        f"fewer than 3 people: the group model is sub-{other}'s all-sessions "
        "model, its components chosen over their sessions"
    )
