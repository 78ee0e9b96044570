"""Partial r of the pain decoder given head motion, on simulated people.

When pain and head motion are independent, controlling for framewise
displacement leaves the decoder's r with the ratings where it was; when the
simulator makes motion grow with pain, the partial r drops.
"""

import pandas as pd
import pytest
from conftest import decode_study

from painflow.analyses.partial import partial_r_table
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


@pytest.fixture(scope="module")
def coupled(tmp_path_factory) -> dict:
    """One person whose head moves more when in more pain, decoded."""
    study = tmp_path_factory.mktemp("motion_with_pain")
    simulate_study(
        study,
        n_subjects=1,
        n_sessions=6,
        n_runs=2,
        n_volumes=200,
        seed=1,
        parameters=SimulationParameters(
            signal_gain=2.5, n_signal_regions=12, motion_pain_coupling=3.0
        ),
    )
    return decode_study(study)["01"]


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
