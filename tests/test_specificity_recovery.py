"""Specificity on simulated people: a decoder of head motion, and partial r.

A decoder trained on framewise displacement predicts it from the traces head
motion leaves in the connections, and not once the series is out of step. When
pain and head motion are independent, controlling for framewise displacement
leaves the pain decoder's r with the ratings where it was; when the simulator
makes motion grow with pain, the partial r drops.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import decode_study, with_defaults

from painflow.analyses.metrics import add_time_bins, point_metrics
from painflow.analyses.partial import partial_r_table
from painflow.model.crossval import RunFeatures, nested_loso
from painflow.signals.edges import FeatureSettings, retarget_features
from painflow.signals.nuisance import nuisance_series
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study

SCALES = ["1min", "run"]


def plain_and_partial_given_fd(result: dict) -> pd.DataFrame:
    """The decoder's plain r and its partial r given FD, per scale."""
    fd = pd.concat(
        [
            pd.DataFrame(
                {
                    "session": run.session,
                    "run": run.run,
                    "volume": run.arrays["volume"],
                    "fd": nuisance_series(run.arrays, "fd"),
                }
            )
            for run in result["features"]
        ]
    )
    volumes = result["predictions"].merge(
        fd, on=["session", "run", "volume"], validate="1:1"
    )
    table = partial_r_table(volumes, {"fd": ("fd", "partial_r")}, SCALES, 200, seed=0)
    return table.set_index(["scale", "target"])["estimate"]


def simulated_person(root, **parameters) -> dict:
    """One person, 6 sessions x 2 runs of 200 volumes, decoded."""
    simulate_study(
        root,
        n_subjects=1,
        n_sessions=6,
        n_runs=2,
        n_volumes=200,
        seed=1,
        parameters=SimulationParameters(
            signal_gain=2.5, n_signal_regions=12, **parameters
        ),
    )
    return decode_study(root)["01"]


def fd_decoder_r(result: dict, shift: bool = False) -> dict:
    """Out-of-sample r of a nested LOSO decoder of FD, pooled and within runs.

    With ``shift``, each run's FD is rolled by half the run: the same series
    and autocorrelation, out of step with the brain.
    """
    features = FeatureSettings(**with_defaults("features"))
    runs = []
    for run in result["features"]:
        fd = nuisance_series(run.arrays, "fd")
        if shift:
            fd = np.roll(fd, fd.size // 2)
        arrays = retarget_features(run.arrays, fd, features, tr=2.0)
        runs.append(RunFeatures(run.session, run.run, arrays))
    predictions = nested_loso(runs, "01").predictions
    volumes = add_time_bins(predictions, result["windows"], {"1min": 60})
    return point_metrics(volumes, ["1min"], ("r", "within_run_r")).iloc[0].to_dict()


def test_a_decoder_of_fd_predicts_fd_from_the_traces_motion_leaves(decoded):
    # Simulated head motion leaves traces in the kept volumes' connections
    # that the regressors and censoring do not remove.
    aligned = fd_decoder_r(decoded["01"])
    shifted = fd_decoder_r(decoded["01"], shift=True)
    print(f"FD decoder at 1 min: {aligned}; FD out of step: {shifted}")
    assert aligned["within_run_r"] > 0.3
    assert abs(shifted["within_run_r"]) < 0.15
    assert aligned["within_run_r"] > shifted["within_run_r"] + 0.25


@pytest.fixture(scope="module")
def coupled(tmp_path_factory) -> dict:
    """One person whose head moves more when in more pain, decoded."""
    study = tmp_path_factory.mktemp("motion_with_pain")
    return simulated_person(study, motion_pain_coupling=3.0)


@pytest.mark.parametrize("scale", SCALES)
def test_partial_r_given_fd_stays_when_motion_is_independent_of_pain(decoded, scale):
    estimates = plain_and_partial_given_fd(decoded["01"])
    plain, partial = estimates[scale, "pain"], estimates[scale, "fd"]
    print(f"{scale}: plain r {plain:.3f}, partial r given FD {partial:.3f}")
    assert plain > 0.4
    assert abs(partial - plain) < 0.05


@pytest.mark.parametrize("scale", SCALES)
def test_partial_r_given_fd_drops_when_motion_grows_with_pain(coupled, scale):
    estimates = plain_and_partial_given_fd(coupled)
    plain, partial = estimates[scale, "pain"], estimates[scale, "fd"]
    print(f"{scale}: plain r {plain:.3f}, partial r given FD {partial:.3f}")
    assert plain > 0.4
    assert partial < plain - 0.15
