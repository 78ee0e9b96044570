"""The workflow from raw BIDS, running fMRIPrep (a test double), and new sessions."""

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from workflow_runner import planned_jobs, run_workflow, study_config

from painflow.core.fileio import read_tsv
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow

DOUBLES = Path(__file__).resolve().parent / "doubles"
SIMULATION = {"n_subjects": 2, "n_runs": 1, "n_volumes": 100, "seed": 5}
OVERRIDES = {
    "prospective": {"train_sessions": 2},
    "learning_curve": {"n_repeats": 2},
    "importance": {"n_permutations": 100, "n_shown": 10},
}
PER_SESSION_RULES = {
    "fmriprep_session",
    "collect_fmriprep_run",
    "extract_signals",
    "edge_features",
    "prospective",
    "predict",
    "glm_session",
}


def double_environment(calls: Path) -> dict:
    environment = dict(os.environ, FMRIPREP_DOUBLE_CALLS=str(calls))
    environment["PATH"] = os.pathsep.join([str(DOUBLES), environment["PATH"]])
    return environment


def fmriprep_config(study: Path, output: Path, license_file: Path) -> dict:
    return study_config(
        study,
        output,
        fmriprep_dir=None,
        fmriprep={"engine": "native", "license": str(license_file)},
        **OVERRIDES,
    )


def read_calls(calls: Path) -> list:
    return [json.loads(line) for line in calls.read_text().splitlines()]


@pytest.fixture(scope="module")
def license_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("freesurfer") / "license.txt"
    path.write_text("a FreeSurfer license\n")
    return path


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory, license_file):
    """A 3-session study run from raw BIDS, then given a 4th session of sub-01."""
    root = tmp_path_factory.mktemp("raw")
    study, later = root / "study", root / "later"
    simulate_study(study, n_sessions=3, **SIMULATION)
    simulate_study(later, n_sessions=4, **SIMULATION)
    work = root / "work"
    config = fmriprep_config(study, work / "out", license_file)
    calls = root / "calls.jsonl"
    result = run_workflow(config, work, env=double_environment(calls))
    assert result.returncode == 0, result.stdout[-3000:]
    return {
        "study": study,
        "later": later,
        "work": work,
        "config": config,
        "calls": calls,
    }


def test_fmriprep_runs_once_per_subject_anatomy_and_per_session(raw_run):
    calls = read_calls(raw_run["calls"])
    anatomy = [call for call in calls if "--anat-only" in call]
    sessions = [call for call in calls if "--bids-filter-file" in call]
    assert sorted(call[call.index("--participant-label") + 1] for call in anatomy) == [
        "01",
        "02",
    ]
    assert len(sessions) == 6 and len(calls) == 8
    work_dirs = [call[call.index("-w") + 1] for call in calls]
    assert len(set(work_dirs)) == len(calls)


def test_outputs_from_raw_bids_equal_those_from_given_derivatives(raw_run, tmp_path):
    config = study_config(raw_run["study"], tmp_path / "out", **OVERRIDES)
    result = run_workflow(config, tmp_path, "--until", "fit_decoder")
    assert result.returncode == 0, result.stdout[-3000:]
    out = raw_run["work"] / "out"
    for subject in ("01", "02"):
        name = f"sub-{subject}/decoding/sub-{subject}_atlas-AAL_predictions.tsv"
        assert (out / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def old_session_files(out: Path) -> dict:
    """Every file of the sessions that existed before, with bytes and mtime."""
    old = re.compile(r"(ses-0[123]|anat|freesurfer)")
    return {
        path: (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(out.rglob("*"))
        if path.is_file() and old.search(str(path.relative_to(out)))
    }


def add_session(study: Path, later: Path, subject: str, session: str) -> None:
    shutil.copytree(
        later / f"sub-{subject}" / f"ses-{session}",
        study / f"sub-{subject}" / f"ses-{session}",
    )
    derivatives = Path("derivatives") / "fmriprep" / f"sub-{subject}" / f"ses-{session}"
    shutil.copytree(later / derivatives, study / derivatives)
    sessions = Path(f"sub-{subject}") / f"sub-{subject}_sessions.tsv"
    shutil.copyfile(later / sessions, study / sessions)


def test_a_new_session_runs_only_what_it_needs(raw_run):
    out = raw_run["work"] / "out"
    before = old_session_files(out)
    assert any("ses-01" in str(path) for path in before)
    add_session(raw_run["study"], raw_run["later"], "01", "04")
    environment = double_environment(raw_run["calls"])
    dry = run_workflow(raw_run["config"], raw_run["work"], "-n", env=environment)
    assert dry.returncode == 0, dry.stdout[-3000:]
    jobs = planned_jobs(dry.stdout)
    rules = {rule for rule, _ in jobs}
    assert "fmriprep_anat" not in rules
    per_session = {
        (rule, wildcards.get("session"))
        for rule, wildcards in jobs
        if "session" in wildcards
    }
    assert per_session == {(rule, "04") for rule in PER_SESSION_RULES}
    # Only sub-01's jobs, but the other person's group model, whose pool holds
    # sub-01's sessions.
    for rule, wildcards in jobs:
        if "subject" in wildcards and rule != "group_model":
            assert wildcards["subject"] == "01", (rule, wildcards)
    group_models = {w["subject"] for rule, w in jobs if rule == "group_model"}
    assert group_models == {"01", "02"}
    assert {"fit_decoder", "evaluate", "learning_curve", "cross_subject"} <= rules
    sizes = {w["size"] for rule, w in jobs if rule == "learning_curve"}
    assert sizes == {"1", "2"}

    calls_before = len(read_calls(raw_run["calls"]))
    result = run_workflow(raw_run["config"], raw_run["work"], env=environment)
    assert result.returncode == 0, result.stdout[-3000:]
    new_calls = read_calls(raw_run["calls"])[calls_before:]
    assert len(new_calls) == 1 and "--bids-filter-file" in new_calls[0]
    after = old_session_files(out)
    unchanged = {path: after.get(path) == value for path, value in before.items()}
    assert all(unchanged.values()), [p for p, same in unchanged.items() if not same]
    predictions = read_tsv(
        out / "sub-01/decoding/sub-01_atlas-AAL_predictions.tsv",
        dtype={"session": str},
    )
    assert "04" in set(predictions["session"])
    prospective = out / "sub-01/ses-04/decoding/sub-01_ses-04_atlas-AAL_prospective.tsv"
    assert not pd.read_csv(prospective, sep="\t").empty
    # The session that arrived is scored by the model of the sessions before it.
    scored = out / "sub-01/ses-04/decoding/sub-01_ses-04_atlas-AAL_desc-predict"
    assert not pd.read_csv(f"{scored}_predictions.tsv", sep="\t").empty


def test_snakemake_lint_is_clean_when_running_fmriprep(raw_run, tmp_path):
    environment = double_environment(tmp_path / "calls.jsonl")
    result = run_workflow(raw_run["config"], tmp_path, "--lint", env=environment)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Lints for" not in result.stdout


@pytest.mark.parametrize(
    ("fmriprep", "message"),
    [
        ({"engine": "native", "license": "/nonexistent/license.txt"}, "license.txt"),
        ({"engine": "native"}, "FS_LICENSE"),
        ({"engine": "apptainer", "image": "/nonexistent/fmriprep.sif"}, "apptainer"),
    ],
)
def test_fmriprep_setup_errors_stop_the_run_before_any_job(
    raw_run, license_file, tmp_path, fmriprep, message
):
    config = fmriprep_config(raw_run["study"], tmp_path / "out", license_file)
    config["fmriprep"] = {**fmriprep}
    if fmriprep["engine"] == "apptainer":
        config["fmriprep"]["license"] = str(license_file)
    environment = double_environment(tmp_path / "calls.jsonl")
    environment.pop("FS_LICENSE", None)
    result = run_workflow(config, tmp_path, env=environment)
    assert result.returncode != 0
    assert message in result.stdout
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "calls.jsonl").exists()
