"""Regressor selection, framewise displacement and censoring."""

import numpy as np
import pandas as pd
import pytest
from conftest import study_spec

from painflow.confounds import (
    DenoiseSettings,
    censored_volumes,
    framewise_displacement,
    nuisance_regressors,
)
from painflow.dataset import discover_runs
from painflow.simulate import simulate_study


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("confounds")
    simulate_study(root, n_subjects=1, n_sessions=3, n_runs=1, n_volumes=120, seed=4)
    return discover_runs(study_spec(root)).iloc[0]


def test_framewise_displacement_sums_absolute_steps_in_mm():
    motion = np.zeros((5, 6))
    motion[2, 0] = 0.2  # mm
    motion[3, 5] = 0.004  # rad: 0.2 mm on a 50 mm sphere
    fd = framewise_displacement(motion, tr=2.0, low_pass_hz=None)
    np.testing.assert_allclose(fd, [0, 0, 0.2, 0.4, 0.2])


def test_low_pass_removes_fast_oscillation_but_keeps_a_step():
    n = 200
    oscillation = np.zeros((n, 6))
    oscillation[:, 0] = 0.3 * np.sin(2 * np.pi * 0.3 * np.arange(n) * 0.5)  # 0.3 Hz
    step = np.zeros((n, 6))
    step[100:, 1] = 3.0  # mm; the filter spreads the jump over several volumes
    raw = framewise_displacement(oscillation, tr=0.5, low_pass_hz=None)
    filtered = framewise_displacement(oscillation, tr=0.5, low_pass_hz=0.1)
    assert raw.max() > 0.15 and filtered[20:-20].max() < 0.15
    assert framewise_displacement(step, tr=0.5, low_pass_hz=0.1).max() > 0.15


def test_regressors_are_6_motion_and_5_wm_and_5_csf_components(run):
    regressors = nuisance_regressors(run.bold, run.confounds, DenoiseSettings())
    assert len(regressors) == 120
    assert sorted(c for c in regressors if c.startswith(("trans", "rot"))) == sorted(
        ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    )
    compcor = [c for c in regressors if c.startswith("a_comp_cor")]
    assert len(compcor) == 10 and regressors.shape[1] == 16


def test_missing_regressor_column_is_an_error_naming_the_file(run, tmp_path):
    table = pd.read_csv(run.confounds, sep="\t")
    table.drop(columns=["rot_z"]).to_csv(run.confounds, sep="\t", index=False)
    try:
        with pytest.raises(ValueError, match=f"{run.confounds}: .*rot_z"):
            nuisance_regressors(run.bold, run.confounds, DenoiseSettings())
        with pytest.raises(ValueError, match=f"{run.confounds}: missing motion"):
            censored_volumes(run.confounds, 2.0, DenoiseSettings())
    finally:
        table.to_csv(run.confounds, sep="\t", index=False, na_rep="n/a")


def test_spikes_are_censored(run):
    censored, fd = censored_volumes(run.confounds, 2.0, DenoiseSettings())
    assert censored.dtype == bool and len(censored) == 120
    assert np.array_equal(censored, fd > 0.15)
