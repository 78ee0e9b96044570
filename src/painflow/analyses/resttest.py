"""The rest-run test: a personal decoder scored on runs without ratings.

Each session's rest run (no rating task) is cleaned like a rating run, but
band-passed, and its kept volumes are scored with a model of the rating runs;
the run's mean prediction is compared, across sessions, with the mean rating
of the session's first rating run (the rest run came just before it). Two
models score each rest run: the all-sessions model (``all``) and the model
of the other sessions, the one nested cross-validation trained without it
(``loso``), so that no session scores itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.analyses.metrics import BOOTSTRAP_STREAM, scale_metrics
from painflow.core.bids import natural_key
from painflow.core.streams import step_rng
from painflow.model.crossval import FittedModel
from painflow.signals.edges import predict_volumes, zscore

REST_TEST_COLUMNS = ("session", "predicted", "rating", "model")
REST_TEST_MODELS = ("all", "loso")
# Metrics that exist across sessions; the within-run and within-session r
# have no units below the session here.
REST_TEST_METRICS = ("r", "r2", "mae", "auc")


def rest_prediction(series: np.ndarray, model: FittedModel) -> float:
    """Mean prediction of a model over a rest run's kept volumes.

    The region series are z-scored over the run's kept volumes, as a rating
    run's are before its edge time series are formed.

    Parameters
    ----------
    series : numpy.ndarray
        (kept volumes, regions) cleaned region series.
    model : FittedModel
        Edge-space weights of the regions' pairs.

    Returns
    -------
    float
    """
    return float(predict_volumes(zscore(series), model.coef, model.intercept).mean())


def rest_test_table(
    rest_series: dict[str, np.ndarray],
    ratings: dict[str, float],
    model: FittedModel,
    fold_models: dict[str, FittedModel],
) -> pd.DataFrame:
    """Each session's rest-run prediction by both models, beside its rating.

    Parameters
    ----------
    rest_series : dict
        Session to its rest run's (kept volumes, regions) series.
    ratings : dict
        Session to the mean rating of its first rating run; holds every
        session of ``rest_series``.
    model : FittedModel
        The all-sessions model.
    fold_models : dict
        Session to the model trained without it. A session no fold held out
        (its rating runs all left out) was never seen by the all-sessions
        model, which then serves as its ``loso`` model.

    Returns
    -------
    pandas.DataFrame
        ``REST_TEST_COLUMNS``, sessions in natural order, ``all`` rows first.
    """
    sessions = sorted(rest_series, key=natural_key)
    rows = []
    for name in REST_TEST_MODELS:
        for session in sessions:
            scoring = model if name == "all" else fold_models.get(session, model)
            rows.append(
                {
                    "session": session,
                    "predicted": rest_prediction(rest_series[session], scoring),
                    "rating": float(ratings[session]),
                    "model": name,
                }
            )
    return pd.DataFrame(rows, columns=list(REST_TEST_COLUMNS))


def rest_test_metrics(table: pd.DataFrame, n_bootstrap: int, seed: int) -> pd.DataFrame:
    """Across-session metrics of each model with a bootstrap over sessions.

    Both models are resampled with the same draws of sessions (one named
    stream), so their intervals are comparable.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`rest_test_table`.
    n_bootstrap : int
        Bootstrap resamples.
    seed : int

    Returns
    -------
    pandas.DataFrame
        Column ``model`` then the metrics table's columns, scale ``session``,
        metrics ``REST_TEST_METRICS``: r and R^2 (NaN with fewer than three
        sessions), MAE, and the AUC of above- against below-median ratings.
    """
    tables = []
    for name in REST_TEST_MODELS:
        rows = table[table["model"] == name]
        units = pd.DataFrame(
            {
                "session": rows["session"].to_numpy(str),
                "run": "",
                "bin": "",
                "rating": rows["rating"].to_numpy(float),
                "predicted": rows["predicted"].to_numpy(float),
            }
        )
        rng = step_rng(seed, BOOTSTRAP_STREAM, "rest test")
        metrics = scale_metrics(units, "session", n_bootstrap, rng)
        metrics = metrics[metrics["metric"].isin(REST_TEST_METRICS)]
        tables.append(metrics.assign(model=name))
    result = pd.concat(tables, ignore_index=True)
    return result.loc[:, ["model", *result.columns.drop("model")]]


def first_run_ratings(runs: pd.DataFrame) -> dict[str, float]:
    """Each session's mean rating of its first rating run (in run order).

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per rating run: ``session``, ``run`` and ``rating_mean`` (the
        mean aligned rating over its analysis window, from its QC record).

    Returns
    -------
    dict
        Session to rating.
    """
    rows = zip(runs["session"], runs["run"], runs["rating_mean"], strict=True)
    first = {}
    for session, _, rating in sorted(rows, key=lambda row: natural_key(str(row[1]))):
        first.setdefault(str(session), float(rating))
    return first
