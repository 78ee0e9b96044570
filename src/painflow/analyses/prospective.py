"""Prospective test: models trained only on sessions scanned earlier.

Two designs. ``split`` (the study's): one model trained on the first
``train_sessions`` sessions in scan order predicts every later session.
``expanding``: each session is predicted by a model of all the sessions
before it, once at least ``min_train_sessions`` precede it. Either way the
number of components is chosen by leave-one-session-out over the training
sessions, as in the nested cross-validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.model.crossval import (
    PREDICTION_COLUMNS,
    FittedModel,
    RunFeatures,
    fit_with_inner_selection,
    predict_runs,
    training_set,
)
from painflow.model.dual import gram_fit

MODES = ("split", "expanding")
# Inner leave-one-session-out needs two training sessions.
MIN_PROSPECTIVE_SESSIONS = 2


@dataclass(frozen=True)
class ProspectiveDesign:
    """Which sessions train and which are tested (config key ``prospective``).

    Attributes
    ----------
    mode : str
        ``split`` or ``expanding``.
    train_sessions : int
        Split: the first sessions in scan order that train the one model.
    min_train_sessions : int
        Expanding: fewest earlier sessions before a session is predicted.
    """

    mode: str
    train_sessions: int
    min_train_sessions: int

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(
                f"config prospective.mode is {self.mode!r}; choose one of {MODES}"
            )

    @classmethod
    def from_config(cls, section: dict) -> ProspectiveDesign:
        """The design of the config's ``prospective`` section."""
        return cls(
            mode=section["mode"],
            train_sessions=int(section["train_sessions"]),
            min_train_sessions=int(section["min_train_sessions"]),
        )

    def training_sessions(self, order: list[str]) -> list[str]:
        """Split: the sessions the one model is trained on, in scan order."""
        return list(order[: self.train_sessions])

    def test_sessions(self, order: list[str]) -> list[str]:
        """The sessions that are predicted, in scan order."""
        first = self.train_sessions if self.mode == "split" else self.min_train_sessions
        return list(order[first:])


def prospective_plan(design: ProspectiveDesign, orders: dict) -> dict:
    """The tested sessions of every subject, checked before any job runs.

    Parameters
    ----------
    design : ProspectiveDesign
    orders : dict
        Subject label to its sessions in scan order.

    Returns
    -------
    dict
        Subject to its tested sessions in scan order (empty in expanding mode
        when too few sessions precede any).

    Raises
    ------
    ValueError
        In split mode, naming the first subject that has no session after
        the training sessions, its number of sessions and the keys to change.
    """
    plan = {subject: design.test_sessions(order) for subject, order in orders.items()}
    if design.mode == "split":
        for subject, order in orders.items():
            if not plan[subject]:
                raise ValueError(
                    f"sub-{subject}: {len(order)} session(s), but the prospective "
                    f"test (prospective.mode: split) trains on the first "
                    f"{design.train_sessions} in scan order and tests the later "
                    "ones; set prospective.train_sessions below "
                    f"{len(order)} or prospective.mode: expanding"
                )
    return plan


def fit_on_sessions(
    runs: list[RunFeatures], sessions: list[str], max_components: int | None
) -> tuple[FittedModel, list[str]]:
    """Fit a model on the runs of some sessions, components chosen by inner LOSO.

    Parameters
    ----------
    runs : list of RunFeatures
        Included runs; those of other sessions are ignored.
    sessions : list of str
        The training sessions, in scan order.
    max_components : int or None
        Upper limit of the number of components.

    Returns
    -------
    model : FittedModel
    used : list of str
        The training sessions with usable runs, in the order given.

    Raises
    ------
    ValueError
        When fewer than two of the sessions have usable runs.
    """
    training = [run for run in runs if run.session in set(sessions)]
    present = {run.session for run in training}
    used = [session for session in sessions if session in present]
    if len(used) < MIN_PROSPECTIVE_SESSIONS:
        raise ValueError(
            f"{len(used)} of the training sessions {list(sessions)} have usable "
            f"runs; a prospective model needs at least {MIN_PROSPECTIVE_SESSIONS} "
            "(raise prospective.train_sessions or prospective.min_train_sessions)"
        )
    X, y, groups = training_set(training)
    everything = np.arange(len(y))
    model = fit_with_inner_selection(X @ X.T, X, y, groups, everything, max_components)
    return model, used


def prospective_predictions(
    runs: list[RunFeatures],
    order: list[str],
    test_session: str,
    min_train_sessions: int,
    max_components: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Expanding window: predict a session with a model of the sessions before it.

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
    earlier = order[: order.index(test_session)]
    n_train = len({run.session for run in runs if run.session in set(earlier)})
    if n_train < max(min_train_sessions, MIN_PROSPECTIVE_SESSIONS):
        raise ValueError(
            f"session {test_session}: {n_train} earlier session(s) with usable "
            f"runs; the prospective test needs at least {min_train_sessions}"
        )
    model, _ = fit_on_sessions(runs, earlier, max_components)
    return predict_session(runs, model, test_session, f"before-{test_session}"), n_train


def predict_session(
    runs: list[RunFeatures], model: FittedModel, session: str, fold: str
) -> pd.DataFrame:
    """Per-volume predictions of a session's runs; no rows when none is usable."""
    held_out = [run for run in runs if run.session == session]
    if not held_out:
        return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
    return predict_runs(held_out, model, fold)


def inner_predictions(
    runs: list[RunFeatures], sessions: list[str], n_components: int
) -> pd.DataFrame:
    """Each training session predicted by a model of the other training sessions.

    The models have the number of components chosen for the model of all the
    training sessions, so the predictions are those of the inner
    leave-one-session-out loop at that choice: out of sample for every
    session, the source of the prospective model's prediction intervals.

    Parameters
    ----------
    runs : list of RunFeatures
        Included runs; those of other sessions are ignored.
    sessions : list of str
        The training sessions with usable runs (at least two).
    n_components : int
        The chosen number of components.

    Returns
    -------
    pandas.DataFrame
        Per-volume predictions (``PREDICTION_COLUMNS``), fold ``inner-<session>``.
    """
    training = [run for run in runs if run.session in set(sessions)]
    X, y, groups = training_set(training)
    gram = X @ X.T
    tables = []
    for session in sessions:
        coef, intercept = gram_fit(
            gram, X, y, np.flatnonzero(groups != session), n_components
        )
        model = FittedModel(coef, intercept, n_components, np.empty(0))
        tables.append(predict_session(training, model, session, f"inner-{session}"))
    return pd.concat(tables, ignore_index=True)
