"""Parcels from an edge map: watershed, merging, boundaries, small parcels, spins."""

import numpy as np
import pytest
from parcellation_meshes import (  # noqa: F401
    planted_distances,
    planted_series,
    single_threaded,
    sphere_cortex,
)
from scipy.spatial.transform import Rotation
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from painflow.parcellation.parcels import (
    ParcelSettings,
    absorb_small_parcels,
    border_contacts,
    create_parcels,
    hemisphere_parcels,
    merge_basins,
    parcel_homogeneity,
    renumber,
    spin_labels,
)

STUDY = ParcelSettings(
    merge_percentile=50,
    boundary_percentile=75,
    min_parcel_vertices=30,
    min_isolated_vertices=10,
)


def table_from_edges(n: int, edges) -> np.ndarray:
    """Padded neighbour table of a graph given by its edges."""
    around = [set() for _ in range(n)]
    for a, b in edges:
        around[a].add(b)
        around[b].add(a)
    table = np.full((n, max(len(s) for s in around)), n)
    for vertex, others in enumerate(around):
        table[vertex, : len(others)] = sorted(others)
    return table


def chain(n: int) -> np.ndarray:
    return table_from_edges(n, [(i, i + 1) for i in range(n - 1)])


def ladder(n: int, extra=()) -> np.ndarray:
    """Two rails 0..n-1 and n..2n-1, rungs between i and n + i."""
    rails = [(i, i + 1) for i in range(n - 1)] + [
        (n + i, n + i + 1) for i in range(n - 1)
    ]
    return table_from_edges(2 * n, rails + [(i, n + i) for i in range(n)] + list(extra))


def test_basins_merge_when_their_border_is_low():
    # Basins 1 | line (5) | 2 | line (9) | 3; only the border of value 5 is low.
    values = np.array([0, 1, 5, 1, 0, 2, 9, 2, 0.0])
    basins = np.array([1, 1, 0, 2, 2, 2, 0, 3, 3])
    merged = merge_basins(basins, values, chain(9), threshold=6)
    assert merged.tolist() == [1, 1, 1, 1, 1, 1, 0, 3, 3]
    # Merging is transitive, and the line of the merged border joins the parcel.
    assert merge_basins(basins, values, chain(9), 10).tolist() == [1] * 9
    assert merge_basins(basins, values, chain(9), 5).tolist() == basins.tolist()


def test_merging_uses_the_median_of_the_border():
    # Columns 0-1 basin 1, column 2 the line (values 1 and 5), columns 3-4 basin 2.
    top, bottom = [1, 1, 0, 2, 2], [1, 1, 0, 2, 2]
    basins = np.array(top + bottom)
    values = np.zeros(10)
    values[[2, 7]] = [1, 5]
    assert merge_basins(basins, values, ladder(5), 3).tolist() == basins.tolist()
    assert merge_basins(basins, values, ladder(5), 3.5).tolist() == [1] * 10


def test_vertices_above_the_boundary_threshold_are_left_out():
    values = np.array([0, 1, 5, 1, 0, 2, 9, 2, 0.0])
    keep_all = ParcelSettings(50, 100, 0, 0)
    labels = hemisphere_parcels(values, chain(9), (6, 1.5), keep_all)
    assert labels.tolist() == [1, 1, 0, 1, 1, 0, 0, 0, 3]


def test_small_parcels_join_the_neighbour_they_share_most_border_with():
    # Parcel 2 touches parcel 1 across two line vertices (2, 8) and parcel 3 by
    # three mesh edges (3-4, 9-10 and the extra 3-10): it joins 3.
    labels = np.array([1, 1, 0, 2, 3, 3] + [1, 1, 0, 2, 3, 3])
    table = ladder(6, extra=[(3, 10)])
    contacts = border_contacts(labels, table).toarray()
    assert contacts[2, 1] == 2 and contacts[2, 3] == 3
    merged = absorb_small_parcels(labels, table, ParcelSettings(50, 75, 3, 0))
    assert merged.tolist() == [1, 1, 0, 3, 3, 3] * 2


def test_the_smallest_parcel_merges_first():
    labels = np.array([1, 2, 2, 0, 3, 3, 3, 3])
    merged = absorb_small_parcels(labels, chain(8), ParcelSettings(50, 75, 3, 0))
    assert merged.tolist() == [2, 2, 2, 0, 3, 3, 3, 3]


def test_small_isolated_parcels_are_removed_larger_ones_kept():
    # Three components with no contact: sizes 2, 4 and 6.
    edges = [(0, 1), (2, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9), (9, 10), (10, 11)]
    labels = np.array([1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3])
    kept = absorb_small_parcels(
        labels, table_from_edges(12, edges), ParcelSettings(50, 75, 30, 3)
    )
    assert kept.tolist() == [0, 0, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]


def test_renumbering_follows_the_lowest_column():
    assert renumber(np.array([7, 0, 3, 7, 5, 3])).tolist() == [1, 0, 2, 1, 3, 2]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Spheres of 1,500 vertices, 12 planted parcels, an edge map on their borders.

    The edge map falls off with the margin between a vertex's nearest and
    second-nearest planted centre: highest on the borders, lowest inside.
    """
    cortex = sphere_cortex(tmp_path_factory.mktemp("mesh"), 1500, 50.0, wall=30)
    distances = np.sort(planted_distances(cortex, 12, seed=3), axis=1)
    truth = np.argmin(planted_distances(cortex, 12, seed=3), axis=1)
    edges = np.exp(-(distances[:, 1] - distances[:, 0]) / 10.0)
    return cortex, truth, edges


def test_parcels_recover_a_planted_edge_map(planted):
    cortex, truth, edges = planted
    labels = create_parcels(edges, cortex, ParcelSettings(50, 75, 10, 5))
    inside = labels > 0
    assert adjusted_rand_score(truth[inside], labels[inside]) > 0.9
    assert labels.max() == len(np.unique(labels[inside]))
    first = [np.flatnonzero(labels == p)[0] for p in range(1, labels.max() + 1)]
    assert first == sorted(first)
    # The top quarter of the edge map is boundary.
    assert (labels == 0).mean() >= 0.25
    assert np.all(labels[edges > np.percentile(edges, 75)] == 0)
    right = cortex.columns("right")
    assert labels[right][labels[right] > 0].min() > labels[: right.start].max()


def test_bad_edge_maps_are_refused(planted):
    cortex, _, edges = planted
    with pytest.raises(ValueError, match="edge_map has 3 cortex columns"):
        create_parcels(edges[:3], cortex, STUDY)
    broken = edges.copy()
    broken[5] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        create_parcels(broken, cortex, STUDY)
    with pytest.raises(ValueError, match="boundary_percentile must be in 0..100"):
        ParcelSettings(50, 175, 30, 10)


def test_homogeneity_by_hand_and_against_pca():
    rng = np.random.default_rng(5)
    signal, other = rng.standard_normal((2, 200))
    series = np.column_stack([signal, 3 * signal + 1, signal, other])
    labels = np.array([1, 1, 2, 2])
    shares = parcel_homogeneity(series, labels)
    r = np.corrcoef(signal, other)[0, 1]
    assert shares[0] == pytest.approx(1.0)
    assert shares[1] == pytest.approx((1 + abs(r)) / 2)
    data = rng.standard_normal((60, 30)) + rng.standard_normal((60, 1))
    labels = rng.integers(1, 4, 30)
    standardized = (data - data.mean(axis=0)) / data.std(axis=0)
    expected = [
        PCA(1).fit(standardized[:, labels == p]).explained_variance_ratio_[0]
        for p in (1, 2, 3)
    ]
    assert np.allclose(parcel_homogeneity(data, labels), expected)


def test_spin_rotates_the_parcels_with_the_sphere(planted):
    cortex = planted[0]
    spheres = [h.coordinates for h in cortex.hemispheres]
    positions = np.concatenate([h.coordinates[h.vertices] for h in cortex.hemispheres])
    cap = (positions[:, 0] > 20).astype(int)  # a cap around +x on both spheres
    spun = spin_labels(cap, cortex, spheres, np.random.default_rng(6))
    rotations = Rotation.random(2, rng=np.random.default_rng(6))
    for hemisphere, rotation in zip(cortex.hemispheres, rotations, strict=True):
        columns = cortex.columns(hemisphere)
        axis = rotation.apply([1.0, 0, 0])
        along = positions[columns] @ axis
        clear = np.abs(along - 20) > 5  # away from the cap's rim
        assert np.array_equal(spun[columns][clear], (along[clear] > 20).astype(int))
    again = spin_labels(cap, cortex, spheres, np.random.default_rng(6))
    assert np.array_equal(spun, again)
    with pytest.raises(ValueError, match="left sphere has 10 vertices"):
        spin_labels(cap, cortex, [spheres[0][:10], spheres[1]], np.random.default_rng())


def test_planted_parcels_are_more_homogeneous_than_their_spins(planted):
    cortex, truth, _ = planted
    series = planted_series(truth, 100, noise=2.0, seed=7)
    spheres = [h.coordinates for h in cortex.hemispheres]
    spun = spin_labels(truth + 1, cortex, spheres, np.random.default_rng(8))
    own = np.nanmean(parcel_homogeneity(series, truth + 1))
    assert own > np.nanmean(parcel_homogeneity(series, spun)) + 0.05
