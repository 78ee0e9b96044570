"""Parse fMRIPrep command lines with fMRIPrep's own parser (run as a script).

Reads a JSON list of argument lists on standard input and prints, for each, a
JSON object with the configuration fMRIPrep derived from it, or the error.
fMRIPrep keeps its configuration in module state, and an option left out
keeps the value of an earlier parse; so each command line is parsed in a fresh
child forked from this process, which has imported fMRIPrep once.
"""

import contextlib
import io
import json
import multiprocessing
import sys

from fmriprep import config
from fmriprep.cli.parser import parse_args


def parsed_configuration() -> dict:
    execution = config.execution
    return {
        "participant_label": list(execution.participant_label),
        "bids_dir": str(execution.bids_dir),
        "output_dir": str(execution.output_dir),
        "work_dir": str(execution.work_dir),
        "bids_filters": execution.bids_filters,
        "derivatives": {k: str(v) for k, v in (execution.derivatives or {}).items()},
        "fs_subjects_dir": str(execution.fs_subjects_dir),
        "fs_license_file": str(execution.fs_license_file),
        "output_spaces": [str(space) for space in execution.output_spaces.references],
        "anat_only": config.workflow.anat_only,
        "cifti_output": config.workflow.cifti_output,
        "track_sessions": config.workflow.track_sessions,
        "nprocs": config.nipype.nprocs,
        "omp_nthreads": config.nipype.omp_nthreads,
        "memory_gb": config.nipype.memory_gb,
    }


def parse(arguments: list) -> dict:
    messages = io.StringIO()
    try:
        with contextlib.redirect_stderr(messages):
            parse_args(arguments)
    except SystemExit as stop:
        return {"error": f"exit {stop.code}: {messages.getvalue()[-2000:]}"}
    return parsed_configuration()


def parse_each(argument_lists: list) -> list:
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=2, maxtasksperchild=1) as pool:
        return pool.map(parse, argument_lists, chunksize=1)


if __name__ == "__main__":
    print(json.dumps(parse_each(json.load(sys.stdin))))
