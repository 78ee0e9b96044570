"""Steps ``fmriprep_anat``, ``fmriprep_session`` and ``collect_fmriprep_run``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from painflow.core.fileio import write_json
from painflow.inputs.fmriprep import (
    FmriprepJob,
    FmriprepSettings,
    exit_message,
    fmriprep_command,
    job_environment,
    session_filter,
)
from painflow.workflow.logs import log


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
    settings: FmriprepSettings,
    job: FmriprepJob,
    tasks: list[str],
    log_path: str,
    entities: dict | None = None,
) -> None:
    """Run one fMRIPrep job, its output appended to the job's log.

    A session job first writes its BIDS filter (the session's runs of
    ``tasks``, with ``entities``' labels) into its work folder.

    Raises
    ------
    RuntimeError
        When fMRIPrep exits with an error, explaining its exit code.
    """
    Path(job.work_dir).mkdir(parents=True, exist_ok=True)
    Path(job.output_dir).mkdir(parents=True, exist_ok=True)
    if job.session is not None:
        write_json(job.filter_file, session_filter(job.session, tasks, entities))
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


def fmriprep_job(
    bids_dir: str,
    output_dir: str,
    work_dir: str,
    subject: str,
    threads: int,
    mem_mb: int,
    session: str | None = None,
    anat_dir: str | None = None,
) -> FmriprepJob:
    """One fMRIPrep job: the subject's anatomy, or one session re-using it.

    A session job (``session`` given) reads the anatomy in ``anat_dir`` and
    selects its session's runs with a BIDS filter written in its work folder.
    """
    return FmriprepJob(
        bids_dir=Path(bids_dir).resolve(),
        output_dir=Path(output_dir).resolve(),
        work_dir=Path(work_dir).resolve(),
        subject=subject,
        session=session,
        filter_file=(Path(work_dir) / "bids_filter.json").resolve()
        if session
        else None,
        anat_dir=Path(anat_dir).resolve() if session else None,
        threads=threads,
        mem_mb=mem_mb,
    )


def fmriprep_anat(
    bids_dir: str,
    subject: str,
    fmriprep: dict,
    license_path: str,
    output_dir: str,
    work_dir: str,
    tasks: list[str],
    threads: int,
    mem_mb: int,
    log_path: str,
) -> None:
    """Run fMRIPrep's anatomical workflow for one subject.

    Parameters
    ----------
    bids_dir : str
        The raw BIDS dataset.
    subject : str
        Subject label.
    fmriprep : dict
        Config section ``fmriprep``, with ``output_spaces`` and
        ``cifti_output`` as the job passes them to fMRIPrep.
    license_path : str
        The resolved FreeSurfer license.
    output_dir, work_dir : str
        fMRIPrep's output and work folders.
    tasks : list of str
        The tasks painflow reads: the rating task, and the rest task for an
        individual atlas.
    threads, mem_mb : int
        The job's cores and memory.
    log_path : str
        The job's log, to which fMRIPrep's output is appended.
    """
    job = fmriprep_job(bids_dir, output_dir, work_dir, subject, threads, mem_mb)
    run_fmriprep(fmriprep_settings(fmriprep, license_path), job, tasks, log_path)


def fmriprep_session(
    bids_dir: str,
    subject: str,
    session: str,
    fmriprep: dict,
    license_path: str,
    output_dir: str,
    anat_dir: str,
    work_dir: str,
    tasks: list[str],
    threads: int,
    mem_mb: int,
    log_path: str,
    entities: dict | None = None,
) -> None:
    """Run fMRIPrep on one session's BOLD runs, re-using the subject's anatomy.

    Parameters
    ----------
    bids_dir : str
        The raw BIDS dataset.
    subject, session : str
        Labels of the job.
    fmriprep : dict
        Config section ``fmriprep``, with ``output_spaces`` and
        ``cifti_output`` as the job passes them to fMRIPrep.
    license_path : str
        The resolved FreeSurfer license.
    output_dir : str
        The session's own fMRIPrep output folder.
    anat_dir : str
        The derivatives tree holding the subject's anatomy.
    work_dir : str
        The job's work folder (its BIDS filter is written there).
    tasks : list of str
        The tasks painflow reads: the rating task, and the rest task for an
        individual atlas.
    threads, mem_mb : int
        The job's cores and memory.
    log_path : str
        The job's log, to which fMRIPrep's output is appended.
    entities : dict, optional
        Labels of the entities ``bold_filters`` select on, among the
        session's runs painflow reads (:func:`painflow.inputs.fmriprep.session_filter`).
    """
    job = fmriprep_job(
        bids_dir, output_dir, work_dir, subject, threads, mem_mb, session, anat_dir
    )
    settings = fmriprep_settings(fmriprep, license_path)
    run_fmriprep(settings, job, tasks, log_path, entities)


def collect_fmriprep_run(session_root: str, merged_root: str, outputs: list) -> None:
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
