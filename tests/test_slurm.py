"""The workflow through a real SLURM cluster (single node, on loopback)."""

import re
from pathlib import Path

import pytest
from conftest import TINY_OVERRIDES
from slurm_cluster import completed_jobs, single_node_cluster
from workflow_runner import REPO, planned_jobs, run_workflow, study_config

from painflow.core.fileio import read_json
from painflow.report.provenance import SIDECAR_SUFFIX

pytestmark = pytest.mark.workflow

# A hung Snakemake ignores SIGTERM; SIGINT stops it, SIGKILL 30 s later if not.
TIMEOUT = ("timeout", "-s", "INT", "-k", "30", "900")
# Without slurmdbd there is no sacct: job states come from squeue, which keeps
# finished jobs for slurm.conf's MinJobAge.
TEST_CLUSTER_OPTIONS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--latency-wait",
    "10",
    "--jobs",
    "4",
    # The test reads which steps each job ran from the job logs.
    "--slurm-keep-successful-logs",
)
PER_RUN_RULES = ("extract_signals", "edge_features")


def sessions_of(study: Path) -> set:
    """(subject, session) labels of a study's sessions (one run each here)."""
    return {
        (path.parent.name.removeprefix("sub-"), path.name.removeprefix("ses-"))
        for path in study.glob("sub-*/ses-*")
    }


@pytest.fixture(scope="module")
def through_slurm(tiny_study, tmp_path_factory):
    """The tiny study's whole workflow run through a one-node SLURM cluster.

    Returns the working folder, the SLURM jobs completed, the folder of their
    logs and the number of steps Snakemake ran.
    """
    folder = tmp_path_factory.mktemp("slurm")
    work = folder / "work"
    with single_node_cluster(folder / "cluster") as environment:
        result = run_workflow(
            study_config(tiny_study, work / "out", **TINY_OVERRIDES),
            work,
            "--profile",
            str(REPO / "profiles" / "slurm"),
            "--slurm-logdir",
            str(work / "slurm_logs"),
            *TEST_CLUSTER_OPTIONS,
            env=environment,
            wrapper=TIMEOUT,
            timeout=1000,
        )
        assert result.returncode == 0, result.stdout[-5000:]
        jobs = completed_jobs(folder / "cluster")
    done = re.search(r"(\d+) of (\d+) steps \(100%\) done", result.stdout)
    return {
        "work": work,
        "jobs": jobs,
        "logs": work / "slurm_logs",
        "n_steps": int(done.group(2)),
    }


def output_files(folder: Path, records: bool = False) -> dict:
    """Every output's bytes, logs and run times aside.

    Provenance records (which hold a host and a time) are aside unless
    ``records``, which gives those alone.
    """
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.relative_to(folder).parts[0] not in ("logs", "benchmarks")
        and path.name.endswith(SIDECAR_SUFFIX) == records
    }


def test_per_run_steps_travel_in_one_cluster_job(through_slurm, tiny_study):
    jobs, logs = through_slurm["jobs"], through_slurm["logs"]
    print(f"SLURM jobs submitted and completed through sbatch: {len(jobs)}")
    assert jobs and all(job["JobState"] == "COMPLETED" for job in jobs)
    assert {job["WorkDir"] for job in jobs} == {str(through_slurm["work"])}
    # group-components (profiles/slurm) bundles up to 20 runs' steps in a job:
    # the tiny study's 8 runs take one job, and no step of theirs runs alone.
    grouped = sorted(logs.glob("group_*/**/*.log"))
    assert len(grouped) == 1, grouped
    alone = {path.name for path in logs.glob("rule_*")}
    assert not alone & {"rule_extract_signals", "rule_edge_features"}, alone
    runs = {
        (rule, subject, session)
        for rule in PER_RUN_RULES
        for subject, session in sessions_of(tiny_study)
    }
    in_group = {
        (rule, wildcards["subject"], wildcards["session"])
        for rule, wildcards in planned_jobs(grouped[0].read_text())
    }
    assert in_group == runs
    assert len(jobs) < through_slurm["n_steps"]


def test_outputs_through_slurm_equal_those_of_a_local_run(through_slurm, tiny_run):
    # A second run with the same seed, in another folder and through another
    # executor, writes the same bytes.
    slurm_out = through_slurm["work"] / "out"
    ours, local = output_files(slurm_out), output_files(tiny_run)
    assert ours.keys() == local.keys()
    assert len(ours) > 40
    assert [name for name, content in local.items() if ours[name] != content] == []
    # Provenance records name the same configuration and input bytes.
    records = output_files(tiny_run, records=True)
    assert records.keys() == output_files(slurm_out, records=True).keys()
    assert len(records) == len(ours)
    for name in records:
        first, second = (read_json(root / name) for root in (tiny_run, slurm_out))
        assert first["config_sha256"] == second["config_sha256"]
        assert [i.get("sha256") for i in first["inputs"]] == [
            i.get("sha256") for i in second["inputs"]
        ]
