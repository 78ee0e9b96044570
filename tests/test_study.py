"""The study object the Snakefile binds, built from a config without Snakemake."""

import os
import shutil
from pathlib import Path

import pytest
from snakemake.utils import validate
from workflow_runner import study_config

from painflow.simulation.study import simulate_study
from painflow.workflow.study import Study, derivatives_root

DOUBLES = Path(__file__).resolve().parent / "doubles"
SCHEMA = Path(__file__).parents[1] / "workflow" / "schemas" / "config.schema.yaml"
# sub-02's sessions in the order they were scanned, unlike their labels' order.
SCAN_ORDER = ["03", "01", "04", "02"]


def validated_config(study: Path, output: Path, **overrides) -> dict:
    """The tests' config of a simulated study, with the schema's defaults filled."""
    config = study_config(study, output, **overrides)
    validate(config, str(SCHEMA), set_default=True)
    return config


@pytest.fixture(scope="module")
def sessions_study(tmp_path_factory) -> Path:
    """2 subjects x 4 sessions x 2 runs; one run missing; sub-02 scanned 3-1-4-2."""
    study = tmp_path_factory.mktemp("sessions_study")
    simulate_study(
        study, n_subjects=2, n_sessions=4, n_runs=2, n_volumes=20, missing_run=True
    )
    times = {
        label: f"2024-0{month}-01T10:00:00"
        for month, label in enumerate(SCAN_ORDER, start=1)
    }
    rows = "".join(f"ses-{label}\t{time}\n" for label, time in sorted(times.items()))
    (study / "sub-02" / "sub-02_sessions.tsv").write_text(
        "session_id\tacq_time\n" + rows
    )
    return study


@pytest.fixture(scope="module")
def study(sessions_study, tmp_path_factory) -> Study:
    output = tmp_path_factory.mktemp("out")
    return Study.from_config(validated_config(sessions_study, output))


@pytest.fixture(scope="module")
def runs_study(tmp_path_factory) -> Study:
    """1 subject, 4 runs and no session entity."""
    root = tmp_path_factory.mktemp("runs_study")
    simulate_study(root, n_subjects=1, n_sessions=1, n_runs=4, n_volumes=20)
    for tree in (root, root / "derivatives" / "fmriprep"):
        (tree / "sub-01" / "func").mkdir()
        for path in sorted((tree / "sub-01" / "ses-01" / "func").iterdir()):
            path.rename(tree / "sub-01" / "func" / path.name.replace("_ses-01", ""))
        shutil.rmtree(tree / "sub-01" / "ses-01")
    return Study.from_config(validated_config(root, root / "out"))


def missing(study: Study) -> list[tuple]:
    """The (subject, session, run) of each run that the simulation left out."""
    found = {(row.subject, row.session, row.run) for row in study.runs.itertuples()}
    every = {
        (subject, f"{session:02d}", str(run))
        for subject in ("01", "02")
        for session in range(1, 5)
        for run in (1, 2)
    }
    return sorted(every - found)


def test_subjects_sessions_and_runs_are_discovered(study):
    assert study.subjects == ["01", "02"]
    assert study.has_sessions
    assert study.unit_column == "session"
    gone = missing(study)
    assert gone and len(study.runs) == 2 * 4 * 2 - len(gone)
    for subject, session, run in gone:
        labels = study.subject_runs(subject)[["session", "run"]].values.tolist()
        assert [session, run] not in labels


def test_cross_validation_units_are_sessions_and_sizes_run_to_n_minus_2(study):
    for subject in study.subjects:
        assert study.cv_units(subject) == ["01", "02", "03", "04"]
        assert study.training_sizes(subject) == [1, 2]


def test_without_sessions_each_run_is_its_own_unit(runs_study, tmp_path):
    assert not runs_study.has_sessions
    assert runs_study.unit_column == "run_id"
    assert runs_study.cv_units("01") == ["1", "2", "3", "4"]
    assert runs_study.training_sizes("01") == [1, 2]
    files = runs_study.run_files(runs_study.subject_runs("01"), "edges", ".npz")
    out = runs_study.output_dir
    assert files[2] == str(
        out / "sub-01/func/sub-01_task-rating_run-3_atlas-AAL_edges.npz"
    )
    assert runs_study.run_units(files)[Path(files[2]).name] == {
        "session": "3",
        "run": "3",
    }
    assert runs_study.find_run("01", None, "task-rating_run-4")["run_id"] == "4"
    assert runs_study.scan_order.empty
    assert runs_study.prospective_subjects() == []


def test_scan_order_comes_from_acquisition_times(study):
    assert study.session_order["02"] == SCAN_ORDER
    assert study.session_order["01"] == ["01", "02", "03", "04"]
    table = study.scan_order.set_index(["subject", "session"])
    assert table.loc[("02", "03"), "position"] == 1
    assert table.loc[("02", "03"), "order_source"] == "acq_time"


def test_prospective_sessions_follow_scan_order(study):
    # train_sessions 2: the first two scanned train, the later ones are tested.
    assert study.prospective_training_sessions("02") == SCAN_ORDER[:2]
    assert study.prospective_sessions("02") == SCAN_ORDER[2:]
    assert study.prospective_sessions("01") == ["03", "04"]
    assert study.prospective_subjects() == ["01", "02"]
    assert study.sessions_up_to("02", "04") == ["03", "01", "04"]


def test_a_split_without_later_sessions_is_an_error(sessions_study, tmp_path):
    config = validated_config(
        sessions_study, tmp_path, prospective={"train_sessions": 4}
    )
    with pytest.raises(ValueError, match="sub-01: 4 session.*train_sessions below 4"):
        Study.from_config(config)


def test_running_fmriprep_needs_sessions(runs_study, tmp_path):
    config = validated_config(runs_study.dataset.bids_dir, tmp_path, fmriprep_dir=None)
    with pytest.raises(ValueError, match="no session entity"):
        Study.from_config(config)


def test_run_units_label_each_file_with_its_unit_and_run(study):
    rows = study.subject_runs("02")
    features = study.run_files(rows, "edges", ".npz")
    qc = study.run_files(rows, "timeseries", ".json")
    units = study.run_units(features, qc)
    assert list(units) == [Path(path).name for path in features + qc]
    for row, path in zip(rows.itertuples(), features, strict=True):
        assert f"ses-{row.session}_{row.scan}_" in path
        assert units[Path(path).name] == {"session": row.session, "run": row.run_id}


def test_an_unknown_run_or_subject_is_an_error_naming_it(study):
    subject, session, run = missing(study)[0]
    scan = f"task-rating_run-{run}"
    with pytest.raises(KeyError, match=f"sub-{subject} ses-{session} {scan}"):
        study.find_run(subject, session, scan)
    with pytest.raises(KeyError, match="sub-09: no such subject"):
        study.subject_runs("09")
    path = study.run_output(
        "edges", ".npz", subject=subject, session=session, scan=scan
    )
    with pytest.raises(KeyError, match=f"run-{run}"):
        study.run_units([path])


def test_run_inputs_are_the_discovered_files(study):
    row = study.runs.iloc[3]
    inputs = study.run_inputs(row["subject"], row["session"], row["scan"])
    assert inputs["bold"] == str(row["bold"])
    assert inputs["ratings"] == str(row["ratings"])
    assert inputs["atlas_image"] == study.config["atlas"]["image"]
    assert "atlas_subcortex" not in inputs


def test_output_paths(study):
    out = study.output_dir
    assert study.run_output("edges", ".npz") == str(
        out / "sub-{subject}/ses-{session}/func/"
        "sub-{subject}_ses-{session}_{scan}_atlas-AAL_edges.npz"
    )
    assert study.output("model", ".npz", subject="01") == str(
        out / "sub-01/decoding/sub-01_atlas-AAL_model.npz"
    )
    assert study.output("folds", ".tsv", desc="motion") == str(
        out / "sub-{subject}/decoding/sub-{subject}_atlas-AAL_desc-motion_folds.tsv"
    )
    assert study.output("model", ".npz", subject="{train}") == str(
        out / "sub-{train}/decoding/sub-{train}_atlas-AAL_model.npz"
    )
    assert study.figure("roc") == str(
        out / "sub-{subject}/figures/sub-{subject}_atlas-AAL_roc.png"
    )
    assert study.prospective_table("predictions", subject="01", session="03") == str(
        out / "sub-01/ses-03/decoding/sub-01_ses-03_atlas-AAL_desc-prospective_"
        "predictions.tsv"
    )
    assert study.learning_curve_table("summary", subject="01", size=2) == str(
        out / "sub-01/decoding/learningcurve/"
        "sub-01_atlas-AAL_size-2_desc-summary_learningcurve.tsv"
    )
    assert study.pair_table() == str(
        out / "group/crosssubject/train-{train}_test-{test}_atlas-AAL_crosssubject.tsv"
    )
    assert study.group_output("crosssubject", ".png", folder="figures") == str(
        out / "group/figures/atlas-AAL_crosssubject.png"
    )
    assert study.scan_order_file == str(out / "group/scanorder.tsv")
    assert study.dataset_description == str(out / "dataset_description.json")


def test_log_and_benchmark_paths_by_level(study):
    logs = study.output_dir / "logs"
    assert study.log("extract_signals") == str(
        logs / "extract_signals/sub-{subject}/ses-{session}/"
        "sub-{subject}_ses-{session}_{scan}_atlas-AAL_log.txt"
    )
    assert study.log("fit_decoder", level="subject") == str(
        logs / "fit_decoder/sub-{subject}/sub-{subject}_log.txt"
    )
    assert study.log("prospective", level="session") == str(
        logs / "prospective/sub-{subject}/ses-{session}/sub-{subject}_ses-{session}_"
        "log.txt"
    )
    assert study.log("learning_curve", level="size") == str(
        logs / "learning_curve/sub-{subject}/sub-{subject}_size-{size}_log.txt"
    )
    assert study.log("cross_subject", level="pair") == str(
        logs / "cross_subject/train-{train}_test-{test}_log.txt"
    )
    assert study.log("describe_dataset", level="group") == str(
        logs / "describe_dataset/log.txt"
    )
    assert study.benchmark("evaluate", level="subject") == str(
        study.output_dir / "benchmarks/evaluate/sub-{subject}/sub-{subject}_bench.tsv"
    )


def test_targets_name_every_subject_and_the_group(study):
    targets = study.targets()
    for subject in study.subjects:
        for suffix in (
            "metrics.tsv",
            "model.npz",
            "learningcurve.tsv",
            "roc.png",
            "plan.tsv",
            "plan.png",
        ):
            assert any(t.endswith(f"sub-{subject}_atlas-AAL_{suffix}") for t in targets)
        assert study.output("prospective", ".tsv", subject=subject) in targets
    assert study.group_output("crosssubject", ".tsv") in targets
    assert study.group_output("groupmodel", ".tsv") in targets
    assert not any("{" in target for target in targets)
    assert len(targets) == len(set(targets))


def test_fmriprep_paths_of_a_study_painflow_preprocesses(
    sessions_study, tmp_path, monkeypatch
):
    # fMRIPrep's stand-in on PATH: the engine is checked when the study is built.
    monkeypatch.setenv("PATH", os.pathsep.join([str(DOUBLES), os.environ["PATH"]]))
    license_file = tmp_path / "license.txt"
    license_file.write_text("license")
    config = validated_config(
        sessions_study,
        tmp_path / "out",
        fmriprep_dir=None,
        fmriprep={"engine": "native", "work_dir": str(tmp_path / "work")},
    )
    preprocessed = Study.from_config(config, {"FS_LICENSE": str(license_file)})
    fmriprep = tmp_path / "out" / "fmriprep"
    assert preprocessed.fs_license == str(license_file)
    anat = preprocessed.fmriprep_anat("brain", suffix="mask")
    assert anat == str(
        fmriprep / "sub-{subject}/anat/sub-{subject}_desc-brain_mask.nii.gz"
    )
    assert derivatives_root(anat) == str(fmriprep)
    assert preprocessed.fmriprep_session_dir("01", "02") == str(
        fmriprep / "sourcedata/sessions/sub-01_ses-02"
    )
    assert preprocessed.fmriprep_work_dir("anat_sub-01") == str(
        tmp_path / "work" / "anat_sub-01"
    )
    bold = preprocessed.fmriprep_run_outputs()["bold"]
    assert bold.startswith(str(fmriprep / "sub-{subject}/ses-{session}/func/"))
    assert "_ses-{session}_{scan}_space-" in bold  # task and run in {scan}
    settings = preprocessed.fmriprep_settings()
    assert settings["output_spaces"] == ["MNI152NLin6Asym:res-6"]
    assert settings["cifti_output"] is None
    assert preprocessed.session_raw_bold("01", "02") == [
        str(path) for path in preprocessed.runs_in("01", ["02"])["bold_raw"]
    ]
    assert len(preprocessed.session_raw_bold("01", "02")) >= 1
