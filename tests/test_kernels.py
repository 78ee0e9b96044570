"""Edge-vector identities agree with explicit edge products."""

import numpy as np
import pytest

from painflow.model.kernels import (
    region_contributions,
    region_kernel,
    regions_of_edges,
    volume_kernel,
)
from painflow.signals.edges import (
    bin_mean_edges,
    edge_time_series,
    edge_weight_matrix,
    zscore,
)


@pytest.fixture
def volumes(rng):
    return zscore(rng.standard_normal((40, 9))), zscore(rng.standard_normal((25, 9)))


def edges_touching(region, n_regions):
    rows, cols = np.triu_indices(n_regions, k=1)
    return (rows == region) | (cols == region)


def test_volume_kernel_is_the_inner_product_of_edge_vectors(volumes):
    za, zb = volumes
    explicit = edge_time_series(za) @ edge_time_series(zb).T
    np.testing.assert_allclose(volume_kernel(za, zb), explicit, atol=1e-10)


def test_region_kernel_is_the_part_on_the_edges_of_the_region(volumes):
    za, zb = volumes
    ea, eb = edge_time_series(za), edge_time_series(zb)
    for region in (0, 4, 8):
        touching = edges_touching(region, za.shape[1])
        explicit = ea[:, touching] @ eb[:, touching].T
        np.testing.assert_allclose(region_kernel(za, zb, region), explicit, atol=1e-10)
    # Each edge touches two regions: the parts add up to twice the kernel.
    total = sum(region_kernel(za, zb, r) for r in range(za.shape[1]))
    np.testing.assert_allclose(total, 2 * volume_kernel(za, zb), atol=1e-10)


def test_bin_means_and_their_inner_products(volumes, rng):
    za, _ = volumes
    labels = rng.integers(0, 4, len(za))
    _, means = bin_mean_edges(za, labels)
    explicit = np.stack(
        [edge_time_series(za[labels == b]).mean(axis=0) for b in range(4)]
    )
    np.testing.assert_allclose(means, explicit, atol=1e-12)
    # Inner products of bin means are means of the volume kernel.
    kernel = volume_kernel(za, za)
    for a in range(4):
        for b in range(4):
            block = kernel[np.ix_(labels == a, labels == b)]
            assert means[a] @ means[b] == pytest.approx(block.mean(), abs=1e-10)


def test_region_contributions_split_the_prediction(volumes, rng):
    za, _ = volumes
    n_regions = za.shape[1]
    coef = rng.standard_normal(n_regions * (n_regions - 1) // 2)
    edges = edge_time_series(za)
    contributions = region_contributions(edges, coef)
    for region in range(n_regions):
        touching = edges_touching(region, n_regions)
        np.testing.assert_allclose(
            contributions[:, region], edges[:, touching] @ coef[touching], atol=1e-10
        )
    # Per volume, the edges touching r contribute z_r (W z)_r.
    weights = edge_weight_matrix(coef, n_regions)
    np.testing.assert_allclose(contributions, za * (za @ weights), atol=1e-10)
    np.testing.assert_allclose(contributions.sum(axis=1), 2 * edges @ coef)


def test_regions_of_edges():
    assert regions_of_edges(159_895) == 566
    with pytest.raises(ValueError, match="not a number of region pairs"):
        regions_of_edges(7)
