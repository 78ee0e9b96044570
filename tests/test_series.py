"""BOLD series: entities in BIDS order, echoes together, filters, run labels."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import study_spec
from hypothesis import given
from hypothesis import strategies as st
from test_bids_entities import copy_with_entities
from test_study import validated_config

from painflow.core.bids import (
    ENTITY_ORDER,
    SCAN_ENTITIES,
    bids_name,
    label_entities,
    parse_entities,
    scan_label,
)
from painflow.inputs.dataset import discover_runs
from painflow.inputs.fmriprep import session_filter
from painflow.inputs.series import (
    SCAN_PATTERN,
    group_echoes,
    run_ids,
    select_series,
)
from painflow.model.crossval import with_run_entities
from painflow.workflow.study import Study

LABELS = st.from_regex(r"[a-zA-Z0-9]{1,4}", fullmatch=True)
OPTIONAL = [name for name, _ in ENTITY_ORDER if name in SCAN_ENTITIES[1:]]


def series(path: str) -> dict:
    """The one series of one file."""
    (row,) = group_echoes([Path(path)])
    return row


@given(
    task=LABELS,
    present=st.dictionaries(st.sampled_from([*OPTIONAL, "echo"]), LABELS),
)
def test_a_name_built_from_its_scan_label_is_the_name_itself(task, present):
    entities = {"subject": "01", "session": "2", "task": task, **present}
    name = bids_name(entities, "bold", ".nii.gz")
    parsed = parse_entities(name)
    assert {key: parsed.get(key) for key in entities} == entities
    scan = scan_label(parsed)
    rebuilt = bids_name({"subject": "01", "session": "2", "scan": scan}, "bold", "")
    assert rebuilt == bids_name({**entities, "echo": None}, "bold", "")
    assert re.fullmatch(SCAN_PATTERN, scan)


def test_scan_and_the_entities_it_stands_for_are_not_given_together():
    with pytest.raises(ValueError, match="'scan' is given with"):
        bids_name({"subject": "01", "scan": "task-a", "run": "1"}, "bold", ".nii.gz")
    with pytest.raises(ValueError, match="'scan' is given with"):
        bids_name({"subject": "01", "scan": "task-a", "echo": "1"}, "bold", ".nii.gz")


def test_echoes_of_a_series_are_one_series_in_echo_order(tmp_path):
    names = [f"sub-01_task-a_run-1_echo-{e}_bold.nii.gz" for e in ("10", "2", "1")]
    (row,) = group_echoes(tmp_path / name for name in names)
    assert [parse_entities(p)["echo"] for p in row["echoes"]] == ["1", "2", "10"]
    assert row["bold_raw"] == row["echoes"][0]
    assert row["scan"] == "task-a_run-1"


def test_phase_images_are_left_to_fmriprep_and_magnitude_kept(tmp_path):
    names = [f"sub-01_task-a_part-{part}_bold.nii.gz" for part in ("mag", "phase")]
    (row,) = group_echoes(tmp_path / name for name in names)
    assert row["scan"] == "task-a_part-mag"


def test_files_of_one_series_without_echoes_are_an_error_naming_them(tmp_path):
    files = [
        tmp_path / "sub-01_task-a_bold.nii.gz",
        tmp_path / "sub-01_task-a_bold.nii",
    ]
    with pytest.raises(
        ValueError, match=r"sub-01_task-a_bold\.nii.*the same series as .*echo entity"
    ):
        group_echoes(files)


def test_an_unsupported_entity_is_an_error_naming_file_and_entity(tmp_path):
    bold = tmp_path / "sub-01_task-a_chunk-1_bold.nii.gz"
    with pytest.raises(ValueError, match=r"chunk-1_bold\.nii\.gz: the 'chunk' entity"):
        group_echoes([bold])


def test_filters_select_and_a_filter_matching_nothing_lists_what_exists():
    rows = [
        series("sub-01_ses-1_task-a_acq-fullbrain_run-1_bold.nii.gz"),
        series("sub-01_ses-1_task-a_acq-prefrontal_bold.nii.gz"),
        series("sub-01_ses-1_task-a_run-2_bold.nii.gz"),
    ]
    kept = select_series(rows, {"acq": "prefrontal"}, "here")
    assert [row["scan"] for row in kept] == ["task-a_acq-prefrontal"]
    assert len(select_series(rows, {"acq": ["fullbrain", "prefrontal"]}, "x")) == 2
    assert len(select_series(rows, {"run": 2}, "x")) == 1
    with pytest.raises(ValueError, match=r"\['mb8'\] matches no BOLD file of here; "):
        select_series(rows, {"acq": "mb8"}, "here")
    with pytest.raises(
        ValueError, match="labels there: fullbrain, prefrontal, \\(none\\)"
    ):
        select_series(rows, {"acq": "mb8"}, "here")


def test_run_labels_are_the_run_entity_unless_other_entities_tell_runs_apart():
    by_run = [
        series("sub-01_ses-1_task-a_acq-mb8_run-1_bold.nii.gz"),
        series("sub-01_ses-1_task-a_acq-mb8_run-2_bold.nii.gz"),
        series("sub-01_ses-2_task-a_acq-mb8_bold.nii.gz"),
    ]
    assert run_ids(by_run, "here") == ["1", "2", "1"]
    by_acq = [
        series("sub-01_ses-1_task-a_acq-fullbrain_run-1_bold.nii.gz"),
        series("sub-01_ses-1_task-a_acq-prefrontal_bold.nii.gz"),
    ]
    assert run_ids(by_acq, "here") == ["acq-fullbrain_run-1", "acq-prefrontal"]


def test_two_runs_of_a_session_with_one_label_are_an_error_naming_both():
    rows = [
        series("sub-01_ses-1_task-a_bold.nii.gz"),
        series("sub-01_ses-1_task-a_run-1_bold.nii.gz"),
    ]
    with pytest.raises(
        ValueError, match=r"run-1_bold.nii.gz: same run as .*task-a_bold"
    ):
        run_ids(rows, "here")


def as_multi_echo(study: Path, n_echoes: int) -> None:
    """Split each raw rating BOLD into echoes (copies); fMRIPrep's outputs stay."""
    for bold in sorted(study.glob("sub-*/ses-*/func/*_task-rating_*_bold.nii.gz")):
        for echo in range(1, n_echoes + 1):
            name = bold.name.replace("_bold.", f"_echo-{echo}_bold.")
            shutil.copy(bold, bold.with_name(name))
            sidecar = bold.with_name(bold.name.replace(".nii.gz", ".json"))
            if sidecar.exists():
                shutil.copy(
                    sidecar, sidecar.with_name(name.replace(".nii.gz", ".json"))
                )
        bold.unlink()


def test_a_multi_echo_run_is_one_run_read_from_fmriprep_combined_output(
    tiny_study, tmp_path
):
    study = tmp_path / "study"
    shutil.copytree(tiny_study, study)
    single = discover_runs(study_spec(study))
    as_multi_echo(study, 3)
    runs = discover_runs(study_spec(study))
    assert runs["scan"].tolist() == single["scan"].tolist()
    assert runs["bold"].tolist() == single["bold"].tolist()
    assert runs["ratings"].tolist() == single["ratings"].tolist()
    assert runs["tr"].tolist() == single["tr"].tolist()
    for row in runs.itertuples():
        echoes = [parse_entities(path)["echo"] for path in row.echoes]
        assert echoes == ["1", "2", "3"] and row.bold_raw == row.echoes[0]
    fmriprep_inputs = Study.from_config(validated_config(study, tmp_path / "out"))
    first = runs.iloc[0]
    handed = fmriprep_inputs.session_raw_bold(first["subject"], first["session"])
    assert handed == [str(path) for path in first["echoes"]]
    spec = dataclasses.replace(study_spec(study), bold_filters={"run": "2"})
    with pytest.raises(ValueError, match="run: \\['2'\\] matches no BOLD file"):
        discover_runs(spec)


def test_fmriprep_is_asked_for_the_filtered_acquisitions_only(tiny_study, tmp_path):
    copy_with_entities(tiny_study, tmp_path / "study")
    filters = {"acq": "mb8", "dir": ["AP"]}
    config = validated_config(
        tmp_path / "study", tmp_path / "out", bold_filters=filters
    )
    study = Study.from_config(config)
    entities = study.fmriprep_entities("01", "01")
    assert entities == {"acquisition": ["mb8"], "direction": ["AP"]}
    bold = session_filter("01", ["rating"], entities)["bold"]
    assert bold == {"session": "01", "task": "rating", **entities}
    unfiltered = Study.from_config(validated_config(tmp_path / "study", tmp_path / "o"))
    assert unfiltered.fmriprep_entities("01", "01") == {}


def test_per_volume_tables_get_a_column_per_entity_their_run_labels_carry():
    labels = ["acq-fullbrain_run-1", "acq-prefrontal", "acq-fullbrain_dir-AP_run-2"]
    table = pd.DataFrame({"session": "1", "run": labels, "volume": [0, 1, 2]})
    wide = with_run_entities(table)
    assert list(wide.columns) == ["session", "acq", "dir", "run", "volume"]
    assert wide["acq"].tolist() == ["fullbrain", "prefrontal", "fullbrain"]
    assert wide["dir"].isna().tolist() == [True, True, False]
    assert wide["run"].tolist() == labels
    plain = table.assign(run=["1", "2", "10"])
    assert with_run_entities(plain).equals(plain)


@given(st.dictionaries(st.sampled_from(OPTIONAL[1:]), LABELS, min_size=1))
def test_a_run_label_of_entities_reads_back_as_those_entities(present):
    label = scan_label(present)
    keys = dict((name, key) for name, key in ENTITY_ORDER)
    assert label_entities(label) == {
        keys[name]: value for name, value in present.items()
    }
