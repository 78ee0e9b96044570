"""Run the Snakemake workflow on a simulated study from the tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from painflow.core.fileio import read_json

REPO = Path(__file__).resolve().parents[1]


def study_config(study: Path, output: Path, **overrides) -> dict:
    """A config for a simulated study, with a quick bootstrap.

    The prospective model trains on the first 2 sessions, which leaves a
    session to test in the smallest studies (3 sessions).
    """
    truth = read_json(study / "ground_truth.json")
    config = {
        "bids_dir": str(study),
        "fmriprep_dir": str(study / "derivatives" / "fmriprep"),
        "output_dir": str(output),
        "res": "6",
        "atlas": {
            "name": truth["atlas"]["name"],
            "image": str(study / truth["atlas"]["image"]),
            "labels": str(study / truth["atlas"]["labels"]),
        },
        "evaluation": {"n_bootstrap": 200},
        "prospective": {"train_sessions": 2},
    }
    config.update(overrides)
    return config


def run_workflow(
    config: dict,
    workdir: Path,
    *extra: str,
    timeout: int = 900,
    env: dict | None = None,
    wrapper: tuple = (),
) -> subprocess.CompletedProcess:
    """Run Snakemake with a config in its own working directory.

    Its messages, standard output and error together, are in ``stdout``;
    ``env`` replaces the environment when given; ``wrapper`` goes before the
    command (e.g. ``timeout``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    command = [
        *wrapper,
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config_file),
        "--cores",
        "2",
        *extra,
    ]
    return subprocess.run(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env=env,
    )


def job_blocks(output: str) -> list[tuple[str, str]]:
    """(rule, text) of every job Snakemake lists (a dry run, a job's log)."""
    blocks = []
    # Jobs of a group are listed indented under their group.
    for block in re.split(r"\n\s*(?=(?:local)?rule \w+:)", output):
        header = re.match(r"(?:local)?rule (\w+):", block)
        if header and "jobid:" in block:
            blocks.append((header.group(1), block))
    return blocks


def planned_jobs(output: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job Snakemake lists (a dry run, a job's log)."""
    jobs = []
    for rule, block in job_blocks(output):
        wildcards = re.search(r"wildcards: (.*)", block)
        pairs = wildcards.group(1).split(", ") if wildcards else []
        jobs.append((rule, dict(pair.split("=", 1) for pair in pairs)))
    return jobs


def planned_files(output: str) -> list[tuple[str, dict]]:
    """(rule, files) of every job Snakemake lists: ``input`` and ``output`` paths."""
    jobs = []
    for rule, block in job_blocks(output):
        files = {}
        for field in ("input", "output"):
            listed = re.search(rf"^\s*{field}: (.*)$", block, re.MULTILINE)
            files[field] = listed.group(1).split(", ") if listed else []
        jobs.append((rule, files))
    return jobs
