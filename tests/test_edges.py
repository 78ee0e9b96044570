import math

import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults
from hypothesis import given, settings
from hypothesis import strategies as st

from painflow.signals.edges import (
    EXCLUDED,
    FeatureSettings,
    bin_mean_edges,
    binned_fraction,
    drop_short_stretches,
    edge_time_series,
    n_edges,
    n_time_bins,
    predict_volumes,
    rank_bins,
    rating_bins,
    run_features,
    time_bins,
    zscore,
)


@pytest.fixture
def zscored():
    rng = np.random.default_rng(3)
    return zscore(rng.normal(size=(120, 9)) @ rng.normal(size=(9, 9)))


def test_edge_time_series_mean_is_pearson_correlation(zscored):
    edges = edge_time_series(zscored)
    rows, cols = np.triu_indices(zscored.shape[1], k=1)
    correlation = np.corrcoef(zscored.T)[rows, cols]
    assert edges.shape == (120, n_edges(9))
    np.testing.assert_allclose(edges.mean(axis=0), correlation, atol=1e-12)


def test_bin_mean_edges_equal_mean_of_explicit_products(zscored):
    labels = np.repeat([2, 0, EXCLUDED, 1], 30)
    bins, means = bin_mean_edges(zscored, labels)
    explicit = edge_time_series(zscored)
    assert bins.tolist() == [0, 1, 2]
    for position, label in enumerate(bins):
        np.testing.assert_allclose(
            means[position], explicit[labels == label].mean(axis=0), atol=1e-12
        )


def test_predict_volumes_equals_explicit_edge_weights(zscored):
    rng = np.random.default_rng(4)
    coef = rng.normal(size=n_edges(9))
    expected = edge_time_series(zscored) @ coef + 1.5
    np.testing.assert_allclose(
        predict_volumes(zscored, coef, 1.5), expected, atol=1e-10
    )


def plain_rank_bins(ratings, n_bins):
    """Reference: volumes sorted by (rating, time), split into n_bins equal parts.

    Part ``b`` holds sorted positions ``ceil(b n / n_bins)`` up to
    ``ceil((b + 1) n / n_bins)``: sizes differ by one at most.
    """
    n = len(ratings)
    order = sorted(range(n), key=lambda volume: (ratings[volume], volume))
    labels = [None] * n
    for part in range(n_bins):
        first, stop = math.ceil(part * n / n_bins), math.ceil((part + 1) * n / n_bins)
        for volume in order[first:stop]:
            labels[volume] = part
    return labels


def plain_stretch_rule(labels, n_shortest):
    """Reference: runs of equal labels with fewer than n_shortest volumes dropped."""
    kept, start = list(labels), 0
    for end in range(1, len(labels) + 1):
        if end == len(labels) or labels[end] != labels[start]:
            if end - start < n_shortest:
                kept[start:end] = [EXCLUDED] * (end - start)
            start = end
    return kept


def test_rating_bins_of_a_ramp_without_short_stretches():
    ratings = np.concatenate([np.linspace(0, 100, 200), [50, 51, 50]])
    labels = rating_bins(ratings, n_bins=10, tr=0.46, min_stretch_seconds=2.3)
    # 203 volumes: bins of 20 or 21; the monotonic ramp fills every bin in
    # long stretches.
    assert set(np.bincount(rank_bins(ratings, 10))) == {20, 21}
    assert set(labels[:200]) == set(range(10))
    assert np.bincount(labels[:200]).min() >= 18
    # A 3-volume excursion to the middle of the range is left out.
    assert (labels[200:] == EXCLUDED).all()
    # Higher bins hold higher ratings.
    means = [ratings[labels == b].mean() for b in range(10)]
    assert np.all(np.diff(means) > 0)


def test_a_plateau_of_half_the_run_still_gives_ten_equal_bins():
    # A slider left still for half the run, then moving: quantile edges put
    # the whole plateau in one bin (720/120/120/120/120).
    rng = np.random.default_rng(0)
    ratings = np.concatenate([np.full(600, 40.0), rng.uniform(0, 100, 600)])
    labels = rank_bins(ratings, 10)
    assert np.bincount(labels, minlength=10).tolist() == [120] * 10
    means = [ratings[labels == b].mean() for b in range(10)]
    assert np.all(np.diff(means) >= 0)
    # Ties go by time: the plateau is cut into consecutive stretches.
    plateau = labels[:600]
    assert np.all(np.diff(plateau) >= 0)
    assert plateau.tolist() == plain_rank_bins(ratings.tolist(), 10)[:600]


@settings(max_examples=60, deadline=None)
@given(
    ratings=st.lists(st.integers(0, 4), min_size=1, max_size=200),
    n_bins=st.integers(2, 12),
)
def test_rank_bins_equal_sorted_positions_split_in_equal_parts(ratings, n_bins):
    labels = rank_bins(np.array(ratings, dtype=float), n_bins)
    assert labels.tolist() == plain_rank_bins(ratings, n_bins)
    sizes = np.bincount(labels, minlength=n_bins)
    if len(ratings) >= n_bins:
        # Every bin is there, equal in size up to one volume.
        assert sizes.min() >= 1 and sizes.max() - sizes.min() <= 1
    else:
        # Fewer volumes than bins: each volume a bin of its own.
        assert sizes.max() == 1
    present = np.unique(labels)
    means = [np.mean(np.array(ratings)[labels == b]) for b in present]
    assert np.all(np.diff(means) >= 0)


def test_fewer_volumes_than_bins_give_one_bin_per_volume():
    labels = rank_bins(np.array([30.0, 10.0, 20.0, 10.0]), 10)
    # Four distinct bins, in the order of (rating, time).
    assert len(set(labels)) == 4
    assert np.argsort(labels).tolist() == [1, 3, 2, 0]


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 3), min_size=1, max_size=80),
    tr=st.sampled_from([0.46, 0.72, 0.8, 1.0, 2.0, 3.0]),
    min_seconds=st.sampled_from([0.0, 1.0, 2.3, 2.4, 6.0]),
)
def test_short_stretches_are_those_lasting_under_the_limit(labels, tr, min_seconds):
    # Shortest kept stretch in volumes, with a decimal tolerance: 5 x 0.46 = 2.3.
    n_shortest = math.ceil(round(min_seconds / tr, 9))
    got = drop_short_stretches(np.array(labels), tr, min_seconds)
    assert got.tolist() == plain_stretch_rule(labels, n_shortest)


def test_the_minimum_stretch_is_in_seconds():
    sizes = np.array([2, 3, 4, 5])
    labels = np.repeat(np.arange(4), sizes)
    # 2.3 s is 5 volumes at TR 0.46 s (5 x 0.46 counts as 2.3), 3 at 0.8 s,
    # 2 at 2 s.
    for tr, shortest in ((0.46, 5), (0.8, 3), (2.0, 2)):
        got = drop_short_stretches(labels, tr, 2.3)
        assert set(got[got != EXCLUDED]) == set(np.flatnonzero(sizes >= shortest))
    assert binned_fraction(drop_short_stretches(labels, 0.46, 2.3)) == 5 / 14
    assert np.isnan(binned_fraction(np.array([], dtype=int)))


@pytest.mark.parametrize(
    ("window_seconds", "bin_seconds", "count"),
    [
        (600.0, 60.0, 10),  # whole minutes
        (263.2, 60.0, 4),  # 23.2 s left: joins the fourth bin
        (270.0, 60.0, 5),  # half a bin left: a bin of its own
        (563.5, 120.0, 5),  # 83.5 s left of 2-min bins: its own bin
        (20.0, 60.0, 1),  # shorter than a bin: one bin
        (29.0, 300.0, 1),
    ],
)
def test_number_of_time_bins_rounds_the_window_length(
    window_seconds, bin_seconds, count
):
    assert n_time_bins(window_seconds, bin_seconds) == count


@settings(max_examples=60, deadline=None)
@given(
    window=st.integers(1, 800),
    tr=st.sampled_from([0.46, 0.72, 0.8, 1.0, 2.0, 2.5]),
    bin_seconds=st.sampled_from([30.0, 60.0, 120.0, 300.0]),
)
def test_time_bins_are_fixed_stretches_of_scan_time(window, tr, bin_seconds):
    labels = time_bins(np.arange(window), window, tr, bin_seconds)
    # Reference: bin of the volume's midpoint; the last bin takes a remainder
    # under half a bin, a window under one bin is one bin.
    full, remainder = divmod(round(window * tr, 6), bin_seconds)
    count = max(1, int(full) + (remainder >= bin_seconds / 2))
    expected = [
        min(math.floor((volume + 0.5) * tr / bin_seconds), count - 1)
        for volume in range(window)
    ]
    assert labels.tolist() == expected
    assert labels.max() + 1 == n_time_bins(window * tr, bin_seconds)


def test_time_bins_split_the_window_into_minutes():
    labels = time_bins(np.arange(600), 600, 1.0, 60.0)
    assert np.bincount(labels).tolist() == [60] * 10
    # Censored volumes do not shift the bins of the others.
    assert time_bins(np.array([0, 59, 60, 599]), 600, 1.0, 60.0).tolist() == [
        0,
        0,
        1,
        9,
    ]
    # The same window at TR 2 s lasts 20 minutes.
    assert time_bins(np.arange(600), 600, 2.0, 60.0).max() == 19


def test_run_features_bins_and_targets():
    rng = np.random.default_rng(0)
    n = 200
    table = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    table.insert(0, "volume", np.arange(10, 10 + n))
    table.insert(1, "time", table["volume"] + 0.5)
    table.insert(2, "rating", np.linspace(0, 100, n))
    table.insert(3, "fd", np.arange(n) / n)
    # TR 3 s: the 200-volume window lasts 10 minutes.
    qc = {
        "included": True,
        "window_start": 10,
        "window_stop": 10 + n,
        "RepetitionTime": 3.0,
    }
    settings = FeatureSettings(
        **with_defaults("features", time_bins={"1min": 60, "5min": 300})
    )
    features = run_features(table, qc, list("abcde"), settings, ["fd"])
    assert features["rating_bin_edges"].shape == (10, 10)
    assert float(features["rating_bin_fraction"]) == 1.0
    # Motion summaries are binned like the edges: FD rises linearly here.
    np.testing.assert_allclose(
        features["timebin_5min_motion"][:, 0], [0.2475, 0.7475], atol=1e-12
    )
    assert features["timebin_1min_edges"].shape == (10, 10)
    assert features["timebin_5min_ids"].tolist() == [0, 1]
    np.testing.assert_allclose(
        features["timebin_5min_rating"], [24.874, 75.126], atol=1e-3
    )
    np.testing.assert_allclose(features["zscored"].std(axis=0), 1.0)


def test_run_features_of_an_excluded_run_are_empty():
    table = pd.DataFrame(columns=["volume", "time", "rating", "fd", "a", "b"])
    features = run_features(
        table,
        {"included": False},
        ["a", "b"],
        FeatureSettings(**with_defaults("features")),
        ["fd"],
    )
    assert not features["included"]
    assert features["zscored"].shape == (0, 2)
    assert np.isnan(features["rating_bin_fraction"])


def test_run_features_of_a_run_whose_rating_jumps_every_volume():
    # Ratings alternate between extremes: every stretch is one volume (2 s,
    # under 2.3 s), so no volume reaches a rating bin; the time bins remain.
    n = 60
    rng = np.random.default_rng(1)
    table = pd.DataFrame(rng.normal(size=(n, 3)), columns=list("abc"))
    table.insert(0, "volume", np.arange(n))
    table.insert(1, "time", (np.arange(n) + 0.5) * 2.0)
    table.insert(2, "rating", np.tile([0.0, 100.0], n // 2))
    table.insert(3, "fd", 0.1)
    qc = {"included": True, "window_start": 0, "window_stop": n, "RepetitionTime": 2.0}
    features = run_features(
        table, qc, list("abc"), FeatureSettings(**with_defaults("features")), ["fd"]
    )
    assert float(features["rating_bin_fraction"]) == 0.0
    assert features["rating_bin_edges"].shape == (0, 3)
    assert features["rating_bin_motion"].shape == (0, 1)
    assert features["timebin_1min_ids"].tolist() == [0, 1]
