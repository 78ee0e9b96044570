"""Small surfaces for the parcellation tests: spheres and a flat grid as GIFTIs."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy.spatial import ConvexHull
from threadpoolctl import threadpool_limits

from painflow.parcellation.mesh import Cortex


def sphere_mesh(n_vertices: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spread points on a sphere (Fibonacci lattice), triangulated."""
    index = np.arange(n_vertices) + 0.5
    polar = np.arccos(1 - 2 * index / n_vertices)
    azimuth = np.pi * (1 + 5**0.5) * index
    unit = np.column_stack(
        [
            np.cos(azimuth) * np.sin(polar),
            np.sin(azimuth) * np.sin(polar),
            np.cos(polar),
        ]
    )
    triangles = ConvexHull(unit).simplices
    # Outward normals, as surface files have them.
    a, b, c = (unit[triangles[:, i]] for i in range(3))
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), a) < 0
    triangles[inward] = triangles[inward][:, ::-1]
    return radius * unit, triangles


def grid_mesh(n_x: int, n_y: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """A flat rectangular grid in the z = 0 plane, two triangles per square."""
    x, y = np.meshgrid(np.arange(n_x) * spacing, np.arange(n_y) * spacing)
    coordinates = np.column_stack([x.ravel(), y.ravel(), np.zeros(x.size)])
    corner = (np.arange(n_y - 1)[:, None] * n_x + np.arange(n_x - 1)).ravel()
    lower = np.column_stack([corner, corner + 1, corner + n_x + 1])
    upper = np.column_stack([corner, corner + n_x + 1, corner + n_x])
    return coordinates, np.concatenate([lower, upper])


def write_surface(path: Path, coordinates: np.ndarray, triangles: np.ndarray) -> Path:
    """A surface GIFTI with the given vertices and triangles."""
    image = nib.gifti.GiftiImage()
    image.add_gifti_data_array(
        nib.gifti.GiftiDataArray(
            coordinates.astype(np.float32), intent="NIFTI_INTENT_POINTSET"
        )
    )
    image.add_gifti_data_array(
        nib.gifti.GiftiDataArray(
            triangles.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"
        )
    )
    nib.save(image, path)
    return path


def sphere_cortex(
    folder: Path, n_vertices: int = 642, radius: float = 50.0, wall: int = 0
) -> Cortex:
    """Two spherical hemispheres; the first ``wall`` vertices carry no data."""
    coordinates, triangles = sphere_mesh(n_vertices, radius)
    surfaces = [
        write_surface(folder / f"{side}.surf.gii", coordinates, triangles)
        for side in ("left", "right")
    ]
    vertices = np.arange(wall, n_vertices)
    return Cortex.from_surfaces(*surfaces, vertices, vertices)


@pytest.fixture(autouse=True)
def single_threaded(monkeypatch):
    """One thread for wb_command and BLAS: small problems on a shared machine
    run fastest without threads competing for its cores."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with threadpool_limits(1):
        yield


def planted_distances(cortex: Cortex, n_parcels: int, seed: int) -> np.ndarray:
    """(vertices, parcels) distances to random centres, hemispheres far apart."""
    rng = np.random.default_rng(seed)
    positions = np.concatenate([h.coordinates[h.vertices] for h in cortex.hemispheres])
    positions[cortex.columns(cortex.hemispheres[1])] += 1000.0
    centres = positions[rng.choice(len(positions), n_parcels, replace=False)]
    return np.sqrt(((positions[:, None] - centres[None]) ** 2).sum(axis=2))


def planted_parcels(cortex: Cortex, n_parcels: int, seed: int) -> np.ndarray:
    """Labels 0..n-1: each vertex's nearest of random centres."""
    return np.argmin(planted_distances(cortex, n_parcels, seed), axis=1)


def planted_series(truth: np.ndarray, n_frames: int, noise: float, seed: int):
    """Frames x vertices: one shared signal per planted parcel, plus noise."""
    rng = np.random.default_rng(seed)
    signals = rng.standard_normal((n_frames, truth.max() + 1))
    return signals[:, truth] + noise * rng.standard_normal((n_frames, len(truth)))
