"""Boundary mapping: streamed correlation maps, watershed lines, edge-density maps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parcellation_meshes import (  # noqa: F401
    planted_parcels,
    planted_series,
    single_threaded,
    sphere_cortex,
)

from painflow.parcellation.boundary import (
    BoundarySettings,
    CorrelationAccumulator,
    edge_map,
    similarity_targets,
    watershed,
)


def chain_neighbours(n: int) -> np.ndarray:
    """Neighbour table of a path 0 - 1 - ... - n-1, padded with n."""
    return np.array(
        [[i - 1 if i > 0 else n, i + 1 if i < n - 1 else n] for i in range(n)]
    )


def plain_watershed(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """One map, one vertex at a time, with Python sets."""
    n = len(values)
    labels = [None] * n  # None: not reached yet; 0: line
    basins = 0
    for vertex in sorted(range(n), key=lambda v: (values[v], v)):
        around = {labels[u] for u in neighbours[vertex] if u < n and labels[u]}
        if not around:
            basins += 1
            labels[vertex] = basins
        else:
            labels[vertex] = around.pop() if len(around) == 1 else 0
    return np.array(labels)


@given(
    seed=st.integers(0, 2**32 - 1),
    n_vertices=st.integers(2, 9),
    frames=st.lists(st.integers(2, 12), min_size=1, max_size=3),
    stride=st.integers(1, 3),
)
@settings(max_examples=40, deadline=None)
def test_streamed_correlation_maps_equal_those_of_the_concatenated_sessions(
    seed, n_vertices, frames, stride
):
    rng = np.random.default_rng(seed)
    sessions = [
        rng.normal(rng.normal(0, 50), 1, (count, n_vertices)) for count in frames
    ]
    targets = similarity_targets(n_vertices, stride)
    accumulator = CorrelationAccumulator(n_vertices, targets)
    for session in sessions:
        accumulator.add(session)
    demeaned = np.concatenate([s - s.mean(axis=0) for s in sessions])
    expected = np.corrcoef(demeaned.T)[:, targets]
    assert accumulator.n_frames == sum(frames)
    assert np.allclose(accumulator.correlation_maps(), expected, atol=1e-5)


def test_float32_sessions_keep_float32_accuracy():
    rng = np.random.default_rng(0)
    sessions = [rng.standard_normal((50, 6)).astype(np.float32) for _ in range(2)]
    accumulator = CorrelationAccumulator(6, [0, 5])
    for session in sessions:
        accumulator.add(session)
    joined = np.concatenate([s - s.mean(axis=0) for s in sessions]).astype(float)
    assert np.allclose(
        accumulator.correlation_maps(), np.corrcoef(joined.T)[:, [0, 5]], atol=1e-5
    )


def test_bad_sessions_are_refused_with_their_numbers():
    accumulator = CorrelationAccumulator(4, [0, 2])
    with pytest.raises(ValueError, match="0 frames in 0 session"):
        accumulator.correlation_maps()
    with pytest.raises(ValueError, match=r"shape \(5, 3\): expected \(frames, 4\)"):
        accumulator.add(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="1 frame"):
        accumulator.add(np.zeros((1, 4)))
    series = np.random.default_rng(0).standard_normal((10, 4))
    series[:, 3] = 7.0
    accumulator.add(series)
    with pytest.raises(ValueError, match=r"1 of 4 vertices have no variance over 10"):
        accumulator.correlation_maps()
    with pytest.raises(ValueError, match="10 frames in 1 session.*at least 500"):
        accumulator.correlation_maps(min_frames=500)
    with pytest.raises(ValueError, match="columns 0..3, got 0..4"):
        CorrelationAccumulator(4, [0, 4])


def test_watershed_on_a_chain_by_hand():
    # Minima at 5 (value 0) then 1 (value 1): basins 1 and 2 in that order;
    # vertex 3 (value 5) is reached from both and becomes the line between them.
    values = np.array([3, 1, 2, 5, 2, 0, 4])
    labels = watershed(values, chain_neighbours(7))
    assert labels.tolist() == [2, 2, 2, 0, 1, 1, 1]


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), maps=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_all_maps_at_once_equal_one_map_at_a_time(seed, n, maps):
    rng = np.random.default_rng(seed)
    # A random planar-ish mesh: a chain plus random chords, padded table.
    neighbours = [set() for _ in range(n)]
    for a, b in [(i, i + 1) for i in range(n - 1)] + [
        tuple(rng.choice(n, 2, replace=False)) for _ in range(n // 2)
    ]:
        neighbours[a].add(b)
        neighbours[b].add(a)
    width = max(len(s) for s in neighbours)
    table = np.full((n, width), n)
    for vertex, around in enumerate(neighbours):
        table[vertex, : len(around)] = sorted(around)
    values = rng.integers(0, 6, (maps, n)).astype(float)  # ties included
    expected = np.array([plain_watershed(row, table) for row in values])
    assert np.array_equal(watershed(values, table), expected)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="similarity_stride must be at least 1"):
        BoundarySettings(similarity_stride=0, gradient_sigma_mm=2.55, chunk_maps=10)
    with pytest.raises(ValueError, match="gradient_sigma_mm must be positive"):
        BoundarySettings(similarity_stride=1, gradient_sigma_mm=0, chunk_maps=10)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Two spheres of 700 vertices with 16 planted parcels, and their data."""
    cortex = sphere_cortex(tmp_path_factory.mktemp("mesh"), 700, 50.0, wall=20)
    truth = planted_parcels(cortex, 16, seed=1)
    series = planted_series(truth, 300, noise=1.0, seed=2)
    return cortex, truth, series


def planted_edge_map(planted, stride):
    cortex, _, series = planted
    targets = similarity_targets(cortex.n_vertices, stride)
    accumulator = CorrelationAccumulator(cortex.n_vertices, targets)
    for session in np.array_split(series, 2):
        accumulator.add(session)
    settings = BoundarySettings(
        similarity_stride=stride, gradient_sigma_mm=4.0, chunk_maps=400
    )
    return edge_map(accumulator.correlation_maps(), cortex, settings)


def on_planted_borders(cortex, truth):
    """Vertices with a neighbour in another planted parcel."""
    borders = np.zeros(len(truth), bool)
    for hemisphere in cortex.hemispheres:
        columns = cortex.columns(hemisphere)
        local = truth[columns]
        table = hemisphere.data_neighbours()
        padded = np.append(local, -1)[table]
        borders[columns] = ((padded != local[:, None]) & (padded >= 0)).any(axis=1)
    return borders


def test_edge_map_finds_the_planted_borders_and_subsampling_keeps_it(planted):
    cortex, truth, _ = planted
    full = planted_edge_map(planted, stride=1)
    sampled = planted_edge_map(planted, stride=3)
    borders = on_planted_borders(cortex, truth)
    assert full.shape == (cortex.n_vertices,)
    assert 0 <= full.min() and full.max() <= 1
    ratio = full[borders].mean() / full[~borders].mean()
    assert ratio > 1.4, ratio
    agreement = np.corrcoef(full, sampled)[0, 1]
    assert agreement > 0.9, agreement
    assert np.array_equal(sampled, planted_edge_map(planted, stride=3))


def test_edge_map_needs_the_settings_targets(planted):
    cortex = planted[0]
    settings = BoundarySettings(similarity_stride=2, gradient_sigma_mm=4, chunk_maps=9)
    with pytest.raises(ValueError, match="stride 2 on 1360 vertices gives 680"):
        edge_map(np.zeros((cortex.n_vertices, 5)), cortex, settings)
