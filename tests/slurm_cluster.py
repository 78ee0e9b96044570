"""A single-node SLURM cluster on loopback, started and stopped by the tests.

The daemons come from Debian's packages (``tests/install_system_packages.sh``, run by
``make test``). Nothing starts services on this kind of machine, so munged,
slurmctld and slurmd are started here in the foreground, as child processes,
and stopped by their PIDs. Without slurmdbd there is no accounting: the
cluster keeps a job-completion log instead, and finished jobs stay visible
to ``squeue`` for an hour (``MinJobAge``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
MUNGE_RUN = Path("/run/munge")
# The SLURM executor's job steps call srun with every SLURM_* variable but a
# few removed (SLURM_CONF among them), so srun reads the default location.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
CONF_MARK = "# written by painflow's SLURM tests\n"
REAL_MEMORY_MB = 12000


def slurm_conf(folder: Path, host: str, cpus: int) -> str:
    """slurm.conf of a one-node cluster that needs no cgroups and no database."""
    return f"""{CONF_MARK}\
ClusterName=painflow
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={folder}/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MinJobAge=3600
ReturnToService=2
SlurmdParameters=config_overrides
NodeName={host} CPUs={cpus} RealMemory={REAL_MEMORY_MB} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def missing_commands() -> list[str]:
    """The cluster's commands that are not installed."""
    return [name for name in DAEMONS if shutil.which(name) is None]


def check_host_resolves(host: str) -> None:
    """SlurmctldHost must resolve; raise naming /etc/hosts when it does not."""
    try:
        socket.gethostbyname(host)
    except OSError as error:
        raise RuntimeError(
            f"host {host!r} does not resolve: add it to /etc/hosts"
        ) from error


def start_daemon(command: list, log, **options) -> subprocess.Popen:
    """A daemon in the foreground, its output in ``log``."""
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **options)


def wait_until(condition, what: str, seconds: float = 60) -> None:
    """Poll ``condition`` until it holds; raise naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise RuntimeError(f"SLURM test cluster: {what} after {seconds} s")


def node_is_idle(environment: dict) -> bool:
    """Whether the node is up and takes jobs."""
    result = subprocess.run(
        ["sinfo", "--noheader", "--format=%t"],
        env=environment,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and result.stdout.strip() in ("idle", "mix")


@contextmanager
def single_node_cluster(folder: Path):
    """Start munged, slurmctld and slurmd; yield the environment that reaches them.

    Yields
    ------
    dict
        ``os.environ`` with ``SLURM_CONF`` set, for sbatch, squeue and
        Snakemake's SLURM executor.
    """
    missing = missing_commands()
    if missing:
        raise RuntimeError(
            f"SLURM test cluster: {missing} not installed; run "
            "tests/install_system_packages.sh (as root), as `make test` does"
        )
    host = socket.gethostname().split(".")[0]
    check_host_resolves(host)
    for name in ("state", "spool"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder, host, os.cpu_count() or 1))
    install_system_conf(conf)
    environment = dict(os.environ, SLURM_CONF=str(conf))
    MUNGE_RUN.mkdir(parents=True, exist_ok=True)
    shutil.chown(MUNGE_RUN, "munge", "munge")
    processes = []
    with ExitStack() as logs:
        try:
            munge_log = logs.enter_context(open(folder / "munged.out", "w"))
            processes.append(
                start_daemon(
                    ["munged", "--foreground", "--force"],
                    munge_log,
                    user="munge",
                    group="munge",
                )
            )
            socket_file = MUNGE_RUN / "munge.socket.2"
            wait_until(socket_file.exists, "munged made no socket")
            for daemon in ("slurmctld", "slurmd"):
                log = logs.enter_context(open(folder / f"{daemon}.out", "w"))
                processes.append(
                    start_daemon([daemon, "-D", "-f", str(conf)], log, env=environment)
                )
            wait_until(lambda: node_is_idle(environment), "the node is not idle")
            yield environment
        finally:
            stop(processes)
            SYSTEM_CONF.unlink(missing_ok=True)


def install_system_conf(conf: Path) -> None:
    """Put the cluster's slurm.conf where job steps look; never over a site's own."""
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text().startswith(CONF_MARK):
        raise RuntimeError(
            f"{SYSTEM_CONF} exists and belongs to another cluster: the SLURM tests "
            "run only on a machine without one"
        )
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(conf, SYSTEM_CONF)


def stop(processes: list) -> None:
    """Stop daemons by PID, the last started first."""
    for process in reversed(processes):
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def completed_jobs(folder: Path) -> list[dict]:
    """Jobs in the cluster's job-completion log, as dicts of its fields."""
    log = folder / "jobcomp.log"
    if not log.exists():
        return []
    return [
        dict(field.split("=", 1) for field in line.split() if "=" in field)
        for line in log.read_text().splitlines()
    ]
