"""Data of the univariate GLM: effect maps from BOLD files, a few volumes at a time.

A run's rating effect is ``weights @ data`` with one weight per volume, so the
map accumulates over chunks of volumes and memory does not grow with the
number of voxels times volumes. NIfTI volumes and dense CIFTI grayordinates
are both (volumes, columns) matrices here: columns are voxels in the
Fortran order of the grid, or the file's grayordinates.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from nilearn.image import smooth_img

from painflow.analyses.glm import RunDesign, rating_weights, session_design
from painflow.atlas.niftistream import scaled, stored_chunks, volume_layout
from painflow.atlas.surface import brain_models, is_dense_cifti, load_cifti
from painflow.parcellation.workbench import read_dense, smooth_dtseries


@dataclass(frozen=True)
class MapGrid:
    """Where a map's columns lie: a NIfTI grid or CIFTI brain models.

    Attributes
    ----------
    source : Path
        The BOLD file the grid was read from.
    shape : tuple or None
        The 3D grid (NIfTI).
    affine : numpy.ndarray or None
        The grid's affine (NIfTI).
    models : nibabel.cifti2.BrainModelAxis or None
        The grayordinates (CIFTI).
    """

    source: Path
    shape: tuple | None = None
    affine: np.ndarray | None = None
    models: nib.cifti2.BrainModelAxis | None = None

    @property
    def is_cifti(self) -> bool:
        """Whether the columns are grayordinates."""
        return self.models is not None

    @property
    def n_columns(self) -> int:
        """Voxels of the grid, or grayordinates."""
        return len(self.models) if self.is_cifti else int(np.prod(self.shape))

    @property
    def extension(self) -> str:
        """The extension of its maps."""
        return ".dscalar.nii" if self.is_cifti else ".nii.gz"


def map_grid(path: str | Path) -> MapGrid:
    """The grid of a 4D NIfTI or dense CIFTI BOLD (only its header is read)."""
    if is_dense_cifti(path):
        image = load_cifti(path, "dense time series")
        return MapGrid(source=Path(path), models=brain_models(image, path))
    image = nib.load(path)
    return MapGrid(source=Path(path), shape=image.shape[:3], affine=image.affine)


def check_same_grid(grid: MapGrid, other: MapGrid) -> None:
    """Raise, naming both files, when two BOLD files lie on different grids."""
    same = (
        grid.models == other.models
        if grid.is_cifti and other.is_cifti
        else grid.shape == other.shape and np.allclose(grid.affine, other.affine)
        if not (grid.is_cifti or other.is_cifti)
        else False
    )
    if not same:
        raise ValueError(f"{other.source} is not on the grid of {grid.source}")


def data_chunks(path: str | Path, chunk_volumes: int):
    """Yield ``(first volume, values)`` of a BOLD file, ``chunk_volumes`` at a time.

    ``values`` is (volumes, columns), float64.
    """
    if is_dense_cifti(path):
        data = load_cifti(path, "dense time series").dataobj
        for start in range(0, data.shape[0], chunk_volumes):
            yield start, np.asarray(data[start : start + chunk_volumes], dtype=float)
        return
    layout = volume_layout(nib.load(path))
    start = 0
    for stored in stored_chunks(layout, chunk_volumes):
        yield start, scaled(stored, layout.slope, layout.inter)
        start += len(stored)


def weighted_sum(path: str | Path, weights: np.ndarray, chunk_volumes: int):
    """``weights @ data`` of a BOLD file, read a chunk of volumes at a time.

    Parameters
    ----------
    path : str or Path
        A 4D NIfTI or a dense CIFTI time series.
    weights : numpy.ndarray
        (volumes of the file,).
    chunk_volumes : int
        Volumes read at a time.

    Returns
    -------
    numpy.ndarray
        (columns,).

    Raises
    ------
    ValueError
        Naming the file when its length differs from the weights'.
    """
    n_volumes = volume_count(path)
    if n_volumes != len(weights):
        raise ValueError(f"{path}: {n_volumes} volumes, expected {len(weights)}")
    total = 0.0
    for start, values in data_chunks(path, chunk_volumes):
        total = total + weights[start : start + len(values)] @ values
    return np.asarray(total, dtype=float)


def volume_count(path: str | Path) -> int:
    """Volumes of a 4D NIfTI or dense CIFTI time series (its header only)."""
    if is_dense_cifti(path):
        return int(load_cifti(path, "dense time series").shape[0])
    return int(nib.load(path).shape[3])


def session_effect(
    designs: list[RunDesign],
    bold_paths: list[str | Path],
    labels: list[str],
    chunk_volumes: int,
) -> np.ndarray:
    """The rating's OLS effect per column over a session's runs.

    Parameters
    ----------
    designs : list of RunDesign
        The runs' first-level designs.
    bold_paths : list of str or Path
        The runs' BOLD files (all on one grid).
    labels : list of str
        The runs' labels.
    chunk_volumes : int
        Volumes read at a time.

    Returns
    -------
    numpy.ndarray
        (columns,) the effect of one rating unit.
    """
    weights = rating_weights(session_design(designs, labels))
    grid = map_grid(bold_paths[0])
    effect = np.zeros(grid.n_columns)
    offset = 0
    for design, path in zip(designs, bold_paths, strict=True):
        check_same_grid(grid, map_grid(path))
        full = np.zeros(design.n_volumes)
        full[design.volumes] = weights[offset : offset + len(design.volumes)]
        offset += len(design.volumes)
        effect += weighted_sum(path, full, chunk_volumes)
    return effect


def map_image(maps: np.ndarray, grid: MapGrid, names: list[str]):
    """Maps (maps, columns) as a NIfTI (3D for one map) or a CIFTI dscalar."""
    maps = np.atleast_2d(np.asarray(maps, dtype=np.float32))
    if grid.is_cifti:
        axes = (nib.cifti2.ScalarAxis(names), grid.models)
        return nib.Cifti2Image(maps, nib.cifti2.Cifti2Header.from_axes(axes))
    volumes = maps.T.reshape((*grid.shape, len(maps)), order="F")
    image = nib.Nifti1Image(volumes[..., 0] if len(maps) == 1 else volumes, grid.affine)
    image.header.set_xyzt_units("mm")
    return image


def map_values(path: str | Path) -> np.ndarray:
    """(maps, columns) of a map file written by :func:`map_image`."""
    image = nib.load(path)
    data = np.asarray(image.get_fdata(dtype=np.float32))
    if isinstance(image, nib.Cifti2Image):
        return data
    n_voxels = int(np.prod(image.shape[:3]))
    return data.reshape(n_voxels, -1, order="F").T


def smooth_maps(
    maps: np.ndarray, grid: MapGrid, fwhm_mm: float, surfaces: dict | None
) -> np.ndarray:
    """Gaussian smoothing of maps: nilearn in the volume, Workbench on grayordinates.

    Smoothing and the GLM are both linear and the GLM's weights are the same
    for every column, so smoothing the effect maps equals smoothing the data
    before the GLM.

    Parameters
    ----------
    maps : numpy.ndarray
        (maps, columns).
    grid : MapGrid
    fwhm_mm : float
        Kernel FWHM (mm); 0 returns the maps unchanged.
    surfaces : dict or None
        ``left``/``right`` surfaces of the grayordinates' mesh.

    Returns
    -------
    numpy.ndarray
        (maps, columns).
    """
    if fwhm_mm == 0:
        return maps
    names = [f"map{i}" for i in range(len(maps))]
    if not grid.is_cifti:
        smoothed = smooth_img(map_image(maps, grid, names), fwhm_mm)
        n_voxels = grid.n_columns
        return np.asarray(smoothed.get_fdata()).reshape(n_voxels, -1, order="F").T
    if surfaces is None:
        raise ValueError(f"{grid.source}: smoothing grayordinates needs surfaces")
    with tempfile.TemporaryDirectory(prefix="painflow-glm-") as folder:
        source = Path(folder) / "maps.dscalar.nii"
        nib.save(map_image(maps, grid, names), source)
        target = smooth_dtseries(
            source,
            Path(folder) / "smoothed.dscalar.nii",
            fwhm_mm,
            surfaces["left"],
            surfaces["right"],
        )
        return read_dense(target).astype(float)
