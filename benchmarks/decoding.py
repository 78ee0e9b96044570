"""The straightforward decoding implementation against painflow's, in one run.

Both implementations decode the same simulated subject (200 regions, 10
sessions x 3 runs x 600 volumes by default):

1. features: mean edge vectors of every rating bin and time bin;
2. nested leave-one-session-out LASSO-PCR with per-volume predictions of
   every held-out session;
3. the full learning curve (training sizes 1 .. N-2, every held-out session,
   10 repeats by default), each held-out session's 1-min, 2-min and run units
   predicted.

The straightforward implementation builds every run's explicit (volumes x
edges) matrix, fits each model with a singular value decomposition of its
training edges (:class:`painflow.model.decoder.LassoPCR` and
:func:`painflow.model.decoder.component_path`), and predicts every volume from
explicit edge weights, averaging into units afterwards. painflow reads one
Gram matrix and kernels computed from region series (:mod:`painflow.model.kernels`).

The script prints each stage's time in both, the ratio of the totals (goal:
painflow at least 50x faster), whether both chose the same numbers of
components, and the largest difference between their predictions (goal: at
most 1e-8). ``--quick`` runs a small version in seconds.

Run: ``.venv/bin/python benchmarks/decoding.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from regionsim import (
    TR,
    RegionStudy,
    parse_study,
    region_names,
    simulate_run,
    study_parser,
)

from painflow.analyses.learningcurve import (
    kernel_data,
    learning_curve_draws,
    learning_curve_predictions,
)
from painflow.core.stats import pearson_r
from painflow.model.crossval import RunFeatures, nested_loso
from painflow.model.decoder import LassoPCR, available_components, component_path
from painflow.signals.edges import (
    EXCLUDED,
    FeatureSettings,
    edge_time_series,
    run_features,
)
from painflow.workflow.config import default_config

GOAL_RATIO = 50
GOAL_DIFFERENCE = 1e-8
SCALES = ["1min", "2min", "run"]
QUICK = {"regions": 40, "sessions": 5, "runs": 2, "volumes": 300, "repeats": 2}


@dataclass(frozen=True)
class ExplicitRun:
    """One run with its explicit edge matrix and bin means taken from it."""

    session: str
    edges: np.ndarray  # (volumes, edges)
    rating: np.ndarray  # (volumes,)
    labels: dict  # scale to (volumes,) time-bin labels
    bin_edges: np.ndarray  # (rating bins, edges)
    bin_rating: np.ndarray  # (rating bins,)


def explicit_bin_means(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Row means of ``values`` within each bin, bins in sorted order."""
    bins = np.unique(labels[labels != EXCLUDED])
    return np.stack([values[labels == label].mean(axis=0) for label in bins])


def explicit_features(runs: list[RunFeatures]) -> list[ExplicitRun]:
    """Every run's explicit edge matrix and its rating-bin means."""
    explicit = []
    for run in runs:
        arrays = run.arrays
        edges = edge_time_series(arrays["zscored"])
        labels = arrays["rating_bin"]
        explicit.append(
            ExplicitRun(
                session=run.session,
                edges=edges,
                rating=arrays["rating"],
                labels={s: arrays[f"timebin_{s}"] for s in SCALES if s != "run"},
                bin_edges=explicit_bin_means(edges, labels),
                bin_rating=explicit_bin_means(arrays["rating"][:, None], labels)[:, 0],
            )
        )
    return explicit


def explicit_training_set(runs: list[ExplicitRun]):
    """Stacked rating-bin samples, targets and session labels."""
    X = np.concatenate([run.bin_edges for run in runs])
    y = np.concatenate([run.bin_rating for run in runs])
    groups = np.concatenate([np.full(len(run.bin_rating), run.session) for run in runs])
    return X, y, groups


def explicit_choice(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> int:
    """Number of components by inner leave-one-session-out, one SVD per fit."""
    sessions = np.unique(groups)
    largest_test = max(int(np.sum(groups == s)) for s in sessions)
    limit = available_components(len(y) - largest_test, X.shape[1])
    paths = {
        s: component_path(X[groups != s], y[groups != s], X[groups == s], limit)
        for s in sessions
    }
    limit = min(path.shape[1] for path in paths.values())
    predictions = np.empty((len(y), limit))
    for session, path in paths.items():
        predictions[groups == session] = path[:, :limit]
    curve = np.array([pearson_r(column, y) for column in predictions.T])
    return int(np.nanargmax(np.where(np.isnan(curve), -np.inf, curve))) + 1


def explicit_nested(runs: list[ExplicitRun]) -> tuple[np.ndarray, dict]:
    """Nested LOSO: per-volume predictions of every held-out session, and k."""
    X, y, groups = explicit_training_set(runs)
    predictions, choices = [], {}
    for session in np.unique(groups):
        train = groups != session
        choices[session] = explicit_choice(X[train], y[train], groups[train])
        model = LassoPCR(n_components=choices[session]).fit(X[train], y[train])
        predictions += [model.predict(r.edges) for r in runs if r.session == session]
    choices["all"] = explicit_choice(X, y, groups)
    LassoPCR(n_components=choices["all"]).fit(X, y)
    return np.concatenate(predictions), choices


def unit_means(run: ExplicitRun, volume_predictions: np.ndarray, scale: str):
    """Mean predictions and ratings of a run's units at one scale."""
    if scale == "run":
        return volume_predictions.mean(keepdims=True), run.rating.mean(keepdims=True)
    labels = run.labels[scale]
    stacked = np.column_stack([volume_predictions, run.rating])
    means = explicit_bin_means(stacked, labels)
    return means[:, 0], means[:, 1]


def explicit_session_units(runs: list[ExplicitRun], model: LassoPCR):
    """A held-out session's unit predictions and ratings, scale by scale."""
    volume_predictions = [(run, model.predict(run.edges)) for run in runs]
    predicted, rated = [], []
    for scale in SCALES:
        for run, values in volume_predictions:
            unit_predicted, unit_rated = unit_means(run, values, scale)
            predicted.append(unit_predicted)
            rated.append(unit_rated)
    return np.concatenate(predicted), np.concatenate(rated)


def explicit_learning_curve(
    runs: list[ExplicitRun], choices: dict, n_repeats: int, seed: int
) -> dict:
    """Every draw of every training size: fit by SVD, predict every volume."""
    X, y, groups = explicit_training_set(runs)
    sessions = sorted(set(groups))
    predictions = {}
    for size in range(1, len(sessions) - 1):
        for repeat, test, chosen in learning_curve_draws(
            sessions, size, n_repeats, seed
        ):
            train = np.isin(groups, chosen)
            model = LassoPCR(n_components=int(choices[test])).fit(X[train], y[train])
            held_out = [run for run in runs if run.session == test]
            predictions[size, repeat, test] = explicit_session_units(held_out, model)[0]
    return predictions


def painflow_learning_curve(
    runs: list[RunFeatures], choices: dict, n_repeats: int, seed: int
) -> dict:
    """painflow's learning-curve predictions of every training size."""
    data = kernel_data(runs, SCALES)
    predictions = {}
    for size in range(1, len(data.units) - 1):
        table = learning_curve_predictions(data, choices, size, n_repeats, seed)
        predictions.update({(size, *key): value for key, value in table.items()})
    return predictions


def painflow_features(tables: list, names: list[str]) -> list[RunFeatures]:
    """painflow's run features: z-scores and bin means from Z' Z."""
    qc = {
        "included": True,
        "window_start": 0,
        "window_stop": len(tables[0][2]),
        "RepetitionTime": TR,
    }
    settings = FeatureSettings(**default_config()["features"])
    return [
        RunFeatures(session, run, run_features(table, qc, names, settings, ["fd"]))
        for session, run, table in tables
    ]


def timed(name: str, stage: Callable, times: dict):
    """Run a stage, record and print its wall time."""
    start = time.perf_counter()
    result = stage()
    times[name] = time.perf_counter() - start
    print(f"  {name:<30} {times[name]:8.2f} s", flush=True)
    return result


def largest_difference(first: dict, second: dict) -> float:
    """Largest absolute difference between two dicts of prediction arrays."""
    if first.keys() != second.keys():
        raise AssertionError("the two implementations made different draws")
    return max(float(np.max(np.abs(first[key] - second[key]))) for key in first)


def main() -> None:
    """Time both implementations and compare their predictions."""
    parser = study_parser(
        __doc__.split("\n")[0],
        RegionStudy(n_regions=200, n_sessions=10, n_volumes=600),
        repeats=10,
    )
    arguments, study = parse_study(parser, QUICK)
    print(
        f"problem: {study.n_regions} regions, {study.n_sessions} sessions x "
        f"{study.n_runs} runs x {study.n_volumes} volumes; learning curve with "
        f"{arguments.repeats} repeats"
    )
    names = region_names(study.n_regions)
    tables = [
        (f"{session:02d}", str(run), simulate_run(study, session, run))
        for session in range(1, study.n_sessions + 1)
        for run in range(1, study.n_runs + 1)
    ]
    seed, repeats = arguments.seed, arguments.repeats

    print("painflow")
    fast = {}
    runs = timed("features", lambda: painflow_features(tables, names), fast)
    nested = timed("nested LOSO", lambda: nested_loso(runs, "01"), fast)
    choices = nested.folds.set_index("fold")["n_components"].to_dict()
    fast_curve = timed(
        "learning curve",
        lambda: painflow_learning_curve(runs, choices, repeats, seed),
        fast,
    )

    print("straightforward (explicit edges, an SVD per fit)")
    slow = {}
    explicit = timed("features", lambda: explicit_features(runs), slow)
    slow_volumes, slow_choices = timed(
        "nested LOSO", lambda: explicit_nested(explicit), slow
    )
    slow_curve = timed(
        "learning curve",
        lambda: explicit_learning_curve(explicit, slow_choices, repeats, seed),
        slow,
    )

    ratio = sum(slow.values()) / sum(fast.values())
    same_choices = {str(k): int(v) for k, v in choices.items()} == slow_choices
    difference = max(
        float(np.max(np.abs(nested.predictions["predicted"] - slow_volumes))),
        largest_difference(fast_curve, slow_curve),
    )
    print(
        f"total: painflow {sum(fast.values()):.2f} s, straightforward "
        f"{sum(slow.values()):.2f} s; painflow is {ratio:.0f}x faster "
        f"(goal: at least {GOAL_RATIO}x)"
    )
    print(f"same numbers of components chosen in every fold: {same_choices}")
    print(
        f"largest difference between their predictions: {difference:.2e} "
        f"(goal: at most {GOAL_DIFFERENCE:.0e})"
    )


if __name__ == "__main__":
    main()
