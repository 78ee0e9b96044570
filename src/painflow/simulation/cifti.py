"""CIFTI-2 outputs of a simulated study, named as fMRIPrep's fsLR 91k outputs.

The simulated BOLD lives on a coarse MNI voxel grid, so its grayordinates are
those voxels, relabelled rather than resampled: voxels of the subcortical and
cerebellar AAL regions stay voxels (volume brain models, as in fMRIPrep's 91k
space) and every voxel of a cortical region stands for one vertex of the fsLR
32k surface of its hemisphere. Values are copied unchanged, so the mean of a
region over its grayordinates equals its mean over voxels in the NIfTI outputs.

Files written beside the NIfTI ones:

- per run, ``*_space-fsLR_den-91k_bold.dtseries.nii`` and its JSON sidecar;
- under ``atlas/``, the cortical regions as a dlabel, the volume regions as a
  label NIfTI on the dtseries' volume grid, and left and right midthickness
  surfaces whose used vertices sit at their voxels' MNI coordinates.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.cifti2 import (
    BrainModelAxis,
    Cifti2Header,
    Cifti2Image,
    Cifti2Matrix,
    SeriesAxis,
)
from scipy.spatial import Delaunay

from painflow.atlas.dlabel import dlabel_image as atlas_dlabel
from painflow.atlas.dlabel import label_colour
from painflow.core.bids import bids_name
from painflow.core.fileio import write_bytes, write_json
from painflow.inputs.dataset import DatasetSpec, preproc_bold_path
from painflow.simulation.generative import AtlasGrid
from painflow.simulation.writers import (
    ATLAS_NAME,
    RATING_RECORDING,
    TASK,
    atlas_paths,
    nifti_image,
    write_nifti,
)

SPACE = "fsLR"
DENSITY = "91k"
SURFACE_DENSITY = "32k"
FSLR_VERTICES = 32492  # vertices of one fsLR 32k hemisphere
CORTEX = ("CIFTI_STRUCTURE_CORTEX_LEFT", "CIFTI_STRUCTURE_CORTEX_RIGHT")
# AAL regions that fMRIPrep's 91k space keeps as voxels, by name prefix; each
# maps to CIFTI_STRUCTURE_<PREFIX>_LEFT/RIGHT. The cerebellum is handled apart.
VOLUME_PREFIXES = (
    "Caudate",
    "Putamen",
    "Pallidum",
    "Thalamus",
    "Amygdala",
    "Hippocampus",
)
_SIDES = {"L": "LEFT", "R": "RIGHT"}
_GIFTI_STRUCTURES = {
    "CIFTI_STRUCTURE_CORTEX_LEFT": "CortexLeft",
    "CIFTI_STRUCTURE_CORTEX_RIGHT": "CortexRight",
}


def cifti_structure(name: str) -> str:
    """Return the CIFTI brain structure of an AAL region.

    Parameters
    ----------
    name : str
        An AAL region name, e.g. ``"Caudate_L"``.

    Returns
    -------
    str
        ``CIFTI_STRUCTURE_CEREBELLUM`` for the vermis,
        ``CIFTI_STRUCTURE_CEREBELLUM_<SIDE>`` for the cerebellar hemispheres,
        ``CIFTI_STRUCTURE_<NAME>_<SIDE>`` for the subcortical volume regions
        and ``CIFTI_STRUCTURE_CORTEX_<SIDE>`` for every other region.

    Raises
    ------
    ValueError
        For a region other than the vermis without an ``_L``/``_R`` suffix.
    """
    if name.startswith("Vermis"):
        return "CIFTI_STRUCTURE_CEREBELLUM"
    side = _SIDES.get(name.rpartition("_")[2])
    if side is None:
        raise ValueError(f"AAL region {name!r} has no _L or _R suffix")
    if name.startswith("Cerebelum"):
        return f"CIFTI_STRUCTURE_CEREBELLUM_{side}"
    for prefix in VOLUME_PREFIXES:
        if name.startswith(prefix):
            return f"CIFTI_STRUCTURE_{prefix.upper()}_{side}"
    return f"CIFTI_STRUCTURE_CORTEX_{side}"


def spread_vertices(n: int) -> np.ndarray:
    """Return ``n`` distinct increasing vertex indices spread over a hemisphere.

    Parameters
    ----------
    n : int
        Vertices to use, at most :data:`FSLR_VERTICES`.

    Returns
    -------
    numpy.ndarray
        Integers in ``0 .. FSLR_VERTICES - 1``, evenly spaced; the others stay
        unused, as fMRIPrep leaves the medial wall out.

    Raises
    ------
    ValueError
        When a hemisphere has more voxels than vertices (a grid too fine).
    """
    if n > FSLR_VERTICES:
        raise ValueError(
            f"{n} cortical voxels in a hemisphere exceed the {FSLR_VERTICES} "
            "fsLR 32k vertices; use a coarser voxel_size"
        )
    return np.arange(n) * FSLR_VERTICES // n


@dataclass(frozen=True, eq=False)
class Grayordinates:
    """The grayordinates of the simulation grid, in fMRIPrep's 91k order.

    Attributes
    ----------
    axis : nibabel.cifti2.BrainModelAxis
        CORTEX_LEFT and CORTEX_RIGHT surface models, then the volume
        structures in alphabetical order (the order of HCP's 91k files), each
        in increasing vertex or voxel order.
    columns : numpy.ndarray
        For every grayordinate, its column in ``(volumes, voxels)`` data of
        the in-atlas voxels (:attr:`AtlasGrid.mask` order).
    """

    axis: BrainModelAxis
    columns: np.ndarray

    @classmethod
    def from_atlas(cls, atlas: AtlasGrid) -> Grayordinates:
        """Map the atlas's voxels to grayordinates.

        Parameters
        ----------
        atlas : AtlasGrid

        Returns
        -------
        Grayordinates
        """
        region_structures = [cifti_structure(name) for name in atlas.table["name"]]
        structures = np.array(region_structures)[atlas.voxel_regions]
        ijk = np.argwhere(atlas.mask)  # C order, the order of mask columns
        volumes = sorted(set(region_structures) - set(CORTEX))
        models, columns = [], []
        for name in (*CORTEX, *volumes):
            selected = np.flatnonzero(structures == name)
            if name in CORTEX:
                vertices = spread_vertices(len(selected))
                model = BrainModelAxis.from_surface(vertices, FSLR_VERTICES, name)
            else:
                model = BrainModelAxis(
                    name,
                    voxel=ijk[selected],
                    affine=atlas.affine,
                    volume_shape=atlas.labels.shape,
                )
            models.append(model)
            columns.append(selected)
        axis = functools.reduce(operator.add, models)
        return cls(axis=axis, columns=np.concatenate(columns))

    def surface(self, structure: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the vertices of a cortex and the voxel column of each.

        Parameters
        ----------
        structure : str
            One of :data:`CORTEX`.

        Returns
        -------
        vertices, columns : numpy.ndarray
        """
        for name, section, model in self.axis.iter_structures():
            if name == structure:
                return model.vertex, self.columns[section]
        raise ValueError(f"no brain model {structure}")

    @functools.cached_property
    def _brain_models(self):
        """The brain models' CIFTI index map, built once (slow on 91k models)."""
        return self.axis.to_mapping(1)

    def dtseries(self, bold: np.ndarray, tr: float) -> Cifti2Image:
        """Place a run's voxel series on the grayordinates.

        Parameters
        ----------
        bold : numpy.ndarray
            ``(volumes, voxels)`` series of the in-atlas voxels.
        tr : float
            Repetition time (s).

        Returns
        -------
        nibabel.cifti2.Cifti2Image
            ``(volumes, grayordinates)`` float32 dense time series.
        """
        series = SeriesAxis(start=0.0, step=tr, size=len(bold), unit="SECOND")
        data = np.asarray(bold, dtype=np.float32)[:, self.columns]
        matrix = Cifti2Matrix()
        matrix.append(series.to_mapping(0))
        matrix.append(self._brain_models)
        image = Cifti2Image(data, header=Cifti2Header(matrix))
        image.nifti_header.set_intent("ConnDenseSeries")
        image.nifti_header.set_data_dtype(np.float32)
        return image

    def run_images(
        self,
        bids_dir: Path,
        fmriprep_dir: Path,
        entities: dict,
        bold: np.ndarray,
        tr: float,
    ) -> list[tuple[Path, Cifti2Image]]:
        """Write a run's dtseries sidecar; return the dtseries with its path.

        Parameters
        ----------
        bids_dir, fmriprep_dir : Path
            The raw dataset and its fMRIPrep derivatives.
        entities : dict
            The run's subject, session, task and run.
        bold : numpy.ndarray
            ``(volumes, voxels)`` preprocessed series of the in-atlas voxels.
        tr : float
            Repetition time (s).

        Returns
        -------
        list of (Path, Cifti2Image)
            The image for the caller to write, e.g. in the background.
        """
        path = preproc_bold_path(cifti_spec(bids_dir, fmriprep_dir), entities)
        write_json(
            path.with_name(path.name.split(".")[0] + ".json"),
            {"RepetitionTime": tr, "TaskName": entities["task"]},
        )
        return [(path, self.dtseries(bold, tr))]


def cifti_spec(bids_dir: Path, fmriprep_dir: Path) -> DatasetSpec:
    """Return the dataset spec under which the workflow finds the dtseries.

    Parameters
    ----------
    bids_dir, fmriprep_dir : Path
        The raw dataset and its fMRIPrep derivatives.

    Returns
    -------
    DatasetSpec
        Space fsLR, density 91k, no resolution.
    """
    return DatasetSpec(
        bids_dir=Path(bids_dir),
        fmriprep_dir=Path(fmriprep_dir),
        task=TASK,
        space=SPACE,
        res=None,
        den=DENSITY,
        recording=RATING_RECORDING,
        subjects=(),
        check_derivatives=True,
    )


def cifti_atlas_paths(out_dir: str | Path) -> dict[str, Path]:
    """Return the paths of the grayordinate atlas files of a dataset.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root.

    Returns
    -------
    dict
        ``image`` (cortical dlabel), ``subcortex`` (label NIfTI of the volume
        regions), ``left`` and ``right`` (midthickness surfaces).
    """
    folder = Path(out_dir) / "atlas"
    grid = {"space": SPACE, "den": DENSITY}
    paths = {
        "image": bids_name(grid, "dseg", ".dlabel.nii"),
        "subcortex": bids_name({**grid, "desc": "subcortex"}, "dseg", ".nii.gz"),
    }
    paths = {key: folder / f"atlas-{ATLAS_NAME}_{name}" for key, name in paths.items()}
    # TemplateFlow's surface names: tpl and hemi are not BIDS raw entities.
    for side, hemi in (("left", "L"), ("right", "R")):
        name = f"tpl-{SPACE}_den-{SURFACE_DENSITY}_hemi-{hemi}_desc-simulated"
        paths[side] = folder / f"{name}_midthickness.surf.gii"
    return paths


def dlabel_image(atlas: AtlasGrid, grayordinates: Grayordinates) -> Cifti2Image:
    """Build the dlabel of the cortical regions on every fsLR 32k vertex.

    Parameters
    ----------
    atlas : AtlasGrid
    grayordinates : Grayordinates

    Returns
    -------
    nibabel.cifti2.Cifti2Image
        One label map; key 0 (``???``) at unused vertices, the AAL index
        elsewhere, named after the region.
    """
    voxel_labels = atlas.labels[atlas.mask]
    data, models = [], []
    for structure in CORTEX:
        vertices, columns = grayordinates.surface(structure)
        values = np.zeros(FSLR_VERTICES, dtype=np.float32)
        values[vertices] = voxel_labels[columns]
        data.append(values)
        all_vertices = np.arange(FSLR_VERTICES)
        models.append(
            BrainModelAxis.from_surface(all_vertices, FSLR_VERTICES, structure)
        )
    cortical = {
        int(index): (name, label_colour(int(index)))
        for index, name in zip(atlas.table["index"], atlas.table["name"], strict=True)
        if cifti_structure(name) in CORTEX
    }
    return atlas_dlabel(
        np.concatenate(data), models[0] + models[1], cortical, ATLAS_NAME
    )


def subcortex_image(atlas: AtlasGrid, grayordinates: Grayordinates) -> nib.Nifti1Image:
    """Build the label image of the volume regions on the dtseries' voxel grid.

    Parameters
    ----------
    atlas : AtlasGrid
    grayordinates : Grayordinates

    Returns
    -------
    nibabel.Nifti1Image
        int16 AAL indices of the volume grayordinates' voxels, 0 elsewhere.
    """
    axis = grayordinates.axis
    voxels = axis.voxel[axis.volume_mask]
    columns = grayordinates.columns[axis.volume_mask]
    data = np.zeros(axis.volume_shape, dtype=np.int16)
    data[tuple(voxels.T)] = atlas.labels[atlas.mask][columns]
    return nifti_image(data, axis.affine, xform_code=4)


def _triangles(points: np.ndarray) -> np.ndarray:
    """Triangles over the points, from a Delaunay mesh of their lateral view.

    Points that share a lateral (y, z) position are left out of every triangle.
    """
    return Delaunay(points[:, 1:]).simplices


def surface_image(
    atlas: AtlasGrid, grayordinates: Grayordinates, structure: str
) -> nib.gifti.GiftiImage:
    """Build a midthickness surface whose vertices sit on their voxels.

    Parameters
    ----------
    atlas : AtlasGrid
    grayordinates : Grayordinates
    structure : str
        One of :data:`CORTEX`.

    Returns
    -------
    nibabel.gifti.GiftiImage
        A float32 pointset of :data:`FSLR_VERTICES` MNI coordinates (mm), the
        unused vertices at the hemisphere's mean, and int32 triangles.
    """
    vertices, columns = grayordinates.surface(structure)
    ijk = np.argwhere(atlas.mask)[columns]
    xyz = nib.affines.apply_affine(atlas.affine, ijk)
    coordinates = np.repeat(xyz.mean(axis=0, keepdims=True), FSLR_VERTICES, axis=0)
    coordinates[vertices] = xyz
    mni = nib.gifti.GiftiCoordSystem(
        dataspace="NIFTI_XFORM_MNI_152", xformspace="NIFTI_XFORM_MNI_152"
    )
    primary = _GIFTI_STRUCTURES[structure]
    pointset = nib.gifti.GiftiDataArray(
        coordinates.astype(np.float32),
        intent="NIFTI_INTENT_POINTSET",
        datatype="NIFTI_TYPE_FLOAT32",
        coordsys=mni,
        meta=nib.gifti.GiftiMetaData(
            AnatomicalStructurePrimary=primary,
            AnatomicalStructureSecondary="MidThickness",
            GeometricType="Anatomical",
        ),
    )
    triangles = nib.gifti.GiftiDataArray(
        vertices[_triangles(xyz)].astype(np.int32),
        intent="NIFTI_INTENT_TRIANGLE",
        datatype="NIFTI_TYPE_INT32",
    )
    return nib.gifti.GiftiImage(
        meta=nib.gifti.GiftiMetaData(AnatomicalStructurePrimary=primary),
        darrays=[pointset, triangles],
    )


def write_cifti_atlas(
    out_dir: str | Path, atlas: AtlasGrid, grayordinates: Grayordinates
) -> dict:
    """Write the grayordinate atlas files; return their ground truth entry.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root; the region table is the one
        :func:`painflow.simulation.writers.atlas_paths` names.
    atlas : AtlasGrid
    grayordinates : Grayordinates

    Returns
    -------
    dict
        ``name``, ``image`` (dlabel), ``subcortex``, ``labels`` (region
        table) and ``surfaces`` (``left``, ``right``), as paths relative to
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    paths = cifti_atlas_paths(out_dir)
    write_bytes(paths["image"], dlabel_image(atlas, grayordinates).to_bytes())
    write_nifti(paths["subcortex"], subcortex_image(atlas, grayordinates))
    for side, structure in zip(("left", "right"), CORTEX, strict=True):
        surface = surface_image(atlas, grayordinates, structure)
        write_bytes(paths[side], surface.to_bytes())
    _, table_path = atlas_paths(out_dir, int(atlas.voxel_size))

    def relative(path: Path) -> str:
        return path.relative_to(out_dir).as_posix()

    return {
        "name": ATLAS_NAME,
        "image": relative(paths["image"]),
        "subcortex": relative(paths["subcortex"]),
        "labels": relative(table_path),
        "surfaces": {side: relative(paths[side]) for side in ("left", "right")},
    }
