"""Boundary mapping (Gordon et al. 2016): where connectivity changes on the cortex.

Each vertex's correlation map (its correlation with a set of target vertices)
is streamed from the rest runs one session at a time. Seeds' similarity maps
(the correlation of their correlation maps with every vertex's) have a
gradient on the surface; the watershed lines of each smoothed gradient map,
averaged over the seeds, give the edge-density map: the fraction of maps in
which a vertex lies on a line between basins. Taking every ``stride``-th
vertex as seed and target approximates the exact method (stride 1) closely.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from painflow.parcellation.mesh import Cortex, Hemisphere
from painflow.parcellation.workbench import gradient_magnitude, smooth_maps

ROW_CHUNK = 4096  # vertices per block of the cross products: bounds temporaries
FISHER_CLIP = 0.999999  # keeps arctanh finite for (near-)perfect correlations


@dataclass(frozen=True)
class BoundarySettings:
    """Settings of boundary mapping, from the config (no defaults here).

    Attributes
    ----------
    similarity_stride : int
        Every stride-th data column is a seed of a similarity map and a target
        of the correlation maps; 1 is the exact method.
    gradient_sigma_mm : float
        Sigma (mm) of the surface smoothing of each gradient map.
    chunk_maps : int
        Similarity maps processed at once; bounds memory.
    """

    similarity_stride: int
    gradient_sigma_mm: float
    chunk_maps: int

    def __post_init__(self):
        for name in ("similarity_stride", "chunk_maps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(
                    f"{name} must be at least 1, got {getattr(self, name)}"
                )
        if not self.gradient_sigma_mm > 0:
            raise ValueError(
                f"gradient_sigma_mm must be positive, got {self.gradient_sigma_mm}"
            )


def similarity_targets(n_vertices: int, stride: int) -> np.ndarray:
    """The data columns that are targets and seeds: every stride-th one."""
    return np.arange(0, n_vertices, stride)


class CorrelationAccumulator:
    """Correlation of every vertex with target vertices, streamed over sessions.

    Each session is demeaned on its own and its cross products added, so the
    result is the correlation over the concatenated demeaned sessions; memory
    is one (vertices x targets) matrix, whatever the number of frames.

    Parameters
    ----------
    n_vertices : int
        Columns of every session's data.
    targets : numpy.ndarray
        Data columns whose correlation with every vertex is kept.
    """

    def __init__(self, n_vertices: int, targets: np.ndarray):
        self.targets = np.asarray(targets, dtype=np.int64)
        if self.targets.ndim != 1 or not len(self.targets):
            raise ValueError("targets: need at least one target column")
        if self.targets.min() < 0 or self.targets.max() >= n_vertices:
            raise ValueError(
                f"targets must be columns 0..{n_vertices - 1}, got "
                f"{self.targets.min()}..{self.targets.max()}"
            )
        self.n_vertices = n_vertices
        self.n_frames = 0
        self.n_sessions = 0
        self._cross = np.zeros((n_vertices, len(self.targets)))
        self._sum_squares = np.zeros(n_vertices)

    def add(self, series: np.ndarray) -> None:
        """Add one session: (frames x vertices), denoised and smoothed."""
        series = np.asarray(series)
        if series.ndim != 2 or series.shape[1] != self.n_vertices:
            raise ValueError(
                f"series of shape {series.shape}: expected (frames, {self.n_vertices})"
            )
        if len(series) < 2:
            raise ValueError(f"a session of {len(series)} frame(s) has no variance")
        dtype = np.float64 if series.dtype == np.float64 else np.float32
        centred = series.astype(dtype, copy=True)
        centred -= centred.mean(axis=0)
        on_targets = np.ascontiguousarray(centred[:, self.targets])
        for start in range(0, self.n_vertices, ROW_CHUNK):
            block = centred[:, start : start + ROW_CHUNK]
            self._cross[start : start + ROW_CHUNK] += block.T @ on_targets
            self._sum_squares[start : start + ROW_CHUNK] += np.einsum(
                "ij,ij->j", block, block, dtype=np.float64
            )
        self.n_frames += len(series)
        self.n_sessions += 1

    def correlation_maps(self, min_frames: int = 2) -> np.ndarray:
        """(vertices x targets) Pearson correlations, float32.

        Parameters
        ----------
        min_frames : int
            Fewest frames (all sessions together) for a map worth making.

        Raises
        ------
        ValueError
            Fewer frames than ``min_frames``, or vertices without variance.
        """
        if self.n_frames < max(min_frames, 1):
            raise ValueError(
                f"{self.n_frames} frames in {self.n_sessions} session(s): "
                f"correlation maps need at least {max(min_frames, 1)}"
            )
        flat = np.flatnonzero(self._sum_squares <= 0)
        if len(flat):
            raise ValueError(
                f"{len(flat)} of {self.n_vertices} vertices have no variance over "
                f"{self.n_frames} frames (columns {flat[:5].tolist()}...): leave "
                "them out of the cortex's data vertices"
            )
        norms = np.sqrt(self._sum_squares)
        maps = np.empty(self._cross.shape, dtype=np.float32)
        for start in range(0, self.n_vertices, ROW_CHUNK):
            rows = slice(start, start + ROW_CHUNK)
            maps[rows] = self._cross[rows] / np.outer(norms[rows], norms[self.targets])
        return maps


def connectivity_profiles(correlation_maps: np.ndarray, targets: np.ndarray):
    """Fisher-z correlation maps, each row centred and scaled to unit norm.

    A vertex's correlation with itself says nothing of its connectivity, so it
    is set to zero; the dot product of two rows is then the Pearson
    correlation of the two vertices' maps.
    """
    profiles = np.clip(correlation_maps, -FISHER_CLIP, FISHER_CLIP, dtype=np.float32)
    np.arctanh(profiles, out=profiles)
    profiles[targets, np.arange(len(targets))] = 0
    profiles -= profiles.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(
            f"{int((norms == 0).sum())} vertices have a constant correlation map"
        )
    profiles /= norms
    return profiles


def watershed(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Watershed basins of many maps on one mesh, flooded together.

    Vertices are visited in increasing value (ties by index), each map's in
    its own order but all maps at once: a vertex without a labelled neighbour
    is a local minimum and starts a basin; one whose labelled neighbours are
    all of one basin joins it; one touching two basins is a watershed line and
    passes no label on.

    Parameters
    ----------
    values : numpy.ndarray
        (maps, vertices) or (vertices,).
    neighbours : numpy.ndarray
        (vertices, k) neighbour indices, padded with ``vertices``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``, int32: 0 on watershed lines, basins 1..B
        per map, numbered in the order their minima are reached.
    """
    single = np.ndim(values) == 1
    values = np.atleast_2d(values)
    n_maps, n_vertices = values.shape
    if len(neighbours) != n_vertices:
        raise ValueError(
            f"values have {n_vertices} vertices, neighbours {len(neighbours)}"
        )
    order = np.argsort(values, axis=1, kind="stable")
    # One extra column per map, never written: the padding neighbour's label.
    labels = np.zeros((n_maps, n_vertices + 1), dtype=np.int32)
    flat = labels.reshape(-1)
    offsets = np.arange(n_maps) * (n_vertices + 1)
    next_basin = np.ones(n_maps, dtype=np.int32)
    line = np.int32(-1)
    for rank in range(n_vertices):
        vertex = order[:, rank]
        near = flat[offsets[:, None] + neighbours[vertex]]
        highest = near.max(axis=1)
        lowest = np.where(near > 0, near, highest[:, None]).min(axis=1)
        isolated = highest <= 0
        flat[offsets + vertex] = np.where(
            isolated, next_basin, np.where(lowest == highest, highest, line)
        )
        next_basin += isolated
    labels = np.maximum(labels[:, :n_vertices], 0)
    return labels[0] if single else labels


def _smoothed_gradients(
    profiles: np.ndarray, seeds: np.ndarray, columns: slice, surface: Cortex, sigma
) -> np.ndarray:
    """Seeds' similarity maps on a hemisphere, their gradients, smoothed."""
    similarity = profiles[seeds] @ profiles[columns].T
    gradients = gradient_magnitude(similarity, surface)
    return smooth_maps(gradients, surface, sigma)


def _hemisphere_edge_density(
    profiles: np.ndarray,
    cortex: Cortex,
    hemisphere: Hemisphere,
    seeds: np.ndarray,
    settings: BoundarySettings,
) -> np.ndarray:
    """Fraction of a hemisphere's seeds' gradient maps with a line at each vertex.

    While the watershed runs on one chunk of maps, the next chunk's gradients
    are made (wb_command runs as another process), so both cores work.
    """
    columns = cortex.columns(hemisphere)
    neighbours = hemisphere.data_neighbours()
    chunks = [
        seeds[start : start + settings.chunk_maps]
        for start in range(0, len(seeds), settings.chunk_maps)
    ]
    lines = np.zeros(columns.stop - columns.start)
    with ThreadPoolExecutor(max_workers=1) as ahead:

        def submit(chunk):
            return ahead.submit(
                _smoothed_gradients,
                profiles,
                chunk,
                columns,
                cortex.only(hemisphere),
                settings.gradient_sigma_mm,
            )

        pending = submit(chunks[0]) if chunks else None
        for index in range(len(chunks)):
            smoothed = pending.result()
            if index + 1 < len(chunks):
                pending = submit(chunks[index + 1])
            lines += (watershed(smoothed, neighbours) == 0).sum(axis=0)
    return lines / max(len(seeds), 1)


def edge_map(
    correlation_maps: np.ndarray, cortex: Cortex, settings: BoundarySettings
) -> np.ndarray:
    """Edge-density map of the cortex (Gordon et al. 2016).

    Parameters
    ----------
    correlation_maps : numpy.ndarray
        (cortex columns, targets) from :class:`CorrelationAccumulator`, the
        targets being ``similarity_targets(n, settings.similarity_stride)``.
    cortex : Cortex
    settings : BoundarySettings

    Returns
    -------
    numpy.ndarray
        (cortex columns,) in [0, 1]: per hemisphere, the fraction of its seeds'
        smoothed similarity-gradient maps in which the vertex is a watershed line.

    Notes
    -----
    Memory: the correlation maps, one float32 copy of them (Fisher z, rows
    standardized) and a few chunks of ``chunk_maps`` maps; on the 91k cortex
    at stride 10, about 3 GB. Free the accumulator before calling.
    """
    cortex.check_columns(len(correlation_maps), "correlation_maps")
    targets = similarity_targets(cortex.n_vertices, settings.similarity_stride)
    if correlation_maps.shape[1] != len(targets):
        raise ValueError(
            f"correlation_maps has {correlation_maps.shape[1]} target columns; "
            f"stride {settings.similarity_stride} on {cortex.n_vertices} vertices "
            f"gives {len(targets)}"
        )
    profiles = connectivity_profiles(correlation_maps, targets)
    density = np.empty(cortex.n_vertices)
    for hemisphere in cortex.hemispheres:
        columns = cortex.columns(hemisphere)
        seeds = targets[(targets >= columns.start) & (targets < columns.stop)]
        density[columns] = _hemisphere_edge_density(
            profiles, cortex, hemisphere, seeds, settings
        )
    return density
