"""The rest-run test: rest runs cleaned like rating runs and scored by the decoder."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import study_atlas, with_defaults
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import periodogram

from painflow.analyses.resttest import (
    first_run_ratings,
    rest_prediction,
    rest_test_metrics,
    rest_test_table,
)
from painflow.core.bids import bids_path
from painflow.core.fileio import read_json
from painflow.model.crossval import FittedModel
from painflow.parcellation.restdata import rest_settings
from painflow.signals.confounds import DenoiseSettings, censoring
from painflow.signals.edges import edge_time_series, zscore
from painflow.signals.extract import AlignmentSettings, extract_rest_run
from painflow.simulation.design import Mess, StudyDesign
from painflow.simulation.generative import (
    draw_signal_regions,
    draw_subject,
    load_aal_atlas,
    seeded_rng,
)
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.rest import write_pain_rest_run
from painflow.simulation.writers import write_image

BAND_HZ = (0.005, 0.1)


def model(coef, intercept=0.0):
    return FittedModel(np.asarray(coef, float), float(intercept), 1, np.empty(0))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(3, 6),
    st.integers(5, 30),
    st.integers(0, 2**32 - 1),
)
def test_rest_prediction_is_the_mean_edge_vector_times_the_weights(regions, n, seed):
    rng = np.random.default_rng(seed)
    series = rng.standard_normal((n, regions))
    coef = rng.standard_normal(regions * (regions - 1) // 2)
    expected = (edge_time_series(zscore(series)) @ coef + 1.5).mean()
    assert rest_prediction(series, model(coef, 1.5)) == pytest.approx(expected)


def test_each_session_is_scored_without_itself_by_the_loso_model():
    series = {"2": np.ones((4, 2)), "10": np.ones((4, 2)), "1": np.ones((4, 2))}
    ratings = {"1": 10.0, "2": 20.0, "10": 30.0}
    # Constant series z-score to 0: the prediction is the intercept alone.
    folds = {"1": model([0.0], 1.0), "2": model([0.0], 2.0)}
    table = rest_test_table(series, ratings, model([0.0], 9.0), folds)
    assert list(table.columns) == ["session", "predicted", "rating", "model"]
    assert list(table["session"]) == ["1", "2", "10"] * 2
    assert list(table["model"]) == ["all"] * 3 + ["loso"] * 3
    # Session 10 was held out by no fold: the all-sessions model never saw it.
    assert list(table["predicted"]) == [9.0, 9.0, 9.0, 1.0, 2.0, 9.0]
    assert list(table["rating"]) == [10.0, 20.0, 30.0] * 2


def test_the_first_rating_run_is_first_in_natural_order():
    runs = pd.DataFrame(
        {
            "session": ["01", "01", "02", "02"],
            "run": ["10", "2", "1", "3"],
            "rating_mean": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert first_run_ratings(runs) == {"01": 2.0, "02": 3.0}


def test_metrics_of_a_perfect_ordering_and_their_columns():
    sessions = [f"{i:02d}" for i in range(1, 9)]
    ratings = np.linspace(10, 80, 8)
    rows = [
        {"session": s, "predicted": p, "rating": r, "model": name}
        for name, sign in (("all", 1), ("loso", -1))
        for s, r, p in zip(sessions, ratings, sign * ratings / 2, strict=True)
    ]
    metrics = rest_test_metrics(pd.DataFrame(rows), 200, seed=0)
    assert list(metrics.columns) == [
        "model",
        "scale",
        "metric",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
    ]
    table = metrics.set_index(["model", "metric"])["estimate"]
    assert table["all", "r"] == pytest.approx(1.0)
    assert table["all", "auc"] == 1.0
    assert table["loso", "r"] == pytest.approx(-1.0)
    assert table["loso", "auc"] == 0.0
    assert set(metrics["scale"]) == {"session"}
    again = rest_test_metrics(pd.DataFrame(rows), 200, seed=0)
    pd.testing.assert_frame_equal(metrics, again)


# -- on the simulated recovery study --------------------------------------------


@pytest.fixture(scope="module")
def rest_runs(recovery_study, tmp_path_factory):
    """Subject 01's rest runs, with the pain signal and without, per session.

    Written beside the recovery study with the simulator's own function, from
    the subject's draws and session levels, so that the decoder of its rating
    runs (the ``decoded`` fixture) scores them.
    """
    truth = read_json(recovery_study / "ground_truth.json")
    design = truth["design"]
    params = SimulationParameters(
        **{
            name: tuple(value) if isinstance(value, list) else value
            for name, value in truth["parameters"].items()
        }
    )
    atlas = load_aal_atlas(params.voxel_size)
    rows = draw_signal_regions(atlas, design["n_subjects"], params, design["seed"])[0]
    subject = draw_subject(atlas, "01", rows, seeded_rng(design["seed"], 1), params)
    levels = truth["subjects"]["01"]["session_pain_levels"]
    runs = {}
    for scale in (1.0, 0.0):
        out = tmp_path_factory.mktemp(f"rest_{scale:g}")
        study = StudyDesign(
            out,
            2,
            len(levels),
            1,
            300,
            design["repetition_time"],
            design["seed"],
            Mess(None, False, False, False),
        )
        scaled = dataclasses.replace(params, rest_signal_scale=scale)
        for t, (session, level) in enumerate(sorted(levels.items()), start=1):
            images = write_pain_rest_run(
                study, (1, subject), (t, session, level), atlas, None, 300, scaled
            )
            for path, image in images:
                write_image(path, image)
        runs[scale] = out
    return runs


def rest_files(root: Path, session: str) -> tuple[Path, Path]:
    entities = {"subject": "01", "session": session, "task": "rest", "run": "1"}
    fmriprep = root / "derivatives" / "fmriprep"
    bold = bids_path(
        fmriprep,
        {**entities, "space": "MNI152NLin6Asym", "res": "6", "desc": "preproc"},
        "bold",
        ".nii.gz",
    )
    confounds = bids_path(
        fmriprep, {**entities, "desc": "confounds"}, "timeseries", ".tsv"
    )
    return bold, confounds


def score(root, recovery_study, decoded):
    atlas = study_atlas(recovery_study)
    denoise = rest_settings(DenoiseSettings(**with_defaults("denoise")), BAND_HZ)
    align = AlignmentSettings(**with_defaults("alignment"))
    levels = read_json(recovery_study / "ground_truth.json")["subjects"]["01"][
        "session_pain_levels"
    ]
    series = {}
    for session in levels:
        table, qc = extract_rest_run(
            *rest_files(root, session), 2.0, atlas, denoise, align
        )
        assert qc["included"]
        series[session] = table[atlas.names].to_numpy(float)
    result = decoded["01"]
    table = rest_test_table(series, levels, result["model"], result["fold_models"])
    metrics = rest_test_metrics(table, 500, seed=0)
    return metrics.set_index(["model", "metric"])["estimate"]


def test_rest_runs_that_carry_pain_are_scored_as_the_hidden_level(
    rest_runs, recovery_study, decoded
):
    with_pain = score(rest_runs[1.0], recovery_study, decoded)
    without = score(rest_runs[0.0], recovery_study, decoded)
    print(
        f"rest-run r with the pain signal {with_pain['all', 'r']:.2f} (all), "
        f"{with_pain['loso', 'r']:.2f} (loso); without {without['all', 'r']:.2f}"
    )
    assert with_pain["all", "r"] > 0.6
    assert with_pain["loso", "r"] > 0.4
    assert with_pain["all", "auc"] >= 0.75
    assert abs(without["all", "r"]) < 0.5
    assert with_pain["all", "r"] > without["all", "r"] + 0.4


def test_a_rest_run_is_cut_censored_and_band_passed_like_a_rating_run(
    rest_runs, recovery_study
):
    atlas = study_atlas(recovery_study)
    bold, confounds = rest_files(rest_runs[1.0], "01")
    denoise = rest_settings(DenoiseSettings(**with_defaults("denoise")), BAND_HZ)
    align = AlignmentSettings(**with_defaults("alignment"))
    table, qc = extract_rest_run(bold, confounds, 2.0, atlas, denoise, align)
    drop = int(np.ceil(align.drop_initial_seconds / 2.0))
    delay = int(round(align.hemodynamic_delay_seconds / 2.0))
    assert qc["window_start"] == drop + delay
    censored = censoring(confounds, 2.0, denoise).censored
    assert not set(table["volume"]) & set(np.flatnonzero(censored))
    kept = np.setdiff1d(np.arange(qc["window_start"], 300), np.flatnonzero(censored))
    assert list(table["volume"]) == list(kept)
    # Little power is left above the low-pass cutoff.
    freqs, power = periodogram(table[atlas.names].to_numpy(float), fs=0.5, axis=0)
    assert power[freqs > 0.15].sum() < 0.05 * power.sum()
    rating_denoise = DenoiseSettings(**with_defaults("denoise"))
    unfiltered, _ = extract_rest_run(bold, confounds, 2.0, atlas, rating_denoise, align)
    freqs, raw_power = periodogram(
        unfiltered[atlas.names].to_numpy(float), fs=0.5, axis=0
    )
    assert raw_power[freqs > 0.15].sum() > 0.2 * raw_power.sum()


def test_a_rest_run_longer_than_its_confounds_is_an_error(
    rest_runs, recovery_study, tmp_path
):
    bold, confounds = rest_files(rest_runs[1.0], "01")
    short = tmp_path / confounds.name
    table = pd.read_csv(confounds, sep="\t", na_values="n/a").iloc[:-5]
    table.to_csv(short, sep="\t", index=False, na_rep="n/a")
    align = AlignmentSettings(**with_defaults("alignment"))
    denoise = DenoiseSettings(**with_defaults("denoise"))
    with pytest.raises(ValueError, match=f"{short.name}.*295 rows.*300 volumes"):
        extract_rest_run(bold, short, 2.0, study_atlas(recovery_study), denoise, align)
