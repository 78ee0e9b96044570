"""Atlases and region mean time series."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from scipy import sparse

from painflow.atlas.niftistream import voxel_chunks
from painflow.core.fileio import read_tsv

AFFINE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Atlas:
    """A label image with its table of regions.

    Attributes
    ----------
    image_path, labels_path : Path
        The files it was read from.
    labels : numpy.ndarray
        The label image (3D integers, 0 = background).
    affine : numpy.ndarray
        The image's affine.
    regions : pandas.DataFrame
        Columns ``index``, ``name``, ``network``, one row per region, in the
        order of the labels table; this order is the region order everywhere.
    """

    image_path: Path
    labels_path: Path
    labels: np.ndarray
    affine: np.ndarray
    regions: pd.DataFrame

    @property
    def names(self) -> list[str]:
        """Region names, in region order."""
        return self.regions["name"].tolist()


def read_region_table(labels_path: str | Path) -> pd.DataFrame:
    """Read an atlas labels TSV (``index``, ``name``, optional ``network``).

    Raises
    ------
    ValueError
        Naming the file when a column is missing, an index is not a positive
        integer, or an index or name repeats.
    """
    table = read_tsv(labels_path)
    missing = {"index", "name"} - set(table.columns)
    if missing:
        raise ValueError(f"{labels_path}: missing columns {sorted(missing)}")
    index = pd.to_numeric(table["index"], errors="coerce")
    if index.isna().any() or (index % 1 != 0).any() or (index <= 0).any():
        raise ValueError(f"{labels_path}: 'index' must hold positive integers")
    for column in ("index", "name"):
        if table[column].duplicated().any():
            repeated = table.loc[table[column].duplicated(), column].tolist()
            raise ValueError(f"{labels_path}: repeated {column} values {repeated}")
    # An all-"n/a" column reads as float NaN: cast before filling.
    network = table["network"] if "network" in table else pd.Series("n/a", table.index)
    network = network.astype(object)
    return pd.DataFrame(
        {
            "index": index.astype(int),
            "name": table["name"].astype(str),
            "network": network.fillna("n/a").astype(str),
        }
    )


def check_region_table(regions: pd.DataFrame, in_atlas: set, labels_path, atlas):
    """Raise unless a region table lists exactly the labels its atlas holds.

    Parameters
    ----------
    regions : pandas.DataFrame
        The table (:func:`read_region_table`).
    in_atlas : set
        The non-zero labels found in the atlas images.
    labels_path, atlas : str or Path
        The table's file and the atlas's file(s), for the message.

    Raises
    ------
    ValueError
        Naming both, with labels found on one side only.
    """
    in_table = set(regions["index"].tolist())
    if in_table != in_atlas:
        raise ValueError(
            f"{labels_path} disagrees with {atlas}: labels only in the atlas "
            f"{sorted(in_atlas - in_table)[:10]}, only in the table "
            f"{sorted(in_table - in_atlas)[:10]}"
        )


def read_label_volume(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a 3D integer label NIfTI (a 4D image of one volume is accepted).

    Returns
    -------
    labels : numpy.ndarray
        3D int64 labels, 0 = background.
    affine : numpy.ndarray
        The image's affine.

    Raises
    ------
    ValueError
        Naming the file when the image is not 3D or holds non-integers.
    """
    image = nib.load(path)
    labels = np.asarray(image.dataobj)
    if labels.ndim == 4 and labels.shape[3] == 1:
        labels = labels[..., 0]
    if labels.ndim != 3:
        raise ValueError(f"{path}: an atlas must be a 3D label image")
    if not np.allclose(labels, np.round(labels)):
        raise ValueError(f"{path}: labels must be integers")
    return np.round(labels).astype(np.int64), image.affine


def load_atlas(image_path: str | Path, labels_path: str | Path) -> Atlas:
    """Read an atlas and check that its image and its table agree.

    Parameters
    ----------
    image_path : str or Path
        A 3D NIfTI label image.
    labels_path : str or Path
        Its TSV of regions.

    Returns
    -------
    Atlas

    Raises
    ------
    ValueError
        Naming both files when the image holds labels the table lacks, or the
        table lists regions with no voxel in the image.
    """
    labels, affine = read_label_volume(image_path)
    regions = read_region_table(labels_path)
    in_image = set(np.unique(labels[labels != 0]).tolist())
    check_region_table(regions, in_image, labels_path, image_path)
    return Atlas(
        image_path=Path(image_path),
        labels_path=Path(labels_path),
        labels=labels,
        affine=affine,
        regions=regions,
    )


def check_same_grid(atlas: Atlas, image: nib.Nifti1Image, image_path) -> None:
    """Raise a ValueError naming both files unless the grids are the same."""
    if image.shape[:3] != atlas.labels.shape:
        raise ValueError(
            f"{atlas.image_path} has grid {atlas.labels.shape}, but {image_path} "
            f"has {image.shape[:3]}: resample the atlas to the BOLD grid"
        )
    if not np.allclose(image.affine, atlas.affine, atol=AFFINE_TOLERANCE):
        raise ValueError(
            f"{atlas.image_path} and {image_path} have different affines "
            f"(different voxel size, origin or orientation)"
        )


def averaging_matrix(atlas: Atlas, order: str = "C") -> sparse.csr_matrix:
    """Sparse (regions, voxels) matrix whose product with voxel data gives means.

    Parameters
    ----------
    atlas : Atlas
    order : {"C", "F"}
        Order of the voxels of the 3D grid: "C" as in
        ``data.reshape(-1, n_volumes)`` of a nibabel array, "F" as in a NIfTI
        file.

    Returns
    -------
    scipy.sparse.csr_matrix
        Each row holds ``1 / n_voxels`` at the region's voxels.
    """
    return label_averaging_matrix(atlas.labels.ravel(order=order), atlas.regions)


def label_averaging_matrix(
    labels: np.ndarray, regions: pd.DataFrame
) -> sparse.csr_matrix:
    """Sparse (regions, elements) matrix of region means over labelled elements.

    Parameters
    ----------
    labels : numpy.ndarray
        1D label of every element (voxel or grayordinate), 0 = none.
    regions : pandas.DataFrame
        The region table; its ``index`` order is the row order.

    Returns
    -------
    scipy.sparse.csr_matrix
        Each row holds ``1 / n_elements`` at the region's elements.
    """
    row_of_label = {label: row for row, label in enumerate(regions["index"])}
    columns = np.flatnonzero(labels)
    rows = np.array([row_of_label[label] for label in labels[columns]], dtype=np.int64)
    counts = np.bincount(rows, minlength=len(row_of_label)).astype(float)
    return sparse.csr_matrix(
        (1.0 / counts[rows], (rows, columns)), shape=(len(row_of_label), labels.size)
    )


def region_means(
    bold_path: str | Path, atlas: Atlas, chunk_volumes: int | None = None
) -> np.ndarray:
    """Mean time series of every atlas region, reading a few volumes at a time.

    Memory does not grow with the number of volumes: the image is read chunk
    by chunk (:func:`painflow.atlas.niftistream.voxel_chunks`), and only the atlas's
    voxels of each chunk are converted to float64 and averaged.

    Parameters
    ----------
    bold_path : str or Path
        A 4D NIfTI (``.nii`` or ``.nii.gz``) on the atlas grid.
    atlas : Atlas
    chunk_volumes : int, optional
        Volumes read at a time; by default as many as fit in
        :data:`painflow.atlas.niftistream.CHUNK_BYTES`.

    Returns
    -------
    numpy.ndarray
        (volumes, regions), float64, regions in atlas order.
    """
    image = nib.load(bold_path)
    if image.ndim != 4:
        raise ValueError(f"{bold_path}: expected a 4D image, got {image.ndim}D")
    check_same_grid(atlas, image, bold_path)
    voxels = np.flatnonzero(atlas.labels.ravel(order="F"))
    weights = averaging_matrix(atlas, order="F")[:, voxels]
    means = np.empty((image.shape[3], len(atlas.regions)))
    start = 0
    for values in voxel_chunks(image, voxels, chunk_volumes):
        means[start : start + len(values)] = (weights @ values.T).T
        start += len(values)
    return means


def region_centroids(atlas: Atlas) -> np.ndarray:
    """Centre of mass of every region, in the image's world coordinates (mm).

    Returns
    -------
    numpy.ndarray
        (regions, 3), in region order.
    """
    voxels = np.flatnonzero(atlas.labels.ravel())
    ijk = np.column_stack(np.unravel_index(voxels, atlas.labels.shape))
    centres = averaging_matrix(atlas)[:, voxels] @ ijk
    return nib.affines.apply_affine(atlas.affine, centres)
