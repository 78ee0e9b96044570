"""The group model against the personal one, leave one person out."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults
from workflow_runner import planned_jobs, run_workflow, study_config

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
from painflow.core.fileio import read_tsv, write_json, write_npz, write_tsv
from painflow.core.streams import step_rng
from painflow.model.crossval import RunFeatures, nested_loso, predict_runs
from painflow.signals.edges import FeatureSettings, run_features
from painflow.steps.groupmodel import (
    GROUP_MODEL_COLUMNS,
    _pool_runs,
    group_model,
    summarize_group_model,
)

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


def write_person(folder: Path, subject: str, runs: list, windows: pd.DataFrame):
    """A person's run features, QC sidecars and personal predictions as files."""
    windows = windows.set_index(["session", "run"])
    paths = {"features": [], "qc": [], "units": {}}
    for run in runs:
        stem = f"sub-{subject}_ses-{run.session}_run-{run.run}"
        features = folder / f"{stem}_edges.npz"
        qc = folder / f"{stem}_timeseries.json"
        write_npz(features, **run.arrays)
        window = windows.loc[(run.session, run.run)]
        write_json(
            qc,
            {
                "window_start": int(window["window_start"]),
                "window_stop": int(window["window_stop"]),
                "RepetitionTime": float(window["tr"]),
                "included": True,
            },
        )
        paths["features"].append(str(features))
        paths["qc"].append(str(qc))
        for path in (features, qc):
            paths["units"][path.name] = {"session": run.session, "run": run.run}
    paths["predictions"] = str(folder / f"sub-{subject}_predictions.tsv")
    write_tsv(paths["predictions"], nested_loso(runs, subject).predictions)
    return paths


def run_steps(study: dict, folder: Path, **settings) -> list[str]:
    """The group_model step of every person, on files; its tables."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {s: write_person(folder, s, *study[s]) for s in study}
    units = {k: v for paths in files.values() for k, v in paths["units"].items()}
    tables = []
    for subject, paths in files.items():
        pool = [p for s in study if s != subject for p in files[s]["features"]]
        tables.append(str(folder / f"sub-{subject}_groupmodel.tsv"))
        group_model(
            features=paths["features"],
            pool_features=pool,
            qc_files=paths["qc"],
            predictions=paths["predictions"],
            units=units,
            pool_subjects={Path(p).name: Path(p).name[4:6] for p in pool},
            subject=subject,
            max_components=None,
            matched=settings.get("matched", True),
            time_bins=BINS,
            scales=["1min", "run"],
            n_bootstrap=50,
            seed=0,
            table_out=tables[-1],
        )
    return tables


def test_the_steps_write_every_persons_rows_and_the_group_table(disjoint, tmp_path):
    tables = run_steps(disjoint, tmp_path)
    summary = tmp_path / "group" / "atlas-A_groupmodel.tsv"
    figure = tmp_path / "group" / "atlas-A_groupmodel.png"
    summarize_group_model(tables, str(summary), str(figure))
    table = read_tsv(summary, dtype={"subject": str, "note": str})
    assert list(table.columns) == list(GROUP_MODEL_COLUMNS)
    assert set(table["subject"]) == set(disjoint)
    expected = {
        PERSONAL,
        GROUP,
        GROUP_MATCHED,
        f"{GROUP}-{PERSONAL}",
        f"{GROUP_MATCHED}-{PERSONAL}",
    }
    assert set(table["model"]) == expected
    assert len(table) == 3 * len(expected) * 2 * len(METRICS)
    assert table["note"].isna().all()
    assert figure.stat().st_size > 0
    again = tmp_path / "again.tsv"
    summarize_group_model(tables, str(again), str(tmp_path / "again.png"))
    assert again.read_bytes() == summary.read_bytes()


def test_two_people_say_so_in_every_row(disjoint, tmp_path, caplog):
    two = {s: disjoint[s] for s in ("01", "02")}
    with caplog.at_level("WARNING"):
        tables = run_steps(two, tmp_path, matched=False)
    table = read_tsv(tables[0], dtype={"subject": str, "note": str})
    assert set(table["model"]) == {PERSONAL, GROUP, f"{GROUP}-{PERSONAL}"}
    first = Path(tables[0]).read_bytes()
    again = run_steps(two, tmp_path / "again", matched=False)
    assert Path(again[0]).read_bytes() == first
    assert table["note"].str.contains("sub-02's all-sessions model").all()
    assert "fewer than 3 people" in caplog.text


def test_people_on_different_atlases_are_refused(disjoint, tmp_path):
    runs, windows = disjoint["02"]
    renamed = [
        RunFeatures(
            run.session,
            run.run,
            {**run.arrays, "region_names": np.array(list("uvwxyz"))},
        )
        for run in runs
    ]
    study = {"01": disjoint["01"], "02": (renamed, windows)}
    with pytest.raises(ValueError, match="another atlas") as raised:
        run_steps(study, tmp_path, matched=False)
    assert "sub-02" in str(raised.value)
    assert "sub-01_ses-1_run-1_edges.npz" in str(raised.value)


def test_a_dry_run_plans_one_job_per_person_and_one_summary(tiny_study, tmp_path):
    config = study_config(tiny_study, tmp_path / "out")
    result = run_workflow(config, tmp_path / "work", "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result.stdout)
    people = [w["subject"] for rule, w in jobs if rule == "group_model"]
    assert sorted(people) == ["01", "02"]
    assert [rule for rule, _ in jobs].count("summarize_group_model") == 1
    # Each job reads every person's features and its own person's predictions.
    planned = re.findall(
        r"rule group_model:\n\s+input: (.*)\n\s+output: .*sub-(\w+)_atlas-AAL_group",
        result.stdout,
    )
    assert {subject for _, subject in planned} == {"01", "02"}
    for inputs, subject in planned:
        edges = set(
            re.findall(r"sub-(\w+)_ses-\w+_task-rating_run-1_atlas-AAL_edges", inputs)
        )
        assert edges == {"01", "02"}
        assert re.findall(r"sub-(\w+)_atlas-AAL_predictions", inputs) == [subject]


def test_a_person_without_included_runs_is_left_out_of_the_pool(
    disjoint, tmp_path, caplog
):
    kept = write_person(tmp_path, "02", *disjoint["02"])
    excluded = tmp_path / "sub-03_ses-1_run-1_edges.npz"
    write_npz(excluded, included=np.array(False), zscored=np.zeros((0, 6)))
    units = {**kept["units"], excluded.name: {"session": "1", "run": "1"}}
    paths = [*kept["features"], str(excluded)]
    subjects = {Path(p).name: Path(p).name[4:6] for p in paths}
    with caplog.at_level("WARNING"):
        pool = _pool_runs(paths, units, subjects)
    assert list(pool) == ["02"]
    assert "sub-03: no included run" in caplog.text
