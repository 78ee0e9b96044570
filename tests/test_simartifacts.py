"""The simulator writes real data's mess: artefacts and an untidy design."""

import gzip
import json
import re

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nilearn.interfaces.fmriprep import load_confounds

from painflow import cli
from painflow.core.bids import bids_path
from painflow.signals.confounds import MOTION_COLUMNS, motion_in_mm
from painflow.simulation.artifacts import ArtifactParameters, draw_jerks, hold_ratings
from painflow.simulation.design import Mess
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study

N_SESSIONS, N_RUNS, N_VOLUMES, TR, SEED = 3, 3, 60, 2.0, 1
RATING_HZ = 10.0
DESIGN = {"unpadded_sessions": True, "missing_run": True, "variable_run_length": True}


def simulate(root, artifacts):
    truth = simulate_study(
        root, 1, N_SESSIONS, N_RUNS, N_VOLUMES, TR, SEED, artifacts=artifacts, **DESIGN
    )
    return root, truth


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("messy"), artifacts=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The same design and seed without artefacts: the hidden clean data."""
    return simulate(tmp_path_factory.mktemp("clean"), artifacts=False)


def entities(record):
    keys = ("subject", "session", "run")
    return {**{key: record[key] for key in keys}, "task": "rating"}


def preproc_path(root, record):
    preproc = {**entities(record), "space": "MNI152NLin6Asym", "res": "6"}
    fmriprep = root / "derivatives" / "fmriprep"
    return bids_path(fmriprep, {**preproc, "desc": "preproc"}, "bold", ".nii.gz")


def confounds_path(root, record):
    confounds = {**entities(record), "desc": "confounds"}
    fmriprep = root / "derivatives" / "fmriprep"
    return bids_path(fmriprep, confounds, "timeseries", ".tsv")


def read_confounds(root, record):
    return pd.read_csv(confounds_path(root, record), sep="\t", na_values="n/a")


def read_bold(root, truth, record):
    """(volumes, voxels) of the in-atlas voxels."""
    labels = np.asarray(nib.load(root / truth["atlas"]["image"]).dataobj)
    data = np.asarray(nib.load(preproc_path(root, record)).dataobj)
    return data[labels > 0].T.astype(float)


def ratings_text(root, record):
    recording = {**entities(record), "recording": "rating"}
    with gzip.open(bids_path(root, recording, "physio", ".tsv.gz"), "rt") as stream:
        return stream.read()


def events(truth, kind):
    """(run record, event) of every artefact of a kind."""
    return [
        (record, event)
        for record in truth["runs"]
        for event in record["artifacts"]
        if event["kind"] == kind
    ]


def changed_volumes(messy, clean):
    """Volumes where two (volumes, ...) arrays differ."""
    return set(np.flatnonzero(np.any(messy != clean, axis=1)).tolist())


def still_stretches(values):
    """Lengths of the stretches of equal consecutive values."""
    edges = np.flatnonzero(np.diff(values) != 0) + 1
    return np.diff(np.concatenate([[0], edges, [len(values)]]))


# -- non-steady-state volumes ------------------------------------------------------


def test_non_steady_state_columns_flag_the_planted_volumes(messy, clean):
    root, truth = messy
    planted = events(truth, "non_steady_state")
    assert len(planted) == len(truth["runs"])
    for record, event in planted:
        n = len(event["volumes"])
        assert 2 <= n <= 4 and event["volumes"] == list(range(n))
        confounds = read_confounds(root, record)
        flags = confounds.filter(like="non_steady_state")
        assert all(re.fullmatch(r"non_steady_state_outlier\d\d", c) for c in flags)
        # one column per volume, fMRIPrep's naming: outlierXX flags volume XX
        assert list(flags) == [f"non_steady_state_outlier{v:02d}" for v in range(n)]
        np.testing.assert_array_equal(flags.to_numpy(), np.eye(len(confounds), n))
        assert "non_steady_state_outlier" in event["detected_by"]
        # nilearn, reading the table as fMRIPrep's, leaves exactly these out
        _, sample_mask = load_confounds(
            str(preproc_path(root, record)), strategy=("motion",)
        )
        assert sample_mask.tolist() == list(range(n, record["n_volumes"]))


def test_non_steady_state_volumes_are_brighter(messy, clean):
    (root, truth), (clean_root, clean_truth) = messy, clean
    for record, event in events(truth, "non_steady_state"):
        bold = read_bold(root, truth, record).mean(axis=1)
        clean_bold = read_bold(clean_root, clean_truth, record).mean(axis=1)
        n = len(event["volumes"])
        ratio = bold[:n] / clean_bold[:n]
        assert np.all(ratio > 1.1) and np.all(np.diff(ratio) < 0)
        # T1 saturation decays: the first volume is brightest
        assert bold[0] > 1.1 * np.median(bold[n:])


# -- jerks ------------------------------------------------------------------------


def test_artefacts_change_the_data_only_at_their_volumes(messy, clean):
    (root, truth), (clean_root, clean_truth) = messy, clean
    for record in truth["runs"]:
        by_kind = {"non_steady_state": set(), "jerk": set()}
        for event in record["artifacts"]:
            by_kind.get(event["kind"], set()).update(event["volumes"])
        motion = read_confounds(root, record)[list(MOTION_COLUMNS)].to_numpy()
        clean_motion = read_confounds(clean_root, record)[list(MOTION_COLUMNS)]
        assert changed_volumes(motion, clean_motion.to_numpy()) == by_kind["jerk"]
        bold = read_bold(root, truth, record)
        clean_bold = read_bold(clean_root, clean_truth, record)
        assert changed_volumes(bold, clean_bold) == set.union(*by_kind.values())


def test_jerks_are_large_brief_and_flagged(messy, clean):
    (root, truth), (clean_root, _) = messy, clean
    jerks = events(truth, "jerk")
    assert len(jerks) >= 3
    assert any(event["at_run_end"] for _, event in jerks)
    for record, event in jerks:
        volumes, n = event["volumes"], record["n_volumes"]
        assert 1 <= len(volumes) <= 2 and 1.0 <= event["size_mm"] <= 2.0
        assert event["at_run_end"] == (volumes[-1] == n - 1)
        confounds = read_confounds(root, record)
        shift = motion_in_mm(
            confounds[list(MOTION_COLUMNS)].to_numpy()
            - read_confounds(clean_root, record)[list(MOTION_COLUMNS)].to_numpy(),
            SimulationParameters().head_radius,
        )
        np.testing.assert_allclose(
            np.abs(shift[volumes]).sum(axis=1), event["size_mm"], rtol=1e-6
        )
        # Power's FD of the onset and the standardized DVARS of every volume
        fd = confounds["framewise_displacement"].to_numpy()
        assert fd[volumes[0]] > 0.9 * event["size_mm"]
        std_dvars = confounds["std_dvars"].to_numpy()[volumes]
        dvars = confounds["dvars"].to_numpy()
        assert np.all(std_dvars > 1.5)
        assert np.all(dvars[volumes] > 3 * np.nanmedian(dvars))
        assert "std_dvars" in event["detected_by"]


def test_every_artefact_is_caught_by_a_censoring_rule(messy):
    _, truth = messy
    rules = set(truth["mess"]["detection_rules"])
    for kind in ("non_steady_state", "jerk"):
        for _, event in events(truth, kind):
            assert event["detected_by"] and set(event["detected_by"]) <= rules


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_volumes=st.integers(12, 400),
    tr=st.sampled_from([0.46, 1.0, 2.0]),
    first=st.integers(1, 5),
    rate=st.floats(0.0, 5.0),
)
def test_jerks_are_apart_after_the_start_and_within_the_run(
    seed, n_volumes, tr, first, rate
):
    params = ArtifactParameters(jerks_per_minute=rate, end_jerk_probability=0.5)
    jerks = draw_jerks(np.random.default_rng(seed), n_volumes, tr, first, params)
    taken = [v for jerk in jerks for v in jerk.volumes]
    assert len(taken) == len(set(taken)) and taken == sorted(taken)
    assert all(first <= v < n_volumes for v in taken)
    for jerk in jerks:
        assert 1.0 <= jerk.size_mm <= 2.0
        assert np.count_nonzero(jerk.shift_mm) == 1
        assert list(jerk.volumes) == list(range(jerk.volumes[0], jerk.volumes[-1] + 1))
        if not jerk.at_run_end:  # the head returns, still inside the run
            assert jerk.volumes[-1] + 1 < n_volumes - 2
    inside = [jerk for jerk in jerks if not jerk.at_run_end]
    for before, after in zip(inside, inside[1:], strict=False):
        assert after.volumes[0] - before.volumes[-1] >= 2


# -- ratings ------------------------------------------------------------------------


def test_ratings_are_integers_with_plateaus_that_track_the_pain(messy, clean):
    (root, truth), (clean_root, _) = messy, clean
    for record in truth["runs"]:
        text = ratings_text(root, record)
        assert "." not in text
        ratings = np.array(text.split(), dtype=float)
        # the clean recording: the hidden pain with a little hand jitter
        hidden = np.array(ratings_text(clean_root, record).split(), dtype=float)
        assert ratings.size == hidden.size
        assert np.median(still_stretches(ratings)) / RATING_HZ >= 2.0
        assert np.corrcoef(ratings, hidden)[0, 1] > 0.9
        assert np.max(np.abs(ratings - hidden)) < 15


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.floats(0, 100), min_size=1, max_size=300),
    hold=st.tuples(st.floats(0.1, 3.0), st.floats(0.0, 4.0)),
)
def test_held_ratings_are_rounded_samples_held_still(seed, values, hold):
    low, extra = hold
    ratings = np.array(values)
    held = hold_ratings(np.random.default_rng(seed), ratings, 10.0, (low, low + extra))
    assert held.dtype.kind == "i" and held.shape == ratings.shape
    # a plain reference: each still stretch starts where the value changes
    starts = np.flatnonzero(np.r_[True, np.diff(held) != 0])
    np.testing.assert_array_equal(held[starts], np.round(ratings[starts]))
    lengths = still_stretches(held)[:-1]  # the last stretch is cut by the end
    assert np.all(lengths >= max(1, round(low * 10)))


# -- design -------------------------------------------------------------------------


def test_unpadded_sessions_without_sessions_table(messy):
    root, truth = messy
    assert sorted(p.name for p in (root / "sub-01").iterdir()) == [
        "ses-1",
        "ses-2",
        "ses-3",
    ]
    assert not list(root.rglob("*_sessions.tsv"))
    assert {record["session"] for record in truth["runs"]} == {"1", "2", "3"}
    assert list(truth["subjects"]["01"]["session_pain_levels"]) == ["1", "2", "3"]


def test_one_run_is_missing_and_the_truth_lists_the_runs_written(messy):
    root, truth = messy
    written = sorted(
        (m["ses"], m["run"])
        for path in (root / "sub-01").rglob("*_bold.nii.gz")
        for m in [
            re.search(r"ses-(?P<ses>\d+)_task-rating_run-(?P<run>\d+)", path.name)
        ]
    )
    listed = sorted((r["session"], r["run"]) for r in truth["runs"])
    assert written == listed
    runs_per_session = pd.Series([s for s, _ in written]).value_counts()
    assert sorted(runs_per_session) == [N_RUNS - 1] + [N_RUNS] * (N_SESSIONS - 1)


def test_runs_vary_in_length(messy):
    root, truth = messy
    lengths = []
    for record in truth["runs"]:
        image = nib.load(preproc_path(root, record))
        assert image.shape[-1] == record["n_volumes"]
        assert len(read_confounds(root, record)) == record["n_volumes"]
        lengths.append(record["n_volumes"])
    shortened = [n for n in lengths if n < N_VOLUMES]
    assert shortened and N_VOLUMES in lengths
    assert all(0.8 * N_VOLUMES <= n <= 0.9 * N_VOLUMES for n in shortened)


def test_impossible_mess_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 2 runs"):
        simulate_study(tmp_path, 1, 2, 1, 30, missing_run=True)
    with pytest.raises(ValueError, match="n_volumes=11"):
        Mess(variable_run_length=True).check(n_runs=1, n_volumes=11, min_volumes=10)
    Mess(variable_run_length=True).check(n_runs=1, n_volumes=13, min_volumes=10)
    with pytest.raises(ValueError, match="jerk_size_range"):
        ArtifactParameters(jerk_size_range=(2.0, 1.0))


def test_ground_truth_records_the_options(messy):
    root, truth = messy
    assert json.loads((root / "ground_truth.json").read_text()) == truth
    mess = truth["mess"]
    assert mess["artifacts"] == ArtifactParameters().as_dict()
    assert {key: mess[key] for key in DESIGN} == DESIGN
    assert mess["detection_rules"]["std_dvars"] == {"threshold": 1.5}


# -- determinism and the command line ----------------------------------------------


def files(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def simulate_tiny(root, *flags):
    arguments = ["--subjects", "1", "--sessions", "2", "--runs", "2"]
    assert cli.main(["simulate", str(root), *arguments, "--volumes", "20", *flags]) == 0
    return files(root)


def test_same_seed_same_messy_bytes(tmp_path):
    everything = ("--unpadded-sessions", "--missing-run", "--variable-run-length")
    first = simulate_tiny(tmp_path / "a", *everything)
    second = simulate_tiny(tmp_path / "b", *everything)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    truth = json.loads(first[next(n for n in first if n.name == "ground_truth.json")])
    assert truth["mess"]["missing_run"] and len(truth["runs"]) == 3


def test_the_command_is_messy_unless_clean(tmp_path):
    messy = simulate_tiny(tmp_path / "messy")
    clean = simulate_tiny(tmp_path / "clean", "--clean")
    simulate_study(tmp_path / "library", 1, 2, 2, 20)
    # --clean writes what the library writes without options, byte for byte
    assert clean == files(tmp_path / "library")
    truth = json.loads(messy[next(n for n in messy if n.name == "ground_truth.json")])
    assert truth["mess"]["artifacts"] == ArtifactParameters().as_dict()
    assert not truth["mess"]["unpadded_sessions"]
    changed = [name for name in clean if messy[name] != clean[name]]
    # every run's BOLD, confounds and ratings carry the mess; nothing else
    assert all(
        "_run-" in name.name or name.name == "ground_truth.json" for name in changed
    )
    assert sum(name.name.endswith("_timeseries.tsv") for name in changed) == 4
