"""The study's further analyses through the workflow, on a three-person study.

One small simulated study with rest runs (one session of sub-01 without its
rest run) runs through every rule once; the tests read its outputs, and the
last one adds a session and checks which jobs that plans.
"""

import re
import shutil

import pytest
from conftest import TINY_OVERRIDES
from workflow_runner import planned_jobs, run_workflow, study_config

from painflow.core.fileio import read_tsv
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow

SUBJECTS = ("01", "02", "03")
N_SESSIONS, N_VOLUMES = 4, 100
STUDY = dict(n_subjects=3, n_runs=1, n_volumes=N_VOLUMES, seed=6, rest_volumes=80)
OVERRIDES = {**TINY_OVERRIDES, "nuisance": {"n_permutations": 100}}
TARGETS = {"fd", "dvars", "globalsignal", "cursor", "timeontask"}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyses_study")
    simulate_study(root, n_sessions=N_SESSIONS, **STUDY)
    for path in root.rglob("sub-01_ses-03_task-rest_*"):
        path.unlink()
    return root


@pytest.fixture(scope="module")
def work(study, tmp_path_factory):
    """The workflow's folder after one whole run."""
    work = tmp_path_factory.mktemp("analyses_run")
    config = study_config(study, work / "out", **OVERRIDES)
    result = run_workflow(config, work)
    assert result.returncode == 0, result.stdout[-3000:]
    return work


def test_rest_run_test_scores_every_session_with_a_rest_run(work):
    out = work / "out"
    for subject in SUBJECTS:
        table = read_tsv(
            out / f"sub-{subject}/decoding/sub-{subject}_atlas-AAL_resttest.tsv",
            dtype={"session": str},
        )
        assert list(table.columns) == ["session", "predicted", "rating", "model"]
        sessions = ["01", "02", "04"] if subject == "01" else ["01", "02", "03", "04"]
        assert list(table["session"]) == sessions * 2
        assert list(table["model"]) == ["all"] * len(sessions) + ["loso"] * len(
            sessions
        )
        decoding = out / f"sub-{subject}/decoding"
        metrics = read_tsv(
            decoding / f"sub-{subject}_atlas-AAL_desc-resttest_metrics.tsv"
        )
        assert set(metrics["metric"]) == {"r", "r2", "mae", "auc"}
        assert set(metrics["model"]) == {"all", "loso"}
        assert (
            out / f"sub-{subject}/figures/sub-{subject}_atlas-AAL_resttest.png"
        ).exists()


def test_a_session_without_a_rest_run_is_left_out_with_the_reason(work):
    qc = read_tsv(
        work / "out/sub-01/qc/sub-01_atlas-AAL_desc-resttest_qc.tsv",
        dtype={"session": str},
    ).set_index("session")
    assert list(qc.index) == ["01", "02", "03", "04"]
    assert not qc.loc["03", "included"]
    assert qc.loc["03", "reason"] == "no rest run"
    assert qc.loc[["01", "02", "04"], "included"].all()


def test_group_model_of_three_people_is_trained_on_the_other_two(work):
    table = read_tsv(
        work / "out/group/atlas-AAL_groupmodel.tsv", dtype={"subject": str}
    )
    assert set(table["subject"]) == set(SUBJECTS)
    assert {"personal", "group", "group_matched"} <= set(table["model"])
    assert {"group-personal", "group_matched-personal"} <= set(table["model"])
    assert table["note"].isna().all()


def test_nuisance_table_holds_every_decoder_partial_r_and_the_null(work):
    table = read_tsv(work / "out/sub-02/decoding/sub-02_atlas-AAL_nuisance.tsv")
    assert list(table.columns) == [
        "target",
        "scale",
        "metric",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "permutation_p",
    ]
    assert set(table["target"]) == TARGETS | {"pain"}
    pain = table[(table["target"] == "pain") & (table["metric"] == "r")]
    assert set(pain["scale"]) == {"1min", "2min", "run", "session"}
    assert pain["permutation_p"].between(0, 1).all()
    assert table.loc[table["target"] != "pain", "permutation_p"].isna().all()
    partial = table[table["metric"].str.startswith("pain_partial_r")]
    assert set(partial["target"]) == TARGETS


def test_univariate_maps_of_every_subject(work):
    for subject in SUBJECTS:
        glm = work / f"out/sub-{subject}/glm"
        for name in ("stat-t_statmap", "stat-t_desc-fdr_statmap"):
            image = glm / f"sub-{subject}_atlas-AAL_{name}.nii.gz"
            assert (
                image.exists() and image.with_suffix("").with_suffix(".json").exists()
            )
        effects = sorted(glm.glob(f"sub-{subject}_atlas-AAL_stat-effect_*.nii.gz"))
        assert len(effects) == N_SESSIONS
        table = read_tsv(glm / f"sub-{subject}_atlas-AAL_glm.tsv")
        shares = table[["share_positive", "share_negative", "share_not_significant"]]
        assert (shares.sum(axis=1) - 1).abs().max() < 1e-9


def test_a_new_session_plans_only_its_own_jobs_and_what_depends_on_it(
    study, work, tmp_path
):
    more = tmp_path / "more"
    simulate_study(more, n_sessions=N_SESSIONS + 1, **STUDY)
    added = [*more.rglob("*ses-05*"), *more.rglob("*_sessions.tsv")]
    for path in added:
        target = study / path.relative_to(more)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            shutil.copy2(path, target)
    config = study_config(study, work / "out", **OVERRIDES)
    result = run_workflow(config, work, "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result.stdout)
    per_session = {
        rule: {w.get("session") for r, w in jobs if r == rule}
        for rule in ("extract_signals", "extract_rest_signals", "glm_session")
    }
    assert per_session == {
        "extract_signals": {"05"},
        "extract_rest_signals": {"05"},
        "glm_session": {"05"},
    }
    decoders = {(w["subject"], w["target"]) for r, w in jobs if r == "nuisance_decoder"}
    assert decoders == {(s, t) for s in SUBJECTS for t in TARGETS}
    rest_tests = {w["subject"] for r, w in jobs if r == "rest_test"}
    assert rest_tests == set(SUBJECTS)
    assert not re.search(r"ses-0[1-4]_task-rest_atlas-AAL_timeseries", result.stdout)
