"""The learning curve's metrics: the main evaluation's, averaged over repeats."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from painflow.analyses.learningcurve import (
    SUMMARY_COLUMNS,
    kernel_arrays,
    kernel_data,
    kernel_data_from_arrays,
    learning_curve_draws,
    learning_curve_predictions,
    repeat_metrics,
    scale_units_of_repeats,
    size_metrics,
)
from painflow.analyses.metrics import (
    METRICS,
    add_time_bins,
    draw_metrics,
    hierarchical_draws,
    nested_index,
    point_metrics,
    scale_units,
)
from painflow.core.fileio import read_npz, read_tsv, write_npz, write_tsv
from painflow.core.streams import step_rng
from painflow.model.crossval import FittedModel, predict_runs, training_set
from painflow.model.decoder import LassoPCR
from painflow.steps.learningcurve import (
    LEARNING_CURVE_COLUMNS,
    summarize_learning_curve,
)

SCALES = ["1min", "2min", "run", "session"]
TIME_BINS = {"1min": 60, "2min": 120}


def tiny_units(rng, n_sessions, n_runs, n_bins, scale):
    """Units of a scale (``session, run, bin, rating``) as scale_units makes them."""
    if scale == "run":
        n_bins = 1
    rows = [
        {
            "session": f"{s:02d}",
            "run": str(r + 1),
            "bin": b if scale != "run" else "",
        }
        for s in range(n_sessions)
        for r in range(n_runs)
        for b in range(n_bins)
    ]
    units = pd.DataFrame(rows)
    units["rating"] = rng.normal(50, 15, len(units))
    return units


def correlation_or_nan(x, y):
    return pearsonr(x, y)[0] if len(x) >= 3 else np.nan


def mean_group_r(units, predicted, keys):
    values = [
        correlation_or_nan(group["rating"], predicted[group.index])
        for _, group in units.groupby(keys)
    ]
    values = [value for value in values if np.isfinite(value)]
    return np.mean(values) if values else np.nan


def plain_metrics(units, predicted, scale):
    """Every metric of one set of unit predictions, computed directly."""
    actual = units["rating"].to_numpy()
    residual = actual - predicted
    high = actual > np.median(actual)
    return {
        "r": pearsonr(actual, predicted)[0],
        "r2": 1 - np.sum(residual**2) / np.sum((actual - actual.mean()) ** 2),
        "mae": np.mean(np.abs(residual)),
        "auc": roc_auc_score(high, predicted) if 0 < high.sum() < len(high) else np.nan,
        "within_run_r": mean_group_r(units, predicted, ["session", "run"])
        if scale not in ("run", "session")
        else np.nan,
        "within_session_r": mean_group_r(units, predicted, ["session"]),
    }


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sessions=st.integers(3, 4),
    n_runs=st.integers(1, 3),
    n_bins=st.integers(3, 5),
    n_repeats=st.integers(1, 3),
    scale=st.sampled_from(["1min", "run"]),
)
def test_estimates_are_plain_metrics_averaged_over_repeats(
    seed, n_sessions, n_runs, n_bins, n_repeats, scale
):
    rng = np.random.default_rng(seed)
    units = tiny_units(rng, n_sessions, n_runs, n_bins, scale)
    predicted = units["rating"].to_numpy()[:, None] * rng.uniform(
        -1, 1, n_repeats
    ) + rng.normal(0, 10, (len(units), n_repeats))
    table = repeat_metrics(units, predicted, scale, 0, rng).set_index("metric")
    per_repeat = [plain_metrics(units, column, scale) for column in predicted.T]
    for metric in METRICS:
        values = [repeat[metric] for repeat in per_repeat]
        expected = np.nanmean(values) if np.isfinite(values).any() else np.nan
        np.testing.assert_allclose(
            table.loc[metric, "estimate"], expected, atol=1e-10, err_msg=metric
        )


def test_identical_repeats_give_the_interval_of_one_repeat():
    # Every resample draws the same units for all repeats: copies of one
    # repeat average to that repeat in every resample. Resampling repeats
    # apart would narrow the interval instead.
    rng = np.random.default_rng(3)
    units = tiny_units(rng, 6, 2, 5, "1min")
    predicted = units["rating"].to_numpy() + rng.normal(0, 15, len(units))
    one = repeat_metrics(units, predicted[:, None], "1min", 300, step_rng(0, "t"))
    copies = np.repeat(predicted[:, None], 4, axis=1)
    four = repeat_metrics(units, copies, "1min", 300, step_rng(0, "t"))
    pd.testing.assert_frame_equal(one, four)


def test_interval_is_the_percentile_of_repeat_means_on_shared_resamples():
    rng = np.random.default_rng(4)
    units = tiny_units(rng, 5, 3, 4, "1min")
    predicted = units["rating"].to_numpy()[:, None] + rng.normal(0, 20, (60, 3))
    table = repeat_metrics(units, predicted, "1min", 250, step_rng(1, "t"))
    draws = hierarchical_draws(nested_index(units), 250, step_rng(1, "t"))
    per_repeat = [
        draw_metrics(units.assign(predicted=column), draws, "1min")
        for column in predicted.T
    ]
    for metric in METRICS:
        means = np.nanmean([values[metric] for values in per_repeat], axis=0)
        row = table.set_index("metric").loc[metric]
        np.testing.assert_allclose(
            [row["ci_low"], row["ci_high"]],
            np.percentile(means[np.isfinite(means)], [2.5, 97.5]),
            err_msg=metric,
        )


def test_draws_come_from_the_named_stream_of_each_size_and_repeat():
    sessions = ["01", "02", "03", "04", "05"]
    draws = learning_curve_draws(sessions, 2, 3, seed=7)
    for repeat in range(3):
        rng = step_rng(7, "learning_curve", 2, repeat)
        for test_session in sessions:
            others = [session for session in sessions if session != test_session]
            chosen = tuple(sorted(rng.choice(others, size=2, replace=False)))
            assert (repeat, test_session, chosen) in draws
    # More repeats leave the earlier ones as they were.
    assert learning_curve_draws(sessions, 2, 5, seed=7)[: len(draws)] == draws


@pytest.fixture(scope="module")
def curve(decoded):
    """Kernels and learning-curve predictions of one subject, training size 3."""
    result = decoded["01"]
    choices = result["folds"].set_index("fold")["n_components"].to_dict()
    data = kernel_data(result["features"], SCALES)
    predictions = learning_curve_predictions(data, choices, 3, n_repeats=2, seed=4)
    return {"result": result, "choices": choices, "data": data, "pred": predictions}


def explicit_repeat_volumes(result, choices, repeat):
    """Per-volume predictions of every session in one repeat, fit the plain way."""
    features = result["features"]
    sessions = sorted({run.session for run in features})
    tables = []
    for draw_repeat, test_session, chosen in learning_curve_draws(sessions, 3, 2, 4):
        if draw_repeat != repeat:
            continue
        X, y, _ = training_set([run for run in features if run.session in chosen])
        model = LassoPCR(n_components=choices[test_session]).fit(X, y)
        fitted = FittedModel(model.coef_, model.intercept_, model.n_components_, None)
        held_out = [run for run in features if run.session == test_session]
        tables.append(predict_runs(held_out, fitted, test_session))
    return add_time_bins(
        pd.concat(tables, ignore_index=True), result["windows"], TIME_BINS
    )


def test_units_of_a_repeat_are_the_evaluations_units_of_explicit_fits(curve):
    volumes = explicit_repeat_volumes(curve["result"], curve["choices"], repeat=1)
    for scale in SCALES:
        units, predicted = scale_units_of_repeats(curve["data"], curve["pred"], scale)
        expected = scale_units(volumes, scale)
        ours = units.assign(predicted=predicted[:, 1])
        keys = ["session", "run", "bin"]
        ours = ours.astype({"bin": str}).sort_values(keys).reset_index(drop=True)
        expected = expected.astype({"bin": str}).sort_values(keys)
        pd.testing.assert_frame_equal(
            ours, expected.reset_index(drop=True), check_dtype=False, atol=1e-8
        )
        # One repeat's estimates are the main evaluation's metrics of its predictions.
        table = repeat_metrics(units, predicted[:, [1]], scale, 0, None)
        main = point_metrics(volumes, [scale], METRICS).iloc[0]
        np.testing.assert_allclose(
            table["estimate"], main[list(METRICS)].astype(float), atol=1e-8
        )


def test_size_metrics_bracket_their_estimates(curve):
    table = size_metrics(curve["data"], curve["pred"], 3, SCALES, 200, seed=0)
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert len(table) == len(SCALES) * len(METRICS)
    assert (table["n_train_sessions"] == 3).all()
    defined = table.dropna(subset=["estimate"])
    assert set(defined["metric"]) == set(METRICS)
    assert (defined["ci_low"] <= defined["estimate"] + 1e-12).all()
    assert (defined["estimate"] <= defined["ci_high"] + 1e-12).all()
    assert (defined["ci_low"] < defined["ci_high"]).all()
    again = size_metrics(curve["data"], curve["pred"], 3, SCALES, 200, seed=0)
    pd.testing.assert_frame_equal(table, again)


def test_kernels_read_from_a_file_keep_every_unit(curve, tmp_path):
    write_npz(tmp_path / "kernels.npz", **kernel_arrays(curve["data"]))
    read = kernel_data_from_arrays(read_npz(tmp_path / "kernels.npz"))
    for scale in SCALES:
        ours, predicted = scale_units_of_repeats(read, curve["pred"], scale)
        theirs, expected = scale_units_of_repeats(curve["data"], curve["pred"], scale)
        pd.testing.assert_frame_equal(ours, theirs)
        np.testing.assert_array_equal(predicted, expected)


def test_summary_of_sizes_some_left_empty_by_quality_control(tmp_path):
    rows = [
        {"n_train_sessions": 1, "scale": "1min", "metric": metric}
        | {"estimate": 0.5, "ci_low": 0.2, "ci_high": 0.7}
        for metric in METRICS
    ]
    write_tsv(tmp_path / "size-1.tsv", pd.DataFrame(rows))
    write_tsv(tmp_path / "size-2.tsv", pd.DataFrame(columns=list(SUMMARY_COLUMNS)))
    draws = pd.DataFrame(columns=list(LEARNING_CURVE_COLUMNS))
    write_tsv(tmp_path / "draws.tsv", draws)
    main = pd.DataFrame(rows).drop(columns="n_train_sessions").assign(p_value=0.01)
    write_tsv(tmp_path / "metrics.tsv", main)
    summarize_learning_curve(
        [str(tmp_path / "draws.tsv")] * 2,
        [str(tmp_path / "size-1.tsv"), str(tmp_path / "size-2.tsv")],
        str(tmp_path / "metrics.tsv"),
        "01",
        str(tmp_path / "table.tsv"),
        str(tmp_path / "summary.tsv"),
        str(tmp_path / "figure.png"),
    )
    summary = read_tsv(tmp_path / "summary.tsv")
    pd.testing.assert_frame_equal(summary, pd.DataFrame(rows))
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"
