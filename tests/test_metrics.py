from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare
from sklearn.metrics import r2_score, roc_auc_score

from painflow.analyses.metrics import (
    add_time_bins,
    bootstrap_p_value,
    draw_metrics,
    hierarchical_draws,
    metrics_table,
    nested_index,
    scale_units,
)


def make_volumes(signal=1.0, seed=0, n_sessions=6, n_runs=3, n_volumes=100):
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(n_sessions):
        level = rng.uniform(20, 80)
        for run in range(n_runs):
            rating = level + np.cumsum(rng.normal(0, 2, n_volumes))
            predicted = signal * rating + rng.normal(0, 20, n_volumes)
            rows.append(
                pd.DataFrame(
                    {
                        "session": f"{session + 1:02d}",
                        "run": str(run + 1),
                        "volume": np.arange(n_volumes) + 5,
                        "rating": rating,
                        "predicted": predicted,
                    }
                )
            )
    volumes = pd.concat(rows, ignore_index=True)
    windows = (
        volumes.groupby(["session", "run"]).size().reset_index()[["session", "run"]]
    )
    windows["window_start"], windows["window_stop"] = 5, 5 + n_volumes
    # 6-s volumes: 10 one-minute and 5 two-minute bins per run.
    windows["tr"] = 6.0
    return add_time_bins(volumes, windows, {"1min": 60, "2min": 120})


def estimates(table, scale):
    rows = table[table["scale"] == scale].set_index("metric")
    return rows["estimate"]


def test_point_estimates_match_direct_computations():
    volumes = make_volumes()
    table = metrics_table(volumes, ["1min", "run", "session"], n_resamples=200, seed=1)
    units = scale_units(volumes, "1min")
    got = estimates(table, "1min")
    assert len(units) == 6 * 3 * 10
    assert got["r"] == pytest.approx(
        np.corrcoef(units["rating"], units["predicted"])[0, 1]
    )
    assert got["r2"] == pytest.approx(r2_score(units["rating"], units["predicted"]))
    assert got["mae"] == pytest.approx(
        np.abs(units["rating"] - units["predicted"]).mean()
    )
    high = units["rating"] > units["rating"].median()
    assert got["auc"] == pytest.approx(roc_auc_score(high, units["predicted"]))
    within_run = units.groupby(["session", "run"]).apply(
        lambda rows: np.corrcoef(rows["rating"], rows["predicted"])[0, 1]
    )
    assert got["within_run_r"] == pytest.approx(within_run.mean())
    within_session = units.groupby("session").apply(
        lambda rows: np.corrcoef(rows["rating"], rows["predicted"])[0, 1]
    )
    assert got["within_session_r"] == pytest.approx(within_session.mean())
    # Run means have no within-run correlation; session means no within-session one.
    assert np.isnan(estimates(table, "run")["within_run_r"])
    assert np.isnan(estimates(table, "session")["within_session_r"])


def test_bootstrap_intervals_and_p_values_tell_signal_from_noise():
    strong = metrics_table(make_volumes(signal=1.0), ["1min"], 500, seed=0)
    null = metrics_table(make_volumes(signal=0.0), ["1min"], 500, seed=0)
    r_strong = strong.set_index("metric").loc["r"]
    r_null = null.set_index("metric").loc["r"]
    assert r_strong["ci_low"] > 0.3 and r_strong["p_value"] < 0.01
    assert r_null["ci_low"] < 0 < r_null["ci_high"] and r_null["p_value"] > 0.05
    assert r_strong["ci_low"] <= r_strong["estimate"] <= r_strong["ci_high"]


def test_hierarchical_draws_keep_bins_inside_their_runs_and_sessions():
    volumes = make_volumes(n_sessions=4, n_runs=2)
    units = scale_units(volumes, "2min")
    index = nested_index(units)
    draws = hierarchical_draws(index, 50, np.random.default_rng(0))
    assert draws.shape == (50, 4, 2, 5)
    assert (draws >= 0).all()
    # Every run slot holds bins of one run, and every session slot one session.
    run_of = (units["session"] + "/" + units["run"]).to_numpy()
    session_of = units["session"].to_numpy()
    for draw in draws[:10]:
        for session_slot in draw:
            assert len(set(session_of[session_slot.ravel()])) == 1
            for run_slot in session_slot:
                assert len(set(run_of[run_slot])) == 1
    # Resampling with replacement repeats units.
    assert any(len(set(d.ravel())) < d.size for d in draws)


def test_uneven_runs_and_bins_are_padded_not_invented():
    volumes = make_volumes(n_sessions=3, n_runs=2)
    volumes = volumes[~((volumes["session"] == "01") & (volumes["run"] == "2"))]
    units = scale_units(volumes, "1min")
    index = nested_index(units)
    assert (index[0, 1] == -1).all() and (index[1, 1] >= 0).all()
    draws = hierarchical_draws(index, 200, np.random.default_rng(2))
    # A drawn copy of session 01 never holds a second run.
    first_unit = units.index[units["session"] == "01"]
    for draw in draws:
        for session_slot in draw:
            if set(session_slot[session_slot >= 0]) <= set(first_unit):
                assert (session_slot[1] == -1).all()


# Sessions with 3, 2 and 1 runs; runs of 4, 5 and 6 bins.
UNBALANCED = {"1": {"1": 4, "2": 5, "3": 6}, "2": {"1": 6, "2": 4}, "3": {"1": 5}}


def unbalanced_units() -> pd.DataFrame:
    rows = [
        {"session": session, "run": run, "bin": b, "rating": 0.0, "predicted": 0.0}
        for session, runs in UNBALANCED.items()
        for run, size in runs.items()
        for b in range(size)
    ]
    return pd.DataFrame(rows)


def test_unbalanced_bootstrap_resamples_within_the_hierarchy_as_it_is():
    units = unbalanced_units()
    draws = hierarchical_draws(nested_index(units), 1500, np.random.default_rng(4))
    session_of, run_of = units["session"].to_numpy(), units["run"].to_numpy()
    sessions, runs, bins = Counter(), Counter(), Counter()
    for draw in draws:
        for session_slot in draw:
            drawn = session_slot[session_slot >= 0]
            (session,) = set(session_of[drawn])
            sessions[session] += 1
            filled = [slot[slot >= 0] for slot in session_slot if (slot >= 0).any()]
            # As many runs as the drawn session has, each from its own runs.
            assert len(filled) == len(UNBALANCED[session])
            for run_slot in filled:
                (run,) = set(run_of[run_slot])
                assert set(session_of[run_slot]) == {session}
                assert run_slot.size == UNBALANCED[session][run]
                runs[session, run] += 1
                bins.update(
                    (session, run, b) for b in units["bin"].to_numpy()[run_slot]
                )
    # Each level is drawn uniformly among its own members.
    tests = [[sessions[s] for s in UNBALANCED]]
    for session, members in UNBALANCED.items():
        tests.append([runs[session, run] for run in members])
        for run, size in members.items():
            tests.append([bins[session, run, b] for b in range(size)])
    for counts in tests:
        assert min(counts) > 0
        if len(counts) > 1:  # the one run of session 3 is always drawn
            assert chisquare(counts).pvalue > 1e-3, counts


def test_scales_keep_their_resamples_when_the_list_changes():
    volumes = make_volumes(n_sessions=4, n_runs=2)
    first = metrics_table(volumes, ["1min", "run"], 100, seed=3)
    other = metrics_table(volumes, ["session", "run", "2min", "1min"], 100, seed=3)
    for scale in ("1min", "run"):
        pd.testing.assert_frame_equal(
            first[first["scale"] == scale].reset_index(drop=True),
            other[other["scale"] == scale].reset_index(drop=True),
        )


def test_tables_of_the_same_units_share_their_resamples():
    # r and AUC do not change when predictions are scaled and shifted, so
    # with the same resamples their intervals and p-values are equal.
    volumes = make_volumes(signal=0.3, n_sessions=4, n_runs=2)
    control = volumes.assign(predicted=3 * volumes["predicted"] + 7)
    scales = ["1min", "session"]
    brain = metrics_table(volumes, scales, 200, seed=5).set_index(["scale", "metric"])
    other = metrics_table(control, scales, 200, seed=5).set_index(["scale", "metric"])
    invariant = brain.index.get_level_values("metric").isin(["r", "auc"])
    pd.testing.assert_frame_equal(brain[invariant], other[invariant], atol=1e-12)


def test_r2_of_a_resample_without_rating_variance_is_undefined():
    units = scale_units(make_volumes(n_sessions=4), "session")
    index = nested_index(units)
    one_session = index[[0, 0, 0, 0]]
    values = draw_metrics(units, np.stack([index, one_session]), "session")
    assert values["r2"][0] == pytest.approx(
        r2_score(units["rating"], units["predicted"])
    )
    assert np.isnan(values["r2"][1])


def test_same_seed_same_table():
    volumes = make_volumes()
    first = metrics_table(volumes, ["2min", "session"], 100, seed=7)
    second = metrics_table(volumes, ["2min", "session"], 100, seed=7)
    pd.testing.assert_frame_equal(first, second)


def test_bootstrap_p_value():
    assert bootstrap_p_value(np.full(99, 0.5), 0.0) == pytest.approx(0.02)
    assert bootstrap_p_value(np.linspace(-1, 1, 101), 0.0) == pytest.approx(1.0)
