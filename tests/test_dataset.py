"""Input discovery stops on missing or malformed inputs, naming the file."""

import json
import shutil

import pytest
from conftest import study_spec

from painflow.dataset import discover_runs, session_order
from painflow.simulate import simulate_study


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    simulate_study(root, n_subjects=1, n_sessions=3, n_runs=1, n_volumes=40, seed=2)
    return root


@pytest.fixture
def study(tiny_study, tmp_path):
    copy = tmp_path / "study"
    shutil.copytree(tiny_study, copy)
    return copy


FUNC = "sub-01/ses-02/func/sub-01_ses-02_task-rating_run-1"


def drop_field(sidecar, field):
    metadata = json.loads(sidecar.read_text())
    del metadata[field]
    sidecar.write_text(json.dumps(metadata))


def test_every_run_is_found_with_its_inputs(study):
    runs = discover_runs(study_spec(study))
    assert runs[["subject", "session", "run"]].values.tolist() == [
        ["01", "01", "1"],
        ["01", "02", "1"],
        ["01", "03", "1"],
    ]
    assert (runs["tr"] == 2.0).all()
    for column in ("bold", "confounds", "ratings"):
        assert all(path.exists() for path in runs[column])


def test_missing_recording(study):
    recording = study / f"{FUNC}_recording-rating_physio.tsv.gz"
    recording.unlink()
    with pytest.raises(FileNotFoundError, match=f"{recording}: no rating recording"):
        discover_runs(study_spec(study))


def test_recording_sidecar_without_sampling_frequency(study):
    sidecar = study / f"{FUNC}_recording-rating_physio.json"
    drop_field(sidecar, "SamplingFrequency")
    with pytest.raises(ValueError, match=f"{sidecar}: the sidecar has no 'Sampling"):
        discover_runs(study_spec(study))


def test_bold_sidecar_without_repetition_time(study):
    sidecar = study / f"{FUNC}_bold.json"
    drop_field(sidecar, "RepetitionTime")
    with pytest.raises(ValueError, match=f"{sidecar}: no RepetitionTime"):
        discover_runs(study_spec(study))


def test_repetition_time_is_inherited_from_the_dataset_root(study):
    sidecar = study / f"{FUNC}_bold.json"
    drop_field(sidecar, "RepetitionTime")
    (study / "task-rating_bold.json").write_text(json.dumps({"RepetitionTime": 1.5}))
    runs = discover_runs(study_spec(study))
    # The run's own sidecars still win where they say it.
    assert runs["tr"].tolist() == [2.0, 1.5, 2.0]


def test_missing_fmriprep_output(study):
    confounds = study / "derivatives/fmriprep" / f"{FUNC}_desc-confounds_timeseries.tsv"
    confounds.unlink()
    with pytest.raises(
        FileNotFoundError, match=f"{confounds}: fMRIPrep output missing"
    ):
        discover_runs(study_spec(study))


def test_subject_with_fewer_than_three_sessions(study):
    shutil.rmtree(study / "sub-01/ses-03")
    with pytest.raises(ValueError, match="2 session.*needs at least 3"):
        discover_runs(study_spec(study))


def test_no_runs_of_the_task(study):
    spec = study_spec(study)
    spec = type(spec)(**{**spec.__dict__, "task": "rest"})
    with pytest.raises(FileNotFoundError, match="no BOLD runs of task 'rest'"):
        discover_runs(spec)


def test_a_dataset_without_sessions_has_runs_as_units(tmp_path):
    study = tmp_path / "study"
    simulate_study(study, n_subjects=1, n_sessions=1, n_runs=3, n_volumes=40, seed=2)
    for root in (study, study / "derivatives/fmriprep"):
        (root / "sub-01/func").mkdir()
        for path in sorted((root / "sub-01/ses-01/func").iterdir()):
            path.rename(root / "sub-01/func" / path.name.replace("_ses-01", ""))
        shutil.rmtree(root / "sub-01/ses-01")
    runs = discover_runs(study_spec(study))
    assert runs["session"].isna().all()
    assert runs["run"].tolist() == ["1", "2", "3"]
    assert runs["bold"].iloc[0].name == (
        "sub-01_task-rating_run-1_space-MNI152NLin6Asym_res-6_desc-preproc_bold.nii.gz"
    )


def test_sessions_are_ordered_by_acquisition_time(study):
    table = study / "sub-01/sub-01_sessions.tsv"
    table.write_text(
        "session_id\tacq_time\n"
        "ses-01\t2024-03-01T10:00:00\nses-02\t2024-01-01T10:00:00\n"
        "ses-03\t2024-02-01T10:00:00\n"
    )
    assert session_order(study, "01", ["01", "02", "03"]) == ["02", "03", "01"]
    table.unlink()
    assert session_order(study, "01", ["03", "01", "02"]) == ["01", "02", "03"]


def test_sessions_table_without_a_session_is_an_error(study):
    table = study / "sub-01/sub-01_sessions.tsv"
    table.write_text("session_id\tacq_time\nses-01\t2024-03-01T10:00:00\n")
    with pytest.raises(
        ValueError, match=r"sessions.tsv: no acq_time for sessions \['02'"
    ):
        session_order(study, "01", ["01", "02", "03"])
