"""Step ``extract_signals``: a run's cleaned region series and QC sidecar."""

from __future__ import annotations

import warnings
from pathlib import Path

from painflow import __version__
from painflow.atlas.configured import load_configured_atlas
from painflow.core.fileio import write_json, write_tsv
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.extract import (
    MOTION_SUMMARIES,
    AlignmentSettings,
    RunFiles,
    extract_run,
)


def extract_signals(
    bold: str,
    confounds: str,
    ratings: str | None,
    atlas_image: str,
    atlas_labels: str | None,
    atlas_subcortex: str,
    tr: float,
    denoise: dict,
    alignment: dict,
    rating_column: str,
    timeseries_out: str,
    qc_out: str,
) -> None:
    """Write a run's cleaned region series paired with ratings, and its QC sidecar.

    Parameters
    ----------
    bold, confounds, ratings : str
        fMRIPrep's preprocessed BOLD and confounds, and the rating recording
        (None: a run to predict without ratings; its ratings are NaN).
    atlas_image, atlas_labels : str
        The atlas label image (NIfTI or dlabel) and its TSV (None: the
        dlabel's own names).
    atlas_subcortex : str
        A dlabel's subcortical regions: ``structures``, ``none`` or a label
        NIfTI (:func:`painflow.atlas.configured.load_configured_atlas`).
    tr : float
        Repetition time (s).
    denoise, alignment : dict
        Config sections ``denoise`` and ``alignment``.
    rating_column : str
        Name of the rating in the recording.
    timeseries_out, qc_out : str
        Destinations of the TSV and its JSON sidecar.
    """
    atlas = load_configured_atlas(atlas_image, atlas_labels, atlas_subcortex)
    table, qc = extract_run(
        RunFiles(
            bold=Path(bold),
            confounds=Path(confounds),
            ratings=Path(ratings) if ratings is not None else None,
        ),
        tr=tr,
        atlas=atlas,
        denoise=DenoiseSettings(**denoise),
        align=AlignmentSettings(**alignment),
        rating_column=rating_column,
    )
    if not qc["included"]:
        warnings.warn(f"{bold}: run left out: {qc['reason']}", stacklevel=1)
    qc.update(
        {
            "Sources": [str(path) for path in (bold, confounds, ratings) if path],
            "Atlas": str(atlas_image),
            "RegionNames": atlas.names,
            "RegionNetworks": atlas.regions["network"].tolist(),
            "MotionColumns": list(MOTION_SUMMARIES),
            "painflow_version": __version__,
        }
    )
    write_tsv(timeseries_out, table)
    write_json(qc_out, qc)
