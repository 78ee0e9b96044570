"""fMRIPrep command lines: anatomy once per subject, then one job per session.

fMRIPrep 25.2 runs in two steps here, so that a new session never re-runs
the anatomy:

- anatomy: ``--anat-only --no-track-sessions`` (anatomical derivatives carry
  no session entity, and FreeSurfer runs once per subject);
- each session: ``--no-track-sessions`` with a BIDS filter restricting the
  BOLD and single-band reference images to the session, the anatomy given as
  precomputed derivatives (``-d anat=<root>``) and its FreeSurfer subjects
  folder (``--fs-subjects-dir``). With ``--no-track-sessions`` every session's
  nipype workflow has the same name, so every job has its own work folder.

The same fMRIPrep arguments run in one of three engines: ``apptainer`` (the
HPC norm; every folder bound at its own path), ``docker`` (through the
``fmriprep-docker`` wrapper) or ``native`` (an ``fmriprep`` on PATH).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

FMRIPREP_VERSION = "25.2.7"
DOCKER_IMAGE = f"nipreps/fmriprep:{FMRIPREP_VERSION}"
ENGINES = ("apptainer", "docker", "native")
ENGINE_EXECUTABLES = {
    "apptainer": "apptainer",
    "docker": "fmriprep-docker",
    "native": "fmriprep",
}
# fMRIPrep's exit codes other than 0 (fmriprep/cli/run.py).
EXIT_CODES = {
    1: "fMRIPrep failed (a workflow node or the report crashed)",
    70: "fMRIPrep could not build its workflow (bad inputs or options)",
    126: "FreeSurfer refused the license file",
}
# Nipype's memory accounting overshoots; fMRIPrep is given less than the job has.
MEMORY_FRACTION = 0.9
# fMRIPrep resamples subcortical grayordinates from this volume space.
CIFTI_VOLUME_SPACE = "MNI152NLin6Asym:res-2"
MAX_OMP_THREADS = 8


@dataclass(frozen=True)
class FmriprepSettings:
    """How fMRIPrep runs (config ``fmriprep``).

    Attributes
    ----------
    engine : str
        ``apptainer``, ``docker`` or ``native``.
    license : Path
        FreeSurfer license file.
    output_spaces : tuple of str
        ``--output-spaces`` values, e.g. ``MNI152NLin6Asym:res-2``.
    cifti_output : str or None
        ``--cifti-output`` density (``91k``), None for none.
    image : Path or None
        Apptainer image (``.sif``); unused by the other engines.
    templateflow_home : Path or None
        TemplateFlow folder to use inside the job (pre-fetched for offline
        compute nodes); None keeps fMRIPrep's own.
    extra_arguments : tuple of str
        Further fMRIPrep options, passed as given.
    """

    engine: str
    license: Path
    output_spaces: tuple
    cifti_output: str | None
    image: Path | None
    templateflow_home: Path | None
    extra_arguments: tuple


@dataclass(frozen=True)
class FmriprepJob:
    """One fMRIPrep run: a subject's anatomy, or one of its sessions.

    Attributes
    ----------
    bids_dir : Path
        Raw BIDS dataset.
    output_dir : Path
        fMRIPrep's output folder for this job.
    work_dir : Path
        This job's own work folder.
    subject : str
        Participant label.
    session : str or None
        Session label; None for the anatomy.
    filter_file : Path or None
        BIDS filter file of a session job (:func:`session_filter`).
    anat_dir : Path or None
        Output folder of the subject's anatomy job, for a session job.
    threads : int
    mem_mb : int
        The job's resources.
    """

    bids_dir: Path
    output_dir: Path
    work_dir: Path
    subject: str
    session: str | None
    filter_file: Path | None
    anat_dir: Path | None
    threads: int
    mem_mb: int


def output_spaces(space: str, res: str | None, den: str | None, extra) -> tuple:
    """``--output-spaces`` for the space painflow reads, then the extra ones.

    Parameters
    ----------
    space, res, den : str or None
        The config's space entities. Grayordinates (``den`` set) come from
        ``--cifti-output``, which needs the volume space it samples the
        subcortex from; fsLR itself is not an output space then.
    extra : sequence of str
        Further output spaces of the config.

    Returns
    -------
    tuple of str
        Without repeats, in order.
    """
    if den is not None:
        read = CIFTI_VOLUME_SPACE
    else:
        read = space + (f":res-{res}" if res else "")
    return tuple(dict.fromkeys([read, *extra]))


def session_filter(
    session: str, tasks: list[str], entities: dict | None = None
) -> dict:
    """PyBIDS filters restricting fMRIPrep's BOLD inputs to one session's runs.

    Parameters
    ----------
    session : str
        The session label.
    tasks : list of str
        The tasks painflow reads.
    entities : dict, optional
        PyBIDS entity name (``acquisition``, ...) to the labels the session's
        runs have, for entities the config's ``bold_filters`` select on.
    """
    selection = {"session": session, "task": tasks[0] if len(tasks) == 1 else tasks}
    selection.update(entities or {})
    return {"bold": dict(selection), "sbref": dict(selection)}


def freesurfer_dir(output_dir: Path) -> Path:
    """FreeSurfer subjects folder that the anatomy step writes in its root."""
    return Path(output_dir) / "sourcedata" / "freesurfer"


def fmriprep_arguments(settings: FmriprepSettings, job: FmriprepJob) -> list[str]:
    """The arguments fMRIPrep itself receives for a job (host paths).

    Parameters
    ----------
    settings : FmriprepSettings
        Output spaces, CIFTI density, license and further options.
    job : FmriprepJob
        Subject, session, folders and resources of the job.

    Returns
    -------
    list of str
        Positional arguments and options, without the executable.
    """
    arguments = [
        str(job.bids_dir),
        str(job.output_dir),
        "participant",
        "--participant-label",
        job.subject,
        "--no-track-sessions",
        "--subject-anatomical-reference",
        "first-lex",
        "--output-spaces",
        *settings.output_spaces,
        "--fs-license-file",
        str(settings.license),
        "-w",
        str(job.work_dir),
        "--nprocs",
        str(job.threads),
        "--omp-nthreads",
        str(min(job.threads, MAX_OMP_THREADS)),
        "--mem_mb",  # the spelling fmriprep-docker looks for before prompting
        str(int(job.mem_mb * MEMORY_FRACTION)),
        "--notrack",
    ]
    if settings.cifti_output:
        arguments += ["--cifti-output", settings.cifti_output]
    if job.session is None:
        arguments.append("--anat-only")
    else:
        arguments += [
            "--bids-filter-file",
            str(job.filter_file),
            "-d",
            f"anat={job.anat_dir}",
            "--fs-subjects-dir",
            str(freesurfer_dir(job.anat_dir)),
        ]
    return arguments + list(settings.extra_arguments)


def apptainer_binds(settings: FmriprepSettings, job: FmriprepJob) -> list[str]:
    """``-B`` options binding every folder the job reads or writes at its own path."""
    folders = [job.output_dir] + ([job.anat_dir] if job.anat_dir else [])
    binds = [
        f"{job.bids_dir}:{job.bids_dir}:ro",
        *(f"{folder}:{folder}" for folder in folders),
        f"{job.work_dir}:{job.work_dir}",
        f"{settings.license}:{settings.license}:ro",
    ]
    if settings.templateflow_home is not None:
        binds.append(f"{settings.templateflow_home}:{settings.templateflow_home}")
    return [option for bind in binds for option in ("-B", bind)]


def fmriprep_command(settings: FmriprepSettings, job: FmriprepJob) -> list[str]:
    """The whole command line of a job in the configured engine.

    Parameters
    ----------
    settings : FmriprepSettings
        The engine (and apptainer image) besides fMRIPrep's options.
    job : FmriprepJob
        The job; its folders are bound into an apptainer container.

    Returns
    -------
    list of str
        Ready for :func:`subprocess.run`.
    """
    arguments = fmriprep_arguments(settings, job)
    if settings.engine == "native":
        return [ENGINE_EXECUTABLES["native"], *arguments]
    if settings.engine == "docker":
        # The wrapper mounts the folders it is given and rewrites their paths.
        return [
            ENGINE_EXECUTABLES["docker"],
            "-i",
            DOCKER_IMAGE,
            "--no-tty",
            *arguments,
        ]
    environment = []
    if settings.templateflow_home is not None:
        environment = ["--env", f"TEMPLATEFLOW_HOME={settings.templateflow_home}"]
    return [
        ENGINE_EXECUTABLES["apptainer"],
        "run",
        "--cleanenv",
        *environment,
        *apptainer_binds(settings, job),
        str(settings.image),
        *arguments,
    ]


def job_environment(settings: FmriprepSettings) -> dict:
    """Environment of the job's process (TemplateFlow for a native fMRIPrep)."""
    environment = dict(os.environ)
    if settings.templateflow_home is not None:
        environment["TEMPLATEFLOW_HOME"] = str(settings.templateflow_home)
    return environment


def exit_message(returncode: int, log: str) -> str:
    """Explain an fMRIPrep exit code, pointing at the job's log."""
    reason = EXIT_CODES.get(returncode, "fMRIPrep stopped with an unexpected code")
    return f"{reason} (exit code {returncode}); see {log}"


def resolve_license(configured: str | None, environment: dict) -> Path:
    """The FreeSurfer license: the configured path, else ``FS_LICENSE``.

    Raises
    ------
    FileNotFoundError
        Naming where the path came from, when it is not set or not a file.
    """
    if configured:
        source, path = "config 'fmriprep.license'", configured
    elif environment.get("FS_LICENSE"):
        source, path = "environment variable FS_LICENSE", environment["FS_LICENSE"]
    else:
        raise FileNotFoundError(
            "fMRIPrep needs a FreeSurfer license: set config 'fmriprep.license' "
            "or the environment variable FS_LICENSE"
        )
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: FreeSurfer license file not found ({source})")
    return Path(path).resolve()


def check_engine(engine: str, image: str | None) -> None:
    """Check, before any job, that the engine (and image) can run.

    Raises
    ------
    FileNotFoundError
        When the engine's executable is not on PATH, or the apptainer image
        is not configured or not a file.
    """
    executable = ENGINE_EXECUTABLES[engine]
    if shutil.which(executable) is None:
        raise FileNotFoundError(
            f"config 'fmriprep.engine' is {engine!r}, but {executable!r} is not on PATH"
        )
    if engine == "apptainer" and (not image or not Path(image).is_file()):
        raise FileNotFoundError(
            f"{image}: fMRIPrep apptainer image not found (config 'fmriprep.image'; "
            f"build it with: apptainer build fmriprep-{FMRIPREP_VERSION}.sif "
            f"docker://{DOCKER_IMAGE})"
        )
