"""Boundary mapping and parcels on a real rest run no one here wrote.

brainspace (BSD) ships one resting-state run of a real person on fsaverage5
with its confounds; nilearn ships fsaverage5's surfaces. The files are found
without importing either package. Parcels made from the first half of the run
must be more homogeneous on the second half than the same parcels rotated on
the sphere.
"""

import gzip
import importlib.util
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from parcellation_meshes import single_threaded, write_surface  # noqa: F401

from painflow.parcellation.boundary import (
    BoundarySettings,
    CorrelationAccumulator,
    edge_map,
    similarity_targets,
)
from painflow.parcellation.mesh import Cortex, read_surface
from painflow.parcellation.parcels import (
    ParcelSettings,
    create_parcels,
    parcel_homogeneity,
    spin_labels,
)

RUN = "sub-010188_ses-02_task-rest_acq-AP_run-01"
STRIDE = 20  # seeds and targets: every 20th of the 18,715 vertices
N_SPINS = 19  # the parcels must beat all of them: p < 1 / 20


def package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None, f"{name} is a test dependency"
    return Path(spec.submodule_search_locations[0])


def unzipped(path: Path, folder: Path) -> Path:
    target = folder / path.name.removesuffix(".gz")
    target.write_bytes(gzip.decompress(path.read_bytes()))
    return target


def fsaverage5(folder: Path, hemisphere: str) -> tuple[Path, np.ndarray]:
    """Midthickness (halfway between white and pial) and sphere coordinates."""
    data = package_folder("nilearn") / "datasets" / "data" / "fsaverage5"
    pial, triangles = read_surface(unzipped(data / f"pial_{hemisphere}.gii.gz", folder))
    white, _ = read_surface(unzipped(data / f"white_{hemisphere}.gii.gz", folder))
    sphere, _ = read_surface(unzipped(data / f"sphere_{hemisphere}.gii.gz", folder))
    path = folder / f"{hemisphere}.midthickness.surf.gii"
    return write_surface(path, (pial + white) / 2, triangles), sphere


def rest_run() -> tuple[list[np.ndarray], np.ndarray]:
    """Each hemisphere's (frames x vertices) series, and the confounds."""
    data = package_folder("brainspace") / "datasets" / "preprocessing"
    series = [
        np.asarray(nib.load(data / f"{RUN}.fsa5.{side}.mgz").dataobj).squeeze().T
        for side in ("lh", "rh")
    ]
    confounds = np.loadtxt(data / f"{RUN}_confounds.txt")
    return series, confounds


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fsaverage5")
    (left, left_sphere), (right, right_sphere) = (
        fsaverage5(folder, side) for side in ("left", "right")
    )
    series, confounds = rest_run()
    # The medial wall carries no signal: the data vertices are the others.
    vertices = [np.flatnonzero(s.std(axis=0) > 0) for s in series]
    cortex = Cortex.from_surfaces(left, right, *vertices)
    data = np.concatenate([s[:, v] for s, v in zip(series, vertices, strict=True)], 1)
    design = np.column_stack([np.ones(len(confounds)), confounds])
    cleaned = data - design @ np.linalg.lstsq(design, data, rcond=None)[0]
    return cortex, cleaned.astype(np.float32), (left_sphere, right_sphere)


def test_real_parcels_are_more_homogeneous_than_their_spins(real_run):
    cortex, series, spheres = real_run
    first, second = np.array_split(series, 2)
    accumulator = CorrelationAccumulator(
        cortex.n_vertices, similarity_targets(cortex.n_vertices, STRIDE)
    )
    accumulator.add(first)
    settings = BoundarySettings(
        similarity_stride=STRIDE, gradient_sigma_mm=2.55, chunk_maps=200
    )
    edges = edge_map(accumulator.correlation_maps(), cortex, settings)
    labels = create_parcels(edges, cortex, ParcelSettings(50, 75, 30, 10))
    n_parcels = labels.max()
    assert 50 <= n_parcels <= 1000, n_parcels
    observed = np.nanmean(parcel_homogeneity(second, labels))
    rng = np.random.default_rng(0)
    spun = [
        np.nanmean(
            parcel_homogeneity(second, spin_labels(labels, cortex, spheres, rng))
        )
        for _ in range(N_SPINS)
    ]
    assert observed > max(spun), (observed, spun)
