"""Workflow steps that run fMRIPrep and place its outputs for the later steps."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from painflow.fileio import write_json
from painflow.fmriprep import (
    FmriprepJob,
    FmriprepSettings,
    exit_message,
    fmriprep_command,
    job_environment,
    session_filter,
)
from painflow.steps.logs import log


def fmriprep_settings(config: dict, license_path: str) -> FmriprepSettings:
    """Settings from the config's ``fmriprep`` section and the resolved license."""
    return FmriprepSettings(
        engine=config["engine"],
        license=Path(license_path),
        output_spaces=tuple(config["output_spaces"]),
        cifti_output=config["cifti_output"],
        image=optional_path(config["image"]),
        templateflow_home=optional_path(config["templateflow_home"]),
        extra_arguments=tuple(config["extra_arguments"]),
    )


def optional_path(value: str | None) -> Path | None:
    """A configured path, or None when the key is null or empty."""
    return Path(value) if value else None


def run_fmriprep(
    settings: FmriprepSettings, job: FmriprepJob, task: str, log_path: str
) -> None:
    """Run one fMRIPrep job, its output appended to the job's log.

    A session job first writes its BIDS filter (the session's runs of
    ``task``) into its work folder.

    Raises
    ------
    RuntimeError
        When fMRIPrep exits with an error, explaining its exit code.
    """
    Path(job.work_dir).mkdir(parents=True, exist_ok=True)
    Path(job.output_dir).mkdir(parents=True, exist_ok=True)
    if job.session is not None:
        write_json(job.filter_file, session_filter(job.session, task))
    command = fmriprep_command(settings, job)
    log.info("running: %s", " ".join(command))
    for handler in log.handlers:
        handler.flush()
    with open(log_path, "a") as output:
        completed = subprocess.run(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=job_environment(settings),
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(exit_message(completed.returncode, log_path))
    log.info("fMRIPrep finished")


def collect_run_outputs(session_root: str, merged_root: str, outputs: list) -> None:
    """Place a run's fMRIPrep outputs from its session's folder into the shared tree.

    Files are hard-linked (copied across file systems), so the shared
    derivatives tree holds fMRIPrep's own names without taking more space.

    Parameters
    ----------
    session_root : str
        The session job's fMRIPrep output folder.
    merged_root : str
        The derivatives tree that later steps read.
    outputs : list of str
        Destination paths, inside ``merged_root``.

    Raises
    ------
    FileNotFoundError
        Naming the file fMRIPrep did not write.
    """
    for destination in map(Path, outputs):
        source = Path(session_root) / destination.relative_to(merged_root)
        if not source.is_file():
            raise FileNotFoundError(
                f"{source}: fMRIPrep did not write this output for {destination.name}"
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
        log.info("%s -> %s", source, destination)
