"""Every decoding analysis of one subject at the study's size, timed.

Region time series are simulated at the size of the study (566 regions, 25
sessions x 3 runs x 1,230 retained volumes) and go through painflow's
library, stage by stage:

1. features: z-scores, rating-bin and time-bin mean edge vectors of every run;
2. nested leave-one-session-out decoding and the all-sessions model;
3. the learning curve: training sizes 1 .. 23, 100 repeats, every held-out
   session (57,500 fits);
4. region importance with 10,000 hierarchical permutations.

For each stage it prints the wall time and the peak resident memory of the
process during the stage; the goal on a 2-core machine is all of it under 30
minutes and 6 GB. ``--quick`` runs a small version in seconds.

Run: ``.venv/bin/python benchmarks/study_scale.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from regionsim import (
    RegionStudy,
    parse_study,
    region_names,
    signal_regions,
    simulate_features,
    study_parser,
)

from painflow.analyses.importance import fold_contributions, rank_regions
from painflow.analyses.learningcurve import kernel_data, learning_curve_scores
from painflow.model.crossval import nested_loso

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
GOAL_MINUTES = 30
GOAL_GB = 6
QUICK = {
    "regions": 60,
    "sessions": 6,
    "runs": 2,
    "volumes": 300,
    "repeats": 3,
    "permutations": 200,
}


def reset_peak_memory() -> None:
    """Restart the kernel's count of the process's peak resident memory."""
    CLEAR_REFS.write_text("5")


def peak_memory_gb() -> float:
    """Peak resident memory since the last reset (VmHWM), in GB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise RuntimeError(f"{STATUS} has no VmHWM line")


def measured(name: str, stage: Callable, records: list):
    """Run a stage, print and record its wall time and peak memory."""
    reset_peak_memory()
    start = time.perf_counter()
    result = stage()
    seconds = time.perf_counter() - start
    peak = peak_memory_gb()
    records.append((name, seconds, peak))
    print(f"{name:<16} {seconds:8.1f} s  peak {peak:5.2f} GB", flush=True)
    return result


def learning_curve(runs: list, choices: dict, n_repeats: int, seed: int) -> list:
    """Every training size's table, one Gram matrix and kernel for all."""
    n_sessions = len({run.session for run in runs})
    scales = ["1min", "2min", "run"]
    data = kernel_data(runs, scales)
    return [
        learning_curve_scores(data, choices, size, n_repeats, seed, scales)
        for size in range(1, n_sessions - 1)
    ]


def importance(runs: list, fold_models: dict, n_permutations: int, seed: int):
    """Region importance table from the fold models' 1-min contributions."""
    arrays = fold_contributions(runs, fold_models, "1min")
    names = runs[0].arrays["region_names"]
    regions = pd.DataFrame(
        {"index": np.arange(1, names.size + 1), "name": names, "network": ""}
    )
    return rank_regions(arrays, regions, n_permutations, seed)


def main() -> None:
    """Run the stages and print the totals against the goals."""
    parser = study_parser(__doc__.split("\n")[0], RegionStudy(), repeats=100)
    parser.add_argument("--permutations", type=int, default=10_000)
    arguments, study = parse_study(parser, QUICK)
    n_sizes = study.n_sessions - 2
    print(
        f"problem: {study.n_regions} regions, {study.n_sessions} sessions x "
        f"{study.n_runs} runs x {study.n_volumes} volumes; learning curve "
        f"{n_sizes} sizes x {arguments.repeats} repeats x {study.n_sessions} "
        f"held-out sessions ({n_sizes * arguments.repeats * study.n_sessions} "
        f"fits); {arguments.permutations} permutations"
    )
    records = []
    runs = measured("features", lambda: simulate_features(study), records)
    nested = measured("nested LOSO", lambda: nested_loso(runs, "01"), records)
    choices = nested.folds.set_index("fold")["n_components"].to_dict()
    tables = measured(
        "learning curve",
        lambda: learning_curve(runs, choices, arguments.repeats, arguments.seed),
        records,
    )
    table = measured(
        "importance",
        lambda: importance(
            runs, nested.fold_models, arguments.permutations, arguments.seed
        ),
        records,
    )
    total = sum(seconds for _, seconds, _ in records)
    peak = max(gb for _, _, gb in records)
    print(
        f"{'total':<16} {total:8.1f} s  peak {peak:5.2f} GB "
        f"(goal: under {GOAL_MINUTES} min and {GOAL_GB} GB)"
    )
    first, last = tables[0], tables[-1]
    print(
        "median 1-min r within the held-out session: "
        f"{first.loc[first['scale'] == '1min', 'r'].median():.2f} with 1 session, "
        f"{last.loc[last['scale'] == '1min', 'r'].median():.2f} with {n_sizes}"
    )
    truth = set(np.array(region_names(study.n_regions))[signal_regions(study)])
    top = set(table.head(len(truth))["name"])
    print(f"signal regions among the top {len(truth)}: {len(truth & top)}")


if __name__ == "__main__":
    main()
