"""Input discovery stops on missing or malformed inputs, naming the file."""

import json
import logging
import random
import shutil
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from conftest import study_spec

from painflow.core.bids import natural_key
from painflow.core.fileio import read_json, read_tsv
from painflow.inputs.dataset import discover_runs, sort_runs
from painflow.inputs.scanorder import (
    ORDER_ASSUMED,
    orders_by_subject,
    scan_order,
    scan_order_table,
    session_order,
)
from painflow.simulation.study import simulate_study
from painflow.steps.dataset import describe_dataset
from painflow.workflow.logs import logged


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


def write_sessions(study, times: dict):
    """Write sub-01's sessions.tsv with an acq_time per session label."""
    rows = "".join(f"ses-{label}\t{value}\n" for label, value in times.items())
    (study / "sub-01/sub-01_sessions.tsv").write_text("session_id\tacq_time\n" + rows)


def test_without_sessions_table_labels_1_to_12_are_in_natural_order(study, caplog):
    (study / "sub-01/sub-01_sessions.tsv").unlink(missing_ok=True)
    labels = [str(n) for n in range(1, 13)]
    shuffled = random.Random(0).sample(labels, len(labels))
    with caplog.at_level(logging.WARNING, logger="painflow"):
        order = scan_order(study, "01", shuffled)
    # Numbers compared as numbers: 2 before 10, unlike text order.
    assert order["session"].tolist() == sorted(labels, key=int)
    assert sorted(labels) != sorted(labels, key=int)
    assert (order["order_source"] == ORDER_ASSUMED).all()
    assert order["position"].tolist() == list(range(1, 13))
    assert "sub-01: no " in caplog.text and "scan order assumed" in caplog.text


def test_natural_order_of_mixed_labels():
    labels = ["post", "10", "pre", "2", "1", "run10b", "run9b", "1a"]
    assert sorted(labels, key=natural_key) == [
        "1",
        "1a",
        "2",
        "10",
        "post",
        "pre",
        "run9b",
        "run10b",
    ]


def test_acquisition_times_in_other_formats_and_zones_are_chronological(study):
    # As text, 2024-1-9 sorts after 2024-01-10, and local times ignore zones.
    values = {
        "a": "2024-01-10T08:00:00+02:00",
        "b": "2024-01-09T23:30:00-08:00",
        "c": "2024-1-9T12:00:00Z",
        "d": "2024-01-10T07:00:00Z",
        "e": "2024-01-10T07:00:00.500000Z",
    }
    moments = {
        "a": datetime(2024, 1, 10, 8, tzinfo=timezone(timedelta(hours=2))),
        "b": datetime(2024, 1, 9, 23, 30, tzinfo=timezone(timedelta(hours=-8))),
        "c": datetime(2024, 1, 9, 12, tzinfo=UTC),
        "d": datetime(2024, 1, 10, 7, tzinfo=UTC),
        "e": datetime(2024, 1, 10, 7, 0, 0, 500000, tzinfo=UTC),
    }
    write_sessions(study, values)
    expected = sorted(moments, key=moments.get)
    assert expected != sorted(values, key=values.get)
    order = scan_order(study, "01", list(values))
    assert order["session"].tolist() == expected
    assert (order["order_source"] == "acq_time").all()


def test_acquisition_times_without_zone_in_other_formats(study):
    values = {"a": "2024-1-10", "b": "2024-01-09T10:00:00", "c": "2024-01-10T08:30"}
    write_sessions(study, values)
    assert session_order(study, "01", ["a", "b", "c"]) == ["b", "a", "c"]


@pytest.mark.parametrize("value", ["yesterday", "n/a", "", "2024-13-01", "10:00"])
def test_an_acquisition_time_that_does_not_parse_is_an_error(study, value):
    write_sessions(
        study, {"01": "2024-01-09T10:00:00", "02": value, "03": "2024-02-01"}
    )
    with pytest.raises(ValueError) as error:
        session_order(study, "01", ["01", "02", "03"])
    message = str(error.value)
    assert message.startswith(str(study / "sub-01/sub-01_sessions.tsv"))
    assert f"acq_time {value!r} of ses-02" in message


def test_acquisition_times_with_and_without_zone_are_an_error(study):
    write_sessions(
        study,
        {"01": "2024-01-09T10:00:00Z", "02": "2024-01-10T10:00:00", "03": "2024-02-01"},
    )
    with pytest.raises(ValueError, match="sessions.tsv: acq_time of ses-01 has a time"):
        session_order(study, "01", ["01", "02", "03"])


def test_runs_are_sorted_with_labels_in_natural_order():
    labels = [
        (s, str(n), str(r))
        for s in ("1", "2")
        for n in range(1, 13)
        for r in (1, 2, 10)
    ]
    shuffled = random.Random(1).sample(labels, len(labels))
    runs = pd.DataFrame(shuffled, columns=["subject", "session", "run_id"])
    expected = sorted(labels, key=lambda row: tuple(int(part) for part in row))
    got = sort_runs(runs)
    assert list(got.itertuples(index=False, name=None)) == expected


def test_scan_order_table_of_every_subject(study):
    runs = pd.DataFrame(
        {
            "subject": ["01"] * 4 + ["02"] * 3,
            "session": ["10", "2", "2", "1", "b", "a", "c"],
            "run": ["1"] * 7,
        }
    )
    write_sessions(study, {"1": "2024-03-01", "2": "2024-01-01", "10": "2024-02-01"})
    table = scan_order_table(study, runs)
    assert orders_by_subject(table) == {"01": ["2", "10", "1"], "02": ["a", "b", "c"]}
    assert table.groupby("subject")["order_source"].first().to_dict() == {
        "01": "acq_time",
        "02": ORDER_ASSUMED,
    }
    without_sessions = runs.assign(session=None)
    assert scan_order_table(study, without_sessions).empty


def test_sessions_table_without_a_session_is_an_error(study):
    table = study / "sub-01/sub-01_sessions.tsv"
    table.write_text("session_id\tacq_time\nses-01\t2024-03-01T10:00:00\n")
    with pytest.raises(
        ValueError, match=r"sessions.tsv: no acq_time for sessions \['02'"
    ):
        session_order(study, "01", ["01", "02", "03"])


def test_dataset_description_records_an_assumed_scan_order(study, tmp_path):
    (study / "sub-01/sub-01_sessions.tsv").unlink(missing_ok=True)
    runs = discover_runs(study_spec(study))
    order = scan_order_table(study, runs)
    out = tmp_path / "out"
    with logged(tmp_path / "describe.log"):
        describe_dataset(
            str(study),
            str(study / "derivatives/fmriprep"),
            order.to_dict("records"),
            str(out / "dataset_description.json"),
            str(out / "group/scanorder.tsv"),
        )
    assert read_json(out / "dataset_description.json")["DatasetType"] == "derivative"
    table = read_tsv(
        out / "group/scanorder.tsv", dtype={"subject": str, "session": str}
    )
    assert table["session"].tolist() == ["01", "02", "03"]
    assert (table["order_source"] == ORDER_ASSUMED).all()
    log = (tmp_path / "describe.log").read_text()
    assert log.startswith("WARNING sub-01: no ") and "scan order assumed" in log


def test_confounds_under_fmriprep_older_name_are_named_in_the_error(study):
    confounds = next(
        study.glob("derivatives/fmriprep/sub-01/ses-*/func/*_timeseries.tsv")
    )
    old = confounds.with_name(confounds.name.replace("_timeseries.", "_regressors."))
    confounds.rename(old)
    with pytest.raises(
        FileNotFoundError, match=rf"{old.name} is there, .* before 20\.2"
    ):
        discover_runs(study_spec(study))


def test_a_sessions_file_without_acq_time_leaves_the_order_assumed(study, caplog):
    table = study / "sub-01" / "sub-01_sessions.tsv"
    labels = ["1", "2", "10"]
    table.write_text("session_id\tgroup\n" + "".join(f"ses-{s}\ta\n" for s in labels))
    with caplog.at_level(logging.WARNING, logger="painflow"):
        order = scan_order(study, "01", labels[::-1])
    assert order["session"].tolist() == labels
    assert set(order["order_source"]) == {ORDER_ASSUMED}
    assert "with an acq_time column" in caplog.text
