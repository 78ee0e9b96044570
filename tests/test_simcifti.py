import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from painflow.core.bids import bids_path
from painflow.inputs.dataset import discover_runs
from painflow.simulation.cifti import (
    CORTEX,
    FSLR_VERTICES,
    cifti_spec,
    cifti_structure,
    spread_vertices,
)
from painflow.simulation.study import simulate_study

N_SUBJECTS, N_SESSIONS, N_RUNS, N_VOLUMES, TR = 1, 3, 1, 20, 2.0
SESSIONS = [f"{t:02d}" for t in range(1, N_SESSIONS + 1)]


def simulate(root, cifti):
    truth = simulate_study(
        root, N_SUBJECTS, N_SESSIONS, N_RUNS, N_VOLUMES, TR, seed=0, cifti=cifti
    )
    return root, truth


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("cifti"), cifti=True)


@pytest.fixture(scope="module")
def plain_study(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("plain"), cifti=False)


def fmriprep_dir(root):
    return root / "derivatives" / "fmriprep"


def run_entities(session):
    return {"subject": "01", "session": session, "task": "rating", "run": "1"}


def dtseries_path(root, session):
    entities = {**run_entities(session), "space": "fsLR", "den": "91k"}
    return bids_path(fmriprep_dir(root), entities, "bold", ".dtseries.nii")


def nifti_path(root, session):
    entities = {**run_entities(session), "space": "MNI152NLin6Asym", "res": "6"}
    return bids_path(
        fmriprep_dir(root), {**entities, "desc": "preproc"}, "bold", ".nii.gz"
    )


def all_files(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def dlabel_vertex_labels(root, truth):
    """AAL index of every vertex of each cortex, from the dlabel."""
    image = nib.load(root / truth["cifti_atlas"]["image"])
    values = np.asarray(image.dataobj)[0]
    labels = {}
    for name, section, model in image.header.get_axis(1).iter_structures():
        vertex_labels = np.zeros(model.nvertices[name], dtype=int)
        vertex_labels[model.vertex] = values[section]
        labels[name] = vertex_labels
    return labels


def grayordinate_labels(root, truth, axis):
    """AAL index of every grayordinate of a brain model axis."""
    surfaces = dlabel_vertex_labels(root, truth)
    subcortex = np.asarray(nib.load(root / truth["cifti_atlas"]["subcortex"]).dataobj)
    labels = np.zeros(len(axis), dtype=int)
    for name, section, model in axis.iter_structures():
        if name in surfaces:
            labels[section] = surfaces[name][model.vertex]
        else:
            labels[section] = subcortex[tuple(model.voxel.T)]
    return labels


def nifti_atlas(root, truth):
    image = nib.load(root / truth["atlas"]["image"])
    return np.asarray(image.dataobj), image.affine


def region_means(data, labels, indices):
    """(volumes, regions) means of (volumes, elements) data per label."""
    return np.stack([data[:, labels == i].mean(axis=1) for i in indices], axis=1)


# -- grayordinates ------------------------------------------------------------


def test_cifti_structure():
    assert cifti_structure("Caudate_L") == "CIFTI_STRUCTURE_CAUDATE_LEFT"
    assert cifti_structure("Hippocampus_R") == "CIFTI_STRUCTURE_HIPPOCAMPUS_RIGHT"
    assert cifti_structure("ParaHippocampal_L") == "CIFTI_STRUCTURE_CORTEX_LEFT"
    assert cifti_structure("Cerebelum_Crus1_R") == "CIFTI_STRUCTURE_CEREBELLUM_RIGHT"
    assert cifti_structure("Vermis_4_5") == "CIFTI_STRUCTURE_CEREBELLUM"
    assert cifti_structure("Temporal_Pole_Mid_R") == "CIFTI_STRUCTURE_CORTEX_RIGHT"
    with pytest.raises(ValueError, match="suffix"):
        cifti_structure("Brainstem")


def test_spread_vertices():
    vertices = spread_vertices(2500)
    assert len(np.unique(vertices)) == 2500
    assert np.all(np.diff(vertices) > 0)
    assert vertices[0] >= 0 and vertices[-1] < FSLR_VERTICES
    assert vertices[-1] > 0.9 * FSLR_VERTICES  # spread, not packed at the start
    with pytest.raises(ValueError, match="coarser"):
        spread_vertices(FSLR_VERTICES + 1)


def test_region_means_equal_the_nifti_region_means(study):
    root, truth = study
    atlas, _ = nifti_atlas(root, truth)
    indices = pd.read_csv(root / truth["cifti_atlas"]["labels"], sep="\t")["index"]
    for session in SESSIONS:
        cifti = nib.load(dtseries_path(root, session))
        axis = cifti.header.get_axis(1)
        labels = grayordinate_labels(root, truth, axis)
        # every region once: as many grayordinates as voxels, none unlabelled
        assert np.all(labels > 0)
        np.testing.assert_array_equal(
            np.bincount(labels, minlength=len(indices) + 1),
            np.bincount(atlas[atlas > 0], minlength=len(indices) + 1),
        )
        nifti = np.asarray(nib.load(nifti_path(root, session)).dataobj)
        voxels = nifti[atlas > 0].T
        expected = region_means(voxels.astype(float), atlas[atlas > 0], indices)
        data = np.asarray(cifti.dataobj)
        actual = region_means(data.astype(float), labels, indices)
        np.testing.assert_allclose(actual, expected, rtol=1e-6)
        # volume grayordinates hold their voxel's values exactly
        volume = axis.volume_mask
        np.testing.assert_array_equal(
            data[:, volume], nifti[tuple(axis.voxel[volume].T)].T
        )


def test_cortex_and_subcortex_cover_every_region_once(study):
    root, truth = study
    table = pd.read_csv(root / truth["cifti_atlas"]["labels"], sep="\t")
    surfaces = dlabel_vertex_labels(root, truth)
    cortical = set(np.unique(np.concatenate(list(surfaces.values())))) - {0}
    subcortex = np.asarray(nib.load(root / truth["cifti_atlas"]["subcortex"]).dataobj)
    volume = set(np.unique(subcortex)) - {0}
    assert not cortical & volume
    assert cortical | volume == set(table["index"])
    left, right = (set(np.unique(surfaces[name])) - {0} for name in CORTEX)
    names = table.set_index("index")["name"]
    assert all(names[i].endswith("_L") for i in left)
    assert all(names[i].endswith("_R") for i in right)
    assert {names[i].split("_")[0] for i in volume} == {
        "Caudate",
        "Putamen",
        "Pallidum",
        "Thalamus",
        "Amygdala",
        "Hippocampus",
        "Cerebelum",
        "Vermis",
    }
    atlas, _ = nifti_atlas(root, truth)
    in_volume = np.isin(atlas, list(volume))
    np.testing.assert_array_equal(subcortex, np.where(in_volume, atlas, 0))
    assert subcortex.dtype == np.int16


def test_dlabel_label_table_matches_the_region_table(study):
    root, truth = study
    image = nib.load(root / truth["cifti_atlas"]["image"])
    assert image.shape == (1, 2 * FSLR_VERTICES)
    label_axis = image.header.get_axis(0)
    assert list(label_axis.name) == ["AAL"]
    label_table = label_axis.label[0]
    assert label_table[0][0] == "???"
    table = pd.read_csv(root / truth["cifti_atlas"]["labels"], sep="\t")
    names = dict(zip(table["index"], table["name"], strict=True))
    in_dlabel = set(np.unique(np.asarray(image.dataobj))) - {0}
    assert set(label_table) - {0} == in_dlabel
    assert {key: label_table[key][0] for key in in_dlabel} == {
        key: names[key] for key in in_dlabel
    }
    models = image.header.get_axis(1)
    assert [name for name, _, _ in models.iter_structures()] == list(CORTEX)
    assert not models.volume_mask.any()


def test_surface_vertices_sit_at_their_region_centroids(study):
    root, truth = study
    atlas, affine = nifti_atlas(root, truth)
    surfaces = dlabel_vertex_labels(root, truth)
    for side, name in zip(("left", "right"), CORTEX, strict=True):
        surface = nib.load(root / truth["cifti_atlas"]["surfaces"][side])
        coordinates, triangles = surface.agg_data(
            ("NIFTI_INTENT_POINTSET", "NIFTI_INTENT_TRIANGLE")
        )
        assert coordinates.shape == (FSLR_VERTICES, 3)
        assert coordinates.dtype == np.float32
        assert triangles.dtype == np.int32 and len(triangles) > 0
        assert triangles.min() >= 0 and triangles.max() < FSLR_VERTICES
        assert np.all(np.diff(np.sort(triangles, axis=1), axis=1) > 0)
        labels = surfaces[name]
        for index in set(np.unique(labels)) - {0}:
            centroid = nib.affines.apply_affine(
                affine, np.argwhere(atlas == index)
            ).mean(axis=0)
            np.testing.assert_allclose(
                coordinates[labels == index].mean(axis=0), centroid, atol=1e-3
            )


def test_dtseries_are_found_as_fmriprep_outputs(study):
    root, truth = study
    runs = discover_runs(cifti_spec(root, fmriprep_dir(root)))
    assert runs["session"].tolist() == SESSIONS
    assert [Path(p) for p in runs["bold"]] == [dtseries_path(root, s) for s in SESSIONS]
    atlas, affine = nifti_atlas(root, truth)
    subcortex = nib.load(root / truth["cifti_atlas"]["subcortex"])
    for session in SESSIONS:
        path = dtseries_path(root, session)
        sidecar = json.loads(
            path.with_name(path.name.split(".")[0] + ".json").read_text()
        )
        assert sidecar == {"RepetitionTime": TR, "TaskName": "rating"}
        image = nib.load(path)
        assert image.get_data_dtype() == np.float32
        assert image.nifti_header.get_intent()[0] == "ConnDenseSeries"
        series, models = image.header.get_axis(0), image.header.get_axis(1)
        assert (series.start, series.step, series.size, series.unit) == (
            0.0,
            TR,
            N_VOLUMES,
            "SECOND",
        )
        assert image.shape == (N_VOLUMES, np.count_nonzero(atlas))
        structures = [name for name, _, _ in models.iter_structures()]
        assert structures[:2] == list(CORTEX)
        assert structures[2:] == sorted(structures[2:])
        assert models.volume_shape == atlas.shape == subcortex.shape
        np.testing.assert_array_equal(models.affine, affine)
        np.testing.assert_array_equal(subcortex.affine, affine)
        for name, _, model in models.iter_structures():
            if name in CORTEX:
                keys = model.vertex
            else:
                keys = np.ravel_multi_index(tuple(model.voxel.T), atlas.shape)
            assert np.all(np.diff(keys) > 0), name


# -- determinism and the files without CIFTI ------------------------------------


def test_same_seed_same_cifti_bytes(study, tmp_path):
    root, _ = study
    again, _ = simulate(tmp_path / "again", cifti=True)
    first, second = all_files(root), all_files(again)
    assert first.keys() == second.keys()
    cifti = [name for name in first if "fsLR" in name.name]
    assert len(cifti) == 2 * N_SESSIONS + 4
    for name in first:
        assert first[name] == second[name], name


def test_cifti_leaves_every_other_file_unchanged(study, plain_study):
    root, truth = study
    plain_root, plain_truth = plain_study
    with_cifti, without = all_files(root), all_files(plain_root)
    extra = set(with_cifti) - set(without)
    assert extra and all("fsLR" in name.name for name in extra)
    truth_name = Path("ground_truth.json")
    for name in without:
        if name != truth_name:
            assert with_cifti[name] == without[name], name
    assert "cifti_atlas" not in plain_truth
    assert json.loads(without[truth_name]) == plain_truth
    written = json.loads(with_cifti[truth_name])
    assert written == truth
    cifti_atlas = written.pop("cifti_atlas")
    assert written == plain_truth
    assert cifti_atlas["name"] == "AAL"
    assert cifti_atlas["labels"] == plain_truth["atlas"]["labels"]
    for relative in (
        cifti_atlas["image"],
        cifti_atlas["subcortex"],
        *cifti_atlas["surfaces"].values(),
    ):
        assert (root / relative).is_file()


def test_cli_simulate_cifti(tmp_path):
    out = tmp_path / "cli"
    painflow = Path(sys.executable).parent / "painflow"
    arguments = ["--subjects", "1", "--sessions", "1", "--runs", "1", "--volumes", "12"]
    result = subprocess.run(
        [str(painflow), "simulate", str(out), *arguments, "--cifti"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "with CIFTI" in result.stdout
    assert str(out) in result.stdout
    truth = json.loads((out / "ground_truth.json").read_text())
    assert (out / truth["cifti_atlas"]["image"]).is_file()
    image = nib.load(dtseries_path(out, "01"))
    assert image.shape[0] == 12
    # the command's artefacts are in the grayordinates too: values are copied
    data = np.asarray(image.dataobj)
    volume = image.header.get_axis(1).volume_mask
    nifti = np.asarray(nib.load(nifti_path(out, "01")).dataobj)
    voxels = tuple(image.header.get_axis(1).voxel[volume].T)
    np.testing.assert_array_equal(data[:, volume], nifti[voxels].T)
    [run] = truth["runs"]
    bright = run["artifacts"][0]
    assert bright["kind"] == "non_steady_state"
    means = data.mean(axis=1)
    assert means[0] > 1.1 * np.median(means[len(bright["volumes"]) :])
