import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults
from nilearn.maskers import NiftiLabelsMasker

from painflow.atlas.volume import (
    averaging_matrix,
    load_atlas,
    region_centroids,
    region_means,
)
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.scrubbing import clean_series


@pytest.fixture
def affine():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-30, -40, -20]
    return affine


@pytest.fixture
def atlas_files(tmp_path, affine):
    rng = np.random.default_rng(0)
    labels = rng.choice([0, 3, 7, 11, 12], size=(10, 9, 8)).astype(np.int16)
    image = tmp_path / "atlas-Test_dseg.nii.gz"
    nib.save(nib.Nifti1Image(labels, affine), image)
    table = tmp_path / "atlas-Test_dseg.tsv"
    pd.DataFrame(
        {"index": [7, 3, 12, 11], "name": ["B", "A", "D", "C"], "network": ["x"] * 4}
    ).to_csv(table, sep="\t", index=False)
    return image, table


def save_bold(path, affine, stored_type=np.float32):
    """A 60-volume run on the atlas grid, stored as asked."""
    rng = np.random.default_rng(1)
    data = 1000 + rng.normal(size=(10, 9, 8, 60)) * 10
    image = nib.Nifti1Image(data, affine)
    image.set_data_dtype(stored_type)
    nib.save(image, path)
    return path


@pytest.fixture
def bold_file(tmp_path, affine):
    return save_bold(tmp_path / "bold.nii.gz", affine)


def nilearn_means(atlas, bold_path, dtype=np.float64):
    """NiftiLabelsMasker's region means, columns put in atlas order.

    With ``dtype=None`` (nilearn's default) the means of a float32 image are
    rounded to float32.
    """
    masker = NiftiLabelsMasker(
        str(atlas.image_path), strategy="mean", resampling_target=None, dtype=dtype
    )
    theirs = masker.fit_transform(str(bold_path))  # columns in label order
    return theirs[:, np.argsort(np.argsort(atlas.regions["index"].to_numpy()))]


@pytest.mark.parametrize("chunk_volumes", [None, 1, 7])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_region_means_equal_nilearn_labels_masker(
    atlas_files, tmp_path, affine, suffix, chunk_volumes
):
    atlas = load_atlas(*atlas_files)
    bold = save_bold(tmp_path / f"bold{suffix}", affine)
    ours = region_means(bold, atlas, chunk_volumes=chunk_volumes)
    assert ours.shape == (60, 4)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, nilearn_means(atlas, bold), rtol=1e-10)
    assert atlas.names == ["B", "A", "D", "C"]


def test_region_means_equal_nilearn_float32_means_to_their_rounding(
    atlas_files, bold_file
):
    atlas = load_atlas(*atlas_files)
    theirs = nilearn_means(atlas, bold_file, dtype=None)
    assert theirs.dtype == np.float32
    ours = region_means(bold_file, atlas)
    np.testing.assert_allclose(ours, theirs, rtol=np.finfo(np.float32).eps)


def test_region_means_of_scaled_int16_equal_nilearn(atlas_files, tmp_path, affine):
    atlas = load_atlas(*atlas_files)
    bold = save_bold(tmp_path / "bold.nii.gz", affine, np.int16)
    assert nib.load(bold).dataobj.slope != 1
    ours = region_means(bold, atlas, chunk_volumes=7)
    np.testing.assert_allclose(ours, nilearn_means(atlas, bold), rtol=1e-10)


def test_averaging_matrix_follows_the_voxel_order(atlas_files, bold_file):
    atlas = load_atlas(*atlas_files)
    data = np.asarray(nib.load(bold_file).dataobj, dtype=float)
    by_c = averaging_matrix(atlas) @ data.reshape(-1, 60)
    by_f = averaging_matrix(atlas, order="F") @ data.reshape(-1, 60, order="F")
    np.testing.assert_allclose(by_f, by_c, rtol=1e-12)


def test_cleaning_regions_equals_cleaning_voxels_first(atlas_files, bold_file):
    atlas = load_atlas(*atlas_files)
    rng = np.random.default_rng(2)
    regressors = rng.normal(size=(60, 4))
    censored = np.zeros(60, bool)
    censored[[7, 8, 30]] = True
    settings = DenoiseSettings(
        **with_defaults("denoise", high_pass_hz=0.01, low_pass_hz=0.15)
    )
    data = np.asarray(nib.load(bold_file).dataobj, dtype=float).reshape(-1, 60)
    voxels_cleaned = clean_series(data.T, regressors, censored, 2.0, settings).values
    voxel_first = (averaging_matrix(atlas) @ voxels_cleaned.T).T
    region_first = clean_series(
        region_means(bold_file, atlas), regressors, censored, 2.0, settings
    ).values
    assert region_first.shape == (57, 4)
    np.testing.assert_allclose(region_first, voxel_first, atol=1e-8)


def test_labels_table_that_disagrees_with_the_image_is_an_error(atlas_files):
    image, table = atlas_files
    pd.DataFrame({"index": [3, 7, 11, 99], "name": list("ABCD")}).to_csv(
        table, sep="\t", index=False
    )
    with pytest.raises(
        ValueError, match=r"disagrees with .*only in the atlas \[12\].*\[99\]"
    ):
        load_atlas(image, table)


def test_labels_table_with_repeated_names_is_an_error(atlas_files):
    image, table = atlas_files
    pd.DataFrame({"index": [3, 7, 11, 12], "name": list("ABCA")}).to_csv(
        table, sep="\t", index=False
    )
    with pytest.raises(ValueError, match="repeated name"):
        load_atlas(image, table)


def test_atlas_on_another_grid_is_an_error(atlas_files, tmp_path, affine):
    atlas = load_atlas(*atlas_files)
    other = tmp_path / "other.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 9, 7, 5), np.float32), affine), other)
    with pytest.raises(ValueError, match="has grid .* resample the atlas"):
        region_means(other, atlas)
    shifted = affine.copy()
    shifted[0, 3] += 1.5
    nib.save(nib.Nifti1Image(np.zeros((10, 9, 8, 5), np.float32), shifted), other)
    with pytest.raises(ValueError, match="different affines"):
        region_means(other, atlas)


def test_region_centroids_are_mean_voxel_positions(atlas_files):
    atlas = load_atlas(*atlas_files)
    centroids = region_centroids(atlas)
    for row, label in enumerate(atlas.regions["index"]):
        ijk = np.argwhere(atlas.labels == label)
        world = ijk @ atlas.affine[:3, :3].T + atlas.affine[:3, 3]
        np.testing.assert_allclose(centroids[row], world.mean(axis=0), rtol=1e-12)
