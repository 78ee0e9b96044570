"""Step ``individual_parcellation``: a subject's own atlas from their rest runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from painflow import __version__
from painflow.atlas.configured import INDIVIDUAL
from painflow.atlas.dlabel import cortex_dlabel
from painflow.atlas.networks import NO_NETWORK
from painflow.core.fileio import write_bytes, write_json, write_tsv
from painflow.parcellation.individual import (
    IndividualAtlas,
    IndividualSettings,
    RestRun,
    individual_atlas,
)
from painflow.report.surfaceplots import plot_individual_atlas
from painflow.signals.confounds import DenoiseSettings

TABLE_COLUMNS = ["index", "name", "network"]


def kept_parcels(atlas: IndividualAtlas, exclude: tuple) -> pd.DataFrame:
    """The parcels whose network is not excluded."""
    return atlas.table[~atlas.table["network"].isin(list(exclude))]


def atlas_image(atlas: IndividualAtlas, kept: pd.DataFrame):
    """The dlabel of the kept parcels on the data's cortex."""
    labels = np.where(np.isin(atlas.labels, kept["index"]), atlas.labels, 0)
    columns = atlas.columns
    return cortex_dlabel(
        columns.by_hemisphere(labels),
        columns.vertices,
        columns.n_surface,
        kept,
        f"atlas-{INDIVIDUAL}",
    )


def description(
    atlas: IndividualAtlas, kept: pd.DataFrame, sources: list, parameters: dict
) -> dict:
    """The dlabel's sidecar: sources, parameters and counts."""
    table = atlas.table
    networks = table["network"].replace("", "none").value_counts().sort_index()
    return {
        "Description": "Individual cortical parcels (boundary mapping, watershed) "
        "and their networks (Infomap), from the subject's rest runs",
        "Sources": sources,
        "Parameters": parameters,
        "RestRuns": atlas.runs.to_dict(orient="records"),
        "NumberOfFrames": int(atlas.runs["n_kept"].sum()),
        "NumberOfParcels": len(table),
        "NumberOfParcelsKept": len(kept),
        "ParcelsPerNetwork": {str(k): int(v) for k, v in networks.items()},
        "BoundaryVertices": int((atlas.labels == 0).sum()),
        "ParcelSizeMedian": float(table["n_vertices"].median()),
        "HomogeneityMean": float(np.nanmean(table["homogeneity"])),
        "Parcels": table[["index", "n_vertices", "homogeneity"]].to_dict(
            orient="records"
        ),
        "painflow_version": __version__,
    }


def individual_parcellation(
    bold: list,
    confounds: list,
    trs: list,
    surfaces: dict,
    denoise: dict,
    individual: dict,
    seed: int,
    image_out: str,
    labels_out: str,
    description_out: str,
    figure_out: str,
) -> None:
    """Write a subject's individual atlas: dlabel, region table and sidecar.

    Parameters
    ----------
    bold, confounds : list of str
        The subject's rest runs' dense time series and confounds tables.
    trs : list of float
        Their repetition times (s).
    surfaces : dict
        ``left``/``right`` midthickness of the data's mesh.
    denoise, individual : dict
        Config sections ``denoise`` and ``individual``.
    seed : int
        Config ``seed`` (Infomap's).
    image_out, labels_out, description_out, figure_out : str
        Destinations of the dlabel, its TSV (``index``, ``name``,
        ``network``), the dlabel's JSON sidecar and a figure of the parcels
        and networks on the surface.
    """
    settings = IndividualSettings.from_config(individual)
    runs = [
        RestRun(Path(b), Path(c), float(tr))
        for b, c, tr in zip(bold, confounds, trs, strict=True)
    ]
    with tempfile.TemporaryDirectory(prefix="painflow-rest-") as workdir:
        atlas = individual_atlas(
            runs, surfaces, DenoiseSettings(**denoise), settings, seed, Path(workdir)
        )
    kept = kept_parcels(atlas, settings.exclude_networks)
    write_bytes(image_out, atlas_image(atlas, kept).to_bytes())
    # A parcel without a network is "n/a" in a region table, as in named atlases.
    write_tsv(labels_out, kept[TABLE_COLUMNS].replace({"network": {"": NO_NETWORK}}))
    parameters = {**individual, "seed": seed, "surfaces": surfaces}
    write_json(description_out, description(atlas, kept, list(bold), parameters))
    plot_atlas(atlas, surfaces, figure_out)


def plot_atlas(atlas: IndividualAtlas, surfaces: dict, path: str) -> None:
    """Every parcel found and its network on the surface, with sizes."""
    columns = atlas.columns
    labels = columns.by_hemisphere(atlas.labels)
    title = f"Individual parcellation: {len(atlas.table)} parcels"
    plot_individual_atlas(
        labels,
        columns.vertices,
        columns.n_surface,
        atlas.table,
        surfaces,
        title,
        path,
    )
