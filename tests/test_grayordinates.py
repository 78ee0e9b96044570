"""Region means of CIFTI grayordinates, on the real fsLR 91k space and atlases."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from grayordinate_data import (
    GLASSER_DLABEL,
    MIDTHICKNESS,
    SUBCORTEX_IMAGE,
    standard_91k_axis,
    subcortical_structures,
    write_dlabel,
    write_dtseries,
)

from painflow.atlas.surface import (
    STANDARD_SUBCORTEX,
    cifti_suffix,
    is_dense_cifti,
    is_dlabel,
    load_grayordinate_atlas,
    region_centroids,
    region_means,
)
from painflow.core.fileio import write_tsv

N_VOLUMES = 12


@pytest.fixture(scope="module")
def axis():
    return standard_91k_axis()


@pytest.fixture(scope="module")
def dtseries(axis, tmp_path_factory):
    data = np.random.default_rng(3).normal(100, 5, (N_VOLUMES, len(axis)))
    path = tmp_path_factory.mktemp("cifti") / "run_bold.dtseries.nii"
    return write_dtseries(path, data.astype(np.float32), axis)


def glasser_vertex_labels():
    """(structure, vertex) -> Glasser key, read straight from the dlabel."""
    image = nib.load(GLASSER_DLABEL)
    models = image.header.get_axis(1)
    values = np.asarray(image.dataobj)[0]
    return {
        (str(name), int(vertex)): int(value)
        for name, vertex, value in zip(models.name, models.vertex, values, strict=True)
    }


def direct_means(dtseries_path, label_of) -> dict:
    """Region -> mean series, grayordinate by grayordinate, from the brain models."""
    image = nib.load(dtseries_path)
    data = np.asarray(image.dataobj, dtype=float)
    models = image.header.get_axis(1)
    # BrainModelAxis properties build new arrays on every access: read them once.
    names, voxels, vertices = models.name, models.voxel, models.vertex
    is_voxel = models.volume_mask
    members = {}
    for column in range(len(models)):
        where = tuple(voxels[column]) if is_voxel[column] else int(vertices[column])
        label = label_of(str(names[column]), where)
        if label:
            members.setdefault(label, []).append(column)
    return {label: data[:, columns].mean(axis=1) for label, columns in members.items()}


def test_glasser_and_structures_equal_direct_means(dtseries):
    atlas = load_grayordinate_atlas(GLASSER_DLABEL)
    vertex_label = glasser_vertex_labels()
    first_structure = max(vertex_label.values()) + 1
    structure_label = {
        f"CIFTI_STRUCTURE_{name}": first_structure + i
        for i, name in enumerate(STANDARD_SUBCORTEX)
    }

    def label_of(name, where):
        if isinstance(where, tuple):
            return structure_label[name]
        return vertex_label.get((name, where), 0)

    expected = direct_means(dtseries, label_of)
    ours = region_means(dtseries, atlas)
    assert ours.shape == (N_VOLUMES, 360 + len(STANDARD_SUBCORTEX))
    assert atlas.names[0] == nib.load(GLASSER_DLABEL).header.get_axis(0).label[0][1][0]
    for column, index in enumerate(atlas.regions["index"]):
        np.testing.assert_allclose(ours[:, column], expected[index], rtol=1e-12)


SUBCORTEX_OFFSET = 1000  # FreeSurfer's subcortical labels overlap Glasser's keys


def glasser_with_subcortex(folder, affine_scale=1.0):
    """The subcortical label image (labels moved past Glasser's) and a TSV of both."""
    image = nib.load(SUBCORTEX_IMAGE)
    labels = np.asarray(image.dataobj).astype(np.int16)
    labels[labels > 0] += SUBCORTEX_OFFSET
    affine = image.affine.copy()
    affine[:3, :3] *= affine_scale
    subcortex = folder / "atlas-Subcortex_dseg.nii.gz"
    nib.save(nib.Nifti1Image(labels, affine), subcortex)
    table = nib.load(GLASSER_DLABEL).header.get_axis(0).label[0]
    rows = [(key, name, "Cortex") for key, (name, _) in table.items() if key > 0]
    rows += [
        (key + SUBCORTEX_OFFSET, name.removeprefix("CIFTI_STRUCTURE_"), "Subcortical")
        for key, name in subcortical_structures().items()
    ]
    regions = folder / "regions.tsv"
    write_tsv(regions, pd.DataFrame(rows, columns=["index", "name", "network"]))
    return subcortex, regions


def test_subcortex_from_a_label_image_equals_direct_means(dtseries, tmp_path):
    subcortex, table = glasser_with_subcortex(tmp_path)
    atlas = load_grayordinate_atlas(GLASSER_DLABEL, table, subcortex)
    vertex_label = glasser_vertex_labels()
    volume = np.asarray(nib.load(SUBCORTEX_IMAGE).dataobj).astype(int)
    volume[volume > 0] += SUBCORTEX_OFFSET

    def label_of(name, where):
        if isinstance(where, tuple):
            return int(volume[where])
        return vertex_label.get((name, where), 0)

    expected = direct_means(dtseries, label_of)
    ours = region_means(dtseries, atlas, chunk_columns=5000)
    assert len(atlas.regions) == 360 + 19
    for column, index in enumerate(atlas.regions["index"]):
        np.testing.assert_allclose(ours[:, column], expected[index], rtol=1e-12)
    networks = atlas.regions.set_index("name")["network"]
    assert networks["THALAMUS_LEFT"] == "Subcortical"


@pytest.mark.parametrize("chunk_columns", [997, 91282])
def test_chunking_does_not_change_means(dtseries, chunk_columns):
    atlas = load_grayordinate_atlas(GLASSER_DLABEL)
    reference = region_means(dtseries, atlas)
    np.testing.assert_allclose(
        region_means(dtseries, atlas, chunk_columns=chunk_columns),
        reference,
        rtol=1e-12,
    )


def test_centroids_are_mean_positions_on_the_surface(dtseries):
    atlas = load_grayordinate_atlas(GLASSER_DLABEL)
    centroids = region_centroids(atlas, dtseries, MIDTHICKNESS)
    right = nib.load(MIDTHICKNESS["right"]).darrays[0].data
    vertex_label = glasser_vertex_labels()
    v1 = atlas.regions.index[atlas.regions["name"] == "R_V1_ROI"][0]
    index = atlas.regions.loc[v1, "index"]
    models = nib.load(dtseries).header.get_axis(1)
    right_vertices = [
        int(vertex)
        for name, vertex, is_voxel in zip(
            models.name, models.vertex, models.volume_mask, strict=True
        )
        if not is_voxel
        and name == "CIFTI_STRUCTURE_CORTEX_RIGHT"
        and vertex_label.get((name, int(vertex))) == index
    ]
    expected = right[right_vertices].astype(float).mean(axis=0)
    np.testing.assert_allclose(centroids[v1], expected, rtol=1e-12)
    assert centroids[v1][0] > 0  # right hemisphere: positive x
    thalamus = atlas.names.index("THALAMUS_LEFT")
    assert -20 < centroids[thalamus][0] < 0


# -- bad input -----------------------------------------------------------------


def test_dlabel_of_another_density_is_named(dtseries, tmp_path):
    coarse = nib.cifti2.BrainModelAxis.from_mask(
        np.ones(10242, bool), name="CortexLeft"
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(10242, bool), name="CortexRight")
    labels = np.tile(np.arange(1, 3), 10242)
    dlabel = write_dlabel(
        tmp_path / "atlas-Coarse_den-10k_dseg.dlabel.nii",
        labels,
        coarse,
        {0: ("???", (0, 0, 0, 0)), 1: ("A", (1, 0, 0, 1)), 2: ("B", (0, 1, 0, 1))},
    )
    atlas = load_grayordinate_atlas(dlabel)
    with pytest.raises(ValueError, match="10242 vertices") as error:
        region_means(dtseries, atlas)
    assert str(dlabel) in str(error.value) and str(dtseries) in str(error.value)
    assert "32492" in str(error.value)


def test_subcortical_image_of_another_grid_is_named(dtseries, tmp_path):
    moved, table = glasser_with_subcortex(tmp_path, affine_scale=1.5)
    atlas = load_grayordinate_atlas(GLASSER_DLABEL, table, moved)
    with pytest.raises(ValueError, match="another space") as error:
        region_means(dtseries, atlas)
    assert str(moved) in str(error.value) and str(dtseries) in str(error.value)


def test_region_without_grayordinates_is_named(axis, tmp_path):
    vertex_label = glasser_vertex_labels()
    keep = np.array(
        [
            is_voxel or vertex_label.get((str(name), int(vertex))) != 1
            for name, vertex, is_voxel in zip(
                axis.name, axis.vertex, axis.volume_mask, strict=True
            )
        ]
    )
    path = write_dtseries(
        tmp_path / "run_bold.dtseries.nii",
        np.ones((3, int(keep.sum())), np.float32),
        axis[keep],
    )
    atlas = load_grayordinate_atlas(GLASSER_DLABEL)
    with pytest.raises(ValueError, match="no grayordinate") as error:
        region_means(path, atlas)
    name = atlas.regions.set_index("index").loc[1, "name"]
    assert name in str(error.value)
    assert str(GLASSER_DLABEL) in str(error.value) and str(path) in str(error.value)


def test_table_disagreeing_with_the_dlabel_is_named(tmp_path):
    table = tmp_path / "regions.tsv"
    write_tsv(table, pd.DataFrame({"index": [1, 2, 999], "name": ["a", "b", "c"]}))
    with pytest.raises(ValueError, match="only in the table") as error:
        load_grayordinate_atlas(GLASSER_DLABEL, table, "none")
    assert str(table) in str(error.value) and str(GLASSER_DLABEL) in str(error.value)


def test_nonstandard_structure_with_structures_is_named(axis, tmp_path):
    mask = np.zeros(axis.volume_shape, bool)
    mask[40:42, 50, 20] = True
    extra = nib.cifti2.BrainModelAxis.from_mask(
        mask, name="Cerebellum", affine=axis.affine
    )
    path = write_dtseries(
        tmp_path / "run_bold.dtseries.nii",
        np.ones((2, len(axis) + 2), np.float32),
        axis + extra,
    )
    with pytest.raises(ValueError, match="CEREBELLUM") as error:
        region_means(path, load_grayordinate_atlas(GLASSER_DLABEL))
    assert str(path) in str(error.value)


def test_volume_data_is_refused_as_cifti(tmp_path):
    path = tmp_path / "run_bold.dtseries.nii"
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), np.float32), np.eye(4)), path)
    with pytest.raises(ValueError, match="CIFTI") as error:
        region_means(path, load_grayordinate_atlas(GLASSER_DLABEL))
    assert str(path) in str(error.value)


def test_whole_brain_dlabel_with_a_second_subcortex_is_named(axis, tmp_path):
    labels = np.where(axis.volume_mask, 2, 1)
    table = {0: ("???", (0, 0, 0, 0)), 1: ("cortex", (1, 0, 0, 1))}
    table[2] = ("subcortex", (0, 1, 0, 1))
    dlabel = write_dlabel(tmp_path / "atlas-Whole_dseg.dlabel.nii", labels, axis, table)
    with pytest.raises(ValueError, match="labels subcortical voxels itself") as error:
        load_grayordinate_atlas(dlabel, subcortex="structures")
    assert str(dlabel) in str(error.value)
    atlas = load_grayordinate_atlas(dlabel, subcortex="none")
    assert atlas.names == ["cortex", "subcortex"]


def test_whole_brain_dlabel_labels_voxels_by_position(axis, dtseries, tmp_path):
    labels = np.where(axis.volume_mask, 2, 1)
    table = {0: ("???", (0, 0, 0, 0)), 1: ("cortex", (1, 0, 0, 1))}
    table[2] = ("subcortex", (0, 1, 0, 1))
    dlabel = write_dlabel(tmp_path / "atlas-Whole_dseg.dlabel.nii", labels, axis, table)
    means = region_means(dtseries, load_grayordinate_atlas(dlabel, subcortex="none"))
    data = np.asarray(nib.load(dtseries).dataobj, dtype=float)
    np.testing.assert_allclose(means[:, 0], data[:, ~axis.volume_mask].mean(axis=1))
    np.testing.assert_allclose(means[:, 1], data[:, axis.volume_mask].mean(axis=1))


def test_subcortical_image_without_a_table_is_named():
    with pytest.raises(ValueError, match="needs atlas 'labels'") as error:
        load_grayordinate_atlas(GLASSER_DLABEL, None, SUBCORTEX_IMAGE)
    assert str(SUBCORTEX_IMAGE) in str(error.value)


@pytest.mark.parametrize(
    ("name", "suffix", "dense", "dlabel"),
    [
        ("sub-01_space-fsLR_den-91k_bold.dtseries.nii", ".dtseries.nii", True, False),
        ("maps.dscalar.nii", ".dscalar.nii", True, False),
        ("atlas-Glasser_dseg.dlabel.nii", ".dlabel.nii", False, True),
        ("parcels.ptseries.nii", ".ptseries.nii", False, False),
        ("sub-01_desc-preproc_bold.nii.gz", None, False, False),
        ("labels.nii", None, False, False),
        ("notes.dtseries.nii.txt", None, False, False),
    ],
)
def test_one_cifti_detector_tells_file_types_by_name(name, suffix, dense, dlabel):
    assert cifti_suffix(name) == suffix
    assert is_dense_cifti(name) is dense
    assert is_dlabel(name) is dlabel
