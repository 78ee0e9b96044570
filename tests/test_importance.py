"""Region importance: permutations, contributions, and recovery of the truth."""

import itertools
import math

import numpy as np
import pandas as pd
from conftest import study_atlas
from hypothesis import given, settings
from hypothesis import strategies as st

from painflow.analyses.importance import (
    fold_contributions,
    hierarchical_permutations,
    permutation_importance,
    rank_regions,
    unit_hierarchy,
)
from painflow.analyses.metrics import add_time_bins, scale_units
from painflow.core.fileio import read_json
from painflow.core.stats import pearson_r
from painflow.core.streams import step_rng
from painflow.model.crossval import predict_runs


def small_design():
    """3 sessions; runs of 4, 3 and 2 bins; one session with one run."""
    sessions = np.array(["a"] * 7 + ["b"] * 4 + ["c"] * 2)
    runs = np.array(["1"] * 4 + ["2"] * 3 + ["1"] * 4 + ["1"] * 2)
    return sessions, runs


# Sessions 1 and 2 have the same shape (runs of 4, 4 and 5 bins, in other
# orders); session 3 has runs of 6 and 5 bins, session 4 one run of 6.
UNBALANCED = {
    "1": {"1": 4, "2": 5, "3": 4},
    "2": {"1": 5, "2": 4, "3": 4},
    "3": {"1": 6, "2": 5},
    "4": {"1": 6},
}


def labels_of(design: dict) -> tuple[np.ndarray, np.ndarray]:
    """Session and run label of every unit, units of a run consecutive."""
    pairs = [
        (session, run)
        for session, runs in design.items()
        for run, size in runs.items()
        for _ in range(size)
    ]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def source_runs(order: np.ndarray, sessions, runs) -> dict:
    """Target run to the one source run its units were read from (None if many)."""
    mapping = {}
    for key in dict.fromkeys(zip(sessions, runs, strict=True)):
        positions = np.flatnonzero((sessions == key[0]) & (runs == key[1]))
        read = order[positions]
        sources = set(zip(sessions[read], runs[read], strict=True))
        mapping[key] = sources.pop() if len(sources) == 1 else None
    return mapping


def allowed_run_maps(design: dict) -> set:
    """Every run map the rule allows, by brute force over size-keeping bijections.

    A map is allowed when runs keep their size, every target session reads
    all its runs from one source session, and sessions map one to one.
    """
    runs = [(s, r) for s, rs in design.items() for r in rs]
    size = {(s, r): design[s][r] for s, r in runs}
    by_size = {}
    for run in runs:
        by_size.setdefault(size[run], []).append(run)
    allowed = set()
    per_size = [list(itertools.permutations(group)) for group in by_size.values()]
    for choice in itertools.product(*per_size):
        mapping = {}
        for group, image in zip(by_size.values(), choice, strict=True):
            mapping.update(zip(group, image, strict=True))
        session_map = {}
        for (s, _), (t, _) in mapping.items():
            session_map.setdefault(s, set()).add(t)
        images = [next(iter(t)) for t in session_map.values() if len(t) == 1]
        if len(images) == len(design) and len(set(images)) == len(design):
            allowed.add(tuple(sorted(mapping.items())))
    return allowed


def test_unbalanced_permutations_keep_runs_whole_and_shapes_matched():
    sessions, runs = labels_of(UNBALANCED)
    permutations = hierarchical_permutations(
        unit_hierarchy(sessions, runs), 3000, np.random.default_rng(5)
    )
    n_units = sessions.size
    seen_maps, seen_orders = set(), {}
    for order in permutations:
        # A true permutation: the multiset of values is kept.
        assert np.array_equal(np.sort(order), np.arange(n_units))
        mapping = source_runs(order, sessions, runs)
        assert None not in mapping.values()
        seen_maps.add(tuple(sorted(mapping.items())))
        for (session, run), source in mapping.items():
            positions = np.flatnonzero((sessions == session) & (runs == run))
            start = np.flatnonzero((sessions == source[0]) & (runs == source[1]))[0]
            seen_orders.setdefault(positions.size, set()).add(
                tuple(order[positions] - start)
            )
    # Every allowed arrangement of runs appears, and no other.
    allowed = allowed_run_maps(UNBALANCED)
    assert len(allowed) == 8
    assert seen_maps == allowed
    # Bins are shuffled freely within a run: every order of 4 and of 5 bins.
    assert len(seen_orders[4]) == math.factorial(4)
    assert len(seen_orders[5]) == math.factorial(5)


@st.composite
def designs(draw):
    """Sessions of 1-3 runs of 1-4 bins, with some sessions of equal shape."""
    shapes = draw(
        st.lists(
            st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=4
        )
    )
    repeats = draw(
        st.lists(st.integers(1, 3), min_size=len(shapes), max_size=len(shapes))
    )
    design, label = {}, 0
    for shape, count in zip(shapes, repeats, strict=True):
        for _ in range(count):
            label += 1
            order = draw(st.permutations(shape))
            design[str(label)] = {str(r + 1): size for r, size in enumerate(order)}
    return design


@settings(max_examples=60, deadline=None)
@given(design=designs(), seed=st.integers(0, 2**16))
def test_permutations_of_any_design_follow_the_rule(design, seed):
    sessions, runs = labels_of(design)
    permutations = hierarchical_permutations(
        unit_hierarchy(sessions, runs), 20, np.random.default_rng(seed)
    )
    shape = {s: sorted(rs.values()) for s, rs in design.items()}
    for order in permutations:
        assert np.array_equal(np.sort(order), np.arange(sessions.size))
        mapping = source_runs(order, sessions, runs)
        session_map = {}
        for (session, run), source in mapping.items():
            assert source is not None
            assert design[source[0]][source[1]] == design[session][run]
            session_map.setdefault(session, set()).add(source[0])
        assert all(len(sources) == 1 for sources in session_map.values())
        images = {s: t.pop() for s, t in session_map.items()}
        assert sorted(images.values()) == sorted(design)
        assert all(shape[s] == shape[t] for s, t in images.items())


def test_balanced_permutations_shuffle_sessions_runs_and_bins_freely():
    design = {s: {r: 2 for r in ("1", "2")} for s in ("1", "2", "3")}
    sessions, runs = labels_of(design)
    permutations = hierarchical_permutations(
        unit_hierarchy(sessions, runs), 2000, np.random.default_rng(1)
    )
    maps = {tuple(sorted(source_runs(o, sessions, runs).items())) for o in permutations}
    # 3! session orders x (2! run orders)^3: every one is allowed.
    assert maps == allowed_run_maps(design)
    assert len(maps) == 6 * 2**3
    again = hierarchical_permutations(
        unit_hierarchy(sessions, runs), 2000, np.random.default_rng(1)
    )
    assert np.array_equal(permutations, again)


def test_importance_has_its_own_random_stream(rng):
    sessions, runs = small_design()
    contributions = {
        "session": sessions,
        "run": runs,
        "contributions": rng.standard_normal((13, 4)),
        "rating": rng.standard_normal(13),
    }
    contributions["predicted"] = contributions["contributions"].sum(axis=1) / 2
    regions = pd.DataFrame({"index": [1, 2, 3, 4], "name": list("abcd")})
    regions["network"] = None
    table = rank_regions(contributions, regions, 50, seed=3)
    # Reference: the permutations drawn from the stream named for this step.
    permutations = hierarchical_permutations(
        unit_hierarchy(sessions, runs), 50, step_rng(3, "region_importance")
    )
    expected = permutation_importance(
        contributions["contributions"],
        contributions["predicted"],
        contributions["rating"],
        permutations,
    )
    np.testing.assert_array_equal(table.sort_values("region")["importance"], expected)
    # Streams are named, not numbered: the bootstrap of any scale draws others.
    first = step_rng(3, "region_importance").random(8)
    for scale in ("1min", "2min", "run", "session"):
        assert not np.allclose(first, step_rng(3, "bootstrap", scale).random(8))
    assert not np.allclose(first, np.random.default_rng([3, 1]).random(8))


def test_permutation_importance_expands_pearson_r_of_permuted_predictions(rng):
    sessions, runs = small_design()
    contributions = rng.standard_normal((13, 5))
    rating = rng.standard_normal(13)
    predicted = 0.3 + contributions.sum(axis=1) / 2 + rng.standard_normal(13)
    permutations = hierarchical_permutations(unit_hierarchy(sessions, runs), 50, rng)
    expected = []
    observed = pearson_r(predicted, rating)
    for region in range(5):
        drops = []
        for order in permutations:
            changed = predicted - contributions[:, region]
            changed = changed + contributions[order, region]
            drops.append(observed - pearson_r(changed, rating))
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
        table = rank_regions(arrays, atlas.regions, 1000, seed=0)
        signal = set(truth[subject]["signal_region_names"])
        found = signal & set(table.head(10)["name"])
        assert len(found) >= 0.8 * len(signal), (subject, sorted(found))
        assert table["rank"].tolist() == list(range(1, len(table) + 1))
