"""``painflow run``: the workflow shipped with painflow, as a BIDS App."""

from __future__ import annotations

import argparse

from painflow.commands.arguments import positive_int
from painflow.workflow.levels import ANALYSIS_LEVELS
from painflow.workflow.packaged import PROFILES


def add_run(subcommands) -> None:
    """Add the ``run`` subcommand (the BIDS App)."""
    parser = subcommands.add_parser(
        "run",
        help="run the workflow as a BIDS App (levels participant, group)",
        usage="painflow run BIDS_DIR OUTPUT_DIR {participant,group} [options] "
        "[-- SNAKEMAKE_OPTIONS]",
        description="Run the workflow shipped with painflow on a BIDS dataset: "
        "participant makes each person's own outputs, group those that need "
        "every person (cross-subject test, group model, the dataset's "
        "description); participant then group is the whole workflow. The config "
        "is --config's (or the schema's defaults) with the paths and subjects "
        "given here, saved under OUTPUT_DIR/logs/painflow_run/. Snakemake runs in "
        "the current folder; arguments after -- go to it.",
    )
    parser.add_argument("bids_dir", metavar="BIDS_DIR", help="raw BIDS dataset")
    parser.add_argument("output_dir", metavar="OUTPUT_DIR", help="output folder")
    parser.add_argument("level", choices=ANALYSIS_LEVELS, help="analysis level")
    parser.add_argument(
        "--participant-label",
        nargs="+",
        default=[],
        metavar="LABEL",
        help="subjects to analyse, with or without sub- (default: the config's, "
        "else all)",
    )
    parser.add_argument(
        "--fmriprep-dir",
        metavar="DIR",
        help="fMRIPrep's derivatives (default: the config's, else "
        "BIDS_DIR/derivatives/fmriprep)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: schema defaults)"
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="local",
        help="Snakemake profile shipped with painflow (default: local)",
    )
    parser.add_argument(
        "--cores", type=positive_int, metavar="N", help="(default: the profile's)"
    )
    parser.add_argument("-n", "--dry-run", action="store_true", help="list the jobs")
    parser.set_defaults(handler=_run_app, passthrough=True)


def _run_app(args: argparse.Namespace) -> None:
    from painflow.workflow.app import AppRun, run_app

    status = run_app(
        AppRun(
            bids_dir=args.bids_dir,
            output_dir=args.output_dir,
            level=args.level,
            participant_labels=tuple(args.participant_label),
            fmriprep_dir=args.fmriprep_dir,
            config_file=args.config,
            profile=args.profile,
            cores=args.cores,
            dry_run=args.dry_run,
            snakemake_args=tuple(args.snakemake_args),
        )
    )
    if status:
        raise ValueError(f"Snakemake stopped with exit status {status}")
