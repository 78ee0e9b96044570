"""The cortex a parcellation lives on: each hemisphere's surface and data vertices.

A cortex data matrix is (frames x cortex vertices): the left hemisphere's data
vertices (ascending surface vertex index), then the right's, as the cortex
models of an fsLR 91k dtseries. Neighbourhoods and distances are taken on each
hemisphere's surface mesh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from painflow.atlas.surface import CORTEX_STRUCTURES, brain_models, load_cifti

SIDES = {structure: side for side, structure in CORTEX_STRUCTURES.items()}


def read_surface(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertex coordinates (mm) and triangles of a surface GIFTI.

    Parameters
    ----------
    path : str or Path
        A ``.surf.gii`` (or any GIFTI with a POINTSET and a TRIANGLE array).

    Returns
    -------
    coordinates : numpy.ndarray
        (vertices, 3), float.
    triangles : numpy.ndarray
        (triangles, 3), int.
    """
    image = nib.load(path)
    try:
        coordinates, triangles = image.agg_data(("pointset", "triangle"))
    except (AttributeError, ValueError) as error:
        raise ValueError(f"{path}: not a surface GIFTI ({error})") from None
    if coordinates is None or triangles is None or not len(triangles):
        raise ValueError(f"{path}: no vertex coordinates or no triangles")
    return np.asarray(coordinates, float), np.asarray(triangles, np.int64)


@dataclass(frozen=True)
class Hemisphere:
    """One hemisphere's surface and the data columns it holds.

    Attributes
    ----------
    name : str
        ``"left"`` or ``"right"``.
    surface : Path
        The surface GIFTI (e.g. midthickness) that wb_command reads.
    coordinates : numpy.ndarray
        (surface vertices, 3) in mm.
    triangles : numpy.ndarray
        (triangles, 3) surface vertex indices.
    vertices : numpy.ndarray
        The surface vertex of each data column of this hemisphere, ascending.
    """

    name: str
    surface: Path
    coordinates: np.ndarray
    triangles: np.ndarray
    vertices: np.ndarray

    @property
    def n_surface_vertices(self) -> int:
        """Number of vertices of the surface mesh."""
        return len(self.coordinates)

    def mesh_edges(self) -> np.ndarray:
        """Each edge of the surface mesh once, (edges, 2), lower vertex first."""
        pairs = self.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
        return np.unique(np.sort(pairs, axis=1), axis=0)

    def data_neighbours(self) -> np.ndarray:
        """Each data vertex's neighbours among the data vertices, padded.

        Returns
        -------
        numpy.ndarray
            (data vertices, most neighbours) of local data indices; rows are
            padded with the index ``len(vertices)``, which names no vertex.
        """
        local = np.full(self.n_surface_vertices, -1)
        local[self.vertices] = np.arange(len(self.vertices))
        edges = local[self.mesh_edges()]
        edges = edges[(edges >= 0).all(axis=1)]
        both = np.concatenate([edges, edges[:, ::-1]])
        both = both[np.lexsort((both[:, 1], both[:, 0]))]
        counts = np.bincount(both[:, 0], minlength=len(self.vertices))
        width = max(int(counts.max(initial=0)), 1)
        table = np.full((len(self.vertices), width), len(self.vertices))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(both)) - np.repeat(starts, counts)
        table[both[:, 0], slot] = both[:, 1]
        return table

    def geodesic_distances(self, sources: np.ndarray) -> np.ndarray:
        """Shortest paths along mesh edges from surface vertices, in mm.

        Parameters
        ----------
        sources : numpy.ndarray
            Surface vertex indices.

        Returns
        -------
        numpy.ndarray
            (sources, surface vertices); inf where the mesh does not connect.
        """
        edges = self.mesh_edges()
        lengths = np.linalg.norm(
            self.coordinates[edges[:, 0]] - self.coordinates[edges[:, 1]], axis=1
        )
        n = self.n_surface_vertices
        graph = sparse.coo_matrix((lengths, (edges[:, 0], edges[:, 1])), (n, n))
        return dijkstra(graph.tocsr(), directed=False, indices=sources)


@dataclass(frozen=True)
class CortexColumns:
    """Where a dense time series keeps each hemisphere's cortex.

    Attributes
    ----------
    columns : dict
        ``left``/``right`` -> the file's column indices of that cortex.
    vertices : dict
        ``left``/``right`` -> the surface vertex index of each of those columns.
    n_surface : dict
        ``left``/``right`` -> the number of vertices of the surface mesh.
    """

    columns: dict
    vertices: dict
    n_surface: dict

    @property
    def all_columns(self) -> np.ndarray:
        """The cortex columns, left hemisphere first."""
        return np.concatenate([self.columns["left"], self.columns["right"]])

    def by_hemisphere(self, values: np.ndarray) -> dict:
        """Values over the cortex columns (left first) split into ``left``/``right``."""
        n_left = self.columns["left"].size
        return {"left": values[:n_left], "right": values[n_left:]}


def cortex_columns(path: str | Path) -> CortexColumns:
    """The cortex columns of a dense CIFTI file and their surface vertices.

    Raises
    ------
    ValueError
        Naming the file when it lacks the left or right cortex.
    """
    models = brain_models(load_cifti(path, "dense time series"), path)
    columns, vertices, n_surface = {}, {}, {}
    for structure, block, model in models.iter_structures():
        side = SIDES.get(structure)
        if side is not None:
            columns[side] = np.arange(block.start, block.stop)
            vertices[side] = np.asarray(model.vertex)
            n_surface[side] = int(model.nvertices[structure])
    missing = [side for side in ("left", "right") if side not in columns]
    if missing:
        raise ValueError(f"{path}: no {' or '.join(missing)} cortex in its models")
    return CortexColumns(columns, vertices, n_surface)


def _hemisphere(name: str, surface, vertices) -> Hemisphere:
    """Load a hemisphere's surface and check its data vertices fit on it."""
    coordinates, triangles = read_surface(surface)
    vertices = np.asarray(vertices, dtype=np.int64)
    if vertices.ndim != 1 or not len(vertices):
        raise ValueError(f"{name} hemisphere: no data vertices on {surface}")
    if np.any(np.diff(vertices) <= 0):
        raise ValueError(f"{name} hemisphere: data vertices must be ascending")
    if vertices[0] < 0 or vertices[-1] >= len(coordinates):
        raise ValueError(
            f"{surface} has {len(coordinates)} vertices, but the {name} "
            f"hemisphere's data uses vertex {vertices[-1]}: the mesh does not "
            "match the data"
        )
    return Hemisphere(name, Path(surface), coordinates, triangles, vertices)


@dataclass(frozen=True)
class Cortex:
    """The cortex of a data matrix: its hemispheres, left then right.

    Attributes
    ----------
    hemispheres : tuple of Hemisphere
        In column order.
    """

    hemispheres: tuple[Hemisphere, ...]

    @property
    def n_vertices(self) -> int:
        """Number of data columns (cortex vertices with data)."""
        return sum(len(h.vertices) for h in self.hemispheres)

    def columns(self, hemisphere: Hemisphere | str) -> slice:
        """The data columns of a hemisphere (given or named)."""
        name = getattr(hemisphere, "name", hemisphere)
        start = 0
        for each in self.hemispheres:
            if each.name == name:
                return slice(start, start + len(each.vertices))
            start += len(each.vertices)
        raise ValueError(f"no {name!r} hemisphere in this cortex")

    def only(self, hemisphere: Hemisphere | str) -> Cortex:
        """The cortex of one hemisphere alone."""
        name = getattr(hemisphere, "name", hemisphere)
        self.columns(name)
        return Cortex(tuple(h for h in self.hemispheres if h.name == name))

    def check_columns(self, n_columns: int, what: str) -> None:
        """Raise unless ``what`` has one entry per data column."""
        if n_columns != self.n_vertices:
            raise ValueError(
                f"{what} has {n_columns} cortex columns, the cortex "
                f"{self.n_vertices} data vertices"
            )

    @classmethod
    def from_surfaces(
        cls,
        left: str | Path,
        right: str | Path,
        left_vertices: np.ndarray,
        right_vertices: np.ndarray,
        mesh_vertices: tuple[int, int] | None = None,
    ) -> Cortex:
        """Load both hemispheres' surfaces and the data vertices on them.

        Parameters
        ----------
        left, right : str or Path
            Surface GIFTIs (e.g. midthickness) of the data's mesh.
        left_vertices, right_vertices : numpy.ndarray
            Surface vertex of each data column, ascending.
        mesh_vertices : tuple of int, optional
            The data's mesh size per hemisphere (a CIFTI's ``nvertices``);
            when given, each surface must have exactly that many vertices.

        Raises
        ------
        ValueError
            A surface that does not match the data's vertices.
        """
        hemispheres = (
            _hemisphere("left", left, left_vertices),
            _hemisphere("right", right, right_vertices),
        )
        for hemisphere, expected in zip(hemispheres, mesh_vertices or (), strict=False):
            if hemisphere.n_surface_vertices != expected:
                raise ValueError(
                    f"{hemisphere.surface} has {hemisphere.n_surface_vertices} "
                    f"vertices, the data's {hemisphere.name} mesh {expected}"
                )
        return cls(hemispheres)

    @classmethod
    def from_cifti(
        cls, cifti: str | Path, left: str | Path, right: str | Path
    ) -> Cortex:
        """The cortex of a dense CIFTI's surface models, on the given surfaces.

        Parameters
        ----------
        cifti : str or Path
            A dtseries or dscalar with CORTEX_LEFT and CORTEX_RIGHT models.
        left, right : str or Path
            Surface GIFTIs of the CIFTI's mesh.
        """
        return cls.from_columns(cortex_columns(cifti), left, right)

    @classmethod
    def from_columns(
        cls, found: CortexColumns, left: str | Path, right: str | Path
    ) -> Cortex:
        """The cortex of a dense file's columns (:func:`cortex_columns`)."""
        return cls.from_surfaces(
            left,
            right,
            found.vertices["left"],
            found.vertices["right"],
            mesh_vertices=(found.n_surface["left"], found.n_surface["right"]),
        )


def parcel_centroids(labels: np.ndarray, cortex: Cortex) -> np.ndarray:
    """Each parcel's centroid: its data column nearest its mean coordinate.

    Parameters
    ----------
    labels : numpy.ndarray
        (cortex columns,) int, 0 = no parcel, parcels 1..P.
    cortex : Cortex

    Returns
    -------
    numpy.ndarray
        (P,) data column of each parcel's centroid.
    """
    labels = np.asarray(labels)
    cortex.check_columns(len(labels), "labels")
    positions = np.concatenate([h.coordinates[h.vertices] for h in cortex.hemispheres])
    n_parcels = int(labels.max(initial=0))
    centroids = np.empty(n_parcels, dtype=np.int64)
    for parcel in range(1, n_parcels + 1):
        members = np.flatnonzero(labels == parcel)
        if not len(members):
            raise ValueError(f"labels: parcel {parcel} of 1..{n_parcels} is empty")
        mean = positions[members].mean(axis=0)
        nearest = np.argmin(((positions[members] - mean) ** 2).sum(axis=1))
        centroids[parcel - 1] = members[nearest]
    return centroids


def parcel_centroid_distances(labels: np.ndarray, cortex: Cortex) -> np.ndarray:
    """Geodesic distance (mm) between parcel centroids on the surface.

    Distances follow the mesh's edges (Dijkstra), which the tests check against
    ``wb_command -surface-geodesic-distance``; parcels on different hemispheres
    are infinitely far apart.

    Parameters
    ----------
    labels : numpy.ndarray
        (cortex columns,) int, 0 = no parcel, parcels 1..P.
    cortex : Cortex

    Returns
    -------
    numpy.ndarray
        (P, P) float, symmetric, zero on the diagonal.
    """
    centroids = parcel_centroids(labels, cortex)
    distances = np.full((len(centroids), len(centroids)), np.inf)
    for hemisphere in cortex.hemispheres:
        columns = cortex.columns(hemisphere)
        inside = np.flatnonzero(
            (centroids >= columns.start) & (centroids < columns.stop)
        )
        if not len(inside):
            continue
        sources = hemisphere.vertices[centroids[inside] - columns.start]
        paths = hemisphere.geodesic_distances(sources)[:, sources]
        distances[np.ix_(inside, inside)] = np.minimum(paths, paths.T)
    return distances
