"""The cortex's meshes: loading, neighbours, centroids and geodesic distances."""

import nibabel as nib
import numpy as np
import pytest
from parcellation_meshes import (  # noqa: F401
    grid_mesh,
    single_threaded,
    sphere_cortex,
    sphere_mesh,
    write_surface,
)

from painflow.parcellation.mesh import (
    Cortex,
    parcel_centroid_distances,
    parcel_centroids,
)
from painflow.parcellation.workbench import (
    cortex_models,
    run_wb_command,
    write_dscalar,
)


@pytest.fixture
def grid_cortex(tmp_path):
    """Two 4 x 3 grids of 10 mm squares; the left one without vertex 0's data."""
    coordinates, triangles = grid_mesh(4, 3, 10.0)
    left = write_surface(tmp_path / "left.surf.gii", coordinates, triangles)
    right = write_surface(tmp_path / "right.surf.gii", coordinates, triangles)
    return Cortex.from_surfaces(left, right, np.arange(1, 12), np.arange(12))


def test_columns_put_the_left_hemisphere_first(grid_cortex):
    assert grid_cortex.n_vertices == 23
    assert grid_cortex.columns("left") == slice(0, 11)
    assert grid_cortex.columns(grid_cortex.hemispheres[1]) == slice(11, 23)
    assert grid_cortex.only("right").n_vertices == 12
    with pytest.raises(ValueError, match="no 'middle' hemisphere"):
        grid_cortex.columns("middle")


def test_neighbours_are_the_mesh_edges_between_data_vertices(grid_cortex):
    # Grid vertex 5 (row 1, column 1) touches 1, 4, 6, 9 and the diagonals 0, 10;
    # vertex 0 has no data, and the left hemisphere's columns start at vertex 1.
    table = grid_cortex.hemispheres[0].data_neighbours()
    padding = 11
    row = table[5 - 1]
    assert sorted(set(row[row != padding] + 1)) == [1, 4, 6, 9, 10]
    corner = table[11 - 1]  # vertex 11 touches 7 and 10 (and the diagonal 6)
    assert sorted(set(corner[corner != padding] + 1)) == [6, 7, 10]


def test_a_mesh_that_does_not_match_the_data_is_refused(tmp_path):
    coordinates, triangles = grid_mesh(3, 3, 1.0)
    surface = write_surface(tmp_path / "s.surf.gii", coordinates, triangles)
    with pytest.raises(ValueError, match="has 9 vertices.*vertex 20"):
        Cortex.from_surfaces(surface, surface, np.arange(9), np.arange(21))
    with pytest.raises(ValueError, match="has 9 vertices, the data's left mesh 32492"):
        Cortex.from_surfaces(
            surface, surface, np.arange(9), np.arange(9), mesh_vertices=(32492, 9)
        )
    with pytest.raises(ValueError, match="ascending"):
        Cortex.from_surfaces(surface, surface, [2, 1], np.arange(9))


def test_a_file_without_triangles_is_not_a_surface(tmp_path):
    image = nib.gifti.GiftiImage()
    image.add_gifti_data_array(nib.gifti.GiftiDataArray(np.zeros(5, np.float32)))
    nib.save(image, tmp_path / "values.func.gii")
    with pytest.raises(ValueError, match="values.func.gii"):
        Cortex.from_surfaces(
            tmp_path / "values.func.gii", tmp_path / "values.func.gii", [0], [0]
        )


def test_cortex_from_a_cifti_reads_its_vertices_and_mesh(tmp_path, grid_cortex):
    path = write_dscalar(tmp_path / "x.dscalar.nii", np.zeros((1, 23)), grid_cortex)
    left, right = (h.surface for h in grid_cortex.hemispheres)
    cortex = Cortex.from_cifti(path, left, right)
    assert np.array_equal(cortex.hemispheres[0].vertices, np.arange(1, 12))
    assert len(cortex_models(cortex)) == 23
    small = write_surface(tmp_path / "small.surf.gii", *grid_mesh(3, 3, 1.0))
    with pytest.raises(ValueError, match="small.surf.gii has 9 vertices"):
        Cortex.from_cifti(path, small, right)


def test_centroid_is_the_member_nearest_the_mean(grid_cortex):
    labels = np.zeros(23, int)
    labels[[0, 1, 2]] = 1  # grid vertices 1, 2, 3 on a line: the middle one
    labels[11:] = 2  # the whole right grid: mean (15, 10), nearest vertex 5
    assert parcel_centroids(labels, grid_cortex).tolist() == [1, 11 + 5]
    labels[labels == 1] = 3
    with pytest.raises(ValueError, match="parcel 1 of 1..3 is empty"):
        parcel_centroids(labels, grid_cortex)


def test_centroid_distances_on_a_grid_by_hand(grid_cortex):
    labels = np.zeros(23, int)
    labels[0] = 1  # grid vertex 1 at (10, 0)
    labels[10] = 2  # grid vertex 11 at (30, 20): two diagonal steps
    labels[11] = 3
    distances = parcel_centroid_distances(labels, grid_cortex)
    expected = 2 * 10 * np.sqrt(2)
    assert distances[0, 1] == pytest.approx(expected)
    assert distances[1, 0] == pytest.approx(expected)
    assert np.isinf(distances[0, 2]) and np.isinf(distances[2, 1])
    assert np.all(np.diag(distances) == 0)


def test_geodesic_distances_agree_with_workbench_and_the_sphere(tmp_path):
    cortex = sphere_cortex(tmp_path, n_vertices=2000, radius=50.0)
    hemisphere = cortex.hemispheres[0]
    ours = hemisphere.geodesic_distances(np.array([0]))[0]
    out = tmp_path / "distance.func.gii"
    run_wb_command("-surface-geodesic-distance", hemisphere.surface, 0, out)
    theirs = nib.load(out).agg_data()
    unit = hemisphere.coordinates / 50.0
    great_circle = 50.0 * np.arccos(np.clip(unit @ unit[0], -1, 1))
    far = great_circle > 20
    # Paths along edges are a little longer than true geodesics, never shorter.
    assert np.all(ours[far] >= 0.99 * great_circle[far])
    assert np.median(ours[far] / great_circle[far]) < 1.1
    assert np.median(np.abs(ours[far] / theirs[far] - 1)) < 0.1
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99


def test_sphere_mesh_is_closed():
    coordinates, triangles = sphere_mesh(200, 1.0)
    # Euler: a closed triangulated sphere has 2V - 4 triangles.
    assert len(triangles) == 2 * len(coordinates) - 4
