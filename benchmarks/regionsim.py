"""Region time series with a known pain signal, straight to painflow's run features.

Benchmarks need the study's size (566 regions, 25 sessions x 3 runs x 1,230
volumes) without simulating voxels. Each run has a smooth pain rating; a set
of signal regions shares a source whose amplitude follows it, so the edges
among them carry the rating, as in ``painflow simulate``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from painflow.model.crossval import RunFeatures
from painflow.signals.edges import FeatureSettings, run_features
from painflow.workflow.config import default_config

TR = 2.0


@dataclass(frozen=True)
class RegionStudy:
    """Size and signal of a simulated subject."""

    n_regions: int = 566
    n_sessions: int = 25
    n_runs: int = 3
    n_volumes: int = 1230
    n_signal_regions: int = 8
    gain: float = 1.5
    seed: int = 0


def region_names(n_regions: int) -> list[str]:
    """Names ``region001`` ...."""
    return [f"region{i:03d}" for i in range(1, n_regions + 1)]


def signal_regions(study: RegionStudy) -> np.ndarray:
    """Columns of the regions that carry the signal."""
    rng = np.random.default_rng([study.seed, 0])
    return np.sort(rng.choice(study.n_regions, study.n_signal_regions, replace=False))


def simulate_run(study: RegionStudy, session: int, run: int) -> pd.DataFrame:
    """One run's table as signal extraction writes it (FD as the motion column).

    Parameters
    ----------
    study : RegionStudy
    session, run : int
        1-based indices; each run has its own random stream.

    Returns
    -------
    pandas.DataFrame
        ``volume, time, rating, fd`` and one column per region.
    """
    rng = np.random.default_rng([study.seed, session, run])
    n = study.n_volumes
    level = 30 + 40 * rng.random()
    drift = gaussian_filter1d(rng.standard_normal(n), sigma=15)
    rating = np.clip(level + 25 * drift / drift.std(), 0, 100)
    series = rng.standard_normal((n, study.n_regions))
    coupling = study.gain * rating / 100 * rng.standard_normal(n)
    series[:, signal_regions(study)] += coupling[:, None]
    table = pd.DataFrame(series, columns=region_names(study.n_regions))
    table.insert(0, "volume", np.arange(n))
    table.insert(1, "time", (np.arange(n) + 0.5) * TR)
    table.insert(2, "rating", rating)
    table.insert(3, "fd", np.abs(0.05 * rng.standard_normal(n)))
    return table


def simulate_features(
    study: RegionStudy, settings: FeatureSettings | None = None
) -> list[RunFeatures]:
    """Every run's features, built run by run so that series do not pile up.

    Returns
    -------
    list of RunFeatures
        Sessions ``01``.., runs ``1``...
    """
    settings = settings or FeatureSettings(**default_config()["features"])
    names = region_names(study.n_regions)
    qc = {
        "included": True,
        "window_start": 0,
        "window_stop": study.n_volumes,
        "RepetitionTime": TR,
    }
    runs = []
    for session in range(1, study.n_sessions + 1):
        for run in range(1, study.n_runs + 1):
            table = simulate_run(study, session, run)
            arrays = run_features(table, qc, names, settings, ["fd"])
            runs.append(RunFeatures(f"{session:02d}", str(run), arrays))
    return runs


def study_parser(
    description: str, study: RegionStudy, repeats: int
) -> argparse.ArgumentParser:
    """Options of a benchmark's problem size, with ``study``'s sizes as defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--regions", type=int, default=study.n_regions)
    parser.add_argument("--sessions", type=int, default=study.n_sessions)
    parser.add_argument("--runs", type=int, default=study.n_runs)
    parser.add_argument("--volumes", type=int, default=study.n_volumes)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--seed", type=int, default=study.seed)
    parser.add_argument(
        "--quick", action="store_true", help="a small problem, to check the script"
    )
    return parser


def parse_study(
    parser: argparse.ArgumentParser, quick: dict
) -> tuple[argparse.Namespace, RegionStudy]:
    """Parse the options; ``--quick`` replaces them with ``quick``."""
    arguments = parser.parse_args()
    if arguments.quick:
        vars(arguments).update(quick)
    study = RegionStudy(
        n_regions=arguments.regions,
        n_sessions=arguments.sessions,
        n_runs=arguments.runs,
        n_volumes=arguments.volumes,
        seed=arguments.seed,
    )
    return arguments, study
