"""The group model against the personal one, leave one person out."""

import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults

from painflow.analyses.groupmodel import (
    GROUP,
    GROUP_MATCHED,
    MATCHED_STREAM,
    PERSONAL,
    fewer_than_three_note,
    group_predictions,
    matched_subset,
    paired_volumes,
    personal_fold_sizes,
    pool_training_set,
)
from painflow.analyses.metrics import (
    METRICS,
    add_time_bins,
    metrics_table,
    paired_metrics_table,
)
from painflow.core.streams import step_rng
from painflow.model.crossval import RunFeatures, nested_loso, predict_runs
from painflow.signals.edges import FeatureSettings, run_features

REGIONS = ["a", "b", "c", "d", "e", "f"]
SESSIONS = ("1", "2", "3", "4")
TR, N_VOLUMES = 3.0, 200  # ten 1-min bins per run
BINS = {"1min": 60}


def person(seed: int, signal_pair: tuple[int, int]) -> tuple[list, pd.DataFrame]:
    """4 sessions x 2 runs whose ``signal_pair`` co-fluctuates more with pain.

    Returns the runs' features and their analysis windows.
    """
    rng = np.random.default_rng(seed)
    runs, windows = [], []
    for session in SESSIONS:
        for run in ("1", "2"):
            t = np.arange(N_VOLUMES)
            rating = 50 + 40 * np.sin(t / 12 + rng.uniform(0, 6))
            regions = rng.standard_normal((N_VOLUMES, len(REGIONS)))
            shared = 2 * rating / 100 * rng.standard_normal(N_VOLUMES)
            regions[:, list(signal_pair)] += shared[:, None]
            table = pd.DataFrame(regions, columns=REGIONS)
            table.insert(0, "volume", t)
            table.insert(1, "time", (t + 0.5) * TR)
            table.insert(2, "rating", rating)
            window = {"window_start": 0, "window_stop": N_VOLUMES}
            qc = {"included": True, "RepetitionTime": TR, **window}
            settings = FeatureSettings(**with_defaults("features"))
            arrays = run_features(table, qc, REGIONS, settings, [])
            runs.append(RunFeatures(session, run, arrays))
            windows.append({"session": session, "run": run, "tr": TR, **window})
    return runs, pd.DataFrame(windows)


def people(pairs: list[tuple[int, int]]) -> dict:
    """Features and windows of one person per signal pair."""
    return {f"0{k + 1}": person(k, pair) for k, pair in enumerate(pairs)}


def compare(study: dict, subject: str, matched: bool = True, n_bootstrap=300):
    """The paired table of a held-out person, at 1-min bins."""
    runs, windows = study[subject]
    others = {s: study[s][0] for s in study if s != subject}
    pool = pool_training_set(others)
    group = group_predictions(runs, pool, subject, None, matched, seed=0)
    personal = nested_loso(runs, subject).predictions
    paired = paired_volumes(personal, group.predictions)
    volumes = {name: add_time_bins(v, windows, BINS) for name, v in paired.items()}
    table = paired_metrics_table(volumes, PERSONAL, ["1min"], n_bootstrap, seed=0)
    return table.set_index(["model", "metric"]), group, pool


@pytest.fixture(scope="module")
def disjoint():
    return people([(0, 1), (2, 3), (4, 5)])


@pytest.fixture(scope="module")
def shared():
    return people([(0, 1), (0, 1), (0, 1)])


def test_the_group_model_is_worse_when_people_differ(disjoint):
    table, _, _ = compare(disjoint, "01")
    assert table.loc[(PERSONAL, "r"), "estimate"] > 0.5
    difference = table.loc[(f"{GROUP}-{PERSONAL}", "r")]
    assert difference["ci_high"] < 0
    assert difference["estimate"] < -0.3
    assert difference["p_value"] < 0.05
    assert table.loc[(f"{GROUP_MATCHED}-{PERSONAL}", "r"), "ci_high"] < 0


def test_the_group_model_is_close_when_people_share_their_signal(shared):
    table, _, _ = compare(shared, "01")
    assert table.loc[(GROUP, "r"), "estimate"] > 0.5
    # At matched size the two are alike; the full pool has more samples.
    matched = table.loc[(f"{GROUP_MATCHED}-{PERSONAL}", "r")]
    assert matched["ci_low"] < 0 < matched["ci_high"]
    assert abs(matched["estimate"]) < 0.15
    assert table.loc[(f"{GROUP}-{PERSONAL}", "r"), "estimate"] > -0.05


def test_personal_rows_are_the_subjects_own_metrics(disjoint):
    # Same stream, same resamples: the personal rows are the metrics table's.
    runs, windows = disjoint["01"]
    table, _, _ = compare(disjoint, "01")
    personal = nested_loso(runs, "01").predictions
    volumes = add_time_bins(personal, windows, BINS)
    own = metrics_table(volumes, ["1min"], 300, seed=0).set_index("metric")
    rows = table.xs(PERSONAL, level="model")
    pd.testing.assert_frame_equal(rows.loc[own.index], own)


def test_a_model_compared_with_itself_differs_by_exactly_zero_in_every_draw(disjoint):
    runs, windows = disjoint["02"]
    volumes = add_time_bins(nested_loso(runs, "02").predictions, windows, BINS)
    table = paired_metrics_table(
        {"a": volumes, "b": volumes.copy()}, "a", ["1min", "run"], 200, seed=4
    )
    difference = table[table["model"] == "b-a"]
    defined = difference.dropna(subset=["estimate"])
    assert len(defined) >= len(METRICS)
    assert (defined[["estimate", "ci_low", "ci_high"]] == 0).all().all()
    # No draw differs from 0, so p is 1.
    assert (defined["p_value"] == 1).all()


def test_a_paired_comparison_of_different_volumes_is_refused(disjoint):
    runs, windows = disjoint["02"]
    volumes = add_time_bins(nested_loso(runs, "02").predictions, windows, BINS)
    with pytest.raises(ValueError, match="different 1min units"):
        paired_metrics_table(
            {"a": volumes, "b": volumes.iloc[10:]}, "a", ["1min"], 10, seed=0
        )
    with pytest.raises(ValueError, match="different volumes"):
        paired_volumes(volumes, {GROUP: volumes.iloc[10:]})


def test_matched_sets_have_the_personal_fold_sizes_and_are_reproducible(disjoint):
    runs, _ = disjoint["01"]
    sizes = personal_fold_sizes(runs)
    folds = nested_loso(runs, "01").folds.set_index("fold")["n_train_samples"]
    assert sizes == {s: int(folds[s]) for s in SESSIONS}
    _, group, pool = compare(disjoint, "01", n_bootstrap=0)
    fits = group.fits[group.fits["model"] == GROUP_MATCHED].set_index("fold")
    assert fits["n_train_samples"].to_dict() == sizes
    assert (fits["n_train_people"] == 2).all()
    assert group.fits.set_index("model").loc[GROUP, "n_train_samples"] == len(pool.y)
    first = matched_subset(len(pool.y), 50, step_rng(0, MATCHED_STREAM, "01", "1"))
    again = matched_subset(len(pool.y), 50, step_rng(0, MATCHED_STREAM, "01", "1"))
    other = matched_subset(len(pool.y), 50, step_rng(0, MATCHED_STREAM, "01", "2"))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert len(np.unique(first)) == 50
    # A pool smaller than asked for is used whole.
    np.testing.assert_array_equal(matched_subset(5, 9, step_rng(0, "x")), range(5))


def test_with_two_people_the_group_model_is_the_other_persons_model(disjoint):
    two = {s: disjoint[s] for s in ("01", "02")}
    runs, _ = two["01"]
    pool = pool_training_set({"02": two["02"][0]})
    assert pool.n_people == 1
    assert "sub-02's all-sessions model" in fewer_than_three_note(pool)
    group = group_predictions(runs, pool, "01", None, matched=False, seed=0)
    other_model = nested_loso(two["02"][0], "02").model
    cross_subject = predict_runs(runs, other_model, GROUP)
    pd.testing.assert_frame_equal(group.predictions[GROUP], cross_subject)
    assert set(group.predictions) == {GROUP}
    # Three people: the folds are people and there is no note.
    three = pool_training_set({s: disjoint[s][0] for s in ("02", "03")})
    assert fewer_than_three_note(three) == ""
    assert set(three.folds) == {"02", "03"}


def test_no_other_person_is_an_error():
    with pytest.raises(ValueError, match="at least one other person"):
        pool_training_set({})
