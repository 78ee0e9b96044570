"""A subject's individual atlas from their rest runs, end to end.

Rest runs are smoothed on the surface, cleaned and band-passed
(:mod:`painflow.parcellation.restdata`), each demeaned; their correlation
maps are accumulated run by run, so that neither a vertex x vertex matrix
nor every run's frames are in memory at once. The edge map
(:mod:`painflow.parcellation.boundary`) gives the parcels
(:mod:`painflow.parcellation.parcels`), and Infomap on the parcels' mean
series gives their networks (:mod:`painflow.parcellation.networks`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from painflow.parcellation.boundary import (
    BoundarySettings,
    CorrelationAccumulator,
    edge_map,
    similarity_targets,
)
from painflow.parcellation.mesh import (
    Cortex,
    CortexColumns,
    cortex_columns,
    parcel_centroid_distances,
)
from painflow.parcellation.networks import (
    NetworkSettings,
    parcel_networks,
    template_networks,
)
from painflow.parcellation.parcels import ParcelSettings, create_parcels
from painflow.parcellation.restdata import clean_rest_run, rest_settings
from painflow.parcellation.workbench import smooth_dtseries
from painflow.signals.confounds import DenoiseSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndividualSettings:
    """The individual parcellation's choices (config key ``individual``).

    Attributes
    ----------
    smoothing_fwhm_mm : float
        Surface smoothing of the rest runs (0: none).
    band_hz : tuple of float
        Band-pass of the rest runs.
    min_frames : int
        Fewest kept frames over all rest runs.
    boundary, parcels, networks
        The steps' own settings.
    exclude_networks : tuple of str
        Networks whose parcels leave the atlas.
    """

    smoothing_fwhm_mm: float
    band_hz: tuple
    min_frames: int
    boundary: BoundarySettings
    parcels: ParcelSettings
    networks: NetworkSettings
    exclude_networks: tuple

    @classmethod
    def from_config(cls, individual: dict) -> IndividualSettings:
        """The settings of a validated config's ``individual`` section."""
        return cls(
            smoothing_fwhm_mm=float(individual["smoothing_fwhm_mm"]),
            band_hz=(individual["high_pass_hz"], individual["low_pass_hz"]),
            min_frames=int(individual["min_frames"]),
            boundary=BoundarySettings(
                similarity_stride=individual["similarity_stride"],
                gradient_sigma_mm=individual["gradient_sigma_mm"],
                chunk_maps=individual["chunk_maps"],
            ),
            parcels=ParcelSettings(
                merge_percentile=individual["merge_percentile"],
                boundary_percentile=individual["boundary_percentile"],
                min_parcel_vertices=individual["min_parcel_vertices"],
                min_isolated_vertices=individual["min_isolated_vertices"],
            ),
            networks=NetworkSettings(
                densities=tuple(individual["network_densities"]),
                min_distance_mm=individual["network_min_distance_mm"],
                min_community_parcels=individual["min_community_parcels"],
                min_jaccard=individual["min_jaccard"],
                infomap_trials=individual["infomap_trials"],
            ),
            exclude_networks=tuple(individual["exclude_networks"]),
        )


@dataclass(frozen=True)
class RestRun:
    """One rest run's inputs: fMRIPrep's dense time series, confounds, TR."""

    bold: Path
    confounds: Path
    tr: float


@dataclass(frozen=True)
class IndividualAtlas:
    """A subject's parcels and networks, with what made them.

    Attributes
    ----------
    columns : CortexColumns
        The data's cortex.
    labels : numpy.ndarray
        Parcel of each cortex column (0: boundary or left out).
    table : pandas.DataFrame
        ``index``, ``name``, ``network``, ``hemisphere``, ``n_vertices``,
        ``homogeneity`` of every parcel found (excluded ones too).
    edges : numpy.ndarray
        The edge-density map.
    densities : pandas.DataFrame
        Infomap's communities per density.
    runs : pandas.DataFrame
        Each rest run's ``bold``, ``n_volumes``, ``n_censored``, ``included``.
    """

    columns: CortexColumns
    labels: np.ndarray
    table: pd.DataFrame
    edges: np.ndarray
    densities: pd.DataFrame
    runs: pd.DataFrame


def parcel_average(labels: np.ndarray) -> sparse.csr_matrix:
    """The (parcels x columns) matrix that averages each parcel's columns."""
    parcels = np.unique(labels[labels > 0])
    columns = np.flatnonzero(labels > 0)
    rows = np.searchsorted(parcels, labels[columns])
    sizes = np.bincount(rows, minlength=parcels.size)
    weights = 1.0 / sizes[rows]
    return sparse.csr_matrix(
        (weights, (rows, columns)), shape=(parcels.size, labels.size)
    )


class HomogeneityAccumulator:
    """Each parcel's vertex correlations over runs, for its first component's share.

    Runs are demeaned one by one, as for the correlation maps; the result is
    :func:`painflow.parcellation.parcels.parcel_homogeneity` of the demeaned
    runs joined, without holding them at once.
    """

    def __init__(self, labels: np.ndarray):
        self.members = [
            np.flatnonzero(labels == parcel) for parcel in np.unique(labels[labels > 0])
        ]
        self.gram = [np.zeros((m.size, m.size)) for m in self.members]

    def add(self, series: np.ndarray) -> None:
        """Add one run (frames x columns)."""
        for members, gram in zip(self.members, self.gram, strict=True):
            block = series[:, members].astype(float)
            block -= block.mean(axis=0)
            gram += block.T @ block

    def homogeneity(self) -> np.ndarray:
        """Share of each parcel's variance that its first component explains."""
        shares = []
        for gram in self.gram:
            scale = np.sqrt(np.diag(gram))
            varying = scale > 0
            if not varying.any():
                shares.append(np.nan)
                continue
            gram = gram[np.ix_(varying, varying)] / np.outer(
                scale[varying], scale[varying]
            )
            eigenvalues = np.linalg.eigvalsh(gram)
            shares.append(eigenvalues[-1] / eigenvalues.sum())
        return np.asarray(shares)


def _clean_runs(runs, columns, surfaces, denoise, settings, workdir: Path) -> tuple:
    """Smooth and clean every rest run; their values saved under ``workdir``."""
    cleaning = rest_settings(denoise, settings.band_hz)
    saved, records = [], []
    for number, run in enumerate(runs):
        found = cortex_columns(run.bold)
        if not np.array_equal(found.all_columns, columns.all_columns):
            raise ValueError(
                f"{run.bold}: its cortex columns differ from those of {runs[0].bold}"
            )
        smoothed = None
        if settings.smoothing_fwhm_mm > 0:
            smoothed = workdir / f"run{number}_smoothed.dtseries.nii"
            smooth_dtseries(
                run.bold,
                smoothed,
                settings.smoothing_fwhm_mm,
                surfaces["left"],
                surfaces["right"],
            )
        cleaned = clean_rest_run(
            run.bold, run.confounds, run.tr, cleaning, columns, values_from=smoothed
        )
        if smoothed is not None:
            smoothed.unlink()
        included = cleaned is not None
        records.append(
            {
                "bold": str(run.bold),
                "n_volumes": cleaned.n_volumes if included else None,
                "n_kept": len(cleaned.values) if included else 0,
                "included": included,
            }
        )
        if not included:
            log.warning("%s: rest run left out: too many censored volumes", run.bold)
            continue
        path = workdir / f"run{number}.npy"
        np.save(path, cleaned.values)
        saved.append(path)
    return saved, pd.DataFrame(records)


def _check_frames(records: pd.DataFrame, min_frames: int) -> None:
    """Raise with the numbers when the runs keep too few frames for a map."""
    kept = int(records["n_kept"].sum())
    if kept < min_frames:
        raise ValueError(
            f"{kept} rest frames kept from {int(records['included'].sum())} of "
            f"{len(records)} rest runs ({records['bold'].iloc[0]}, ...); a stable "
            f"boundary map needs at least {min_frames} (config individual.min_frames)"
        )


def _region_table(labels, columns: CortexColumns) -> pd.DataFrame:
    """Index, name, hemisphere and size of each parcel."""
    n_left = columns.columns["left"].size
    rows = []
    for index in np.unique(labels[labels > 0]):
        members = np.flatnonzero(labels == index)
        hemisphere = "L" if members[0] < n_left else "R"
        rows.append(
            {
                "index": int(index),
                "name": f"{hemisphere}_{int(index):03d}",
                "hemisphere": hemisphere,
                "n_vertices": members.size,
            }
        )
    return pd.DataFrame(rows)


def individual_atlas(
    runs: list[RestRun],
    surfaces: dict,
    denoise: DenoiseSettings,
    settings: IndividualSettings,
    seed: int,
    workdir: Path,
) -> IndividualAtlas:
    """Parcellate a subject's cortex and find its networks from the rest runs.

    Parameters
    ----------
    runs : list of RestRun
        The subject's rest runs.
    surfaces : dict
        ``left``/``right`` midthickness GIFTI files of the data's mesh.
    denoise : DenoiseSettings
        The rating runs' denoising (the band-pass is the rest runs' own).
    settings : IndividualSettings
    seed : int
        Infomap's seed.
    workdir : Path
        A scratch folder for the cleaned runs.

    Returns
    -------
    IndividualAtlas

    Raises
    ------
    ValueError
        When the runs keep fewer than ``min_frames`` frames, a mesh does not
        match the data, or runs disagree on their cortex.
    """
    columns = cortex_columns(runs[0].bold)
    cortex = Cortex.from_columns(columns, surfaces["left"], surfaces["right"])
    saved, records = _clean_runs(runs, columns, surfaces, denoise, settings, workdir)
    _check_frames(records, settings.min_frames)
    log.info(
        "%d rest frames kept from %d of %d runs",
        records["n_kept"].sum(),
        records["included"].sum(),
        len(records),
    )
    n_vertices = columns.all_columns.size
    targets = similarity_targets(n_vertices, settings.boundary.similarity_stride)
    correlations = CorrelationAccumulator(n_vertices, targets)
    for path in saved:
        correlations.add(np.load(path))
    maps = correlations.correlation_maps(min_frames=settings.min_frames)
    del correlations  # its cross products are as large as the maps
    edges = edge_map(maps, cortex, settings.boundary)
    del maps
    log.info("edge map made from %d similarity maps", len(targets))
    labels = create_parcels(edges, cortex, settings.parcels)
    log.info("%d parcels", labels.max())
    average = parcel_average(labels)
    homogeneity = HomogeneityAccumulator(labels)
    parcel_series = []
    for path in saved:
        values = np.load(path)
        homogeneity.add(values)
        parcel_series.append(np.asarray(average @ values.T).T)
    table = _region_table(labels, columns)
    table["homogeneity"] = homogeneity.homogeneity()
    template, names = template_networks(
        columns.vertices["left"], columns.vertices["right"]
    )
    networks = parcel_networks(
        np.vstack(parcel_series),
        parcel_centroid_distances(labels, cortex),
        labels,
        template,
        names,
        settings.networks,
        seed,
    )
    table.insert(2, "network", networks.networks)
    log.info("networks: %s", table["network"].value_counts().to_dict())
    return IndividualAtlas(columns, labels, table, edges, networks.per_density, records)
