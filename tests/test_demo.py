"""The study's findings, reproduced on the demo simulation (`make demo`'s data).

The demo is ``painflow simulate`` with the Makefile's ``DEMO_SIMULATION``: 2
subjects x 12 sessions x 2 runs of 10 minutes, 8 signal regions each.
"""

import re
from pathlib import Path

import pytest
from conftest import decode_study, study_atlas, with_defaults

from painflow.analyses.importance import fold_contributions, rank_regions
from painflow.analyses.learningcurve import kernel_data, learning_curve_scores
from painflow.analyses.metrics import add_time_bins, point_metrics
from painflow.core.fileio import read_json
from painflow.model.crossval import predict_runs
from painflow.signals.confounds import DenoiseSettings
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow
MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"
# The rating runs a session of `make demo`'s simulation (the Makefile's flags).
DEMO_RUNS = 2


def test_the_makefile_simulates_the_demo_these_tests_check():
    flags = re.search(r"^DEMO_SIMULATION := (.*)$", MAKEFILE.read_text(), re.M)
    assert flags, "no DEMO_SIMULATION in the Makefile"
    assert f"--runs {DEMO_RUNS}" in flags.group(1)
    assert "--sessions" not in flags.group(1)  # the default 12, as tested here


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    study = tmp_path_factory.mktemp("demo")
    # `make demo`'s rating runs (its rest runs are not decoded here).
    simulate_study(study, n_runs=DEMO_RUNS, artifacts=True)
    # As config/demo.yaml: the simulated jerks escape the low-passed FD.
    denoise = DenoiseSettings(**with_defaults("denoise", spike_std_dvars=1.5))
    return study, decode_study(study, n_bootstrap=10, denoise=denoise)


def test_learning_curve_rises_to_the_largest_training_set(demo):
    _, decoded = demo
    for subject, result in decoded.items():
        choices = result["folds"].set_index("fold")["n_components"].to_dict()
        data = kernel_data(result["features"], ["1min"])
        n_sessions = len(choices) - 1
        median = {
            size: learning_curve_scores(data, choices, size, 10, 0, ["1min"])[
                "r"
            ].median()
            for size in (2, n_sessions - 2)
        }
        assert median[n_sessions - 2] > median[2] + 0.1, (subject, median)


def test_models_do_not_transfer_between_the_two_people(demo):
    _, decoded = demo
    for train, test in (("01", "02"), ("02", "01")):
        predictions = predict_runs(
            decoded[test]["features"], decoded[train]["model"], fold=train
        )
        volumes = add_time_bins(predictions, decoded[test]["windows"], {"1min": 60})
        across = point_metrics(volumes, ["1min"], ("r",))["r"].iloc[0]
        own = decoded[test]["metrics"].loc["r", "estimate"]
        # Pooled 1-min r follows the 12 session levels, so chance reaches
        # about +-0.25; the person's own model stays far above it.
        assert abs(across) < 0.25, (train, test, across)
        assert own > 0.4, (test, own)
        assert own > across + 0.3, (train, test, own, across)


def test_top_ten_regions_hold_the_ground_truth(demo):
    study, decoded = demo
    truth = read_json(study / "ground_truth.json")["subjects"]
    regions = study_atlas(study).regions
    for subject, result in decoded.items():
        arrays = fold_contributions(result["features"], result["fold_models"], "1min")
        table = rank_regions(arrays, regions, 10_000, seed=0)
        top = set(table.head(10)["name"])
        signal = set(truth[subject]["signal_region_names"])
        assert len(top & signal) >= 0.8 * len(signal), (subject, top & signal)
