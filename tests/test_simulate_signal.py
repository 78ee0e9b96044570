"""The simulator's known answers for the further analyses: shared signal regions,
a univariate pain response, motion that covaries with pain, and rest runs."""

import dataclasses
import pathlib

import numpy as np
import pytest

from painflow import cli
from painflow.core.fileio import read_json
from painflow.signals.confounds import motion_in_mm
from painflow.simulation.generative import (
    draw_signal_regions,
    draw_subject,
    load_aal_atlas,
    seeded_rng,
    simulate_run,
)
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import session_signal_weights, simulate_study

TR, N_VOLUMES = 2.0, 300


@pytest.fixture(scope="module")
def atlas():
    return load_aal_atlas(6)


def one_run(atlas, params, seed=0, level=50.0):
    """A run of one subject and its pain at every volume (without the delay)."""
    subject = draw_subject(
        atlas, "01", draw_signal_regions(atlas, 1, params, 0)[0], seeded_rng(0), params
    )
    run = simulate_run(
        atlas, subject, level, seeded_rng(seed, 1), N_VOLUMES, TR, params
    )
    times = np.arange(run.ratings.size) / params.rating_sampling_frequency
    midpoints = (np.arange(N_VOLUMES) + 0.5) * TR
    return subject, run, np.interp(midpoints, times, run.ratings)


@pytest.mark.parametrize("shared", [0, 3, 8])
def test_shared_signal_regions_are_in_every_subject(atlas, shared):
    params = SimulationParameters(shared_signal_regions=shared)
    sets = [set(rows) for rows in draw_signal_regions(atlas, 3, params, seed=4)]
    assert all(len(rows) == params.n_signal_regions for rows in sets)
    assert len(sets[0] & sets[1] & sets[2]) == shared
    assert len(sets[0] & sets[1]) == shared  # the others stay disjoint


@pytest.mark.parametrize("shared", [0, 3])
def test_personal_regions_are_dealt_from_one_permutation(atlas, shared):
    # Subject i's personal regions are the i-th slice of one permutation, so
    # a subject's set does not depend on how many subjects are simulated.
    params = SimulationParameters(shared_signal_regions=shared)
    eligible = np.flatnonzero(atlas.region_sizes >= params.min_signal_region_voxels)
    order = seeded_rng(4).permutation(eligible)
    k = params.n_signal_regions - shared
    sets = draw_signal_regions(atlas, 3, params, seed=4)
    for i, rows in enumerate(sets):
        personal = set(order[i * k : (i + 1) * k])
        assert personal <= set(rows)
        assert set(rows) - personal == set(order[order.size - shared :])


def test_too_many_shared_regions_are_rejected():
    with pytest.raises(ValueError, match="shared_signal_regions"):
        SimulationParameters(n_signal_regions=4, shared_signal_regions=5)


def test_activation_adds_delayed_pain_to_signal_regions_only(atlas):
    base = SimulationParameters()
    active = dataclasses.replace(base, activation_gain=6.0)
    subject, run, _ = one_run(atlas, active)
    _, flat, _ = one_run(atlas, base)
    # Both runs draw the same numbers: their difference is the activation alone.
    added = run.bold.astype(float) - flat.bold.astype(float)
    in_signal = np.isin(atlas.voxel_regions, subject.signal_rows)
    assert np.abs(added[:, ~in_signal]).max() < 1e-3
    response = added[:, in_signal].mean(axis=1)
    times = np.arange(flat.ratings.size) / base.rating_sampling_frequency
    midpoints = (np.arange(N_VOLUMES) + 0.5) * TR
    # The ratings are the pain plus hand jitter, sampled on the rating clock.
    delayed = np.interp(midpoints - base.delay, times, flat.ratings)
    expected = base.bold_scale * active.activation_gain * delayed / 100
    assert np.corrcoef(response, expected)[0, 1] > 0.99
    assert np.abs(response - expected).mean() < 0.5


def test_motion_grows_with_pain_when_coupled(atlas):
    def median_fd(params, level):
        _, run, _ = one_run(atlas, params, level=level)
        mm = motion_in_mm(run.motion, params.head_radius)
        return np.median(np.abs(np.diff(mm, axis=0)).sum(axis=1))

    coupled = SimulationParameters(motion_pain_coupling=4.0)
    low, middle, high = (median_fd(coupled, level) for level in (20.0, 50.0, 80.0))
    assert low < middle < high
    assert high > 1.5 * low
    independent = [median_fd(SimulationParameters(), level) for level in (20.0, 80.0)]
    assert 0.8 < independent[1] / independent[0] < 1.25


def all_bytes(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_rest_runs_are_added_without_changing_other_files(tmp_path):
    kwargs = dict(n_subjects=1, n_sessions=2, n_runs=1, n_volumes=30, seed=0)
    simulate_study(tmp_path / "plain", **kwargs)
    truth = simulate_study(tmp_path / "rest", rest_volumes=40, **kwargs)
    plain, rest = all_bytes(tmp_path / "plain"), all_bytes(tmp_path / "rest")
    added = sorted(str(name) for name in set(rest) - set(plain))
    assert set(plain) <= set(rest)
    for name in plain:
        if name.name != "ground_truth.json":
            assert plain[name] == rest[name], name
    rest_files = [name for name in added if "_task-rest_run-1_" in name]
    assert len(rest_files) == len(added) - 0 and len(rest_files) == 2 * 6
    assert not [name for name in added if "recording" in name]
    assert truth["rest"] == {
        "task": "rest",
        "run": "1",
        "n_volumes": 40,
        "signal_scale": 1.0,
    }
    sidecar = read_json(
        tmp_path / "rest/sub-01/ses-01/func/sub-01_ses-01_task-rest_run-1_bold.json"
    )
    assert sidecar["TaskName"] == "rest"


def test_rest_runs_with_an_individual_topography_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="both write rest"):
        simulate_study(tmp_path, cifti=True, individual=True, rest_volumes=40)


def test_cli_passes_the_signal_options(tmp_path, capsys):
    out = tmp_path / "cli"
    cli.main(
        [
            "simulate",
            str(out),
            *("--subjects", "2", "--sessions", "1", "--runs", "1"),
            *("--volumes", "30", "--rest", "--rest-volumes", "30"),
            *("--rest-signal-scale", "0", "--activation-gain", "2.5"),
            *("--shared-signal-regions", "2", "--motion-pain-coupling", "1.5"),
        ]
    )
    truth = read_json(out / "ground_truth.json")
    assert truth["parameters"]["activation_gain"] == 2.5
    assert truth["parameters"]["shared_signal_regions"] == 2
    assert truth["parameters"]["motion_pain_coupling"] == 1.5
    assert truth["rest"]["signal_scale"] == 0.0
    one, two = (truth["subjects"][s]["signal_region_indices"] for s in ("01", "02"))
    assert len(set(one) & set(two)) == 2


def test_session_pattern_scales_each_signal_regions_coupling(atlas):
    params = SimulationParameters(session_pattern_sd=(0.0, 1.5))
    assert params.session_pattern_of(1) == 0.0
    assert params.session_pattern_of(4) == 1.5  # cycled over subjects
    assert session_signal_weights(params, 0, 1, 1) is None
    weights = session_signal_weights(params, 0, 2, 1)
    assert weights.shape == (params.n_signal_regions,)
    assert not np.allclose(weights, session_signal_weights(params, 0, 2, 2))
    subject = draw_subject(
        atlas, "02", draw_signal_regions(atlas, 1, params, 0)[0], seeded_rng(0), params
    )

    def bold(signal_weights):
        run = simulate_run(
            atlas,
            subject,
            50.0,
            seeded_rng(0, 1),
            N_VOLUMES,
            TR,
            params,
            signal_weights,
        )
        return run.bold.astype(float)

    plain = bold(None)
    np.testing.assert_array_equal(plain, bold(np.ones(params.n_signal_regions)))
    changed = bold(weights) - plain
    in_signal = np.isin(atlas.voxel_regions, subject.signal_rows)
    assert np.abs(changed[:, ~in_signal]).max() < 1e-3
    assert np.abs(changed[:, in_signal]).max() > 1.0
    with pytest.raises(ValueError, match="session_pattern_sd"):
        SimulationParameters(session_pattern_sd=(-1.0,))


def test_session_pattern_changes_only_the_subjects_given_one(tmp_path):
    kwargs = dict(n_subjects=2, n_sessions=2, n_runs=1, n_volumes=30, seed=0)
    simulate_study(tmp_path / "plain", **kwargs)
    varied = SimulationParameters(session_pattern_sd=(0.0, 1.0))
    truth = simulate_study(tmp_path / "varied", parameters=varied, **kwargs)
    plain, other = all_bytes(tmp_path / "plain"), all_bytes(tmp_path / "varied")
    assert set(plain) == set(other)
    changed = {name for name in plain if plain[name] != other[name]} - {
        pathlib.Path("ground_truth.json")
    }
    assert changed
    # sub-02's images, and the confounds (global signal, DVARS) read from them
    assert all("sub-02_" in name.name for name in changed)
    assert all(
        name.name.endswith(("bold.nii.gz", "timeseries.tsv")) for name in changed
    )
    assert truth["parameters"]["session_pattern_sd"] == [0.0, 1.0]


def test_cli_passes_the_session_pattern(tmp_path):
    out = tmp_path / "cli"
    cli.main(
        [
            "simulate",
            str(out),
            *("--subjects", "2", "--sessions", "1", "--runs", "1"),
            *("--volumes", "20", "--session-pattern-sd", "0", "1.5"),
        ]
    )
    truth = read_json(out / "ground_truth.json")
    assert truth["parameters"]["session_pattern_sd"] == [0.0, 1.5]
