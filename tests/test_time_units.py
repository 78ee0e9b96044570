"""Durations in seconds on a study at another TR: bins, stretches, binned share."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import study_spec, with_defaults

from painflow.analyses.metrics import add_time_bins
from painflow.analyses.windows import run_windows
from painflow.core.fileio import read_json, read_npz, read_tsv, write_json
from painflow.inputs.dataset import discover_runs
from painflow.signals.edges import EXCLUDED, rank_bins
from painflow.simulation.study import simulate_study
from painflow.steps.features import edge_features
from painflow.steps.qc import summarize_qc
from painflow.steps.signals import extract_signals

TR = 0.8
N_VOLUMES = 375  # 5 minutes


@pytest.fixture(scope="module")
def fast_study(tmp_path_factory):
    """One subject, three 5-minute runs at TR 0.8 s, through features and QC."""
    root = tmp_path_factory.mktemp("fast_study")
    simulate_study(
        root / "data", n_subjects=1, n_sessions=3, n_runs=1, n_volumes=N_VOLUMES, tr=TR
    )
    truth = read_json(root / "data" / "ground_truth.json")
    runs = discover_runs(study_spec(root / "data"))
    qc_files, feature_files = [], []
    for row in runs.itertuples():
        stem = root / "out" / f"ses-{row.session}"
        extract_signals(
            bold=str(row.bold),
            confounds=str(row.confounds),
            ratings=str(row.ratings),
            atlas_image=str(root / "data" / truth["atlas"]["image"]),
            atlas_labels=str(root / "data" / truth["atlas"]["labels"]),
            atlas_subcortex="structures",
            tr=row.tr,
            denoise=with_defaults("denoise"),
            alignment=with_defaults("alignment"),
            rating_column="pain",
            timeseries_out=f"{stem}_timeseries.tsv",
            qc_out=f"{stem}_timeseries.json",
        )
        edge_features(
            f"{stem}_timeseries.tsv",
            f"{stem}_timeseries.json",
            with_defaults("features"),
            f"{stem}.npz",
        )
        qc_files.append(f"{stem}_timeseries.json")
        feature_files.append(f"{stem}.npz")
    return root, runs, qc_files, feature_files


def test_runs_get_one_minute_bins_and_a_three_volume_stretch(fast_study):
    _, runs, qc_files, feature_files = fast_study
    windows = run_windows(qc_files, run_units(runs, qc_files, feature_files))
    for row, qc, features in zip(
        runs.itertuples(), qc_files, feature_files, strict=True
    ):
        record, arrays = read_json(qc), read_npz(features)
        assert record["RepetitionTime"] == TR
        # 375 volumes - ceil(30 / 0.8) dropped - round(6 / 0.8) delay = 329
        # volumes, 263.2 s: four whole minutes; the 23.2 s left, under half a
        # minute, join the fourth.
        assert record["window_stop"] - record["window_start"] == 329
        assert arrays["timebin_1min_ids"].tolist() == [0, 1, 2, 3]
        assert arrays["timebin_5min_ids"].tolist() == [0]
        last = arrays["volume"][arrays["timebin_1min"] == 3] - record["window_start"]
        assert last.max() == 328 and last.min() == 225  # midpoints from 180 s
        # The evaluation's time bins are the features' time bins.
        volumes = row_volumes(arrays, row)
        binned = add_time_bins(volumes, windows, {"1min": 60, "5min": 300})
        np.testing.assert_array_equal(binned["bin_1min"], arrays["timebin_1min"])
        # 2.3 s at TR 0.8 s: stretches of 3 volumes (2.4 s) stay, 2 go.
        labels = rank_bins(arrays["rating"], 10)
        expected = stretch_rule(labels, shortest=3)
        np.testing.assert_array_equal(arrays["rating_bin"], expected)
        assert (arrays["rating_bin"] != stretch_rule(labels, shortest=5)).any()


def run_units(runs, *files):
    """Each run's files to its session and run labels (files in the runs' order)."""
    return {
        Path(path).name: {"session": row.session, "run": row.run}
        for paths in files
        for row, path in zip(runs.itertuples(), paths, strict=True)
    }


def row_volumes(arrays, row):
    """Per-volume rows of one run, as the evaluation reads predictions."""
    return pd.DataFrame(
        {"session": row.session, "run": row.run, "volume": arrays["volume"]}
    )


def stretch_rule(labels, shortest):
    """Plain reference: runs of one label with fewer than ``shortest`` volumes out."""
    kept, start = labels.copy(), 0
    for end in range(1, len(labels) + 1):
        if end == len(labels) or labels[end] != labels[start]:
            if end - start < shortest:
                kept[start:end] = EXCLUDED
            start = end
    return kept


def test_the_qc_table_gives_the_share_of_volumes_in_rating_bins(fast_study, caplog):
    root, runs, qc_files, feature_files = fast_study
    table_path = root / "qc.tsv"
    # A floor above every run's share flags them all, with a warning.
    with caplog.at_level(logging.WARNING, logger="painflow"):
        summarize_qc(
            qc_files,
            feature_files,
            run_units(runs, qc_files, feature_files),
            "01",
            max_censored_fraction=0.5,
            min_binned_fraction=1.0,
            qc_out=str(table_path),
            figure_out=str(root / "qc.png"),
        )
    table = read_tsv(table_path, dtype={"session": str, "run": str})
    for features, fraction in zip(feature_files, table["fraction_binned"], strict=True):
        labels = read_npz(features)["rating_bin"]
        assert fraction == pytest.approx(np.mean(labels != EXCLUDED), abs=1e-6)
    # Some 2-volume stretches at TR 0.8 s are left out in every run.
    assert table["fraction_binned"].between(0.5, 0.999).all()
    assert table["low_binned"].all()
    for session, run in zip(table["session"], table["run"], strict=True):
        assert f"{session}/{run}" in caplog.text
    assert "min_binned_fraction" in caplog.text
    assert (root / "qc.png").read_bytes()[:4] == b"\x89PNG"


def test_a_qc_record_without_the_repetition_time_is_named(fast_study, tmp_path):
    root, _, qc_files, _ = fast_study
    record = read_json(qc_files[0])
    del record["RepetitionTime"]
    old = tmp_path / "old_timeseries.json"
    write_json(old, record)
    with pytest.raises(ValueError, match=f"{old}: QC record without RepetitionTime"):
        edge_features(
            qc_files[0].replace(".json", ".tsv"),
            str(old),
            with_defaults("features"),
            str(tmp_path / "x.npz"),
        )
