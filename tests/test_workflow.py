"""The Snakemake workflow end to end on a small simulated study."""

import gzip
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import (
    chromium,
    severe_console_messages,
    show_a_figure,
    sidebar_links,
    wait_for,
)
from conftest import TINY_OVERRIDES
from workflow_runner import REPO, run_workflow, study_config

from painflow.core.fileio import read_json, read_npz, read_tsv
from painflow.report.provenance import SIDECAR_SUFFIX

pytestmark = pytest.mark.workflow

RUN = "sub-01/ses-02/func/sub-01_ses-02_task-rating_run-1"
# Tests of signal extraction and QC stop before the decoders' later steps.
UNTIL_EVALUATE = ("--until", "evaluate")
UNTIL_QC_AND_DECODER = ("--until", "summarize_qc", "fit_decoder")
RUN_LOG = (
    "logs/extract_signals/sub-01/ses-02/" + RUN.split("/")[-1] + "_atlas-AAL_log.txt"
)


def test_outputs_of_every_subject(tiny_run):
    for subject in ("01", "02"):
        decoding = tiny_run / f"sub-{subject}" / "decoding"
        predictions = read_tsv(decoding / f"sub-{subject}_atlas-AAL_predictions.tsv")
        assert list(predictions.columns) == [
            "session",
            "run",
            "volume",
            "time",
            "rating",
            "predicted",
            "fold",
        ]
        assert predictions["fold"].nunique() == 4
        assert (predictions["fold"] == predictions["session"]).all()
        metrics = read_tsv(decoding / f"sub-{subject}_atlas-AAL_metrics.tsv")
        assert list(metrics.columns) == [
            "scale",
            "metric",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
        ]
        assert set(metrics["scale"]) == {"1min", "2min", "run", "session"}
        brain = {"r", "r2", "mae", "auc", "within_run_r", "within_session_r"}
        # The motion control's metrics stand beside the brain model's.
        assert set(metrics["metric"]) == brain | {f"motion_{name}" for name in brain}
        motion = read_tsv(
            decoding / f"sub-{subject}_atlas-AAL_desc-motion_predictions.tsv"
        )
        assert list(motion.columns) == list(predictions.columns)
        assert len(motion) == len(predictions)
        model = read_npz(decoding / f"sub-{subject}_atlas-AAL_model.npz")
        assert model["edge_weights"].shape == (116 * 115 // 2,)
        assert model["region_names"].shape == (116,)
        assert 1 <= int(model["n_components"])
        qc = read_tsv(
            tiny_run / f"sub-{subject}" / "qc" / f"sub-{subject}_atlas-AAL_qc.tsv"
        )
        assert len(qc) == 4 and qc["included"].all()
        assert qc["fraction_binned"].between(0, 1).all()
        assert qc["low_binned"].dtype == bool
        importance = read_tsv(decoding / f"sub-{subject}_atlas-AAL_importance.tsv")
        assert list(importance.columns) == [
            "region",
            "name",
            "network",
            "importance",
            "rank",
        ]
        assert len(importance) == 116
        assert importance["importance"].is_monotonic_decreasing
        figures = ("timecourse", "scatter", "roc", "importance", "importancebrain")
        for figure in figures:
            png = (
                tiny_run
                / f"sub-{subject}"
                / "figures"
                / f"sub-{subject}_atlas-AAL_{figure}.png"
            )
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tiny_run / "dataset_description.json").exists()
    group = read_tsv(
        tiny_run / "group/atlas-AAL_crosssubject.tsv",
        dtype={"train_subject": str, "test_subject": str},
    )
    assert list(group.columns) == ["train_subject", "test_subject", "scale", "r", "auc"]
    pairs = set(zip(group["train_subject"], group["test_subject"], strict=True))
    assert pairs == {("01", "01"), ("01", "02"), ("02", "01"), ("02", "02")}
    assert len(group) == 4 * 4  # every pair at every scale
    assert (tiny_run / "group/figures/atlas-AAL_crosssubject.png").exists()


def test_learning_curve_over_training_sizes(tiny_run):
    table = read_tsv(
        tiny_run / "sub-01/decoding/sub-01_atlas-AAL_learningcurve.tsv",
        dtype={"test_session": str},
    )
    assert list(table.columns) == [
        "n_train_sessions",
        "repeat",
        "test_session",
        "scale",
        "r",
    ]
    assert sorted(table["n_train_sessions"].unique()) == [1, 2]
    assert sorted(table["repeat"].unique()) == [0, 1]
    assert sorted(table["test_session"].unique()) == ["01", "02", "03", "04"]
    assert len(table) == 2 * 2 * 4 * 4  # sizes x repeats x sessions x scales
    summary = read_tsv(
        tiny_run / "sub-01/decoding/sub-01_atlas-AAL_desc-summary_learningcurve.tsv"
    )
    assert list(summary.columns) == [
        "n_train_sessions",
        "scale",
        "metric",
        "estimate",
        "ci_low",
        "ci_high",
    ]
    metrics = read_tsv(tiny_run / "sub-01/decoding/sub-01_atlas-AAL_metrics.tsv")
    brain = metrics[~metrics["metric"].str.startswith("motion_")]
    # The main evaluation's metrics at its scales, for every training size.
    for size in (1, 2):
        rows = summary[summary["n_train_sessions"] == size]
        assert list(zip(rows["scale"], rows["metric"], strict=True)) == list(
            zip(brain["scale"], brain["metric"], strict=True)
        )
    defined = summary.dropna(subset=["estimate", "ci_low"])
    assert not defined.empty
    assert (defined["ci_low"] <= defined["estimate"] + 1e-9).all()
    assert (defined["estimate"] <= defined["ci_high"] + 1e-9).all()
    assert (tiny_run / "sub-01/figures/sub-01_atlas-AAL_learningcurve.png").exists()


def test_prospective_tests_in_scan_order(tiny_run):
    for subject in ("01", "02"):
        decoding = tiny_run / f"sub-{subject}" / "decoding"
        table = read_tsv(
            decoding / f"sub-{subject}_atlas-AAL_prospective.tsv",
            dtype={"test_session": str},
        )
        assert list(table.columns) == ["test_session", "n_train_sessions", "scale", "r"]
        per_session = table.drop_duplicates("test_session")
        assert per_session["test_session"].tolist() == ["03", "04"]
        # One model of the first two sessions tests both later ones.
        assert per_session["n_train_sessions"].tolist() == [2, 2]
        model = read_npz(
            decoding / f"sub-{subject}_atlas-AAL_desc-prospective_model.npz"
        )
        assert model["train_sessions"].tolist() == ["01", "02"]
        metrics = read_tsv(
            decoding / f"sub-{subject}_atlas-AAL_desc-prospective_metrics.tsv"
        )
        assert list(metrics.columns) == [
            "scale",
            "metric",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
        ]
        assert set(metrics["scale"]) == {"1min", "2min", "run", "session"}
        figure = (
            tiny_run / f"sub-{subject}/figures/sub-{subject}_atlas-AAL_prospective.png"
        )
        assert figure.exists()


def test_scan_order_is_recorded_for_the_report(tiny_run, tiny_study):
    table = read_tsv(tiny_run / "group/scanorder.tsv", dtype={"session": str})
    assert list(table.columns) == [
        "subject",
        "session",
        "position",
        "acq_time",
        "order_source",
    ]
    for subject in ("01", "02"):
        rows = table[table["subject"].astype(int) == int(subject)]
        assert rows["position"].tolist() == [1, 2, 3, 4]
        with_table = (tiny_study / f"sub-{subject}/sub-{subject}_sessions.tsv").exists()
        source = "acq_time" if with_table else "assumed"
        assert (rows["order_source"] == source).all()


def relabel_sessions(study, copy, n_sessions):
    """Copy sub-01 of ``study`` with sessions 1..n (no sessions.tsv)."""
    shutil.copytree(study / "atlas", copy / "atlas")
    shutil.copy(study / "ground_truth.json", copy)
    for base in (Path(), Path("derivatives/fmriprep")):
        sources = sorted((study / base / "sub-01").glob("ses-*"))
        for label in range(1, n_sessions + 1):
            source = sources[(label - 1) % len(sources)]
            for path in source.rglob("*.*"):
                name = path.name.replace(f"_{source.name}_", f"_ses-{label}_")
                target = copy / base / "sub-01" / f"ses-{label}"
                target = target / path.parent.relative_to(source) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)


def test_prospective_tests_follow_natural_order_of_labels_1_to_12(tiny_study, tmp_path):
    copy = tmp_path / "study"
    relabel_sessions(tiny_study, copy, 12)
    config = study_config(
        copy,
        tmp_path / "out",
        subjects=["01"],
        prospective={"mode": "expanding", "min_train_sessions": 10},
    )
    result = run_workflow(config, tmp_path / "work", "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "sub-01: no " in result.stdout and "scan order assumed" in result.stdout
    # Text order (1, 10, 11, 12, 2, ...) would test sessions 8 and 9 instead.
    jobs = re.findall(
        r"rule prospective_expanding:\n\s+input: (.*)\n\s+output: .*ses-(\w+)_atlas",
        result.stdout,
    )
    trained = {
        test: {int(label) for label in re.findall(r"ses-(\w+)/func", inputs)}
        for inputs, test in jobs
    }
    assert trained == {"11": set(range(1, 12)), "12": set(range(1, 13))}
    summary = re.search(r"rule summarize_prospective:\n\s+input: (.*)", result.stdout)
    assert set(re.findall(r"ses-(\w+)_atlas", summary.group(1))) == {"11", "12"}


def test_predictions_cover_every_retained_volume(tiny_run):
    table = read_tsv(tiny_run / f"{RUN}_atlas-AAL_timeseries.tsv")
    predictions = read_tsv(
        tiny_run / "sub-01/decoding/sub-01_atlas-AAL_predictions.tsv",
        dtype={"session": str, "run": str},
    )
    run = predictions[(predictions["session"] == "02") & (predictions["run"] == "1")]
    np.testing.assert_array_equal(run["volume"], table["volume"])
    np.testing.assert_allclose(run["rating"], table["rating"])


def test_provenance_of_metrics_goes_back_to_bold_and_ratings(tiny_run, tiny_study):
    metrics = tiny_run / "sub-01/decoding/sub-01_atlas-AAL_metrics.tsv"
    record = read_json(str(metrics) + SIDECAR_SUFFIX)
    assert record["step"] == "evaluate" and record["wildcards"] == {"subject": "01"}
    assert record["config"]["n_bootstrap"] == 200 and record["seed"] == 0
    assert record["packages"]["numpy"] == np.__version__
    assert (
        record["output"]["sha256"] == hashlib.sha256(metrics.read_bytes()).hexdigest()
    )
    # Outputs are recorded relative to the output folder, sources absolutely.
    assert record["output"]["path"] == "sub-01/decoding/sub-01_atlas-AAL_metrics.tsv"
    for entry in record["inputs"]:
        content = (tiny_run / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), entry["path"]
    printed = subprocess.run(
        [sys.executable, "-m", "painflow.cli", "provenance", str(metrics)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = printed.splitlines()
    assert lines[0].startswith(str(metrics)) and "<- evaluate" in lines[0]
    for step in ("fit_decoder", "edge_features", "extract_signals"):
        assert f"<- {step}(" in printed
    sources = {line.split()[0] for line in lines if line.endswith("[source]")}
    derivatives = tiny_study / "derivatives" / "fmriprep" / RUN
    assert (
        f"{derivatives}_space-MNI152NLin6Asym_res-6_desc-preproc_bold.nii.gz" in sources
    )
    assert f"{tiny_study / RUN}_recording-rating_physio.tsv.gz" in sources


def test_provenance_of_a_file_without_a_record_is_an_error(tiny_run):
    completed = subprocess.run(
        [sys.executable, "-m", "painflow.cli", "provenance", str(tiny_run / "x.tsv")],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 1
    assert "x.tsv: no provenance record" in completed.stderr


def test_snakemake_lint_is_clean(tiny_study, tmp_path):
    result = run_workflow(
        study_config(tiny_study, tmp_path / "out"), tmp_path, "--lint"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Lints for" not in result.stdout


def test_unknown_config_key_is_rejected(tiny_study, tmp_path):
    config = study_config(tiny_study, tmp_path / "out", n_boostrap=10)
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode != 0
    assert "n_boostrap" in result.stdout
    assert not (tmp_path / "out").exists()


def test_a_bad_importance_scale_stops_a_dry_run_before_any_job(tiny_study, tmp_path):
    config = study_config(tiny_study, tmp_path / "out", importance={"scale": "run"})
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode != 0
    assert "importance.scale is 'run'" in result.stdout
    assert "features.time_bins (1min, 2min, 5min)" in result.stdout
    assert "Job stats" not in result.stdout
    assert not (tmp_path / "out").exists()


def test_a_dry_run_without_a_config_names_the_required_keys(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
        + ["--directory", str(tmp_path), "--cores", "1", "-n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    message = "missing required key(s) bids_dir, fmriprep_dir, output_dir, atlas"
    assert message in result.stdout + result.stderr


def test_subject_with_fewer_than_three_sessions_is_rejected(tiny_study, tmp_path):
    copy = tmp_path / "study"
    relabel_sessions(tiny_study, copy, 2)
    result = run_workflow(study_config(copy, tmp_path / "out"), tmp_path / "work", "-n")
    assert result.returncode != 0
    assert "sub-01: 2 session(s)" in result.stdout
    assert "needs at least 3" in result.stdout


def test_a_prospective_split_without_later_sessions_is_rejected(tiny_study, tmp_path):
    config = study_config(
        tiny_study, tmp_path / "out", prospective={"train_sessions": 4}
    )
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode != 0
    assert "sub-01: 4 session(s)" in result.stdout
    assert "prospective.mode: expanding" in result.stdout
    assert not (tmp_path / "out").exists()


def test_the_expanding_prospective_design_plans_one_model_per_session(
    tiny_study, tmp_path
):
    prospective = {"mode": "expanding", "min_train_sessions": 2}
    config = study_config(tiny_study, tmp_path / "out", prospective=prospective)
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "prospective_expanding" in result.stdout
    assert "prospective_model" not in result.stdout


def test_missing_ratings_recording_is_rejected_before_any_job(tiny_study, tmp_path):
    copy = tmp_path / "study"
    shutil.copytree(tiny_study, copy)
    func = copy / "sub-02/ses-03/func"
    missing = func / "sub-02_ses-03_task-rating_run-1_recording-rating_physio.tsv.gz"
    missing.unlink()
    result = run_workflow(study_config(copy, tmp_path / "out"), tmp_path / "work")
    assert result.returncode != 0
    assert f"{missing}: no rating recording" in result.stdout
    assert not (tmp_path / "out").exists()


def test_bad_ratings_stop_the_run_and_leave_no_partial_output(tiny_study, tmp_path):
    copy = tmp_path / "study"
    shutil.copytree(tiny_study, copy)
    recording = copy / f"{RUN}_recording-rating_physio.tsv.gz"
    lines = gzip.decompress(recording.read_bytes()).decode().splitlines()
    lines[200] = "NaN"
    recording.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    out = tmp_path / "out"
    result = run_workflow(
        study_config(copy, out), tmp_path / "work", "--keep-going", *UNTIL_EVALUATE
    )
    assert result.returncode != 0
    log = (out / RUN_LOG).read_text()
    assert f"{recording}: rating on line 201 is not a finite number" in log
    assert not (out / f"{RUN}_atlas-AAL_timeseries.tsv").exists()
    assert not (out / "sub-01/decoding/sub-01_atlas-AAL_predictions.tsv").exists()
    # The other subject is unaffected.
    assert (out / "sub-02/decoding/sub-02_atlas-AAL_metrics.tsv").exists()


def test_a_mostly_censored_run_is_left_out_and_recorded(tiny_study, tmp_path):
    copy = tmp_path / "study"
    shutil.copytree(tiny_study, copy)
    confounds = copy / "derivatives/fmriprep" / f"{RUN}_desc-confounds_timeseries.tsv"
    table = pd.read_csv(confounds, sep="\t")
    # A head that keeps drifting by about a millimetre a volume.
    table["trans_x"] = np.cumsum(np.random.default_rng(0).normal(0, 1, len(table)))
    table.to_csv(confounds, sep="\t", index=False, na_rep="n/a")
    out = tmp_path / "out"
    config = study_config(copy, out, subjects=["01"])
    result = run_workflow(config, tmp_path / "work", *UNTIL_QC_AND_DECODER)
    assert result.returncode == 0, result.stdout[-3000:]
    qc = read_tsv(out / "sub-01/qc/sub-01_atlas-AAL_qc.tsv", dtype={"session": str})
    left_out = qc[~qc["included"]]
    assert left_out["session"].tolist() == ["02"]
    assert "censored" in left_out["reason"].iloc[0]
    predictions = read_tsv(
        out / "sub-01/decoding/sub-01_atlas-AAL_predictions.tsv", dtype={"session": str}
    )
    assert "02" not in set(predictions["session"])
    assert "left out" in (out / RUN_LOG).read_text()


REPORT_CATEGORIES = {
    "Decoding": ("sub-01", "sub-02"),
    "Quality control": ("sub-01", "sub-02"),
    "Learning curve": ("sub-01", "sub-02"),
    "Prospective test": ("sub-01", "sub-02"),
    "Region importance": ("sub-01", "sub-02"),
    "Univariate maps": ("sub-01", "sub-02"),
    "Cross-subject": (None,),
}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def test_report_renders_in_chromium(tiny_study, tiny_run, tmp_path):
    # The report goes beside the test, never among the shared run's outputs.
    report = tmp_path / "report.html"
    config = study_config(tiny_study, tiny_run, **TINY_OVERRIDES)
    result = run_workflow(config, tiny_run.parent, "--report", str(report))
    assert result.returncode == 0, result.stdout[-3000:]
    with chromium(tmp_path / "profile") as driver:
        driver.get(report.as_uri())
        wait_for(driver, lambda d: "Quality control" in sidebar_links(d))
        assert set(REPORT_CATEGORIES) <= set(sidebar_links(driver))
        for category, subcategories in REPORT_CATEGORIES.items():
            for subcategory in subcategories:
                driver.get(report.as_uri())
                width = show_a_figure(driver, category, subcategory)
                assert width > 300, (category, subcategory)
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report.png"))
        assert severe_console_messages(driver) == []
