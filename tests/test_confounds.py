"""Regressor selection, framewise displacement and censoring."""

import json
import math
import shutil
import warnings
from pathlib import Path

import nilearn.interfaces.fmriprep as fmriprep_interface
import numpy as np
import pandas as pd
import pytest
from conftest import study_spec, with_defaults
from tiny_runs import write_tiny_run

from painflow.inputs.dataset import discover_runs
from painflow.signals.confounds import (
    MIN_LOW_PASS_VOLUMES,
    MOTION_COLUMNS,
    DenoiseSettings,
    censored_volumes,
    censoring,
    framewise_displacement,
    motion_parameters,
    non_steady_state_volumes,
    nuisance_regressors,
)
from painflow.signals.extract import AlignmentSettings
from painflow.simulation.study import simulate_study
from painflow.steps.signals import extract_signals


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("confounds")
    simulate_study(root, n_subjects=1, n_sessions=3, n_runs=1, n_volumes=120, seed=4)
    return discover_runs(study_spec(root)).iloc[0]


# Rotations become arc lengths on a sphere of this radius (mm).
HEAD_RADIUS_MM = 50.0


def test_framewise_displacement_sums_absolute_steps_in_mm():
    motion = np.zeros((5, 6))
    motion[2, 0] = 0.2  # mm
    motion[3, 5] = 0.004  # rad: 0.2 mm on a 50 mm sphere
    fd = framewise_displacement(
        motion, tr=2.0, low_pass_hz=None, head_radius_mm=HEAD_RADIUS_MM
    )
    np.testing.assert_allclose(fd, [0, 0, 0.2, 0.4, 0.2])


def test_low_pass_removes_fast_oscillation_but_keeps_a_step():
    n = 200
    oscillation = np.zeros((n, 6))
    oscillation[:, 0] = 0.3 * np.sin(2 * np.pi * 0.3 * np.arange(n) * 0.5)  # 0.3 Hz
    step = np.zeros((n, 6))
    step[100:, 1] = 3.0  # mm; the filter spreads the jump over several volumes
    raw = framewise_displacement(
        oscillation, tr=0.5, low_pass_hz=None, head_radius_mm=HEAD_RADIUS_MM
    )
    filtered = framewise_displacement(
        oscillation, tr=0.5, low_pass_hz=0.1, head_radius_mm=HEAD_RADIUS_MM
    )
    assert raw.max() > 0.15 and filtered[20:-20].max() < 0.15
    assert (
        framewise_displacement(
            step, tr=0.5, low_pass_hz=0.1, head_radius_mm=HEAD_RADIUS_MM
        ).max()
        > 0.15
    )


@pytest.mark.parametrize("n_volumes", [16, 17, 18, 19, 20])
def test_runs_too_short_to_low_pass_get_unfiltered_fd(n_volumes):
    motion = np.zeros((n_volumes, 6))
    motion[n_volumes // 2 :, 0] = 0.5  # a 0.5 mm step halfway
    fd = framewise_displacement(
        motion, tr=0.8, low_pass_hz=0.1, head_radius_mm=HEAD_RADIUS_MM
    )
    assert fd.shape == (n_volumes,)
    if n_volumes < MIN_LOW_PASS_VOLUMES:
        np.testing.assert_allclose(
            fd,
            framewise_displacement(
                motion, tr=0.8, low_pass_hz=None, head_radius_mm=HEAD_RADIUS_MM
            ),
        )
    else:  # filtered: the step is spread over several volumes
        assert np.count_nonzero(fd > 1e-6) > 1


def test_regressors_are_6_motion_and_5_wm_and_5_csf_components(run):
    regressors = nuisance_regressors(
        run.bold, run.confounds, DenoiseSettings(**with_defaults("denoise"))
    )
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
            nuisance_regressors(
                run.bold, run.confounds, DenoiseSettings(**with_defaults("denoise"))
            )
        with pytest.raises(ValueError, match=f"{run.confounds}: missing motion"):
            censored_volumes(
                run.confounds, 2.0, DenoiseSettings(**with_defaults("denoise"))
            )
    finally:
        table.to_csv(run.confounds, sep="\t", index=False, na_rep="n/a")


def test_spikes_are_censored(run):
    censored, fd = censored_volumes(
        run.confounds, 2.0, DenoiseSettings(**with_defaults("denoise"))
    )
    assert censored.dtype == bool and len(censored) == 120
    assert np.array_equal(censored, fd > 0.15)


# Real fMRIPrep confounds that nilearn ships: 1.4-era names (``desc-confounds_
# regressors``, aCompCor masks told apart by the JSON), 21.x names (separate
# w_comp_cor / c_comp_cor, fewer components than asked), and a table without
# non-steady-state columns.
NILEARN_FMRIPREP = Path(fmriprep_interface.__file__).parent / "data"
REAL_CONFOUNDS = {
    "1.4": ("test_desc-confounds_regressors", "test_desc-confounds_regressors"),
    "21": ("test-v21_desc-confounds_timeseries", "test-v21_desc-confounds_timeseries"),
    "no_nonsteady": (
        "no_nonsteady_desc-confounds_regressors",
        "test_desc-confounds_regressors",
    ),
}
REAL_TR = 2.0
NO_WINDOW_DROP = AlignmentSettings(0, 0)


@pytest.fixture(params=sorted(REAL_CONFOUNDS))
def real_run(request, tmp_path):
    """A fake BOLD beside a real confounds table under fMRIPrep's names."""
    table_name, sidecar_name = REAL_CONFOUNDS[request.param]
    table = pd.read_csv(NILEARN_FMRIPREP / f"{table_name}.tsv", sep="\t")
    sidecar = json.loads((NILEARN_FMRIPREP / f"{sidecar_name}.json").read_text())
    rng = np.random.default_rng(0)
    files, atlas = write_tiny_run(
        tmp_path, rng.normal(size=(len(table), 2)), rng.normal(size=len(table)), 2.0
    )
    shutil.copy(NILEARN_FMRIPREP / f"{table_name}.tsv", files.confounds)
    write_confounds_sidecar(files, sidecar)
    return files, atlas, table, sidecar


def write_confounds_sidecar(files, sidecar):
    files.confounds.with_suffix(".json").write_text(json.dumps(sidecar))


def first_components(sidecar: dict, mask: str, n: int) -> list[str]:
    """The first ``n`` aCompCor components of a mask, by component number."""
    names = [
        name
        for name, entry in sidecar.items()
        if isinstance(entry, dict)
        and entry.get("Method") == "aCompCor"
        and entry.get("Mask") == mask
    ]
    return sorted(names, key=lambda name: int(name.rsplit("_", 1)[1]))[:n]


def test_real_confounds_give_motion_and_non_steady_state_as_written(real_run):
    files, _, table, _ = real_run
    np.testing.assert_array_equal(
        motion_parameters(files.confounds), table[list(MOTION_COLUMNS)].to_numpy()
    )
    flags = table.filter(like="non_steady_state_outlier").to_numpy()
    expected = flags.sum(axis=1) > 0
    np.testing.assert_array_equal(non_steady_state_volumes(files.confounds), expected)
    censored, _ = censored_volumes(
        files.confounds, REAL_TR, DenoiseSettings(**with_defaults("denoise"))
    )
    assert censored[expected].all()


def test_real_confounds_select_the_first_components_of_each_mask(real_run):
    files, _, table, sidecar = real_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        regressors = nuisance_regressors(
            files.bold, files.confounds, DenoiseSettings(**with_defaults("denoise"))
        )
    wm, csf = (first_components(sidecar, mask, 5) for mask in ("WM", "CSF"))
    assert sorted(regressors.columns) == sorted([*MOTION_COLUMNS, *wm, *csf])
    np.testing.assert_allclose(regressors, table[regressors.columns])


def test_real_confounds_qc_counts_non_steady_state_compcor_and_std_dvars(
    real_run, tmp_path
):
    files, atlas, table, sidecar = real_run
    wm, csf = (first_components(sidecar, mask, 5) for mask in ("WM", "CSF"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        extract_signals(
            bold=str(files.bold),
            confounds=str(files.confounds),
            ratings=str(files.ratings),
            atlas_image=str(atlas.image_path),
            atlas_labels=str(atlas.labels_path),
            atlas_subcortex="structures",
            tr=REAL_TR,
            # The test tables move wildly; only non-steady-state volumes go.
            denoise=with_defaults(
                "denoise", max_censored_fraction=1.0, fd_threshold_mm=100.0
            ),
            alignment={"drop_initial_seconds": 0, "hemodynamic_delay_seconds": 0},
            rating_column="pain",
            timeseries_out=str(tmp_path / "timeseries.tsv"),
            qc_out=str(tmp_path / "timeseries.json"),
        )
    qc = json.loads((tmp_path / "timeseries.json").read_text())
    kept = pd.read_csv(tmp_path / "timeseries.tsv", sep="\t")["volume"]
    non_steady = table.filter(like="non_steady_state_outlier").to_numpy().sum(axis=1)
    assert qc["n_non_steady_state"] == (non_steady > 0).sum()
    assert not set(kept) & set(np.flatnonzero(non_steady))
    assert (qc["n_compcor_wm"], qc["n_compcor_csf"]) == (len(wm), len(csf))
    assert qc["n_std_dvars_above_1_5"] == (table["std_dvars"][kept] > 1.5).sum()
    shortfall = [str(w.message) for w in caught if "aCompCor" in str(w.message)]
    if min(len(wm), len(csf)) < 5:
        assert shortfall == [
            f"{files.confounds}: {len(wm)} WM, {len(csf)} CSF aCompCor "
            "components where 5 per mask were asked"
        ]
    else:
        assert shortfall == []


def test_a_component_listed_but_not_in_the_table_names_file_and_counts(real_run):
    files, _, table, sidecar = real_run
    wm = first_components(sidecar, "WM", 5)
    table.drop(columns=wm[-1]).to_csv(files.confounds, sep="\t", index=False)
    listed = len(first_components(sidecar, "WM", 1000))
    with pytest.raises(ValueError, match=f"{files.confounds}: .*'WM': {listed}"):
        nuisance_regressors(
            files.bold, files.confounds, DenoiseSettings(**with_defaults("denoise"))
        )


def jerk_run(tmp_path, jerk_mm: float = 1.5, n_volumes: int = 400):
    """A head that jerks for one volume (200); std_dvars flags it."""
    table = pd.DataFrame(0.0, index=range(n_volumes), columns=list(MOTION_COLUMNS))
    table.loc[200, "trans_x"] = jerk_mm
    table.insert(0, "std_dvars", 1.0)
    table.loc[[200, 201], "std_dvars"] = 4.0
    table.loc[0, "std_dvars"] = np.nan  # fMRIPrep writes n/a for the first
    path = tmp_path / "sub-01_task-rating_desc-confounds_timeseries.tsv"
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")
    return path


def test_a_brief_jerk_escapes_filtered_fd_but_not_the_spike_options(tmp_path):
    path = jerk_run(tmp_path)
    study = censoring(path, 0.8, DenoiseSettings(**with_defaults("denoise")))
    # Low-passed at 0.1 Hz, a 1.5 mm one-volume jerk is about 0.05 mm of FD.
    assert 0.03 < study.fd.max() < 0.08 and not study.censored.any()
    by_fd = censoring(
        path, 0.8, DenoiseSettings(**with_defaults("denoise", spike_fd_mm=0.5))
    )
    by_dvars = censoring(
        path, 0.8, DenoiseSettings(**with_defaults("denoise", spike_std_dvars=1.5))
    )
    np.testing.assert_array_equal(np.flatnonzero(by_fd.censored), [200, 201])
    np.testing.assert_array_equal(np.flatnonzero(by_dvars.censored), [200, 201])
    assert by_fd.reasons["spike_fd"].sum() == by_dvars.reasons["spike_std_dvars"].sum()


def test_spike_std_dvars_without_the_column_names_the_file(tmp_path):
    path = jerk_run(tmp_path)
    pd.read_csv(path, sep="\t").drop(columns="std_dvars").to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(ValueError, match=f"{path}: no std_dvars column"):
        censoring(
            path, 0.8, DenoiseSettings(**with_defaults("denoise", spike_std_dvars=1.5))
        )
    assert np.isnan(
        censoring(path, 0.8, DenoiseSettings(**with_defaults("denoise"))).std_dvars
    ).all()


@pytest.mark.parametrize(
    ("seconds", "tr", "n_dummy"),
    [(0, 2.0, 0), (10, 2.0, 5), (10, 0.8, 13), (10, 0.46, 22)],
)
def test_dummy_seconds_censor_the_first_volumes(tmp_path, seconds, tr, n_dummy):
    path = jerk_run(tmp_path, jerk_mm=0.0)
    found = censoring(
        path, tr, DenoiseSettings(**with_defaults("denoise", dummy_seconds=seconds))
    )
    assert found.reasons["dummy"].sum() == n_dummy == math.ceil(seconds / tr)
    np.testing.assert_array_equal(np.flatnonzero(found.censored), range(n_dummy))
