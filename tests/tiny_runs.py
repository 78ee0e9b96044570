"""A tiny run on disk under fMRIPrep's names: two one-voxel regions, ratings."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from painflow.atlas.volume import load_atlas
from painflow.signals.extract import RunFiles

STEM = "sub-01_task-rating_run-1"
REGIONS = ("A", "B")


def write_tiny_run(folder: Path, regions: np.ndarray, ratings: np.ndarray, tr: float):
    """Write a run whose region ``k`` is voxel ``k``, and its rating recording.

    The recording has one sample at the middle of each volume, so the rating
    paired with a volume is exactly ``ratings`` at that volume.

    Returns
    -------
    files : RunFiles
        The confounds path is where :func:`write_confounds` writes.
    atlas : painflow.atlas.volume.Atlas
    """
    folder.mkdir(parents=True, exist_ok=True)
    data = np.asarray(regions, dtype=float).T.reshape(len(REGIONS), 1, 1, -1)
    bold = folder / f"{STEM}_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), bold)
    labels = np.arange(1, len(REGIONS) + 1, dtype=np.int16).reshape(-1, 1, 1)
    nib.save(nib.Nifti1Image(labels, np.eye(4)), folder / "atlas.nii.gz")
    pd.DataFrame({"index": [1, 2], "name": list(REGIONS)}).to_csv(
        folder / "atlas.tsv", sep="\t", index=False
    )
    recording = folder / f"{STEM}_recording-rating_physio.tsv.gz"
    with gzip.open(recording, "wt") as stream:
        stream.write("".join(f"{float(value)!r}\n" for value in ratings))
    sidecar = {"SamplingFrequency": 1.0 / tr, "StartTime": tr / 2, "Columns": ["pain"]}
    recording.with_name(f"{STEM}_recording-rating_physio.json").write_text(
        json.dumps(sidecar)
    )
    files = RunFiles(
        bold=bold,
        confounds=folder / f"{STEM}_desc-confounds_timeseries.tsv",
        ratings=recording,
    )
    return files, load_atlas(folder / "atlas.nii.gz", folder / "atlas.tsv")


def write_confounds(files: RunFiles, table: pd.DataFrame, sidecar: dict | None):
    """Write a confounds table (and its JSON sidecar) beside the run's BOLD."""
    table.to_csv(files.confounds, sep="\t", index=False, na_rep="n/a")
    if sidecar is not None:
        files.confounds.with_suffix(".json").write_text(json.dumps(sidecar))


def still_head(
    n_volumes: int,
    non_steady: np.ndarray | None = None,
    std_dvars: np.ndarray | None = None,
) -> pd.DataFrame:
    """A confounds table of a head that never moves.

    Parameters
    ----------
    n_volumes : int
    non_steady : numpy.ndarray, optional
        Boolean (volumes,): one ``non_steady_state_outlierXX`` column per
        flagged volume, as fMRIPrep writes them.
    std_dvars : numpy.ndarray, optional
        A ``std_dvars`` column.
    """
    table = pd.DataFrame(
        0.0,
        index=range(n_volumes),
        columns=["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"],
    )
    if std_dvars is not None:
        table.insert(0, "std_dvars", std_dvars)
    flagged = [] if non_steady is None else np.flatnonzero(non_steady)
    for number, volume in enumerate(flagged):
        table[f"non_steady_state_outlier{number:02d}"] = (
            np.arange(n_volumes) == volume
        ).astype(float)
    return table
