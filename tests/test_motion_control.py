"""The head-motion control decodes pain only when motion carries it."""

import numpy as np
import pandas as pd
from conftest import with_defaults

from painflow.analyses.metrics import add_time_bins, point_metrics
from painflow.model.crossval import MOTION, RunFeatures, nested_loso
from painflow.signals.edges import FeatureSettings, run_features
from painflow.signals.extract import MOTION_SUMMARIES


def motion_study(rng, motion_follows_pain: bool) -> tuple[list, pd.DataFrame]:
    """5 sessions x 2 runs whose FD follows the rating, or not."""
    # TR 3 s: 200 volumes make ten 1-min bins.
    runs, windows, n, tr = [], [], 200, 3.0
    for session in ("1", "2", "3", "4", "5"):
        for run in ("1", "2"):
            rating = 50 + 20 * np.sin(np.arange(n) / 15 + rng.uniform(0, 6))
            table = pd.DataFrame(
                rng.standard_normal((n, 1 + 6)), columns=list(MOTION_SUMMARIES)
            )
            if motion_follows_pain:
                table["fd"] += rating / 10
            table.insert(0, "volume", np.arange(n))
            table.insert(1, "time", (np.arange(n) + 0.5) * tr)
            table.insert(2, "rating", rating)
            for region in ("a", "b", "c"):
                table[region] = rng.standard_normal(n)
            window = {"window_start": 0, "window_stop": n}
            qc = {"included": True, "RepetitionTime": tr, **window}
            arrays = run_features(
                table,
                qc,
                ["a", "b", "c"],
                FeatureSettings(**with_defaults("features")),
                list(MOTION_SUMMARIES),
            )
            runs.append(RunFeatures(session, run, arrays))
            windows.append({"session": session, "run": run, "tr": tr, **window})
    return runs, pd.DataFrame(windows)


def motion_r(rng, motion_follows_pain: bool) -> float:
    runs, windows = motion_study(rng, motion_follows_pain)
    result = nested_loso(runs, "x", space=MOTION)
    assert result.model.coef.shape == (len(MOTION_SUMMARIES),)
    volumes = add_time_bins(result.predictions, windows, {"1min": 60})
    return point_metrics(volumes, ["1min"], ("within_run_r",))["within_run_r"][0]


def test_motion_that_follows_pain_is_decoded(rng):
    assert motion_r(rng, motion_follows_pain=True) > 0.8


def test_motion_unrelated_to_pain_decodes_nothing(rng):
    assert abs(motion_r(rng, motion_follows_pain=False)) < 0.25


def test_simulated_motion_does_not_explain_the_brain_model(decoded):
    for subject, result in decoded.items():
        control = nested_loso(result["features"], subject, space=MOTION)
        volumes = add_time_bins(control.predictions, result["windows"], {"1min": 60})
        r = point_metrics(volumes, ["1min"], ("r", "within_run_r")).iloc[0]
        brain = result["metrics"]["estimate"]
        assert abs(r["within_run_r"]) < 0.15, subject
        assert brain["within_run_r"] > r["within_run_r"] + 0.2, subject
        assert brain["r"] > r["r"] + 0.3, subject
