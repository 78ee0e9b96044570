"""Parcels from an edge-density map (Gordon et al. 2016), their homogeneity, spins.

Parcels grow by watershed from the edge map's local minima, one hemisphere at
a time. Two basins merge when the median edge value along the watershed line
between them is below a percentile of the edge map; the lines inside a merged
parcel join it. Vertices above a higher percentile are boundary (label 0).
Small parcels merge into the neighbour they share the most border with, and
small parcels without any neighbour are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from painflow.parcellation.boundary import watershed
from painflow.parcellation.mesh import Cortex


@dataclass(frozen=True)
class ParcelSettings:
    """Thresholds of parcel creation, from the config (no defaults here).

    Attributes
    ----------
    merge_percentile : float
        Neighbouring basins merge when the median edge value of their border
        is below this percentile (0-100) of the edge map.
    boundary_percentile : float
        Vertices whose edge value is above this percentile are boundary.
    min_parcel_vertices : int
        Smaller parcels merge into the neighbour they share the most border with.
    min_isolated_vertices : int
        Smaller parcels without a neighbour are removed.
    """

    merge_percentile: float
    boundary_percentile: float
    min_parcel_vertices: int
    min_isolated_vertices: int

    def __post_init__(self):
        for name in ("merge_percentile", "boundary_percentile"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} must be in 0..100, got {getattr(self, name)}")
        for name in ("min_parcel_vertices", "min_isolated_vertices"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def line_borders(labels: np.ndarray, neighbours: np.ndarray) -> pd.DataFrame:
    """The unlabelled vertices lying between two parcels.

    Parameters
    ----------
    labels : numpy.ndarray
        (vertices,) int, 0 = unlabelled.
    neighbours : numpy.ndarray
        (vertices, k) neighbour table padded with ``vertices``.

    Returns
    -------
    pandas.DataFrame
        Columns ``vertex``, ``low``, ``high``: each unlabelled vertex with a
        neighbour in parcel ``low`` and one in parcel ``high > low``, once.
    """
    near = np.append(labels, 0)[neighbours]
    unlabelled = labels == 0
    pieces = [np.empty((0, 3), dtype=np.int64)]
    for i in range(near.shape[1]):
        for j in range(i + 1, near.shape[1]):
            a, b = near[:, i], near[:, j]
            between = np.flatnonzero(unlabelled & (a > 0) & (b > 0) & (a != b))
            low = np.minimum(a[between], b[between])
            high = np.maximum(a[between], b[between])
            pieces.append(np.column_stack([between, low, high]))
    triples = np.unique(np.concatenate(pieces), axis=0)
    return pd.DataFrame(triples, columns=["vertex", "low", "high"])


def merge_basins(
    basins: np.ndarray, values: np.ndarray, neighbours: np.ndarray, threshold: float
) -> np.ndarray:
    """Merge watershed basins whose border's median value is below a threshold.

    Merging is transitive (connected components of the low borders). A line
    vertex whose labelled neighbours then all belong to one parcel joins it.

    Returns
    -------
    numpy.ndarray
        (vertices,) labels; merged basins take their lowest basin's label.
    """
    borders = line_borders(basins, neighbours)
    borders["value"] = values[borders["vertex"]]
    medians = borders.groupby(["low", "high"])["value"].median()
    low_borders = medians[medians < threshold].index.to_frame(index=False)
    n = int(basins.max(initial=0)) + 1
    graph = sparse.coo_matrix(
        (np.ones(len(low_borders)), (low_borders["low"], low_borders["high"])), (n, n)
    )
    _, component = connected_components(graph, directed=False)
    first = np.full(component.max(initial=0) + 1, n)
    np.minimum.at(first, component, np.arange(n))
    merged = np.where(basins > 0, first[component][basins], 0)
    return _fill_lines_inside(merged, neighbours)


def _fill_lines_inside(labels: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Unlabelled vertices whose labelled neighbours share one label take it."""
    near = np.append(labels, 0)[neighbours]
    highest = near.max(axis=1)
    lowest = np.where(near > 0, near, highest[:, None]).min(axis=1)
    inside = (labels == 0) & (highest > 0) & (lowest == highest)
    return np.where(inside, highest, labels)


def border_contacts(labels: np.ndarray, neighbours: np.ndarray) -> sparse.csr_matrix:
    """How much border each pair of parcels shares.

    The count of mesh edges joining them plus of unlabelled vertices touching
    both; symmetric, (max label + 1) square.
    """
    n = int(labels.max(initial=0)) + 1
    near = np.append(labels, 0)[neighbours]
    own = np.broadcast_to(labels[:, None], near.shape)
    direct = (own > 0) & (near > 0) & (own != near)
    lines = line_borders(labels, neighbours)
    rows = np.concatenate([own[direct], lines["low"], lines["high"]])
    cols = np.concatenate([near[direct], lines["high"], lines["low"]])
    return sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), (n, n)).tocsr()


def absorb_small_parcels(
    labels: np.ndarray, neighbours: np.ndarray, settings: ParcelSettings
) -> np.ndarray:
    """Merge small parcels into neighbours, smallest first; drop small isolated ones.

    Each step merges the smallest parcel under ``min_parcel_vertices`` that
    has a neighbour (ties: lowest label) into the neighbour it shares the most
    border with (ties: lowest label); the merged parcel's borders are the sum
    of both. Parcels left without a neighbour and under
    ``min_isolated_vertices`` become 0.
    """
    contacts = border_contacts(labels, neighbours).toarray()
    np.fill_diagonal(contacts, 0)
    sizes = np.bincount(labels, minlength=len(contacts))
    sizes[0] = 0
    target = np.arange(len(contacts))
    while True:
        touching = contacts.any(axis=1)
        small = np.flatnonzero((sizes > 0) & (sizes < settings.min_parcel_vertices))
        small = small[touching[small]]
        if not len(small):
            break
        parcel = small[np.argmin(sizes[small])]
        partner = int(np.argmax(contacts[parcel]))
        contacts[partner] += contacts[parcel]
        contacts[:, partner] += contacts[:, parcel]
        contacts[parcel] = contacts[:, parcel] = 0
        contacts[partner, partner] = 0
        sizes[partner] += sizes[parcel]
        sizes[parcel] = 0
        target[target == parcel] = partner
    removed = (sizes > 0) & (sizes < settings.min_isolated_vertices) & ~touching
    target[removed[target]] = 0
    return target[labels]


def hemisphere_parcels(
    values: np.ndarray,
    neighbours: np.ndarray,
    thresholds: tuple[float, float],
    settings: ParcelSettings,
) -> np.ndarray:
    """One hemisphere's parcels from its edge map (labels not yet renumbered)."""
    merge_threshold, boundary_threshold = thresholds
    basins = watershed(values, neighbours)
    labels = merge_basins(basins, values, neighbours, merge_threshold)
    labels[values > boundary_threshold] = 0
    return absorb_small_parcels(labels, neighbours, settings)


def renumber(labels: np.ndarray) -> np.ndarray:
    """Labels 1..P in the order of each parcel's lowest column; 0 stays 0."""
    present, first = np.unique(labels, return_index=True)
    keep = present > 0
    present, first = present[keep], first[keep]
    lookup = np.zeros(labels.max(initial=0) + 1, dtype=np.int32)
    lookup[present[np.argsort(first)]] = np.arange(1, len(present) + 1)
    return lookup[labels]


def create_parcels(
    edge_map: np.ndarray, cortex: Cortex, settings: ParcelSettings
) -> np.ndarray:
    """Parcels of the cortex from its edge-density map.

    Parameters
    ----------
    edge_map : numpy.ndarray
        (cortex columns,) from :func:`painflow.parcellation.boundary.edge_map`.
    cortex : Cortex
    settings : ParcelSettings
        The percentiles are of the whole cortex's edge map.

    Returns
    -------
    numpy.ndarray
        (cortex columns,) int32: 0 = boundary, parcels 1..P numbered in the
        order of their lowest column (left hemisphere first).
    """
    edge_map = np.asarray(edge_map, dtype=float)
    cortex.check_columns(len(edge_map), "edge_map")
    if not np.all(np.isfinite(edge_map)):
        raise ValueError("edge_map has non-finite values")
    thresholds = tuple(
        np.percentile(
            edge_map, [settings.merge_percentile, settings.boundary_percentile]
        )
    )
    labels = np.zeros(cortex.n_vertices, dtype=np.int64)
    offset = 0
    for hemisphere in cortex.hemispheres:
        columns = cortex.columns(hemisphere)
        parcels = hemisphere_parcels(
            edge_map[columns], hemisphere.data_neighbours(), thresholds, settings
        )
        labels[columns] = np.where(parcels > 0, parcels + offset, 0)
        offset += int(parcels.max(initial=0))
    return renumber(labels)


def parcel_homogeneity(series: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of variance explained by each parcel's first principal component.

    Each vertex's series is standardized, so the share is the largest
    eigenvalue of the parcel's vertex correlation matrix over its size.

    Parameters
    ----------
    series : numpy.ndarray
        (frames, cortex columns).
    labels : numpy.ndarray
        (cortex columns,) int, 0 = no parcel, parcels 1..P.

    Returns
    -------
    numpy.ndarray
        (P,) in (0, 1]; NaN for an empty parcel.
    """
    series = np.asarray(series)  # kept in its dtype: one parcel at a time in float64
    labels = np.asarray(labels)
    if series.ndim != 2 or series.shape[1] != len(labels):
        raise ValueError(
            f"series of shape {series.shape} for {len(labels)} labelled columns"
        )
    n_parcels = int(labels.max(initial=0))
    shares = np.full(n_parcels, np.nan)
    for parcel in range(1, n_parcels + 1):
        block = series[:, labels == parcel].astype(np.float64)
        if not block.shape[1]:
            continue
        block = block - block.mean(axis=0)
        scale = np.linalg.norm(block, axis=0)
        block = block[:, scale > 0] / scale[scale > 0]
        gram = block.T @ block if block.shape[1] <= len(block) else block @ block.T
        eigenvalues = np.linalg.eigvalsh(gram)
        shares[parcel - 1] = eigenvalues[-1] / eigenvalues.sum()
    return shares


def spin_labels(
    labels: np.ndarray,
    cortex: Cortex,
    sphere_coordinates,
    rng: np.random.Generator,
) -> np.ndarray:
    """The parcels rotated on the sphere: a null with their sizes and shapes.

    Each hemisphere gets its own uniformly random rotation; every data vertex
    takes the label of the data vertex the rotation brings nearest to it.

    Parameters
    ----------
    labels : numpy.ndarray
        (cortex columns,) int.
    cortex : Cortex
    sphere_coordinates : sequence of numpy.ndarray
        Per hemisphere, in the cortex's order: (surface vertices, 3) positions
        on a sphere centred at the origin (e.g. ``sphere.surf.gii``).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (cortex columns,) rotated labels.
    """
    labels = np.asarray(labels)
    cortex.check_columns(len(labels), "labels")
    if len(sphere_coordinates) != len(cortex.hemispheres):
        raise ValueError(
            f"{len(sphere_coordinates)} spheres for "
            f"{len(cortex.hemispheres)} hemispheres"
        )
    spun = np.empty_like(labels)
    for hemisphere, sphere in zip(cortex.hemispheres, sphere_coordinates, strict=True):
        if len(sphere) != hemisphere.n_surface_vertices:
            raise ValueError(
                f"the {hemisphere.name} sphere has {len(sphere)} vertices, its "
                f"surface {hemisphere.n_surface_vertices}"
            )
        columns = cortex.columns(hemisphere)
        positions = np.asarray(sphere, float)[hemisphere.vertices]
        rotated = Rotation.random(rng=rng).apply(positions)
        _, source = cKDTree(rotated).query(positions)
        spun[columns] = labels[columns][source]
    return spun
