"""Coverage of `painflow predict` intervals on later sessions of simulated people.

Each simulated person (``regionsim``: a pain signal in a few regions' edges,
a level of pain of its own in every run) is split as the prospective test
splits: a model of the first sessions, its errors from the inner
leave-one-session-out predictions, and the later sessions predicted with
intervals. Prints, per seed and pooled, the share of later-session ratings
inside the intervals per volume and per 1-min bin: the interval's promise
holds when that share is near the level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from regionsim import TR, RegionStudy, parse_study, simulate_features, study_parser

from painflow.analyses.predict import out_of_sample_errors, predicted_tables
from painflow.analyses.prospective import fit_on_sessions, inner_predictions

LEVEL = 0.9
TIME_BINS = {"1min": 60}


def windows_of(runs, n_volumes: int) -> pd.DataFrame:
    """Every run's analysis window: the whole run."""
    return pd.DataFrame(
        [
            {
                "session": run.session,
                "run": run.run,
                "window_start": 0,
                "window_stop": n_volumes,
                "tr": TR,
            }
            for run in runs
        ]
    )


def coverage(study: RegionStudy, n_train: int) -> dict:
    """Share of the later sessions' ratings inside the intervals, per scale."""
    runs = simulate_features(study)
    sessions = sorted({run.session for run in runs})
    model, used = fit_on_sessions(runs, sessions[:n_train], None)
    windows = windows_of(runs, study.n_volumes)
    errors = out_of_sample_errors(
        inner_predictions(runs, used, model.n_components), windows, TIME_BINS, "1min"
    )
    record = {"errors_by_scale": errors, "features": {"time_bins": TIME_BINS}}
    later = [run for run in runs if run.session not in used]
    volumes, bins = predicted_tables(later, model, windows, record, LEVEL)
    return {
        scale: float(
            (
                (table["rating"] >= table["pi_low"])
                & (table["rating"] <= table["pi_high"])
            ).mean()
        )
        for scale, table in (("volume", volumes), ("1min", bins))
    }


def main() -> None:
    parser = study_parser(__doc__, RegionStudy(n_regions=60, n_sessions=16), 5)
    parser.add_argument("--train-sessions", type=int, default=8)
    quick = {"regions": 20, "sessions": 6, "runs": 1, "volumes": 200, "repeats": 2}
    arguments, study = parse_study(parser, {**quick, "train_sessions": 3})
    found = []
    for seed in range(arguments.repeats):
        study = RegionStudy(**{**vars(study), "seed": seed})
        found.append(coverage(study, arguments.train_sessions))
        print(
            f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in found[-1].items())
        )
    for scale in ("volume", "1min"):
        shares = np.array([row[scale] for row in found])
        print(
            f"{LEVEL:.0%} intervals, {scale}: mean coverage {shares.mean():.3f} "
            f"(min {shares.min():.3f}, max {shares.max():.3f}) over {len(shares)} seeds"
        )


if __name__ == "__main__":
    main()
