"""Region means of CIFTI grayordinates (fMRIPrep's ``space-fsLR_den-91k``).

A dense time series (``.dtseries.nii``) holds cortical vertices of the fsLR
surfaces and subcortical voxels, each named in its brain-model axis by
structure and vertex index or voxel (i, j, k). Regions come from a cortical
``.dlabel.nii`` matched by vertex, and from one of three subcortical sources:

- ``structures``: each subcortical brain-model structure of the data is a
  region (19 in fMRIPrep's 91k space);
- a label NIfTI on the data's volume grid, matched by voxel;
- ``none``: cortex only.

A dlabel that labels voxels itself (a whole-brain dlabel) needs ``none``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from painflow.atlas.volume import (
    AFFINE_TOLERANCE,
    check_region_table,
    label_averaging_matrix,
    read_label_volume,
    read_region_table,
)

# The CIFTI structure of each hemisphere's cortex.
CORTEX_STRUCTURES = {
    "left": "CIFTI_STRUCTURE_CORTEX_LEFT",
    "right": "CIFTI_STRUCTURE_CORTEX_RIGHT",
}
STRUCTURES = "structures"
NO_SUBCORTEX = "none"
# CIFTI-2 file types by name: the one place painflow tells them apart.
DTSERIES_SUFFIX = ".dtseries.nii"
DLABEL_SUFFIX = ".dlabel.nii"
DENSE_SUFFIXES = (DTSERIES_SUFFIX, ".dscalar.nii")
CIFTI_SUFFIXES = (
    *DENSE_SUFFIXES,
    DLABEL_SUFFIX,
    ".ptseries.nii",
    ".pscalar.nii",
    ".dconn.nii",
    ".pconn.nii",
)
# Subcortical structures of the HCP/fMRIPrep 91k grayordinates, in the order
# their regions follow the cortical ones.
STANDARD_SUBCORTEX = (
    "ACCUMBENS_LEFT",
    "ACCUMBENS_RIGHT",
    "AMYGDALA_LEFT",
    "AMYGDALA_RIGHT",
    "BRAIN_STEM",
    "CAUDATE_LEFT",
    "CAUDATE_RIGHT",
    "CEREBELLUM_LEFT",
    "CEREBELLUM_RIGHT",
    "DIENCEPHALON_VENTRAL_LEFT",
    "DIENCEPHALON_VENTRAL_RIGHT",
    "HIPPOCAMPUS_LEFT",
    "HIPPOCAMPUS_RIGHT",
    "PALLIDUM_LEFT",
    "PALLIDUM_RIGHT",
    "PUTAMEN_LEFT",
    "PUTAMEN_RIGHT",
    "THALAMUS_LEFT",
    "THALAMUS_RIGHT",
)
STRUCTURE_PREFIX = "CIFTI_STRUCTURE_"
# Grayordinates read at a time: columns of the (volumes, grayordinates) matrix,
# each column one contiguous block on disk.
CHUNK_BYTES = 16 * 2**20


@dataclass(frozen=True)
class VolumeLabels:
    """Labels of voxels on a volume grid.

    Attributes
    ----------
    path : Path
        The file they were read from.
    labels : numpy.ndarray
        3D integer labels, 0 = none.
    affine : numpy.ndarray
        The grid's affine.
    """

    path: Path
    labels: np.ndarray
    affine: np.ndarray


@dataclass(frozen=True, eq=False)
class GrayordinateAtlas:
    """A cortical dlabel with a subcortical source and the table of regions.

    Attributes
    ----------
    image_path : Path
        The ``.dlabel.nii``.
    labels_path : Path or None
        The region TSV; None when names come from the dlabel's label table.
    surface_labels : dict
        Structure name -> label of every vertex of that surface.
    volume : VolumeLabels or None
        Voxel labels, from the subcortical image or the dlabel's own voxels.
    structure_regions : dict
        Structure name (``CIFTI_STRUCTURE_...``) -> region index, with
        ``structures``.
    regions : pandas.DataFrame
        Columns ``index``, ``name``, ``network``; the region order everywhere.
    """

    image_path: Path
    labels_path: Path | None
    surface_labels: dict
    volume: VolumeLabels | None
    structure_regions: dict
    regions: pd.DataFrame = field(repr=False)

    @property
    def names(self) -> list[str]:
        """Region names, in region order."""
        return self.regions["name"].tolist()

    @property
    def files(self) -> str:
        """The atlas files, for messages."""
        parts = [self.image_path, self.labels_path]
        if self.volume is not None and self.volume.path != self.image_path:
            parts.append(self.volume.path)
        return " + ".join(str(part) for part in parts if part is not None)


def cifti_suffix(path: str | Path) -> str | None:
    """The CIFTI-2 suffix of a file name (e.g. ``.dtseries.nii``); None if not CIFTI.

    Parameters
    ----------
    path : str or Path
        A file name.

    Returns
    -------
    str or None
        One of :data:`CIFTI_SUFFIXES`, or None for any other name.
    """
    name = str(path)
    return next((suffix for suffix in CIFTI_SUFFIXES if name.endswith(suffix)), None)


def is_dlabel(path: str | Path) -> bool:
    """Whether a file name is a CIFTI dense label file (``.dlabel.nii``)."""
    return cifti_suffix(path) == DLABEL_SUFFIX


def is_dense_cifti(path: str | Path) -> bool:
    """Whether a file name is a dense CIFTI (``.dtseries.nii``/``.dscalar.nii``)."""
    return cifti_suffix(path) in DENSE_SUFFIXES


def brain_models(image, path) -> nib.cifti2.BrainModelAxis:
    """The brain-model axis of a CIFTI image's columns, or a ValueError naming it."""
    axis = image.header.get_axis(image.ndim - 1)
    if not isinstance(axis, nib.cifti2.BrainModelAxis):
        raise ValueError(f"{path}: its columns are not grayordinates (brain models)")
    return axis


def load_cifti(path: str | Path, kind: str):
    """Open a CIFTI-2 file; a ValueError names it and the ``kind`` expected."""
    try:
        return nib.load(path)
    except Exception as error:  # nibabel raises many types for a bad file
        raise ValueError(f"{path}: not a readable CIFTI-2 {kind}: {error}") from error


def read_dlabel(path: str | Path):
    """Read a dlabel's single map.

    Returns
    -------
    models : nibabel.cifti2.BrainModelAxis
    values : numpy.ndarray
        The integer label of every grayordinate of the map.
    table : dict
        Its label table: key -> (name, RGBA).

    Raises
    ------
    ValueError
        Naming the file when it is not a dlabel of one integer map.
    """
    image = load_cifti(path, "dlabel")
    label_axis = image.header.get_axis(0)
    if not isinstance(label_axis, nib.cifti2.LabelAxis):
        raise ValueError(f"{path}: not a dlabel (its rows are not a label axis)")
    if len(label_axis) != 1:
        raise ValueError(f"{path}: holds {len(label_axis)} label maps, expected one")
    values = np.asarray(image.dataobj)[0]
    if not np.allclose(values, np.round(values)):
        raise ValueError(f"{path}: labels must be integers")
    table = label_axis.label[0]
    return brain_models(image, path), np.round(values).astype(np.int64), table


def _surface_labels(models, values) -> dict:
    """Label of every vertex of each surface of a dlabel (0 where absent)."""
    labels = {}
    for name, piece, model in models.iter_structures():
        if model.volume_mask.any():
            continue
        full = np.zeros(model.nvertices[name], dtype=np.int64)
        full[model.vertex] = values[piece]
        labels[name] = full
    return labels


def _dlabel_volume(path, models, values) -> VolumeLabels | None:
    """The voxels a dlabel labels itself, on its volume grid (None if none)."""
    mask = models.volume_mask
    if not mask.any():
        return None
    labels = np.zeros(models.volume_shape, dtype=np.int64)
    labels[tuple(models.voxel[mask].T)] = values[mask]
    return VolumeLabels(path=Path(path), labels=labels, affine=models.affine)


def _subcortex_image(path: Path) -> VolumeLabels:
    """A 3D integer label NIfTI."""
    labels, affine = read_label_volume(path)
    return VolumeLabels(Path(path), labels, affine)


def _voxel_labels(image_path, models, values, subcortex, labels_path):
    """The atlas's voxel labels: the dlabel's own, a subcortical image's or None."""
    volume = _dlabel_volume(image_path, models, values)
    if volume is not None and str(subcortex) != NO_SUBCORTEX:
        raise ValueError(
            f"{image_path} labels subcortical voxels itself: set atlas 'subcortex' "
            f"to 'none' instead of {str(subcortex)!r}"
        )
    if str(subcortex) in (STRUCTURES, NO_SUBCORTEX):
        return volume
    if labels_path is None:
        raise ValueError(f"{subcortex}: a subcortical image needs atlas 'labels'")
    return _subcortex_image(Path(subcortex))


def _table_from_dlabel(label_table: dict, present: set) -> pd.DataFrame:
    """Regions named by a dlabel's label table: its keys that label vertices."""
    keys = sorted(present)
    return pd.DataFrame(
        {
            "index": keys,
            "name": [
                label_table[key][0] if key in label_table else str(key) for key in keys
            ],
            "network": "n/a",
        }
    )


def _structure_table(first_index: int) -> pd.DataFrame:
    """One region per standard subcortical structure, indexed after the cortex."""
    return pd.DataFrame(
        {
            "index": np.arange(len(STANDARD_SUBCORTEX)) + first_index,
            "name": list(STANDARD_SUBCORTEX),
            "network": "Subcortical",
        }
    )


def load_grayordinate_atlas(
    image_path: str | Path,
    labels_path: str | Path | None = None,
    subcortex: str | Path = STRUCTURES,
) -> GrayordinateAtlas:
    """Read a cortical dlabel, its subcortical source and its regions.

    Parameters
    ----------
    image_path : str or Path
        A ``.dlabel.nii`` with one map.
    labels_path : str or Path, optional
        TSV of regions (``index``, ``name``, optional ``network``) covering
        every label of the dlabel and of a subcortical image. Without it,
        names come from the dlabel's label table (not possible with a
        subcortical image).
    subcortex : str or Path
        ``"structures"``, ``"none"`` or a 3D label NIfTI on the data's volume
        grid.

    Returns
    -------
    GrayordinateAtlas

    Raises
    ------
    ValueError
        Naming the files when the table and the images disagree, when a
        whole-brain dlabel is given a second subcortical source, or when a
        subcortical image comes without a table.
    """
    image_path = Path(image_path)
    models, values, label_table = read_dlabel(image_path)
    surface_labels = _surface_labels(models, values)
    if not surface_labels:
        raise ValueError(f"{image_path}: labels no surface vertex")
    volume = _voxel_labels(image_path, models, values, subcortex, labels_path)
    in_atlas = set(np.unique(values[values > 0]).tolist())
    if volume is not None:
        in_atlas |= set(np.unique(volume.labels[volume.labels > 0]).tolist())
    if labels_path is None:
        regions = _table_from_dlabel(label_table, in_atlas)
    else:
        regions = read_region_table(labels_path)
        sources = {image_path, volume.path if volume is not None else image_path}
        files = " + ".join(str(path) for path in sorted(sources))
        check_region_table(regions, in_atlas, labels_path, files)
    structure_regions = {}
    if str(subcortex) == STRUCTURES:
        extra = _structure_table(int(regions["index"].max()) + 1)
        regions = pd.concat([regions, extra], ignore_index=True)
        names = [STRUCTURE_PREFIX + name for name in extra["name"]]
        structure_regions = dict(zip(names, extra["index"], strict=True))
    return GrayordinateAtlas(
        image_path=image_path,
        labels_path=None if labels_path is None else Path(labels_path),
        surface_labels=surface_labels,
        volume=volume,
        structure_regions=structure_regions,
        regions=regions.reset_index(drop=True),
    )


# -- matching the data's grayordinates ------------------------------------------


def _surface_grayordinate_labels(atlas, name, model) -> np.ndarray:
    """Labels of a surface's grayordinates (the mesh is checked beforehand)."""
    if name not in atlas.surface_labels:
        return np.zeros(len(model), dtype=np.int64)
    return atlas.surface_labels[name][model.vertex]


def check_same_mesh(atlas_path, atlas_vertices: dict, data_path, models) -> None:
    """Raise unless every surface of the data has the atlas's vertex count.

    Parameters
    ----------
    atlas_path, data_path : str or Path
        The files, for the message.
    atlas_vertices : dict
        Structure name -> vertices of the atlas's mesh of that surface.
    models : nibabel.cifti2.BrainModelAxis
        The data's grayordinates.
    """
    for name, n_data in models.nvertices.items():
        n_atlas = atlas_vertices.get(name, n_data)
        if n_atlas != n_data:
            raise ValueError(
                f"{atlas_path} has {n_atlas} vertices on {name}, but {data_path} "
                f"has {n_data}: the atlas is on another fsLR mesh (density) than "
                "the data; use one on the data's mesh"
            )


def _check_volume_space(atlas, models, data_path) -> None:
    """Raise unless the atlas's voxels are on the data's volume grid."""
    volume = atlas.volume
    same = tuple(models.volume_shape) == volume.labels.shape and np.allclose(
        models.affine, volume.affine, atol=AFFINE_TOLERANCE
    )
    if not same:
        raise ValueError(
            f"{volume.path} has grid {volume.labels.shape}, but the voxels of "
            f"{data_path} are on grid {tuple(models.volume_shape)} with another "
            "affine: the subcortical atlas is in another space or resolution"
        )


def _volume_grayordinate_labels(atlas, name, model, data_path) -> np.ndarray:
    """Labels of a structure's voxels, from the atlas's volume or the structure."""
    if atlas.structure_regions:
        short = name.removeprefix(STRUCTURE_PREFIX)
        if name not in atlas.structure_regions:
            raise ValueError(
                f"{data_path} holds structure {short}, which is not one of the "
                f"91k subcortical structures that 'subcortex: structures' names"
            )
        return np.full(len(model), atlas.structure_regions[name], dtype=np.int64)
    if atlas.volume is None:
        return np.zeros(len(model), dtype=np.int64)
    return atlas.volume.labels[tuple(model.voxel.T)]


def grayordinate_labels(
    atlas: GrayordinateAtlas, models: nib.cifti2.BrainModelAxis, data_path
) -> np.ndarray:
    """The region label of each grayordinate of the data (0: in no region).

    Raises
    ------
    ValueError
        Naming both files when the atlas is on another mesh or grid, or when
        a region has no grayordinate in the data.
    """
    labels = np.zeros(len(models), dtype=np.int64)
    surface_vertices = {name: len(v) for name, v in atlas.surface_labels.items()}
    check_same_mesh(atlas.image_path, surface_vertices, data_path, models)
    if models.volume_mask.any() and atlas.volume is not None:
        _check_volume_space(atlas, models, data_path)
    for name, piece, model in models.iter_structures():
        if model.volume_mask.any():
            labels[piece] = _volume_grayordinate_labels(atlas, name, model, data_path)
        else:
            labels[piece] = _surface_grayordinate_labels(atlas, name, model)
    empty = sorted(set(atlas.regions["index"]) - set(np.unique(labels).tolist()))
    if empty:
        names = atlas.regions.set_index("index").loc[empty, "name"].tolist()
        raise ValueError(
            f"{len(empty)} regions of {atlas.files} have no grayordinate in "
            f"{data_path}: {names[:10]}"
        )
    return labels


def _region_averaging(atlas: GrayordinateAtlas, data_path):
    """A dense CIFTI, its brain models and the matrix of its region means."""
    image = load_cifti(data_path, "dense time series")
    if image.ndim != 2:
        raise ValueError(f"{data_path}: expected a 2D dense CIFTI, got {image.ndim}D")
    models = brain_models(image, data_path)
    labels = grayordinate_labels(atlas, models, data_path)
    return image, models, label_averaging_matrix(labels, atlas.regions)


def _column_chunks(image, n_columns: int, chunk_columns: int | None) -> Iterator:
    """(columns, values) of consecutive grayordinate blocks of a dense CIFTI.

    Each grayordinate's series is contiguous in the file, so a block of
    columns is one contiguous read of a memory map.
    """
    n_rows = image.shape[0]
    itemsize = image.get_data_dtype().itemsize
    step = chunk_columns or max(1, CHUNK_BYTES // max(1, n_rows * itemsize))
    for start in range(0, n_columns, step):
        stop = min(start + step, n_columns)
        yield slice(start, stop), np.asarray(image.dataobj[:, start:stop], dtype=float)


def region_means(
    data_path: str | Path, atlas: GrayordinateAtlas, chunk_columns: int | None = None
) -> np.ndarray:
    """Mean time series of every region over its grayordinates.

    Parameters
    ----------
    data_path : str or Path
        A dense time series (``.dtseries.nii``).
    atlas : GrayordinateAtlas
    chunk_columns : int, optional
        Grayordinates read at a time; by default as many as fit in
        :data:`CHUNK_BYTES`.

    Returns
    -------
    numpy.ndarray
        (volumes, regions), float64, regions in atlas order.

    Raises
    ------
    ValueError
        Naming the files for data that are not a dense CIFTI, an atlas on
        another mesh or grid, or a region with no grayordinate in the data.
    """
    image, models, weights = _region_averaging(atlas, data_path)
    weights = weights.tocsc()
    means = np.zeros((image.shape[0], len(atlas.regions)))
    for columns, values in _column_chunks(image, len(models), chunk_columns):
        means += values @ weights[:, columns].T
    return means


# -- positions, for figures ----------------------------------------------------


def _surface_coordinates(path) -> np.ndarray:
    """Vertex coordinates (mm) of a surface GIFTI."""
    pointsets = [
        array.data
        for array in nib.load(path).darrays
        if array.intent == nib.nifti1.intent_codes["NIFTI_INTENT_POINTSET"]
    ]
    if not pointsets:
        raise ValueError(f"{path}: no vertex coordinates (POINTSET)")
    return np.asarray(pointsets[0], dtype=float)


def grayordinate_positions(models, surfaces: dict) -> np.ndarray:
    """World coordinates (mm) of every grayordinate.

    Parameters
    ----------
    models : nibabel.cifti2.BrainModelAxis
    surfaces : dict
        ``left`` and ``right``: surface GIFTI files on the data's mesh.
    """
    positions = np.zeros((len(models), 3))
    for name, piece, model in models.iter_structures():
        if model.volume_mask.any():
            positions[piece] = nib.affines.apply_affine(models.affine, model.voxel)
            continue
        surface = surfaces["left" if name.endswith("LEFT") else "right"]
        coordinates = _surface_coordinates(surface)
        if len(coordinates) != model.nvertices[name]:
            raise ValueError(
                f"{surface} has {len(coordinates)} vertices, the data "
                f"{model.nvertices[name]}"
            )
        positions[piece] = coordinates[model.vertex]
    return positions


def region_centroids(
    atlas: GrayordinateAtlas, data_path: str | Path, surfaces: dict
) -> np.ndarray:
    """Mean position of every region's grayordinates in a dense CIFTI (mm).

    Parameters
    ----------
    atlas : GrayordinateAtlas
    data_path : str or Path
        A dense CIFTI whose grayordinates place the regions.
    surfaces : dict
        ``left`` and ``right`` surface GIFTI files (e.g. midthickness).

    Returns
    -------
    numpy.ndarray
        (regions, 3), in region order.
    """
    _, models, weights = _region_averaging(atlas, data_path)
    return weights @ grayordinate_positions(models, surfaces)
