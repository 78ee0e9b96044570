"""Predicting a new session with a saved model: metadata, intervals, refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snakemake.utils import validate
from workflow_runner import REPO, planned_jobs, run_workflow, study_config

from painflow.analyses.predict import interval_offsets, out_of_sample_errors
from painflow.cli import main
from painflow.commands.predict import model_atlas
from painflow.core.fileio import read_json, read_tsv, write_npz
from painflow.model.metadata import (
    atlas_checksums,
    check_model_fits,
    check_repetition_times,
    metadata_arrays,
    read_model,
)
from painflow.workflow.predict import predict_paths, predict_targets
from painflow.workflow.study import Study

EXPANDING = {"prospective": {"mode": "expanding", "min_train_sessions": 2}}


def a_record(tmp_path) -> dict:
    """A complete model record whose atlas is two small files in ``tmp_path``."""
    (tmp_path / "image.nii.gz").write_bytes(b"image")
    (tmp_path / "labels.tsv").write_bytes(b"labels")
    files = {
        "atlas_image": str(tmp_path / "image.nii.gz"),
        "atlas_labels": str(tmp_path / "labels.tsv"),
    }
    return {
        "subject": "01",
        "atlas": {
            "name": "AAL",
            "image": "atlas/image.nii.gz",
            "labels": "atlas/labels.tsv",
            "subcortex": "structures",
            **atlas_checksums(files),
        },
        "space": {"space": "MNI152NLin6Asym", "res": "2", "den": None},
        "task": "rating",
        "rating_column": "pain",
        "rating_recording": "rating",
        "tr_range": [0.46, 0.46],
        "alignment": {"drop_initial_seconds": 30, "hemodynamic_delay_seconds": 6},
        "denoise": {"fd_threshold_mm": 0.15},
        "features": {"time_bins": {"1min": 60}},
        "training_sessions": ["01", "02"],
        "metrics": {"source": "test", "scales": {"1min": {"r": 0.5}}},
        "errors": {"source": "test", "level": 0.9},
        "painflow_version": "0",
    }, files


def test_metadata_round_trip_and_incomplete_models(tmp_path):
    record, _ = a_record(tmp_path)
    record["metrics"]["scales"]["session"] = {"r": float("nan")}
    errors = {"volume": np.arange(5.0), "1min": np.array([-1.0, 2.0])}
    path = tmp_path / "model.npz"
    write_npz(path, edge_weights=np.ones(3), **metadata_arrays(record, errors))
    arrays, read = read_model(path)
    np.testing.assert_array_equal(arrays["edge_weights"], np.ones(3))
    assert read["errors"]["scales"] == ["volume", "1min"]
    for scale, values in errors.items():
        np.testing.assert_array_equal(read["errors_by_scale"][scale], values)
    # NaN is stored as null, so the record is strict JSON.
    assert read["metrics"]["scales"]["session"]["r"] is None
    assert read["atlas"] == record["atlas"]
    assert json.loads(str(arrays["metadata"]))["training_sessions"] == ["01", "02"]

    write_npz(tmp_path / "old.npz", edge_weights=np.ones(3))
    with pytest.raises(ValueError, match="old.npz: the model carries no metadata"):
        read_model(tmp_path / "old.npz")
    del record["subject"]
    write_npz(tmp_path / "partial.npz", **metadata_arrays(record, errors))
    with pytest.raises(ValueError, match="partial.npz: .*lacks subject"):
        read_model(tmp_path / "partial.npz")


def test_model_refuses_another_person_atlas_space_and_tr(tmp_path):
    record, files = a_record(tmp_path)
    space = dict(record["space"])
    checksums = atlas_checksums(files)
    check_model_fits(record, "m.npz", "01", checksums, space)
    with pytest.raises(ValueError, match="sub-01's, the data sub-02's"):
        check_model_fits(record, "m.npz", "02", checksums, space)
    check_model_fits(record, "m.npz", "02", checksums, space, True)

    (tmp_path / "other.nii.gz").write_bytes(b"another image")
    other = atlas_checksums({**files, "atlas_image": str(tmp_path / "other.nii.gz")})
    with pytest.raises(ValueError, match="atlas image differs from the model's atlas"):
        check_model_fits(record, "m.npz", "01", other, space)
    fslr = {"space": "fsLR", "res": None, "den": "91k"}
    with pytest.raises(ValueError, match="space-MNI152NLin6Asym_res-2, the data are"):
        check_model_fits(record, "m.npz", "01", checksums, fslr)
    check_repetition_times(record, "m.npz", [0.46, 0.4600001])
    with pytest.raises(ValueError, match="repetition time 2.0 s is outside"):
        check_repetition_times(record, "m.npz", [0.46, 2.0])


def test_atlas_found_relative_to_the_output_folder(tmp_path):
    record, _ = a_record(tmp_path)
    root = tmp_path / "out"
    (root / "atlas").mkdir(parents=True)
    for name in ("image.nii.gz", "labels.tsv"):
        shutil.copy(tmp_path / name, root / "atlas" / name)
    model = root / "sub-01" / "decoding" / "model.npz"
    files = model_atlas(str(model), record, {})
    assert files == {
        "atlas_image": str(root / "atlas" / "image.nii.gz"),
        "atlas_labels": str(root / "atlas" / "labels.tsv"),
        "atlas_subcortex": None,
    }
    assert atlas_checksums(files)["image_sha256"] == record["atlas"]["image_sha256"]
    moved = tmp_path / "elsewhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match="give --atlas-image"):
        model_atlas(str(moved), record, {})


@settings(max_examples=50, deadline=None)
@given(
    errors=st.lists(
        st.floats(-100, 100, allow_nan=False), min_size=1, max_size=60, unique=True
    ),
    level=st.floats(0.5, 0.99),
)
def test_interval_offsets_are_the_conformal_order_statistics(errors, level):
    low, high = interval_offsets(np.array(errors), level)
    ordered, n = sorted(errors), len(errors)
    # Plainly: the fewest errors below (above) the bounds that keep the
    # (n + 1)-corrected tail shares at most alpha / 2.
    k_low = max(1, min(n, int(np.floor((n + 1) * (1 - level) / 2))))
    k_high = max(1, min(n, int(np.ceil((n + 1) * (1 - (1 - level) / 2)))))
    assert (low, high) == (ordered[k_low - 1], ordered[k_high - 1])
    assert low <= high


def test_intervals_cover_held_out_ratings_at_their_level():
    """Planted truth: ratings = prediction + noise, the same noise in and out."""
    rng = np.random.default_rng(7)
    coverages = []
    for _ in range(200):
        calibration = rng.standard_t(5, size=300)
        low, high = interval_offsets(calibration, 0.9)
        new = rng.standard_t(5, size=200)
        coverages.append(np.mean((new >= low) & (new <= high)))
    assert np.mean(coverages) == pytest.approx(0.9, abs=0.01)


def test_errors_per_volume_and_per_time_bin():
    volumes = pd.DataFrame(
        {
            "session": "1",
            "run": "1",
            "volume": np.arange(10, 22),
            "rating": np.arange(12.0),
            "predicted": np.zeros(12),
        }
    )
    windows = pd.DataFrame(
        [{"session": "1", "run": "1", "window_start": 10, "window_stop": 22, "tr": 1.0}]
    )
    errors = out_of_sample_errors(volumes, windows, {"6s": 6.0}, "6s")
    np.testing.assert_array_equal(errors["volume"], np.arange(12.0))
    np.testing.assert_array_equal(errors["6s"], [2.5, 8.5])
    with pytest.raises(ValueError, match="predict.scale is '1min'"):
        out_of_sample_errors(volumes, windows, {"6s": 6.0}, "1min")


# The workflow's outputs (the tiny study, run once for every test module).


def prospective_model(tiny_run, subject):
    """A subject's prospective model file in the tiny run."""
    return next(
        (tiny_run / f"sub-{subject}" / "decoding").glob("*prospective_model.npz")
    )


def cli_arguments(tiny_study, tiny_run, subject, session, output, *extra):
    """``painflow predict`` of a tiny-study session with sub-``subject``'s model."""
    truth = read_json(tiny_study / "ground_truth.json")
    return [
        "predict",
        str(prospective_model(tiny_run, subject)),
        "--fmriprep-dir",
        str(tiny_study / "derivatives" / "fmriprep"),
        "--subject",
        "01",
        "--session",
        session,
        "--output",
        str(output),
        "--atlas-image",
        str(tiny_study / truth["atlas"]["image"]),
        "--atlas-labels",
        str(tiny_study / truth["atlas"]["labels"]),
        *extra,
    ]


def test_cli_predicts_a_held_back_session_as_the_workflow(
    tiny_study, tiny_run, tmp_path
):
    session = "03"
    arguments = cli_arguments(tiny_study, tiny_run, "01", session, tmp_path)
    assert main([*arguments, "--bids-dir", str(tiny_study)]) == 0
    atlas = read_json(tiny_study / "ground_truth.json")["atlas"]["name"]
    ours = predict_paths(tmp_path, "01", session, atlas)
    volumes = read_tsv(ours["predictions"], dtype={"session": str, "run": str})
    prospective = read_tsv(
        next(
            (tiny_run / "sub-01").rglob(
                f"*ses-{session}*desc-prospective_predictions.tsv"
            )
        ),
        dtype={"session": str, "run": str},
    )
    np.testing.assert_array_equal(volumes["volume"], prospective["volume"])
    np.testing.assert_allclose(
        volumes["predicted"], prospective["predicted"], rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(volumes["rating"], prospective["rating"], atol=1e-10)
    # The rule's outputs are the same files.
    rule = predict_paths(tiny_run, "01", session, atlas)
    for name in ("predictions", "timebins", "metrics"):
        assert read_tsv(ours[name]).equals(read_tsv(rule[name])), name
    assert (volumes["pi_low"] <= volumes["predicted"]).all()
    assert (volumes["predicted"] <= volumes["pi_high"]).all()

    # Without ratings: the same predictions, no rating, no metrics.
    bare = tmp_path / "bare"
    assert main(cli_arguments(tiny_study, tiny_run, "01", session, bare)) == 0
    unrated = read_tsv(predict_paths(bare, "01", session, atlas)["predictions"])
    np.testing.assert_allclose(unrated["predicted"], volumes["predicted"], atol=1e-12)
    assert unrated["rating"].isna().all()
    assert not list((bare / "sub-01" / f"ses-{session}" / "decoding").glob("*metrics*"))


def test_cli_refuses_another_person_atlas_and_space(
    tiny_study, tiny_run, tmp_path, capsys
):
    other = cli_arguments(tiny_study, tiny_run, "02", "03", tmp_path)
    assert main(other) == 1
    assert "the model is sub-02's, the data sub-01's" in capsys.readouterr().err
    assert main([*other, "--allow-other-person"]) == 0

    labels = read_json(tiny_study / "ground_truth.json")["atlas"]["labels"]
    edited = tmp_path / "labels.tsv"
    edited.write_text((tiny_study / labels).read_text().replace("\t", "\t ", 1))
    mine = cli_arguments(tiny_study, tiny_run, "01", "03", tmp_path)
    assert main([*mine, "--atlas-labels", str(edited)]) == 1
    assert "the atlas labels differs from the model's atlas" in capsys.readouterr().err

    assert main([*mine, "--space", "fsLR", "--den", "91k"]) == 1
    error = capsys.readouterr().err
    assert "trained on data in space-MNI152NLin6Asym_res-6" in error

    assert main([*mine, "--session", "99"]) == 1
    assert "no preprocessed BOLD" in capsys.readouterr().err


def test_cli_scores_only_the_acquisitions_the_model_was_trained_on(
    tiny_study, tiny_run, tmp_path, capsys
):
    arrays, record = read_model(prospective_model(tiny_run, "01"))
    assert record["bold_filters"] == {}
    record["bold_filters"] = {"acq": "mb4"}
    del record["errors_by_scale"]  # read_model's addition, kept in arrays
    model = tmp_path / "sub-01_atlas-AAL_desc-prospective_model.npz"
    arrays["metadata"] = np.array(json.dumps(record))
    write_npz(model, **arrays)
    arguments = cli_arguments(tiny_study, tiny_run, "01", "03", tmp_path)
    arguments[1] = str(model)
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert "acq: ['mb4'] matches no BOLD file of sub-01 ses-03" in error


def test_model_files_carry_their_metadata(tiny_run):
    _, record = read_model(prospective_model(tiny_run, "01"))
    assert record["subject"] == "01"
    assert record["training_sessions"] == ["01", "02"]
    assert record["errors"]["scales"] == ["volume", "1min"]
    assert record["atlas"]["image"] == record["atlas"]["image"].split("/")[-1]
    _, everything = read_model(tiny_run / "sub-01/decoding/sub-01_atlas-AAL_model.npz")
    assert everything["training_sessions"] == ["01", "02", "03", "04"]
    assert everything["metrics"]["source"] == "nested leave-one-session-out"


def test_predict_rule_scores_the_later_sessions_in_split_mode(tiny_study, tmp_path):
    config = study_config(tiny_study, tmp_path / "out")
    result = run_workflow(config, tmp_path, "-n", "--until", "predict")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = sorted(
        (w["subject"], w["session"])
        for rule, w in planned_jobs(result.stdout)
        if rule == "predict"
    )
    assert jobs == [(s, t) for s in ("01", "02") for t in ("03", "04")]
    # Expanding design: no saved model per session, so nothing to score.
    config = study_config(tiny_study, tmp_path / "out", **EXPANDING)
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"), True)
    assert predict_targets(Study.from_config(config)) == []
