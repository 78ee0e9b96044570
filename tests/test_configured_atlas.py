"""The configured atlas: refused in the other space, applied to the right data."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from painflow.atlas.configured import (
    atlas_region_means,
    check_atlas_config,
    load_configured_atlas,
)
from painflow.atlas.named import prepare_named_atlas

GRID_2MM = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A small 4D image on the 2 mm MNI grid."""
    data = np.random.default_rng(0).normal(1000, 20, (91, 109, 91, 2))
    path = tmp_path_factory.mktemp("reference") / "bold.nii.gz"
    nib.Nifti1Image(data.astype(np.float32), GRID_2MM).to_filename(path)
    return path


@pytest.fixture(scope="module")
def dlabel_atlas(tmp_path_factory):
    folder = tmp_path_factory.mktemp("glasser")
    image, labels = folder / "atlas.dlabel.nii", folder / "atlas.tsv"
    prepare_named_atlas("Glasser", None, image, labels)
    return image, labels


@pytest.fixture(scope="module")
def volume_atlas(reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("aal")
    image, labels = folder / "atlas.nii.gz", folder / "atlas.tsv"
    prepare_named_atlas("AAL", reference, image, labels)
    return image, labels


@pytest.mark.parametrize(
    ("atlas", "den", "message"),
    [
        ({"name": "Glasser", "image": None}, None, "dlabel atlas in fsLR space"),
        ({"name": "AAL3", "image": None}, "91k", "volume atlas in MNI152 space"),
        ({"name": "X", "image": None}, None, "choose one of AAL, AAL3, HCPEx"),
        (
            {"name": "AAL", "image": None, "labels": "mine.tsv"},
            None,
            "set atlas 'labels' to null",
        ),
        ({"name": "A", "image": "a.dlabel.nii"}, None, "a.dlabel.nii is a CIFTI"),
        ({"name": "A", "image": "a.nii.gz"}, "91k", "a.nii.gz is a volume label"),
        ({"name": "A", "image": "a.nii.gz", "labels": None}, None, "needs atlas"),
        (
            {"name": "A", "image": "a.nii.gz", "labels": "a.tsv", "subcortex": "s.nii"},
            None,
            "apply to grayordinate data only",
        ),
    ],
)
def test_atlas_config_of_another_space_is_refused(atlas, den, message):
    with pytest.raises(ValueError, match=message):
        check_atlas_config(atlas, den)


@pytest.mark.parametrize(
    ("atlas", "den"),
    [
        ({"name": "Glasser", "image": None, "labels": None}, "91k"),
        ({"name": "HCPEx", "image": None, "labels": None}, None),
        ({"name": "A", "image": "a.dlabel.nii", "labels": None}, "91k"),
        ({"name": "A", "image": "a.nii.gz", "labels": "a.tsv"}, None),
    ],
)
def test_atlas_config_of_the_data_space_is_accepted(atlas, den):
    check_atlas_config(atlas, den)


def test_volume_data_with_a_dlabel_atlas_is_refused(dlabel_atlas, reference):
    image, labels = dlabel_atlas
    atlas = load_configured_atlas(image, labels, "none")
    with pytest.raises(ValueError, match="is a volume NIfTI") as error:
        atlas_region_means(reference, atlas)
    assert str(reference) in str(error.value) and str(image) in str(error.value)


def test_cifti_data_with_a_volume_atlas_is_refused(volume_atlas, tmp_path):
    image, labels = volume_atlas
    data = tmp_path / "run_bold.dtseries.nii"
    data.write_bytes(b"")
    with pytest.raises(ValueError, match="is a dense CIFTI") as error:
        atlas_region_means(data, load_configured_atlas(image, labels))
    assert str(data) in str(error.value) and str(image) in str(error.value)
