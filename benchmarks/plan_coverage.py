"""Coverage of the plan's intervals on simulated people whose curve is known.

Each simulated study draws a person's learning curve (sizes 1 .. N - 2, every
held-out session and repeat) whose expected r is ``a - b * s ** -c``
(:mod:`painflow.simulation.learningcurves`), plans it as the workflow does
and checks whether each 95% interval holds the truth: the expected r with
``2N`` sessions, the sessions needed to reach the target r and the gain of
``K`` more sessions. Two people share the asymptote: one saturates early, one
late. Prints, per person and number of sessions, the share of studies whose
interval covers the truth and the median sessions needed (true and planned).
``--quick`` runs a few seeds with fewer resamples.

Usage: ``python benchmarks/plan_coverage.py [--quick] [--seeds N]``
"""

from __future__ import annotations

import argparse
import time

from painflow.analyses.plansettings import PlanSettings
from painflow.simulation.learningcurves import (
    EARLY,
    LATE,
    CurveTruth,
    coverage_study,
    true_plan,
)

N_REPEATS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seeds")
    parser.add_argument("--seeds", type=int, default=200, help="simulated studies")
    arguments = parser.parse_args()
    n_seeds = 4 if arguments.quick else arguments.seeds
    settings = PlanSettings(n_bootstrap=100 if arguments.quick else 1000)
    print(
        f"{n_seeds} simulated studies per person and size, {settings.n_bootstrap} "
        f"resamples, target r {settings.target_r:g}, gain of "
        f"{settings.extra_sessions} more sessions"
    )
    for name, params in (("early", EARLY), ("late", LATE)):
        truth = CurveTruth(*params)
        for n_sessions in (8, 12):
            start = time.perf_counter()
            rows = coverage_study(
                truth, n_sessions, N_REPEATS, range(n_seeds), settings
            )
            true_sessions = true_plan(truth, n_sessions, settings)["sessions_to_target"]
            print(
                f"{name} (a, b, c = {params}), {n_sessions} sessions: coverage "
                f"r at {2 * n_sessions} sessions {rows['r_2n'].mean():.3f}, "
                f"sessions to target {rows['sessions_to_target'].mean():.3f}, "
                f"gain {rows['gain'].mean():.3f}; sessions needed: true "
                f"{true_sessions:.2f}, planned median "
                f"{rows['estimated_sessions'].median():.2f} "
                f"({time.perf_counter() - start:.1f} s)"
            )


if __name__ == "__main__":
    main()
