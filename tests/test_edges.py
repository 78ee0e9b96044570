import numpy as np
import pandas as pd
import pytest

from painflow.edges import (
    EXCLUDED,
    FeatureSettings,
    bin_mean_edges,
    edge_time_series,
    n_edges,
    predict_volumes,
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


def test_rating_bins_are_quantiles_without_short_stretches():
    ratings = np.concatenate([np.linspace(0, 100, 200), [50, 51, 50]])
    labels = rating_bins(ratings, n_bins=10, min_stretch=5)
    # The monotonic ramp fills every decile in long stretches.
    assert set(labels[:200]) == set(range(10))
    assert np.bincount(labels[:200]).min() >= 19
    # A 3-volume excursion to the middle of the range is left out.
    assert (labels[200:] == EXCLUDED).all()
    # Higher bins hold higher ratings.
    means = [ratings[labels == b].mean() for b in range(10)]
    assert np.all(np.diff(means) > 0)


def test_time_bins_split_the_window_equally():
    labels = time_bins(np.arange(600), 600, 10)
    assert np.bincount(labels).tolist() == [60] * 10
    # Censored volumes do not shift the bins of the others.
    assert time_bins(np.array([0, 59, 60, 599]), 600, 10).tolist() == [0, 0, 1, 9]


def test_run_features_bins_and_targets():
    rng = np.random.default_rng(0)
    n = 200
    table = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    table.insert(0, "volume", np.arange(10, 10 + n))
    table.insert(1, "time", table["volume"] + 0.5)
    table.insert(2, "rating", np.linspace(0, 100, n))
    table.insert(3, "fd", np.arange(n) / n)
    qc = {"included": True, "window_start": 10, "window_stop": 10 + n}
    settings = FeatureSettings(time_bins={"1min": 10, "5min": 2})
    features = run_features(table, qc, list("abcde"), settings, ["fd"])
    assert features["rating_bin_edges"].shape == (10, 10)
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
        table, {"included": False}, ["a", "b"], FeatureSettings(), ["fd"]
    )
    assert not features["included"]
    assert features["zscored"].shape == (0, 2)
