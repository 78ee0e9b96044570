"""Time Snakemake's dry run on a study of 3 subjects x 60 sessions x 4 runs.

A BIDS layout of that size is written with placeholder files (discovery reads
only the sidecars and checks that the others exist), then ``snakemake -n``
builds the whole DAG. The script prints its wall time against the goal (under
15 s on a 2-core machine), the time of the same dry run on a 1-subject x
3-session layout (the fixed cost of starting Snakemake and parsing the
workflow) and their ratio, and the number of jobs per subject: in the DAG,
and submitted to a cluster with ``profiles/slurm`` (localrules run in the main
process; each run's two steps are grouped, ``group-components`` runs a job).

Run: ``.venv/bin/python benchmarks/dag.py``
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from workflow_runner import run_workflow  # noqa: E402

GOAL_SECONDS = 15
TASK = "rating"
LOCAL_RULES = {
    "all",
    "describe_dataset",
    "summarize_qc",
    "summarize_cross_subject",
    "summarize_learning_curve",
    "collect_fmriprep_run",
}
GROUPED_RULES = {"extract_signals", "edge_features"}


def write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def write_run(root: Path, subject: str, session: str, run: int) -> None:
    """Placeholder files of one run, raw and fMRIPrep."""
    func = Path(f"sub-{subject}") / f"ses-{session}" / "func"
    prefix = f"sub-{subject}_ses-{session}_task-{TASK}_run-{run}"
    touch(root / "bids" / func / f"{prefix}_bold.nii.gz")
    write_json(root / "bids" / func / f"{prefix}_bold.json", {"RepetitionTime": 0.46})
    recording = f"{prefix}_recording-rating_physio"
    touch(root / "bids" / func / f"{recording}.tsv.gz")
    write_json(
        root / "bids" / func / f"{recording}.json",
        {"SamplingFrequency": 60.0, "StartTime": 0.0, "Columns": ["pain"]},
    )
    derivatives = root / "fmriprep" / func
    touch(
        derivatives / f"{prefix}_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz"
    )
    touch(derivatives / f"{prefix}_desc-confounds_timeseries.tsv")
    write_json(derivatives / f"{prefix}_desc-confounds_timeseries.json", {})


def write_layout(root: Path, n_subjects: int, n_sessions: int, n_runs: int) -> Path:
    """The layout and a config for it; returns the config file."""
    write_json(root / "bids" / "dataset_description.json", {"Name": "dag"})
    for subject in range(1, n_subjects + 1):
        for session in range(1, n_sessions + 1):
            for run in range(1, n_runs + 1):
                write_run(root, f"{subject:02d}", f"{session:02d}", run)
    touch(root / "atlas.nii.gz")
    touch(root / "atlas.tsv")
    config = {
        "bids_dir": str(root / "bids"),
        "fmriprep_dir": str(root / "fmriprep"),
        "output_dir": str(root / "out"),
        "atlas": {
            "name": "A",
            "image": str(root / "atlas.nii.gz"),
            "labels": str(root / "atlas.tsv"),
        },
        # The study's split where it fits; small layouts test their last session.
        "prospective": {"train_sessions": min(12, n_sessions - 1)},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def dry_run(config_file: Path) -> tuple[float, dict]:
    """Wall time of ``snakemake -n`` and its job count per rule."""
    config = yaml.safe_load(config_file.read_text())
    start = time.perf_counter()
    result = run_workflow(config, config_file.parent, "-n", "--quiet", "rules")
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:])
    counts = {
        name: int(count)
        for name, count in re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.MULTILINE)
        if name != "total"
    }
    return seconds, counts


def cluster_jobs(counts: dict, n_subjects: int, group_size: int) -> float:
    """Cluster jobs per subject under profiles/slurm."""
    runs = counts["extract_signals"]
    grouped = math.ceil(runs / n_subjects / group_size) * n_subjects
    single = sum(
        count
        for rule, count in counts.items()
        if rule not in LOCAL_RULES | GROUPED_RULES
    )
    return (grouped + single) / n_subjects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--runs", type=int, default=4)
    arguments = parser.parse_args()
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    group_size = profile["group-components"]["run"]
    with tempfile.TemporaryDirectory() as folder:
        small = write_layout(Path(folder) / "small", 1, 3, 1)
        large = write_layout(
            Path(folder) / "large",
            arguments.subjects,
            arguments.sessions,
            arguments.runs,
        )
        reference, _ = dry_run(small)
        seconds, counts = dry_run(large)
    n = arguments.subjects
    print(
        f"layout: {n} subjects x {arguments.sessions} sessions x {arguments.runs} runs"
    )
    print(f"dry run, 1 subject x 3 sessions x 1 run: {reference:.1f} s")
    print(
        f"dry run, the layout: {seconds:.1f} s ({seconds / reference:.1f}x the "
        f"small one; goal: under {GOAL_SECONDS} s)"
    )
    print(f"jobs in the DAG per subject: {sum(counts.values()) / n:.0f}")
    for rule, count in sorted(counts.items()):
        print(f"  {rule:<26} {count / n:g}")
    print(
        "cluster jobs per subject with profiles/slurm "
        f"(group-components run={group_size}): {cluster_jobs(counts, n, group_size):g}"
    )


if __name__ == "__main__":
    main()
