"""Univariate GLM: the first-level design, OLS, BH FDR, maps, and recovery."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from nilearn.glm.first_level import run_glm
from scipy import stats
from snakemake.utils import validate
from workflow_runner import REPO, planned_jobs, run_workflow, study_config

from painflow.analyses.glm import (
    GlmSettings,
    RunDesign,
    SecondLevel,
    benjamini_hochberg,
    design_of_run,
    network_summary,
    rating_regressor,
    rating_weights,
    run_design,
    second_level,
    session_design,
)
from painflow.analyses.glmdata import (
    map_grid,
    map_image,
    map_values,
    session_effect,
    smooth_maps,
    weighted_sum,
)
from painflow.atlas.volume import load_atlas
from painflow.core.fileio import read_json
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.extract import RunFiles
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study
from painflow.workflow.glm import (
    glm_inputs,
    glm_session_inputs,
    glm_surfaces,
    glm_targets,
    session_map,
    session_record,
)
from painflow.workflow.study import Study

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
TR = 0.8


def random_walk(rng, n: int) -> np.ndarray:
    """A rating-like series between 0 and 100."""
    walk = np.cumsum(rng.normal(size=n))
    return 100 * (walk - walk.min()) / np.ptp(walk)


def glover_reference(ratings: np.ndarray, tr: float, step: float = 0.01):
    """Ratings held over each volume, convolved with Glover's difference of
    gammas (peak shape 6/0.9, undershoot 12/0.9, ratio 0.48, unit sum) on a fine
    grid and sampled at volume onsets."""
    fine = np.arange(0, len(ratings) * tr, step)
    held = ratings[np.minimum((fine / tr).astype(int), len(ratings) - 1)]
    times = np.arange(0, 32, step)
    hrf = stats.gamma.pdf(times, 6 / 0.9, scale=0.9) - 0.48 * stats.gamma.pdf(
        times, 12 / 0.9, scale=0.9
    )
    convolved = np.convolve(held, hrf / hrf.sum())[: len(fine)]
    return np.interp(np.arange(len(ratings)) * tr, fine, convolved)


# The first-level design.


def test_the_rating_column_is_the_ratings_convolved_with_the_canonical_hrf():
    ratings = random_walk(np.random.default_rng(0), 300)
    regressor = rating_regressor(ratings, TR, "glover")
    reference = glover_reference(ratings, TR)
    assert np.abs(regressor - reference).max() < 0.01 * np.ptp(reference)
    # Not delay-shifted: the response starts with the first rating.
    assert regressor[0] == pytest.approx(0.0, abs=1e-9) and regressor[10] > 0


def a_run(rng, n=120, censored=(), drop=5) -> RunDesign:
    """A run design of random ratings and confounds."""
    mask = np.zeros(n, dtype=bool)
    mask[list(censored)] = True
    confounds = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    return run_design(random_walk(rng, n), TR, confounds, mask, drop, "glover", 0.01)


def test_one_spike_regressor_per_censored_kept_volume():
    run = a_run(np.random.default_rng(1), censored=(2, 30, 31, 90), drop=5)
    spikes = run.nuisance.loc[:, run.nuisance.columns.str.startswith("spike")]
    # Volume 2 lies in the dropped start: no regressor.
    assert list(spikes.columns) == ["spike30", "spike31", "spike90"]
    assert (spikes.sum(axis=0) == 1).all()
    for column, volume in zip(spikes, (30, 31, 90), strict=True):
        assert run.volumes[spikes[column].to_numpy() == 1].tolist() == [volume]


def test_the_nuisance_design_has_intercept_trend_cosines_and_confounds():
    run = a_run(np.random.default_rng(2))
    columns = list(run.nuisance.columns)
    assert {"constant", "trend", "a", "b", "c", "d"} <= set(columns)
    assert any(column.startswith("drift") for column in columns)
    assert len(run.nuisance) == len(run.volumes) == 115
    assert run.volumes[0] == 5


def test_the_session_design_is_block_diagonal_across_runs():
    rng = np.random.default_rng(3)
    runs = [a_run(rng, n=100, censored=(50,)), a_run(rng, n=80)]
    design = session_design(runs, ["1", "2"])
    first, second = slice(0, 95), slice(95, 170)
    own = design.columns.str.startswith("run-1_")
    other = design.columns.str.startswith("run-2_")
    assert own.sum() == runs[0].nuisance.shape[1] and "run-1_spike50" in design
    assert (design.loc[second, own] == 0).all().all()
    assert (design.iloc[first, other] == 0).all().all()
    np.testing.assert_array_equal(
        design["rating"], np.concatenate([runs[0].rating, runs[1].rating])
    )


def test_the_rating_effect_is_nilearns_ols_estimate():
    rng = np.random.default_rng(4)
    design = session_design([a_run(rng), a_run(rng)], ["1", "2"])
    data = rng.normal(size=(len(design), 30)) + np.outer(design["rating"], np.ones(30))
    _, results = run_glm(data, design.to_numpy(), noise_model="ols")
    expected = next(iter(results.values())).theta[0]
    np.testing.assert_allclose(rating_weights(design) @ data, expected, atol=1e-8)


def test_a_rating_the_nuisance_design_explains_is_an_error():
    run = a_run(np.random.default_rng(5))
    flat = RunDesign(run.volumes, np.ones(len(run.volumes)), run.nuisance, 120)
    with pytest.raises(ValueError, match="explained by the nuisance"):
        rating_weights(session_design([flat], ["1"]))


# The second level.


def bh_reference(p_values: list[float], q: float) -> list[bool]:
    """Benjamini-Hochberg step-up, written out."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = -1
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= rank / m * q:
            cutoff = rank
    chosen = set(order[:cutoff]) if cutoff > 0 else set()
    return [i in chosen for i in range(m)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=40),
    st.floats(0.001, 0.5),
)
def test_benjamini_hochberg_matches_the_step_up_rule(p_values, q):
    # p-values within rounding of a threshold rank / m * q may fall either way.
    m = len(p_values)
    assume(all(abs(p - k / m * q) > 1e-12 for p in p_values for k in range(1, m + 1)))
    found = benjamini_hochberg(np.array(p_values), q)
    assert found.tolist() == bh_reference(p_values, q)


def test_glm_outputs_have_the_fixed_names(tiny_study, tmp_path):
    volumes = Study.from_config(validated(study_config(tiny_study, tmp_path)))
    names = {
        Path(path).relative_to(tmp_path).as_posix() for path in glm_targets(volumes)
    }
    assert {
        "sub-01/glm/sub-01_atlas-AAL_stat-t_statmap.nii.gz",
        "sub-01/glm/sub-01_atlas-AAL_stat-t_desc-fdr_statmap.nii.gz",
        "sub-01/glm/sub-01_atlas-AAL_stat-t_statmap.json",
        "sub-01/glm/sub-01_atlas-AAL_glm.tsv",
        "sub-01/figures/sub-01_atlas-AAL_glm.png",
        "sub-02/glm/sub-02_atlas-AAL_stat-t_desc-fdr_statmap.json",
    } <= names
    assert len(names) == 2 * 6
    config = study_config(tiny_study, tmp_path, space="fsLR", res=None, den="91k")
    grayordinates = Study.from_config(validated(config))
    assert session_map(grayordinates, "01", "03").endswith(
        "sub-01/glm/sub-01_atlas-AAL_stat-effect_desc-ses03_statmap.dscalar.nii"
    )
    assert glm_surfaces(grayordinates, "01") is None


def test_without_sessions_each_run_is_a_glm_session(tmp_path):
    root = tmp_path / "study"
    simulate_study(root, n_subjects=1, n_sessions=1, n_runs=3, n_volumes=20)
    for tree in (root, root / "derivatives" / "fmriprep"):
        (tree / "sub-01" / "func").mkdir()
        for path in sorted((tree / "sub-01" / "ses-01" / "func").iterdir()):
            path.rename(tree / "sub-01" / "func" / path.name.replace("_ses-01", ""))
        shutil.rmtree(tree / "sub-01" / "ses-01")
    runs = Study.from_config(validated(study_config(root, tmp_path / "out")))
    inputs = glm_session_inputs(runs, "01", "2")
    assert [Path(path).name for path in inputs["ratings"]] == [
        "sub-01_task-rating_run-2_recording-rating_physio.tsv.gz"
    ]
    effects = glm_inputs(runs, "01")["effects"]
    assert [Path(path).name for path in effects] == [
        f"sub-01_atlas-AAL_stat-effect_desc-ses{run}_statmap.nii.gz"
        for run in ("1", "2", "3")
    ]
    logs = session_record(runs, "logs", "log", ".txt")
    assert logs.endswith(
        "glm_session/sub-{subject}/sub-{subject}_desc-ses{session}_log.txt"
    )


def test_benjamini_hochberg_skips_nan():
    found = benjamini_hochberg(np.array([np.nan, 0.001, 0.04, 0.9]), 0.05)
    assert found.tolist() == [False, True, False, False]


def test_second_level_t_is_scipys_and_constant_columns_are_untested():
    effects = np.random.default_rng(6).normal(size=(5, 4))
    effects[:, 3] = 0.0
    result = second_level(effects, 0.05)
    t, _ = stats.ttest_1samp(effects[:, :3], 0.0, axis=0)
    np.testing.assert_allclose(result.t[:3], t)
    assert np.isnan(result.p[3]) and not result.significant[3]
    with pytest.raises(ValueError, match="2 or more sessions"):
        second_level(effects[:1], 0.05)


def test_network_summary_counts_by_hand():
    result = SecondLevel(
        t=np.array([3.0, -2.0, 1.0, 4.0, 5.0, np.nan]),
        p=np.array([0.01, 0.01, 0.5, 0.01, 0.01, np.nan]),
        significant=np.array([True, True, False, True, True, False]),
    )
    labels = np.array([1, 1, 1, 2, 0, 2])  # column 4 in no region, 5 untested
    regions = pd.DataFrame({"index": [1, 2, 3], "network": ["A", None, ""]})
    table = network_summary(result, labels, regions).set_index("network")
    assert table.loc["A"].tolist() == pytest.approx([3, 1 / 3, 1 / 3, 1 / 3])
    assert list(table.index) == ["A", "n/a"]
    assert table.loc["n/a"].tolist() == pytest.approx([1, 1, 0, 0])


def planted_study(rng, n_sessions=6, n_columns=400, n_planted=40):
    """Session effects from simulated runs with planted rating-responsive columns."""
    effects = []
    for _ in range(n_sessions):
        runs = [a_run(rng, n=150, censored=rng.choice(150, 3)) for _ in range(2)]
        design = session_design(runs, ["1", "2"])
        noise = rng.normal(size=(len(design), n_columns))
        nuisance = design.drop(columns="rating").to_numpy()
        data = noise + nuisance @ rng.normal(size=(nuisance.shape[1], n_columns))
        data[:, :n_planted] += 0.02 * design[["rating"]].to_numpy()
        effects.append(rating_weights(design) @ data)
    return np.array(effects), np.arange(n_columns) < n_planted


def test_the_fdr_map_recalls_planted_columns_with_few_false_positives():
    effects, planted = planted_study(np.random.default_rng(7))
    found = second_level(effects, 0.05).significant
    recall = found[planted].mean()
    false_positive_rate = found[~planted].mean()
    print(f"planted recall {recall:.2f}, false-positive rate {false_positive_rate:.3f}")
    assert recall > 0.8
    assert false_positive_rate < 0.02


# Maps on files.


def write_dtseries(path: Path, data: np.ndarray) -> nib.cifti2.BrainModelAxis:
    """A small dense time series: a left-cortex surface and a volume structure."""
    n_surface = 6
    surface = nib.cifti2.BrainModelAxis.from_surface(
        np.arange(n_surface), 10, "CortexLeft"
    )
    mask = np.zeros((2, 2, 1), dtype=bool)
    mask[[0, 1, 0], [0, 0, 1], 0] = True
    volume = nib.cifti2.BrainModelAxis.from_mask(mask, "Thalamus_Left", np.eye(4))
    models = surface + volume
    series = nib.cifti2.SeriesAxis(0, TR, len(data))
    header = nib.cifti2.Cifti2Header.from_axes((series, models))
    nib.save(nib.Cifti2Image(data[:, : len(models)].astype(np.float32), header), path)
    return models


def test_a_dscalar_map_round_trips_with_the_datas_brain_models(tmp_path):
    rng = np.random.default_rng(8)
    bold = tmp_path / "sub-01_bold.dtseries.nii"
    models = write_dtseries(bold, rng.normal(size=(30, 9)))
    grid = map_grid(bold)
    maps = rng.normal(size=(2, len(models)))
    path = tmp_path / "map.dscalar.nii"
    nib.save(map_image(maps, grid, ["a", "b"]), path)
    image = nib.load(path)
    assert image.header.get_axis(1) == models
    assert list(image.header.get_axis(0).name) == ["a", "b"]
    np.testing.assert_allclose(map_values(path), maps, rtol=1e-6)


@pytest.mark.parametrize("kind", ["nifti", "cifti"])
def test_effects_read_in_chunks_equal_the_in_memory_product(tmp_path, kind):
    rng = np.random.default_rng(9)
    data = rng.normal(size=(40, 12))
    if kind == "cifti":
        bold = tmp_path / "bold.dtseries.nii"
        write_dtseries(bold, data)
        data = data[:, :9]
    else:
        bold = tmp_path / "bold.nii.gz"
        volumes = data.T.reshape(3, 2, 2, 40, order="F")
        nib.save(nib.Nifti1Image(volumes.astype(np.float32), np.eye(4)), bold)
    weights = rng.normal(size=40)
    expected = weights @ data.astype(np.float32)
    np.testing.assert_allclose(weighted_sum(bold, weights, 7), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="39"):
        weighted_sum(bold, weights[:39], 7)


def test_volume_smoothing_of_effect_maps_equals_smoothing_the_data(tmp_path):
    rng = np.random.default_rng(10)
    data = rng.normal(size=(30, 6 * 6 * 6))
    bold = tmp_path / "bold.nii.gz"
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    volumes = data.T.reshape(6, 6, 6, 30, order="F")
    nib.save(nib.Nifti1Image(volumes, affine), bold)
    grid = map_grid(bold)
    weights = rng.normal(size=30)
    smoothed_data = smooth_maps(data, grid, 6.0, None)
    np.testing.assert_allclose(
        smooth_maps((weights @ data)[None], grid, 6.0, None)[0],
        weights @ smoothed_data,
        atol=1e-5,  # maps are stored as float32
    )
    assert smooth_maps(data[:1], grid, 0, None) is not None


# Recovery on a simulated study with a univariate pain response.


@pytest.fixture(scope="module")
def activation_study(tmp_path_factory) -> Path:
    """1 subject x 4 sessions x 1 run of 150 volumes; signal regions respond to pain.

    A one-sample t over 4 sessions has 3 degrees of freedom: only a strong
    response passes the FDR over thousands of voxels.
    """
    study = tmp_path_factory.mktemp("activation_study")
    simulate_study(
        study,
        n_subjects=1,
        n_sessions=4,
        n_runs=1,
        n_volumes=150,
        seed=5,
        parameters=SimulationParameters(activation_gain=100.0),
    )
    return study


def test_the_map_finds_the_planted_signal_regions(activation_study):
    truth = read_json(activation_study / "ground_truth.json")
    config = study_config(activation_study, activation_study / "out")
    validate(config, str(SCHEMA), set_default=True)
    study = Study.from_config(config)
    glm = GlmSettings(**config["glm"])
    denoise = DenoiseSettings(**config["denoise"])
    effects = []
    for _, rows in study.subject_runs("01").groupby("session"):
        designs = [
            design_of_run(
                RunFiles(Path(row.bold), Path(row.confounds), Path(row.ratings)),
                float(row.tr),
                denoise,
                config["alignment"]["drop_initial_seconds"],
                "pain",
                glm,
            )[0]
            for row in rows.itertuples()
        ]
        bold = list(rows["bold"])
        effect = session_effect(designs, bold, list(rows["run"]), glm.chunk_volumes)
        effects.append(smooth_maps(effect[None], map_grid(bold[0]), 6.0, None)[0])
    found = second_level(np.array(effects), glm.fdr_q).significant
    atlas = load_atlas(
        activation_study / truth["atlas"]["image"],
        activation_study / truth["atlas"]["labels"],
    )
    labels = atlas.labels.reshape(-1, order="F")
    planted = np.isin(labels, truth["subjects"]["01"]["signal_region_indices"])
    other = (labels > 0) & ~planted
    recall, false_positive_rate = found[planted].mean(), found[other].mean()
    print(
        f"signal regions: recall {recall:.2f}, false positive {false_positive_rate:.3f}"
    )
    assert recall > 0.8
    assert false_positive_rate < 0.02


# The workflow.


@pytest.mark.workflow
def test_one_job_per_session_and_a_new_session_adds_only_its_own(tiny_study, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(tiny_study, study)
    held_out = {
        path: tmp_path / "held" / str(i) for i, path in enumerate(study.rglob("ses-04"))
    }
    for path, place in held_out.items():
        place.parent.mkdir(exist_ok=True)
        shutil.move(path, place)
    # One subject's jobs run (Snakemake records their inputs), then ses-04 comes.
    config = study_config(study, tmp_path / "out", subjects=["01"])
    targets = glm_targets(Study.from_config(validated(config)))
    first = run_workflow(config, tmp_path / "work", *targets)
    assert first.returncode == 0, first.stdout[-3000:]
    assert jobs(first) == [
        ("glm", "01", None),
        *[("glm_session", "01", session) for session in ("01", "02", "03")],
    ]
    for path, place in held_out.items():
        shutil.move(place, path)
    dry = run_workflow(config, tmp_path / "work", "-n", *targets)
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert jobs(dry) == [("glm", "01", None), ("glm_session", "01", "04")]


def jobs(result) -> list[tuple]:
    """(rule, subject, session) of the jobs Snakemake ran or planned, sorted."""
    planned = planned_jobs(result.stdout)
    return sorted(
        (rule, wildcards["subject"], wildcards.get("session"))
        for rule, wildcards in planned
    )


def validated(config: dict) -> dict:
    """The config with the schema's defaults."""
    config = dict(config)
    validate(config, str(SCHEMA), set_default=True)
    return config
