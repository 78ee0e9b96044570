"""Reading a 4D NIfTI image a few volumes at a time.

A 4D NIfTI array is stored in Fortran order: after ``vox_offset`` bytes, each
volume is one contiguous block of ``nx * ny * nz`` values, x varying fastest.
The readers here hand out a few such volumes at a time, so memory does not grow
with the length of a run: gzip files through ISA-L (``isal.igzip``) into one
reused buffer, uncompressed files through a memory map of each chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from isal import igzip

# Stored bytes read at a time (at least one volume): about one volume of the
# study's grid (3.6 MB in float32), still in the processor's cache when its
# voxels are averaged, which makes it faster than larger chunks.
CHUNK_BYTES = 4 * 2**20

UNCOMPRESSED_SUFFIXES = (".nii", ".img")


@dataclass(frozen=True)
class VolumeLayout:
    """Where and how a 4D NIfTI image stores its volumes.

    Attributes
    ----------
    path : Path
        The file holding the voxel values (the image itself, or the ``.img`` of
        a header/image pair).
    offset : int
        Bytes before the first volume (``vox_offset``), in the uncompressed
        stream.
    dtype : numpy.dtype
        The stored type, with the byte order of the header.
    n_voxels, n_volumes : int
        Voxels in a volume and volumes in the image.
    slope, inter : float
        ``scl_slope`` and ``scl_inter`` as nibabel applies them (1 and 0 when
        the header does not scale).
    """

    path: Path
    offset: int
    dtype: np.dtype
    n_voxels: int
    n_volumes: int
    slope: float
    inter: float

    @property
    def volume_bytes(self) -> int:
        """Bytes of one stored volume."""
        return self.n_voxels * self.dtype.itemsize


def volume_layout(image: nib.Nifti1Image) -> VolumeLayout:
    """Read a 4D image's layout from its nibabel array proxy.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        As returned by ``nibabel.load``: its data not yet read.

    Raises
    ------
    ValueError
        Naming the file when its values are not real numbers (complex, RGB).
    """
    proxy = image.dataobj
    path = Path(proxy.file_like)
    if proxy.order != "F":
        raise ValueError(f"{path}: expected volumes stored in Fortran order")
    if proxy.dtype.kind not in "iuf":
        raise ValueError(f"{path}: voxel type {proxy.dtype} is not a real number")
    return VolumeLayout(
        path=path,
        offset=int(proxy.offset),
        dtype=proxy.dtype,
        n_voxels=int(np.prod(proxy.shape[:3])),
        n_volumes=int(proxy.shape[3]),
        slope=float(proxy.slope),
        inter=float(proxy.inter),
    )


def volumes_per_chunk(volume_bytes: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Volumes of ``volume_bytes`` each that fit in ``chunk_bytes`` (at least one)."""
    return max(1, chunk_bytes // volume_bytes)


def chunk_bounds(n_volumes: int, chunk_volumes: int) -> Iterator[tuple[int, int]]:
    """Yield ``(first volume, number of volumes)`` of every chunk, in order."""
    for start in range(0, n_volumes, chunk_volumes):
        yield start, min(chunk_volumes, n_volumes - start)


def gzip_chunks(layout: VolumeLayout, chunk_volumes: int) -> Iterator[np.ndarray]:
    """Decompress a gzip image chunk by chunk into one reused buffer.

    Each yielded (volumes, voxels) array is a view of that buffer, valid only
    until the next one is yielded.

    Raises
    ------
    ValueError
        Naming the file when it ends before its last volume.
    """
    buffer = memoryview(bytearray(chunk_volumes * layout.volume_bytes))
    with igzip.open(layout.path, "rb") as stream:
        if len(stream.read(layout.offset)) != layout.offset:
            raise ValueError(f"{layout.path}: ends before its first volume")
        for start, count in chunk_bounds(layout.n_volumes, chunk_volumes):
            size = count * layout.volume_bytes
            read = stream.readinto(buffer[:size])
            if read != size:
                raise ValueError(
                    f"{layout.path}: holds {start + read // layout.volume_bytes} "
                    f"of its {layout.n_volumes} volumes"
                )
            values = np.frombuffer(buffer[:size], dtype=layout.dtype)
            yield values.reshape(count, layout.n_voxels)


def mapped_chunks(layout: VolumeLayout, chunk_volumes: int) -> Iterator[np.ndarray]:
    """Map an uncompressed image chunk by chunk, one memory map at a time.

    Raises
    ------
    ValueError
        Naming the file when it is shorter than its header says.
    """
    size = layout.offset + layout.n_volumes * layout.volume_bytes
    if layout.path.stat().st_size < size:
        raise ValueError(
            f"{layout.path}: {layout.path.stat().st_size} bytes, but its header "
            f"needs {size}"
        )
    for start, count in chunk_bounds(layout.n_volumes, chunk_volumes):
        yield np.memmap(
            layout.path,
            dtype=layout.dtype,
            mode="r",
            offset=layout.offset + start * layout.volume_bytes,
            shape=(count, layout.n_voxels),
        )


def stored_chunks(layout: VolumeLayout, chunk_volumes: int) -> Iterator[np.ndarray]:
    """Yield (volumes, voxels) arrays of stored values, voxels in Fortran order.

    Raises
    ------
    ValueError
        Naming the file when it is neither gzip (``.gz``) nor uncompressed
        (``.nii``, ``.img``).
    """
    if layout.path.suffix == ".gz":
        return gzip_chunks(layout, chunk_volumes)
    if layout.path.suffix in UNCOMPRESSED_SUFFIXES:
        return mapped_chunks(layout, chunk_volumes)
    raise ValueError(
        f"{layout.path}: painflow reads uncompressed or gzip NIfTI images "
        f"({', '.join(UNCOMPRESSED_SUFFIXES)}, .nii.gz)"
    )


def scaled(stored: np.ndarray, slope: float, inter: float) -> np.ndarray:
    """Float64 values ``stored * slope + inter``, computed as nibabel does.

    The result is in Fortran order: the transpose of a (volumes, voxels) block
    is contiguous, as a sparse product with it needs.
    """
    values = stored.astype(np.float64, order="F")
    if slope != 1:
        values *= slope
    if inter != 0:
        values += inter
    return values


def voxel_chunks(
    image: nib.Nifti1Image, voxels: np.ndarray, chunk_volumes: int | None = None
) -> Iterator[np.ndarray]:
    """Yield the values of chosen voxels, a few volumes at a time.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        A 4D image, as returned by ``nibabel.load`` (only its header is read).
    voxels : numpy.ndarray
        Indices of voxels in Fortran order of the 3D grid (the order of
        ``data.reshape(-1, n_volumes, order="F")``).
    chunk_volumes : int, optional
        Volumes per chunk; by default as many as fit in :data:`CHUNK_BYTES`.

    Yields
    ------
    numpy.ndarray
        (volumes, len(voxels)), float64 in Fortran order, scaled by
        ``scl_slope`` and ``scl_inter``; equal to the same values of
        ``numpy.asarray(image.dataobj, dtype=numpy.float64)``.
    """
    layout = volume_layout(image)
    if chunk_volumes is None:
        chunk_volumes = volumes_per_chunk(layout.volume_bytes)
    for stored in stored_chunks(layout, chunk_volumes):
        yield scaled(np.take(stored, voxels, axis=1), layout.slope, layout.inter)
