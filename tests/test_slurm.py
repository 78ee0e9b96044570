"""The workflow through a real SLURM cluster (single node, on loopback)."""

from pathlib import Path

import pytest
from slurm_cluster import completed_jobs, single_node_cluster
from workflow_runner import REPO, run_workflow, study_config

from painflow.report.provenance import SIDECAR_SUFFIX
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow

OVERRIDES = {
    "prospective": {"train_sessions": 2},
    "learning_curve": {"n_repeats": 2},
    "importance": {"n_permutations": 100, "n_shown": 10},
}
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
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm")
    with single_node_cluster(folder) as environment:
        yield folder, environment


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm_study")
    simulate_study(root, n_subjects=2, n_sessions=3, n_runs=2, n_volumes=100, seed=7)
    return root


def output_files(folder: Path) -> dict:
    """Every output's bytes; logs, run times and provenance (host, time) aside."""
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.relative_to(folder).parts[0] not in ("logs", "benchmarks")
        and not path.name.endswith(SIDECAR_SUFFIX)
    }


def test_workflow_through_slurm_equals_a_local_run(cluster, study, tmp_path):
    folder, environment = cluster
    slurm_work, local_work = tmp_path / "slurm", tmp_path / "local"
    config = study_config(study, slurm_work / "out", **OVERRIDES)
    result = run_workflow(
        config,
        slurm_work,
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--slurm-logdir",
        str(slurm_work / "slurm_logs"),
        *TEST_CLUSTER_OPTIONS,
        env=environment,
        wrapper=TIMEOUT,
        timeout=1000,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    jobs = completed_jobs(folder)
    print(f"SLURM jobs submitted and completed through sbatch: {len(jobs)}")
    assert jobs and all(job["JobState"] == "COMPLETED" for job in jobs)
    workdirs = {job["WorkDir"] for job in jobs}
    assert workdirs == {str(slurm_work)}
    # Per-run steps travel in groups (group-components), the rest one job each.
    assert "group" in result.stdout

    local = run_workflow(
        study_config(study, local_work / "out", **OVERRIDES), local_work
    )
    assert local.returncode == 0, local.stdout[-3000:]
    through_slurm = output_files(slurm_work / "out")
    assert through_slurm.keys() == output_files(local_work / "out").keys()
    different = [
        name
        for name, content in output_files(local_work / "out").items()
        if through_slurm[name] != content
    ]
    assert not different
