"""Region importance: permutations, contributions, and recovery of the truth."""

import numpy as np
import pandas as pd
from conftest import study_atlas

from painflow.crossval import predict_runs
from painflow.fileio import read_json
from painflow.importance import (
    fold_contributions,
    hierarchical_permutations,
    permutation_importance,
    rank_regions,
    unit_index,
)
from painflow.metrics import add_time_bins, scale_units


def small_design():
    """3 sessions; runs of 4, 3 and 2 bins; one session with one run."""
    sessions = np.array(["a"] * 7 + ["b"] * 4 + ["c"] * 2)
    runs = np.array(["1"] * 4 + ["2"] * 3 + ["1"] * 4 + ["1"] * 2)
    return sessions, runs


def test_hierarchical_permutations_keep_runs_and_sessions_together(rng):
    sessions, runs = small_design()
    index = unit_index(sessions, runs)
    assert index.shape == (3, 2, 4)
    permutations = hierarchical_permutations(index, 200, rng)
    assert permutations.shape == (200, 13)
    identity = np.arange(13)
    seen_orders = set()
    for order in permutations:
        assert np.array_equal(np.sort(order), identity)
        # The units of one run are read one after another, and so are the
        # runs of one session.
        for labels in (sessions, np.char.add(sessions, runs)):
            read = labels[order]
            changes = np.count_nonzero(read[1:] != read[:-1])
            assert changes == np.unique(labels).size - 1
        seen_orders.add(tuple(order))
    assert len(seen_orders) > 100
    again = hierarchical_permutations(index, 200, np.random.default_rng(0))
    assert np.array_equal(permutations, again)


def test_permutation_importance_equals_recomputed_correlations(rng):
    sessions, runs = small_design()
    contributions = rng.standard_normal((13, 5))
    rating = rng.standard_normal(13)
    predicted = 0.3 + contributions.sum(axis=1) / 2 + rng.standard_normal(13)
    permutations = hierarchical_permutations(unit_index(sessions, runs), 50, rng)
    expected = []
    observed = np.corrcoef(predicted, rating)[0, 1]
    for region in range(5):
        drops = []
        for order in permutations:
            changed = predicted - contributions[:, region]
            changed = changed + contributions[order, region]
            drops.append(observed - np.corrcoef(changed, rating)[0, 1])
        expected.append(np.mean(drops))
    got = permutation_importance(contributions, predicted, rating, permutations)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_contributions_add_up_to_the_bin_predictions(decoded):
    result = decoded["01"]
    contributions = fold_contributions(
        result["features"], result["fold_models"], "1min"
    )
    np.testing.assert_allclose(
        contributions["contributions"].sum(axis=1),
        2 * (contributions["predicted"] - contributions["intercept"]),
        atol=1e-9,
    )
    # A bin's prediction is the mean of its volumes' out-of-sample predictions.
    volumes = [
        predict_runs([run], result["fold_models"][run.session], run.session)
        for run in result["features"]
    ]
    volumes = add_time_bins(pd.concat(volumes), result["windows"], {"1min": 60})
    units = scale_units(volumes, "1min")
    np.testing.assert_allclose(
        contributions["predicted"], units["predicted"], atol=1e-9
    )


def test_top_regions_are_the_simulated_signal_regions(decoded, recovery_study):
    truth = read_json(recovery_study / "ground_truth.json")["subjects"]
    atlas = study_atlas(recovery_study)
    for subject, result in decoded.items():
        arrays = fold_contributions(result["features"], result["fold_models"], "1min")
        table = rank_regions(arrays, atlas.regions, 1000, np.random.default_rng(0))
        signal = set(truth[subject]["signal_region_names"])
        found = signal & set(table.head(10)["name"])
        assert len(found) >= 0.8 * len(signal), (subject, sorted(found))
        assert table["rank"].tolist() == list(range(1, len(table) + 1))
