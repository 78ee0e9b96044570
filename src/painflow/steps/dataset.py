"""Step ``describe_dataset``: the output's description and the sessions' scan order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from painflow import __version__
from painflow.core.fileio import write_json, write_tsv
from painflow.inputs.fmriprep import DOCKER_IMAGE, FMRIPREP_VERSION
from painflow.inputs.scanorder import (
    ORDER_ASSUMED,
    SCAN_ORDER_COLUMNS,
    assumed_order_warning,
    sessions_table_path,
)
from painflow.workflow.logs import log


def describe_dataset(
    bids_dir: str,
    fmriprep_dir: str,
    scan_order: list[dict],
    description_out: str,
    scan_order_out: str,
    fmriprep_run: dict | None = None,
) -> None:
    """Describe the outputs: ``dataset_description.json`` and the scan order.

    Parameters
    ----------
    bids_dir, fmriprep_dir : str
        The source datasets.
    scan_order : list of dict
        Rows of :func:`painflow.inputs.dataset.scan_order_table`; a subject whose
        order was assumed from its labels is warned about in the log.
    description_out, scan_order_out : str
        Destinations of the description and the scan-order table.
    fmriprep_run : dict or None
        The config's ``fmriprep`` section when painflow ran fMRIPrep, which
        then appears in ``GeneratedBy`` with its version and container.
    """
    description = {
        "Name": "painflow personalized pain decoding",
        "BIDSVersion": "1.10.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "painflow",
                "Version": __version__,
                "CodeURL": "https://github.com/painflow/painflow",
            }
        ],
        "SourceDatasets": [
            {"URL": Path(bids_dir).resolve().as_uri()},
            {"URL": Path(fmriprep_dir).resolve().as_uri()},
        ],
    }
    if fmriprep_run is not None:
        description["GeneratedBy"].append(fmriprep_generator(fmriprep_run))
    write_json(description_out, description)
    order = pd.DataFrame(scan_order, columns=list(SCAN_ORDER_COLUMNS))
    assumed = order.loc[order["order_source"] == ORDER_ASSUMED, "subject"]
    for subject in dict.fromkeys(assumed):
        log.warning(
            assumed_order_warning(subject, sessions_table_path(Path(bids_dir), subject))
        )
    write_tsv(scan_order_out, order)


def fmriprep_generator(fmriprep_run: dict) -> dict:
    """The ``GeneratedBy`` entry of an fMRIPrep run by painflow."""
    entry = {"Name": "fMRIPrep", "Version": FMRIPREP_VERSION}
    if fmriprep_run["engine"] == "docker":
        entry["Container"] = {"Type": "docker", "Tag": DOCKER_IMAGE}
    elif fmriprep_run["engine"] == "apptainer":
        uri = Path(fmriprep_run["image"]).resolve().as_uri()
        entry["Container"] = {"Type": "apptainer", "URI": uri}
    return entry
