"""The plan: an inverse power law fitted to a learning curve, extrapolated."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from painflow import cli
from painflow.analyses.plan import (
    PLAN_COLUMNS,
    bootstrap_curves,
    curve_values,
    fit_power_law,
    interval_with_infinity,
    plan_table,
    power_law,
    sessions_to_target,
)
from painflow.analyses.plansettings import PlanSettings
from painflow.core.fileio import read_tsv, write_tsv
from painflow.simulation.learningcurves import (
    EARLY,
    LATE,
    CurveTruth,
    coverage_study,
    simulate_learning_curve,
    true_plan,
)
from painflow.steps.plan import plan
from painflow.workflow.config import default_config

SIZES = np.arange(1, 11)
# Coverage the test asks of the 95% intervals over its few simulated studies;
# benchmarks/plan_coverage.py measures it over many.
MIN_COVERAGE = 0.75


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(-0.5, 0.95),
    b=st.floats(0.02, 1.0),
    c=st.floats(0.15, 2.8),
)
def test_the_fit_recovers_a_planted_noiseless_curve(a, b, c):
    r = power_law(SIZES, a, b, c)
    np.testing.assert_allclose(fit_power_law(SIZES, r), [a, b, c], atol=1e-5)


def test_the_fit_skips_missing_sizes_and_needs_three():
    r = power_law(SIZES, 0.5, 0.4, 0.7)
    r[[2, 5]] = np.nan
    np.testing.assert_allclose(fit_power_law(SIZES, r), [0.5, 0.4, 0.7], atol=1e-6)
    assert np.isnan(fit_power_law(SIZES[:2], r[:2])).all()


def test_the_fit_stays_in_its_bounds():
    # A falling curve is fitted flat at its mean (b >= 0): more sessions never
    # cost accuracy on average.
    falling = 0.3 - 0.1 * np.log(SIZES)
    a, b, _ = fit_power_law(SIZES, falling)
    assert b == 0
    assert a == pytest.approx(falling.mean())


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0.3, 0.95),
    b=st.floats(0.05, 1.0),
    c=st.floats(0.15, 2.8),
    target=st.floats(0.0, 0.9),
)
def test_sessions_to_target_solve_the_closed_form(a, b, c, target):
    needed = sessions_to_target(np.array([a, b, c]), target, max_sessions=1e6)
    if a <= target:
        assert needed == math.inf
    elif power_law(1, a, b, c) >= target:
        assert needed == 1.0
    else:
        root = brentq(lambda s: power_law(s, a, b, c) - target, 1, 1e9)
        if root > 1e6:
            assert needed == math.inf
        else:
            assert needed == pytest.approx(root, rel=1e-9)


def test_sessions_beyond_the_limit_count_as_never():
    params = np.array([0.5, 0.4, 0.5])  # reaches 0.4 at 16 sessions
    assert sessions_to_target(params, 0.4) == pytest.approx(16.0)
    assert sessions_to_target(params, 0.4, max_sessions=15) == math.inf
    assert math.isnan(sessions_to_target(np.full(3, np.nan), 0.4))


def test_an_interval_of_sessions_may_end_in_never():
    samples = np.array([4.0] * 10 + [math.inf] * 10 + [math.nan] * 5)
    assert interval_with_infinity(samples) == (4.0, math.inf)
    assert interval_with_infinity(np.arange(1.0, 201.0)) == (5.0, 195.0)
    assert all(math.isnan(v) for v in interval_with_infinity(np.array([math.nan])))


def test_every_size_of_a_resample_draws_the_same_sessions_and_repeats(rng):
    base = rng.normal(0.3, 0.2, (1, 6, 5))
    offsets = np.array([0.0, 0.1, 0.25])[:, None, None]
    values = base + offsets
    curves = bootstrap_curves(values, 50, rng)
    np.testing.assert_allclose(curves - curves[:, :1], [[0.0, 0.1, 0.25]] * 50)
    # Each resample's mean lies among the values it drew from.
    assert (curves[:, 0] >= base.min()).all() and (curves[:, 0] <= base.max()).all()
    assert np.unique(curves[:, 0]).size > 40


def table_of(truth=None, n_sessions=8, seed=0):
    truth = truth or CurveTruth(*EARLY)
    rng = np.random.default_rng(seed)
    table = simulate_learning_curve(truth, n_sessions, 6, rng)
    session_rows = table.assign(scale="session", r=np.nan)
    return pd.concat([table, session_rows], ignore_index=True)


def test_curve_values_place_every_draw(rng):
    table = table_of()
    sizes, values = curve_values(table, "1min")
    assert sizes.tolist() == list(range(1, 7))
    assert values.shape == (6, 8, 6)
    row = table[(table["scale"] == "1min")].iloc[37]
    session = int(row["test_session"]) - 1
    assert values[row["n_train_sessions"] - 1, session, row["repeat"]] == row["r"]


def test_the_plan_table_is_reproducible_and_complete():
    table = table_of()
    settings = PlanSettings(n_bootstrap=100)
    first, second = plan_table(table, settings, 3), plan_table(table, settings, 3)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == list(PLAN_COLUMNS)
    assert first["scale"].unique().tolist() == ["1min"]  # no r at all: no rows
    curve = first[first["quantity"] == "r"]
    assert curve["n_sessions"].tolist() == list(range(1, 17))
    assert (curve["ci_low"] <= curve["estimate"] + 1e-12).all()
    assert curve["observed"].notna().sum() == 6
    gain = first[first["quantity"] == "gain"].iloc[0]
    assert gain["n_sessions"] == 8 + settings.extra_sessions
    by_size = curve.set_index("n_sessions")["estimate"]
    assert gain["estimate"] == pytest.approx(by_size[12] - by_size[8])
    other_seed = plan_table(table, settings, 4)
    assert not other_seed["ci_low"].equals(first["ci_low"])


def test_without_resamples_there_are_no_intervals():
    plan_rows = plan_table(table_of(), PlanSettings(n_bootstrap=0), 0)
    assert plan_rows["ci_low"].isna().all() and plan_rows["ci_high"].isna().all()
    fitted = plan_rows[plan_rows["quantity"] != "reach_probability"]
    assert fitted["estimate"].notna().all()


def test_a_curve_too_short_to_fit_gets_a_complete_row_saying_so():
    # 4 sessions: training sizes 1 and 2 only, fewer than a fit needs.
    plan_rows = plan_table(table_of(n_sessions=4), PlanSettings(n_bootstrap=20), 0)
    assert list(plan_rows.columns) == list(PLAN_COLUMNS)
    row = plan_rows.set_index("quantity").loc["sessions_to_target"]
    assert math.isnan(row["estimate"]) and "no fit" in row["note"]


def test_a_target_above_the_asymptote_is_never_reached():
    truth = CurveTruth(0.3, 0.3, 1.0, session_sd=0.02, draw_sd=0.02)
    plan_rows = plan_table(table_of(truth), PlanSettings(n_bootstrap=50), 0)
    needed = plan_rows.set_index("quantity").loc["sessions_to_target"]
    assert needed["estimate"] == math.inf
    assert "below it: never" in needed["note"]


def test_plan_defaults_are_the_configs():
    assert default_config()["plan"] == PlanSettings().__dict__


def test_early_and_late_people_are_told_apart_and_the_truth_is_covered():
    settings = PlanSettings(n_bootstrap=100)
    early, late = CurveTruth(*EARLY), CurveTruth(*LATE)
    n_sessions, seeds = 8, range(16)
    studies = {
        truth: coverage_study(truth, n_sessions, 10, seeds, settings)
        for truth in (early, late)
    }
    for truth, rows in studies.items():
        for quantity in ("r_2n", "sessions_to_target", "gain"):
            assert rows[quantity].mean() >= MIN_COVERAGE, (truth, quantity)
    assert true_plan(early, n_sessions, settings)["sessions_to_target"] < 2
    assert true_plan(late, n_sessions, settings)["sessions_to_target"] > 7
    assert (
        studies[early]["estimated_sessions"] < studies[late]["estimated_sessions"]
    ).all()


def write_output_folder(root):
    for subject, truth in (("01", EARLY), ("02", LATE)):
        table = simulate_learning_curve(
            CurveTruth(*truth), 10, 8, np.random.default_rng(int(subject))
        )
        folder = root / f"sub-{subject}" / "decoding"
        write_tsv(folder / f"sub-{subject}_atlas-AAL_learningcurve.tsv", table)
        write_tsv(
            folder / f"sub-{subject}_atlas-AAL_desc-summary_learningcurve.tsv",
            table.head(0),
        )


def as_read(sessions: float) -> str:
    return "never" if sessions == math.inf else str(math.ceil(sessions))


def test_the_command_prints_the_rules_numbers(tmp_path, capsys):
    write_output_folder(tmp_path)
    settings = dict(target_r=0.5, extra_sessions=3, n_bootstrap=80, max_sessions=100)
    learning_curve = tmp_path / "sub-02/decoding/sub-02_atlas-AAL_learningcurve.tsv"
    plan(
        str(learning_curve),
        "02",
        settings,
        7,
        str(tmp_path / "plan.tsv"),
        str(tmp_path / "plan.png"),
    )
    assert (tmp_path / "plan.png").stat().st_size > 0
    written = read_tsv(tmp_path / "plan.tsv").set_index("quantity")
    needed = written.loc["sessions_to_target"]
    assert (
        cli.main(
            [
                "plan",
                str(tmp_path),
                *("--target-r", "0.5", "--extra", "3", "--n-bootstrap", "80"),
                *("--seed", "7"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.index("sub-01") < printed.index("sub-02")
    block = printed[printed.index("sub-02") :]
    low, high = (as_read(needed[k]) for k in ("ci_low", "ci_high"))
    assert f"sessions needed {as_read(needed['estimate'])} " in block
    assert f"[95% interval {low}, {high}]" in block
    gain = written.loc["gain"]
    assert f"gain from 3 more sessions {gain['estimate']:+.3f}" in block


def test_the_command_reads_one_table_and_names_a_missing_one(tmp_path, capsys):
    write_output_folder(tmp_path)
    table = tmp_path / "sub-01/decoding/sub-01_atlas-AAL_learningcurve.tsv"
    assert cli.main(["plan", str(table), "--n-bootstrap", "20"]) == 0
    assert "sub-01 (target r 0.4)" in capsys.readouterr().out
    assert cli.main(["plan", str(tmp_path), "--subject", "07"]) == 1
    assert "no learning-curve table of subject 07" in capsys.readouterr().err
    assert cli.main(["plan", str(tmp_path / "nowhere")]) == 1
    assert "nowhere: no such folder or table" in capsys.readouterr().err
    wrong = tmp_path / "sub-03_atlas-AAL_learningcurve.tsv"
    wrong.write_text("a\tb\n1\t2\n")
    assert cli.main(["plan", str(wrong)]) == 1
    assert "is not a learning-curve table" in capsys.readouterr().err
