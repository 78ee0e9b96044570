"""Named atlases from installed packages, checked against nilearn and nibabel."""

from __future__ import annotations

import json
import warnings

import nibabel as nib
import numpy as np
import pytest
from nilearn.maskers import NiftiLabelsMasker

from painflow.atlas.named import (
    NAMED_ATLASES,
    NO_VERTEX,
    NOT_IN_SOURCE,
    NOT_ON_GRID,
    NamedAtlas,
    atlas_source,
    named_atlas,
    prepare_named_atlas,
)
from painflow.atlas.surface import load_grayordinate_atlas
from painflow.atlas.volume import load_atlas, region_means
from painflow.core.fileio import read_tsv

GRID_2MM = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])
SHAPE_2MM = (91, 109, 91)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A 4D float32 BOLD-like image on the 2 mm MNI grid (6 volumes)."""
    rng = np.random.default_rng(7)
    data = rng.normal(1000.0, 20.0, SHAPE_2MM + (6,)).astype(np.float32)
    path = tmp_path_factory.mktemp("reference") / "bold.nii.gz"
    nib.Nifti1Image(data, GRID_2MM).to_filename(path)
    return path


@pytest.fixture(scope="module", params=["AAL3", "HCPEx"])
def volume_atlas(request, reference, tmp_path_factory):
    """A volume atlas prepared once on the reference grid."""
    folder = tmp_path_factory.mktemp(request.param)
    image, labels = folder / "atlas.nii.gz", folder / "atlas.tsv"
    info = prepare_named_atlas(request.param, reference, image, labels)
    return request.param, image, labels, info


@pytest.fixture(scope="module", params=["Glasser", "DesikanKilliany"])
def dlabel_atlas(request, tmp_path_factory):
    """A dlabel atlas prepared once, without reference."""
    folder = tmp_path_factory.mktemp(request.param)
    image, labels = folder / "atlas.dlabel.nii", folder / "atlas.tsv"
    info = prepare_named_atlas(request.param, None, image, labels)
    return request.param, image, labels, info


def label_list(name: str) -> dict:
    """Index -> name of a volume atlas's label list, read here on its own."""
    path = atlas_source(name).with_suffix(".txt")
    pairs = (line.split() for line in path.read_text().splitlines() if line.strip())
    return {int(fields[0]): fields[1] for fields in pairs}


def nearest_labels(source: nib.Nifti1Image, shape, affine) -> np.ndarray:
    """Nearest-neighbour labels of a source image at every voxel of a grid."""
    grid = np.indices(shape).reshape(3, -1)
    world = affine[:3, :3] @ grid + affine[:3, 3:]
    inverse = np.linalg.inv(source.affine)
    voxel = np.round(inverse[:3, :3] @ world + inverse[:3, 3:]).astype(int)
    inside = np.all((voxel >= 0) & (voxel < np.array(source.shape)[:, None]), axis=0)
    data = np.asarray(source.dataobj)
    labels = np.zeros(grid.shape[1], dtype=np.int64)
    labels[inside] = np.round(data[tuple(voxel[:, inside])])
    return labels.reshape(shape)


def test_volume_atlas_means_match_nilearn(volume_atlas, reference):
    name, image, labels, _ = volume_atlas
    atlas = load_atlas(image, labels)
    means = region_means(reference, atlas)
    masker = NiftiLabelsMasker(
        labels_img=str(atlas_source(name)), strategy="mean", resampling_target="data"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn warns of labels lost on the grid
        expected = masker.fit_transform(str(reference))
    ids = [int(masker.region_ids_[i]) for i in range(expected.shape[1])]
    assert sorted(ids) == sorted(atlas.regions["index"])
    column = {index: row for row, index in enumerate(atlas.regions["index"])}
    ours = means[:, [column[index] for index in ids]]
    np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_volume_atlas_is_the_nearest_neighbour_grid(volume_atlas):
    name, image, labels, info = volume_atlas
    source = nib.load(atlas_source(name))
    expected = nearest_labels(source, SHAPE_2MM, GRID_2MM)
    written = nib.load(image)
    assert written.get_data_dtype() == np.int16
    np.testing.assert_allclose(written.affine, GRID_2MM)
    np.testing.assert_array_equal(np.asarray(written.dataobj), expected)

    listed = label_list(name)
    in_source = set(np.unique(np.asarray(source.dataobj)).astype(int)) - {0}
    on_grid = set(np.unique(expected).tolist()) - {0}
    table = read_tsv(labels)
    assert table["index"].tolist() == [i for i in listed if i in on_grid]
    assert table["name"].tolist() == [listed[i] for i in table["index"]]
    assert info["n_regions"] == len(on_grid)
    reasons = {entry["index"]: entry["reason"] for entry in info["dropped"]}
    assert reasons == {
        **{i: NOT_IN_SOURCE for i in set(listed) - in_source},
        **{i: NOT_ON_GRID for i in in_source - on_grid},
    }
    assert all(entry["name"] == listed[entry["index"]] for entry in info["dropped"])


def test_volume_atlas_networks(volume_atlas):
    name, _, labels, _ = volume_atlas
    table = read_tsv(labels)
    if name == "HCPEx":
        subcortical = table["index"] > 360
        assert (table.loc[subcortical, "network"] == "Subcortical").all()
        assert (table.loc[~subcortical, "network"] == "Cortex").all()
    else:
        assert table["network"].notna().all(), "every AAL3 region has a lobe"
        thalamic = table["name"].str.startswith("Thal_")
        assert (table.loc[thalamic, "network"] == "Subcortical").all()


def test_dlabel_atlas_is_copied_with_its_label_table(dlabel_atlas):
    name, image, labels, info = dlabel_atlas
    source = atlas_source(name)
    assert image.read_bytes() == source.read_bytes()

    cifti = nib.load(source)
    label_table = cifti.header.get_axis(0).label[0]
    values = np.asarray(cifti.dataobj)[0].astype(int)
    with_vertex = sorted(set(np.unique(values[values > 0]).tolist()))
    table = read_tsv(labels)
    assert table["index"].tolist() == with_vertex
    assert table["name"].tolist() == [label_table[key][0] for key in with_vertex]
    assert info["n_regions"] == len(with_vertex)
    without = sorted(set(label_table) - set(with_vertex) - {0})
    assert [entry["index"] for entry in info["dropped"]] == without
    assert {entry["reason"] for entry in info["dropped"]} <= {NO_VERTEX}

    atlas = load_grayordinate_atlas(image, labels, subcortex="none")
    assert atlas.regions["index"].tolist() == with_vertex


def dense_cifti(path, vertices: int) -> None:
    """A tiny dense time series on a left cortex of some number of vertices."""
    models = nib.cifti2.BrainModelAxis.from_mask(
        np.ones(vertices, dtype=bool), name="CortexLeft"
    )
    series = nib.cifti2.SeriesAxis(start=0, step=1.0, size=2)
    data = np.zeros((2, vertices), dtype=np.float32)
    nib.Cifti2Image(data, header=(series, models)).to_filename(path)


def test_dlabel_reference_mesh_is_checked(tmp_path):
    matching, other = tmp_path / "fslr32k.dtseries.nii", tmp_path / "other.dtseries.nii"
    dense_cifti(matching, 32492)
    dense_cifti(other, 10242)
    out = tmp_path / "atlas.dlabel.nii", tmp_path / "atlas.tsv"
    prepare_named_atlas("Glasser", matching, *out)
    with pytest.raises(ValueError, match="another fsLR mesh") as error:
        prepare_named_atlas("Glasser", other, *out)
    assert str(other) in str(error.value)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Nonexistent") as error:
        named_atlas("Nonexistent")
    for name in NAMED_ATLASES:
        assert name in str(error.value)


def test_volume_atlas_with_cifti_reference_fails(tmp_path):
    reference = tmp_path / "sub-01_bold.dtseries.nii"
    image = tmp_path / "atlas.nii.gz"
    with pytest.raises(ValueError) as error:
        prepare_named_atlas("AAL3", reference, image, tmp_path / "atlas.tsv")
    message = str(error.value)
    assert str(reference) in message and str(atlas_source("AAL3")) in message
    assert "MNI152" in message and "fsLR" in message
    assert not image.exists()


def test_dlabel_atlas_with_nifti_reference_fails(tmp_path, reference):
    image = tmp_path / "atlas.dlabel.nii"
    with pytest.raises(ValueError) as error:
        prepare_named_atlas("Glasser", reference, image, tmp_path / "atlas.tsv")
    message = str(error.value)
    assert str(reference) in message and str(atlas_source("Glasser")) in message
    assert "fsLR" in message and "NIfTI" in message
    assert not image.exists()


def test_missing_package_is_named(monkeypatch):
    missing = NamedAtlas(
        name="Missing",
        package="painflow_absent_atlas_package",
        distribution="painflow-absent-atlas-package",
        file="atlas.nii",
        label_list="atlas.txt",
        kind="volume",
        space="MNI152",
        description="absent",
        license="MIT",
    )
    monkeypatch.setitem(NAMED_ATLASES, "Missing", missing)
    with pytest.raises(FileNotFoundError, match="pip install painflow-absent"):
        atlas_source("Missing")


def test_prepare_is_deterministic(volume_atlas, reference, tmp_path):
    name, image, labels, info = volume_atlas
    again = prepare_named_atlas(
        name, reference, tmp_path / "atlas.nii.gz", tmp_path / "atlas.tsv"
    )
    assert (tmp_path / "atlas.nii.gz").read_bytes() == image.read_bytes()
    assert (tmp_path / "atlas.tsv").read_bytes() == labels.read_bytes()
    assert json.dumps(again, sort_keys=True) == json.dumps(info, sort_keys=True)
    assert again["version"] and again["source"].endswith(named_atlas(name).file)
