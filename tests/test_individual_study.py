"""The individual atlas in the study and the workflow's plan: rest runs, paths, jobs."""

import shutil
from pathlib import Path

import pytest
from conftest import with_defaults
from snakemake.utils import validate
from workflow_runner import planned_jobs, run_workflow, study_config

from painflow.core.fileio import read_json
from painflow.inputs.dataset import DatasetSpec
from painflow.inputs.fmriprep import session_filter
from painflow.inputs.restruns import discover_rest_runs
from painflow.parcellation.individual import (
    IndividualSettings,
    RestRun,
    individual_atlas,
)
from painflow.signals.confounds import DenoiseSettings
from painflow.workflow.config import check_config
from painflow.workflow.study import Study

SCHEMA = Path(__file__).parents[1] / "workflow" / "schemas" / "config.schema.yaml"
INDIVIDUAL = {"name": "individual", "image": None, "labels": None}


def add_rest_runs(study: Path) -> None:
    """Give every session a rest run: a copy of its first rating run's files."""
    for path in sorted(study.rglob("*_task-rating_run-1_*")):
        if "derivatives" in path.parts or path.parent.name == "func":
            target = path.with_name(path.name.replace("_task-rating_", "_task-rest_"))
            if "physio" not in path.name:
                shutil.copyfile(path, target)


def individual_config(study: Path, output: Path, **overrides) -> dict:
    """A config of the study's grayordinates with the individual atlas."""
    config = study_config(study, output, space="fsLR", res=None, den="91k")
    config["atlas"] = dict(INDIVIDUAL)
    config.update(overrides)
    validate(config, str(SCHEMA), set_default=True)
    return config


@pytest.fixture(scope="module")
def rest_study(tiny_study, tmp_path_factory) -> Path:
    study = tmp_path_factory.mktemp("rest") / "study"
    shutil.copytree(tiny_study, study, symlinks=True)
    add_rest_runs(study)
    return study


@pytest.fixture(scope="module")
def study(rest_study, tmp_path_factory) -> Study:
    output = tmp_path_factory.mktemp("out")
    return Study.from_config(individual_config(rest_study, output))


def test_rest_runs_are_found_beside_the_rating_runs(study, rest_study):
    rest = study.individual.rest_runs
    assert sorted(rest["subject"].unique()) == ["01", "02"]
    assert rest.groupby("subject")["session"].nunique().tolist() == [4, 4]
    assert (rest["task"] == "rest").all()
    assert rest["bold"].map(lambda path: path.name.endswith(".dtseries.nii")).all()
    # Rest runs never join the decoder's runs.
    assert (study.runs["task"] == "rating").all()
    assert study.fmriprep_tasks == ["rating", "rest"]
    raw = study.session_raw_bold("01", "02")
    assert [Path(path).name.split("_")[2] for path in raw] == [
        "task-rating",
        "task-rest",
    ]


def test_each_subject_is_parcellated_with_its_own_atlas(study):
    for subject in ("01", "02"):
        inputs = study.atlas_inputs(subject)
        expected = (
            f"sub-{subject}/anat/sub-{subject}_space-fsLR_den-91k_atlas-individual"
            "_dseg.dlabel.nii"
        )
        assert inputs["atlas_image"].endswith(expected)
        assert inputs["atlas_labels"].endswith(
            f"sub-{subject}/anat/sub-{subject}_atlas-individual_dseg.tsv"
        )
        assert (
            study.run_inputs(subject, "01", "task-rating_run-1")["atlas_image"]
            == (inputs["atlas_image"])
        )
    assert not study.is_named_atlas
    assert not any("crosssubject" in target for target in study.targets())
    assert not any("groupmodel" in target for target in study.targets())


def test_a_subject_without_rest_runs_stops_at_parse_time(rest_study, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(rest_study, study, symlinks=True)
    for path in study.rglob("sub-02_*_task-rest_*"):
        path.unlink()
    with pytest.raises(FileNotFoundError, match=r"task 'rest'.*sub-02"):
        Study.from_config(individual_config(study, tmp_path / "out"))


def test_the_individual_atlas_needs_grayordinates(rest_study, tmp_path):
    config = study_config(rest_study, tmp_path / "out")
    config["atlas"] = dict(INDIVIDUAL)
    validate(config, str(SCHEMA), set_default=True)
    with pytest.raises(ValueError, match="atlas individual parcellates"):
        check_config(config)
    config = individual_config(rest_study, tmp_path / "out")
    config["atlas"]["labels"] = "regions.tsv"
    with pytest.raises(ValueError, match="set atlas 'labels' to null"):
        check_config(config)


@pytest.mark.workflow
def test_the_plan_parcellates_each_subject_once_and_leaves_cross_subject_out(
    rest_study, tmp_path
):
    config = individual_config(rest_study, tmp_path / "out")
    result = run_workflow(config, tmp_path, "--dry-run")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result.stdout)
    parcellations = [w for rule, w in jobs if rule == "individual_parcellation"]
    assert sorted(w["subject"] for w in parcellations) == ["01", "02"]
    assert not [rule for rule, _ in jobs if "cross_subject" in rule]
    assert "cross-subject test is left out" in result.stdout
    extractions = [w for rule, w in jobs if rule == "extract_signals"]
    assert len(extractions) == 8


def test_too_few_rest_frames_stop_the_parcellation_with_the_numbers(
    rest_study, tmp_path
):
    runs = [
        RestRun(Path(row.bold), Path(row.confounds), float(row.tr))
        for row in discover_rest_runs(
            study_spec_91k(rest_study), "rest", ["01"]
        ).itertuples()
    ]
    surfaces = read_json(rest_study / "ground_truth.json")["cifti_atlas"]["surfaces"]
    settings = IndividualSettings.from_config(
        with_defaults("individual", min_frames=10_000, smoothing_fwhm_mm=0)
    )
    denoise = DenoiseSettings(**with_defaults("denoise"))
    with pytest.raises(ValueError, match=r"\d+ rest frames kept from 4 of 4 rest"):
        individual_atlas(
            runs,
            {side: rest_study / path for side, path in surfaces.items()},
            denoise,
            settings,
            seed=0,
            workdir=tmp_path,
        )


def study_spec_91k(study: Path) -> DatasetSpec:
    """Where the study's grayordinate inputs are."""
    config = individual_config(study, study / "unused")
    return DatasetSpec.from_config(config, config["fmriprep_dir"])


def test_fmriprep_session_jobs_select_the_rating_and_the_rest_runs():
    selection = {"session": "01", "task": ["rating", "rest"]}
    assert session_filter("01", ["rating", "rest"]) == {
        "bold": selection,
        "sbref": selection,
    }
    assert session_filter("01", ["rating"])["bold"]["task"] == "rating"


def test_rest_runs_without_a_run_entity_are_found(rest_study, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(rest_study, study, symlinks=True)
    for path in list(study.rglob("*_task-rest_run-1_*")):
        path.rename(path.with_name(path.name.replace("_run-1_", "_")))
    config = individual_config(study, tmp_path / "out")
    rest = Study.from_config(config).individual.rest_runs
    assert len(rest) == 8 and rest["run"].isna().all()
    assert all(path.exists() for path in rest["bold"])
    assert "_task-rest_space-fsLR" in rest["bold"].iloc[0].name
