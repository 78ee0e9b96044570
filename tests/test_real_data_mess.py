"""The whole workflow on a study with real data's mess, against its clean twin.

The messy study carries non-steady-state volumes, head jerks with BOLD
artefacts (some at run ends), integer ratings held still on plateaus,
session labels 1..10 without ``sessions.tsv``, a missing run and shorter
runs. Its clean twin has the same brain signal and design without the
artefacts (the simulator draws artefacts from streams of their own).
"""

import numpy as np
import pytest
from workflow_runner import run_workflow, study_config

from painflow.core.fileio import read_json, read_tsv
from painflow.signals.extract import PAIR_COLUMNS
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow

DESIGN = {
    "n_subjects": 1,
    "n_sessions": 10,
    "n_runs": 2,
    "n_volumes": 300,
    "seed": 21,
    # A clear signal, so that the 1-min r of the two twins can be compared.
    "parameters": SimulationParameters(signal_gain=2.5, n_signal_regions=12),
    "unpadded_sessions": True,
    "missing_run": True,
    "variable_run_length": True,
}
# Jerks escape the study's low-passed FD; std_dvars catches them.
OVERRIDES = {
    "denoise": {"spike_std_dvars": 1.5},
    "prospective": {"mode": "expanding", "min_train_sessions": 8},
    "learning_curve": {"n_repeats": 2, "n_bootstrap": 50},
    "importance": {"n_permutations": 100, "n_shown": 10},
}
# Volumes this close to an artefact may differ through filtering transients.
MARGIN_VOLUMES = 10
PLANTED = ("non_steady_state", "jerk")


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    outputs = {}
    for name, artifacts in (("messy", True), ("clean", False)):
        root = tmp_path_factory.mktemp(name)
        simulate_study(root / "data", artifacts=artifacts, **DESIGN)
        config = study_config(root / "data", root / "out", **OVERRIDES)
        # Learning curves and region importance are not compared here.
        targets = ("--until", "evaluate")
        if artifacts:
            targets += ("summarize_prospective",)
        result = run_workflow(config, root, *targets)
        assert result.returncode == 0, result.stdout[-3000:]
        outputs[name] = root
    return outputs


def run_series(root):
    """Kept-volume table of every run, by (session, run)."""
    tables = {}
    for path in sorted((root / "out").glob("sub-01/ses-*/func/*timeseries.tsv")):
        entities = dict(part.split("-", 1) for part in path.name.split("_")[:-1])
        tables[(entities["ses"], entities["run"])] = read_tsv(path)
    return tables


def planted_volumes(root):
    """Volumes of the planted artefacts, by (session, run)."""
    truth = read_json(root / "data" / "ground_truth.json")
    planted = {}
    for run in truth["runs"]:
        volumes = [
            volume
            for artefact in run["artifacts"]
            if artefact["kind"] in PLANTED
            for volume in artefact["volumes"]
        ]
        planted[(str(run["session"]), str(run["run"]))] = np.array(volumes, int)
    return planted


def test_no_planted_artefact_reaches_a_kept_volume(studies):
    series = run_series(studies["messy"])
    planted = planted_volumes(studies["messy"])
    assert sum(len(volumes) for volumes in planted.values()) > 0
    for key, table in series.items():
        assert not np.isin(table["volume"], planted.get(key, [])).any(), key


def lagged_correlations(messy, clean, regions, lag):
    """Correlation of each region's messy series with the clean one ``lag`` later."""
    shifted = clean.set_index("volume")
    volumes = messy["volume"].to_numpy() + lag
    present = np.isin(volumes, shifted.index)
    ours = messy.loc[present, regions].to_numpy()
    theirs = shifted.loc[volumes[present], regions].to_numpy()
    return np.array(
        [np.corrcoef(ours[:, i], theirs[:, i])[0, 1] for i in range(len(regions))]
    )


def test_kept_series_match_the_clean_twin_away_from_artefacts(studies):
    messy, clean = run_series(studies["messy"]), run_series(studies["clean"])
    planted = planted_volumes(studies["messy"])
    assert messy.keys() == clean.keys()
    first = messy[next(iter(messy))]
    regions = [column for column in first.columns if column not in PAIR_COLUMNS]
    series, run_means = [], []
    for key, table in messy.items():
        near = planted.get(key, np.array([], int))
        distance = np.abs(table["volume"].to_numpy()[:, None] - near[None, :])
        far = table[(distance > MARGIN_VOLUMES).all(axis=1)].reset_index(drop=True)
        same = lagged_correlations(far, clean[key], regions, 0)
        # A series that slipped by a volume would match its neighbour instead.
        for lag in (-1, 1):
            neighbour = lagged_correlations(far, clean[key], regions, lag)
            assert same.mean() > neighbour.mean() + 0.5, (key, lag)
        series.extend(same)
        run_means.append(same.mean())
    print(
        f"kept-volume series vs clean twin, away from artefacts: median r "
        f"{np.median(series):.3f}, lowest run mean {min(run_means):.3f}, lowest "
        f"series {min(series):.3f} ({len(series)} series)"
    )
    assert np.median(series) > 0.95
    assert min(run_means) > 0.9
    assert min(series) > 0.7


def decoding_table(root, name):
    """A table of sub-01's decoding outputs, session labels as text."""
    path = root / "out" / "sub-01" / "decoding" / f"sub-01_atlas-AAL_{name}"
    return read_tsv(path, dtype={"session": str, "test_session": str})


def one_minute_r(root):
    table = decoding_table(root, "metrics.tsv")
    row = table[(table["scale"] == "1min") & (table["metric"] == "r")]
    return float(row["estimate"].iloc[0])


def test_one_minute_r_is_within_005_of_the_clean_twin(studies):
    messy, clean = one_minute_r(studies["messy"]), one_minute_r(studies["clean"])
    print(f"1-min r: messy {messy:.3f}, clean {clean:.3f}")
    assert clean > 0.5
    assert abs(messy - clean) < 0.05


def test_prospective_test_follows_the_natural_scan_order(studies):
    table = decoding_table(studies["messy"], "prospective.tsv")
    trained = table.groupby("test_session")["n_train_sessions"].first()
    assert trained.to_dict() == {"9": 8, "10": 9}
