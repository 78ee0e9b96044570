"""Shared fixtures: small simulated studies and an in-process decoding chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import run_workflow, study_config

from painflow.analyses.metrics import add_time_bins, metrics_table
from painflow.atlas.volume import load_atlas
from painflow.core.fileio import read_json
from painflow.inputs.dataset import DatasetSpec, discover_runs
from painflow.model.crossval import RunFeatures, nested_loso
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.edges import FeatureSettings, run_features
from painflow.signals.extract import (
    MOTION_SUMMARIES,
    AlignmentSettings,
    RunFiles,
    extract_run,
)
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study
from painflow.workflow.config import default_config
from painflow.workflow.predict import config_settings

# Quick settings for whole-workflow runs of the tiny study: its 4 sessions give a
# prospective model of sessions 1-2 tested on 3-4, learning-curve sizes 1 and 2.
TINY_OVERRIDES = {
    "prospective": {"train_sessions": 2},
    "learning_curve": {"n_repeats": 2},
    "importance": {"n_permutations": 100, "n_shown": 10},
}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def with_defaults(section: str, **overrides) -> dict:
    """A config section with the schema's defaults, some of them replaced."""
    return {**default_config()[section], **overrides}


def model_settings(scales: list[str], time_bins: dict) -> dict:
    """What model files record of the config: defaults, an atlas without files."""
    config = default_config()
    return {
        **config_settings(config),
        "features": {**config["features"], "time_bins": time_bins},
        "scales": scales,
        "predict": {**config["predict"], "scale": next(iter(time_bins))},
        "atlas": {"name": "test", "image": None, "labels": None, "subcortex": None},
    }


def study_spec(study: Path) -> DatasetSpec:
    """Where a simulated study's inputs are, the other settings the defaults."""
    fmriprep_dir = study / "derivatives" / "fmriprep"
    config = {
        **default_config(),
        "bids_dir": study,
        "fmriprep_dir": fmriprep_dir,
        "res": "6",
    }
    return DatasetSpec.from_config(config, fmriprep_dir)


def study_atlas(study: Path):
    """The atlas a simulated study was written with."""
    truth = read_json(study / "ground_truth.json")
    return load_atlas(study / truth["atlas"]["image"], study / truth["atlas"]["labels"])


def decode_study(
    study: Path,
    delay: float = 6.0,
    n_bootstrap: int = 200,
    denoise: DenoiseSettings | None = None,
) -> dict:
    """Run extraction, features, nested LOSO and 1-min metrics in this process.

    ``denoise`` defaults to the study's settings.

    Returns, per subject, the metrics table (estimate of each metric at 1 min),
    the all-sessions and fold models, the fold choices, the run features and
    windows, and the per-volume predictions with their 1-min bins.
    """
    runs = discover_runs(study_spec(study))
    atlas = study_atlas(study)
    results = {}
    for subject, rows in runs.groupby("subject"):
        features, windows = [], []
        for row in rows.itertuples():
            table, qc = extract_run(
                RunFiles(bold=row.bold, confounds=row.confounds, ratings=row.ratings),
                tr=row.tr,
                atlas=atlas,
                denoise=denoise or DenoiseSettings(**with_defaults("denoise")),
                align=AlignmentSettings(
                    **with_defaults("alignment", hemodynamic_delay_seconds=delay)
                ),
                rating_column=default_config()["ratings"]["column"],
            )
            features_settings = FeatureSettings(**with_defaults("features"))
            arrays = run_features(
                table, qc, atlas.names, features_settings, list(MOTION_SUMMARIES)
            )
            features.append(
                RunFeatures(session=row.session, run=row.run, arrays=arrays)
            )
            windows.append(
                {
                    "session": row.session,
                    "run": row.run,
                    "window_start": qc["window_start"],
                    "window_stop": qc["window_stop"],
                    "tr": qc["RepetitionTime"],
                }
            )
        result = nested_loso(features, subject)
        volumes = add_time_bins(result.predictions, pd.DataFrame(windows), {"1min": 60})
        table = metrics_table(volumes, ["1min"], n_bootstrap, seed=0)
        results[subject] = {
            "metrics": table.set_index("metric"),
            "model": result.model,
            "fold_models": result.fold_models,
            "folds": result.folds,
            "features": features,
            "windows": pd.DataFrame(windows),
            "predictions": volumes,
        }
    return results


@pytest.fixture(scope="session")
def recovery_study(tmp_path_factory) -> Path:
    """2 subjects x 8 sessions x 2 runs of 10 minutes (TR 2 s), a clear signal."""
    study = tmp_path_factory.mktemp("recovery_study")
    simulate_study(
        study,
        n_subjects=2,
        n_sessions=8,
        n_runs=2,
        n_volumes=300,
        seed=1,
        parameters=SimulationParameters(signal_gain=2.5, n_signal_regions=12),
    )
    return study


@pytest.fixture(scope="session")
def decoded(recovery_study) -> dict:
    """The recovery study decoded in process (see :func:`decode_study`)."""
    return decode_study(recovery_study)


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory) -> Path:
    """2 subjects x 4 sessions x 1 run of 100 volumes: enough for every rule.

    In volumes and in grayordinates (``cifti``), with the same brain signal.
    """
    study = tmp_path_factory.mktemp("tiny_study")
    simulate_study(
        study, n_subjects=2, n_sessions=4, n_runs=1, n_volumes=100, seed=3, cifti=True
    )
    return study


@pytest.fixture(scope="session")
def tiny_run(tiny_study, tmp_path_factory) -> Path:
    """The whole workflow, run once on the tiny study; its output folder.

    Tests only read it: a test that writes (a report, a second run) does so in
    a folder of its own.
    """
    work = tmp_path_factory.mktemp("tiny_run")
    config = study_config(tiny_study, work / "out", **TINY_OVERRIDES)
    result = run_workflow(config, work)
    assert result.returncode == 0, result.stdout[-3000:]
    return work / "out"
