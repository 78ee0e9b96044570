import nibabel as nib
import numpy as np
import pytest
from isal import igzip

from painflow.atlas.niftistream import (
    CHUNK_BYTES,
    gzip_chunks,
    volume_layout,
    volumes_per_chunk,
    voxel_chunks,
)

SHAPE = (5, 4, 3, 10)
FORMATS = {
    "float32": (np.float32, "<"),
    "float64": (np.float64, "<"),
    "float32 big-endian": (np.float32, ">"),
    "int16 scaled": (np.int16, "<"),
    "int16 scaled big-endian": (np.int16, ">"),
}


def save_run(path, stored_type=np.float32, byte_order="<", extensions=()):
    """A small 4D run on a non-cubic grid, stored as asked."""
    rng = np.random.default_rng(3)
    data = 1000 + rng.normal(size=SHAPE) * 10
    header = nib.Nifti1Header(endianness=byte_order, extensions=extensions)
    image = nib.Nifti1Image(data, np.eye(4), header)
    image.set_data_dtype(stored_type)
    nib.save(image, path)
    return nib.load(path)


def nibabel_values(image, voxels):
    """nibabel's float64 values of the chosen voxels, (volumes, voxels)."""
    data = np.asarray(image.dataobj, dtype=np.float64)
    return data.reshape(-1, data.shape[3], order="F").T[:, voxels]


@pytest.mark.parametrize("chunk_volumes", [1, 4, 7, None])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("stored", FORMATS.values(), ids=FORMATS.keys())
def test_chunks_hold_nibabel_values(tmp_path, stored, suffix, chunk_volumes):
    stored_type, byte_order = stored
    image = save_run(tmp_path / f"bold{suffix}", stored_type, byte_order)
    layout = volume_layout(image)
    assert layout.dtype == np.dtype(stored_type).newbyteorder(byte_order)
    if stored_type is np.int16:
        assert layout.slope != 1
    voxels = np.random.default_rng(4).permutation(np.prod(SHAPE[:3]))[:40]
    chunks = list(voxel_chunks(image, voxels, chunk_volumes))
    sizes = [len(chunk) for chunk in chunks]
    assert sum(sizes) == SHAPE[3]
    assert max(sizes) <= (chunk_volumes or SHAPE[3])
    assert all(chunk.T.flags.c_contiguous for chunk in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), nibabel_values(image, voxels))


def test_volumes_start_after_header_extensions(tmp_path):
    comment = nib.nifti1.Nifti1Extension("comment", b"x" * 100)
    image = save_run(tmp_path / "bold.nii.gz", extensions=[comment])
    assert volume_layout(image).offset > 352
    voxels = np.arange(np.prod(SHAPE[:3]))
    np.testing.assert_array_equal(
        np.concatenate(list(voxel_chunks(image, voxels, 3))),
        nibabel_values(image, voxels),
    )


def test_gzip_chunks_reuse_one_buffer(tmp_path):
    layout = volume_layout(save_run(tmp_path / "bold.nii.gz"))
    chunks = gzip_chunks(layout, 3)
    first, second = next(chunks), next(chunks)
    assert first.shape == second.shape == (3, np.prod(SHAPE[:3]))
    assert np.shares_memory(first, second)


def test_chunk_size_stays_within_the_byte_budget():
    volume_bytes = 91 * 109 * 91 * 4
    chunk_volumes = volumes_per_chunk(volume_bytes)
    assert chunk_volumes >= 1
    assert chunk_volumes * volume_bytes <= CHUNK_BYTES
    assert volumes_per_chunk(CHUNK_BYTES + 1) == 1
    assert volumes_per_chunk(1000) == CHUNK_BYTES // 1000


def test_truncated_gzip_run_is_an_error(tmp_path):
    save_run(tmp_path / "bold.nii")
    whole = (tmp_path / "bold.nii").read_bytes()
    truncated = tmp_path / "truncated.nii.gz"
    truncated.write_bytes(igzip.compress(whole[: len(whole) - 100]))
    with pytest.raises(
        ValueError, match=r"truncated.nii.gz: holds 9 of its 10 volumes"
    ):
        list(voxel_chunks(nib.load(truncated), np.arange(3)))


def test_truncated_uncompressed_run_is_an_error(tmp_path):
    save_run(tmp_path / "bold.nii")
    whole = (tmp_path / "bold.nii").read_bytes()
    truncated = tmp_path / "truncated.nii"
    truncated.write_bytes(whole[: len(whole) - 100])
    with pytest.raises(ValueError, match=r"truncated.nii: .* bytes, but its header"):
        list(voxel_chunks(nib.load(truncated), np.arange(3)))


def test_other_compression_is_an_error(tmp_path):
    image = save_run(tmp_path / "bold.nii.bz2")
    with pytest.raises(ValueError, match="bold.nii.bz2: painflow reads"):
        list(voxel_chunks(image, np.arange(3)))
