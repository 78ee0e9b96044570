"""The ``painflow`` command line: one subcommand per library entry point."""

from __future__ import annotations

import argparse
import sys

from painflow.commands.arguments import (
    non_negative_float,
    positive_float,
    positive_int,
)
from painflow.commands.atlas import add_atlas
from painflow.commands.plan import add_plan
from painflow.commands.predict import add_predict
from painflow.commands.run import add_run


def _add_simulate(subcommands) -> None:
    parser = subcommands.add_parser(
        "simulate",
        help="simulate a study with a known ground truth",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Write a simulated raw BIDS dataset with continuous pain "
        "ratings, fMRIPrep-style derivatives under OUT_DIR/derivatives/fmriprep, "
        "the AAL atlas on the BOLD grid and OUT_DIR/ground_truth.json.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="dataset root to write")
    parser.add_argument(
        "--subjects", type=positive_int, default=2, metavar="N", help="subjects"
    )
    parser.add_argument(
        "--sessions",
        type=positive_int,
        default=12,
        metavar="N",
        help="sessions per subject",
    )
    parser.add_argument(
        "--runs", type=positive_int, default=3, metavar="N", help="runs per session"
    )
    parser.add_argument(
        "--volumes",
        type=positive_int,
        default=300,
        metavar="N",
        help="volumes per run",
    )
    parser.add_argument(
        "--tr",
        type=positive_float,
        default=2.0,
        metavar="SECONDS",
        help="repetition time",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of every random draw"
    )
    parser.add_argument(
        "--cifti",
        action="store_true",
        help="also write fMRIPrep-style CIFTI-2 BOLD (space fsLR, den 91k) and "
        "the atlas as grayordinates (dlabel, subcortical labels, surfaces)",
    )
    _add_individual_options(parser)
    _add_signal_options(parser)
    _add_mess_options(parser)
    parser.set_defaults(handler=_run_simulate)


def _add_signal_options(parser: argparse.ArgumentParser) -> None:
    """Options of the pain signal, rest runs and the covariates of pain."""
    signal = parser.add_argument_group(
        "pain signal and rest runs",
        "Known answers for the study's further analyses; ground_truth.json "
        "records each value.",
    )
    signal.add_argument(
        "--rest",
        action="store_true",
        help="give every session a rest run (task rest, --rest-volumes volumes, "
        "no ratings) whose hidden pain follows the session's level",
    )
    signal.add_argument(
        "--rest-signal-scale",
        type=non_negative_float,
        default=1.0,
        metavar="F",
        help="scale of the rest runs' pain signal (0: none)",
    )
    signal.add_argument(
        "--activation-gain",
        type=non_negative_float,
        default=0.0,
        metavar="F",
        help="a univariate response to pain in the signal regions (0: none)",
    )
    signal.add_argument(
        "--shared-signal-regions",
        type=int,
        default=0,
        metavar="N",
        help="signal regions that every subject shares",
    )
    signal.add_argument(
        "--motion-pain-coupling",
        type=non_negative_float,
        default=0.0,
        metavar="F",
        help="head motion grows with pain by this factor (0: independent)",
    )
    signal.add_argument(
        "--session-pattern-sd",
        type=non_negative_float,
        nargs="+",
        default=[],
        metavar="F",
        help="how much the pain signal's pattern varies from session to session, "
        "one value per subject (cycled): e.g. 0 1.5 makes subject 01's learning "
        "curve saturate early and subject 02's late (default: no variation)",
    )


def _add_individual_options(parser: argparse.ArgumentParser) -> None:
    """Options of the people's individual cortical topography."""
    individual = parser.add_argument_group(
        "individual topography",
        "With --individual, each person has parcels and networks of their own "
        "on the real fsLR 91k cortex (written under OUT_DIR/atlas with the "
        "group template and known to ground_truth.json), the CIFTI BOLD of "
        "the rating runs lives on them and every session has a rest run.",
    )
    individual.add_argument(
        "--individual",
        action="store_true",
        help="individual topography and rest runs (needs --cifti)",
    )
    individual.add_argument(
        "--rest-volumes",
        type=positive_int,
        default=300,
        metavar="N",
        help="volumes per rest run (with --individual or --rest)",
    )


def _add_mess_options(parser: argparse.ArgumentParser) -> None:
    """Options of the real-data mess the simulated study carries."""
    mess = parser.add_argument_group(
        "real data's mess",
        "By default the runs carry non-steady-state volumes (flagged by "
        "non_steady_state_outlierXX confound columns), head jerks with BOLD "
        "artefacts (some in a run's last volumes) and integer ratings with "
        "plateaus; ground_truth.json lists every artefact's volumes.",
    )
    mess.add_argument(
        "--clean",
        action="store_true",
        help="no artefacts: continuous ratings, no non-steady-state volumes or jerks",
    )
    mess.add_argument(
        "--unpadded-sessions",
        action="store_true",
        help="label sessions 1..N instead of 01..N, without sessions.tsv",
    )
    mess.add_argument(
        "--missing-run",
        action="store_true",
        help="leave out one run of one session per subject",
    )
    mess.add_argument(
        "--variable-run-length",
        action="store_true",
        help="shorten about half of the runs by 10-20%%",
    )


def _run_simulate(args: argparse.Namespace) -> None:
    # Imported here so that other subcommands do not pay for nilearn's import.
    from painflow.simulation.study import simulate_study

    simulate_study(
        args.out_dir,
        n_subjects=args.subjects,
        n_sessions=args.sessions,
        n_runs=args.runs,
        n_volumes=args.volumes,
        tr=args.tr,
        seed=args.seed,
        cifti=args.cifti,
        artifacts=not args.clean,
        unpadded_sessions=args.unpadded_sessions,
        missing_run=args.missing_run,
        variable_run_length=args.variable_run_length,
        individual=_individual_parameters(args),
        parameters=_signal_parameters(args),
        rest_volumes=args.rest_volumes if args.rest else None,
    )
    print(
        f"simulated {args.subjects} subjects x {args.sessions} sessions x "
        f"{args.runs} runs of {args.volumes} volumes (TR {args.tr:g} s, "
        f"seed {args.seed}{', with CIFTI' if args.cifti else ''}"
        f"{', clean' if args.clean else ', with artefacts'}"
        f"{', individual topography' if args.individual else ''}) into {args.out_dir}"
    )


def _signal_parameters(args: argparse.Namespace):
    """The generative model's parameters with the signal options given."""
    from painflow.simulation.parameters import SimulationParameters

    return SimulationParameters(
        activation_gain=args.activation_gain,
        shared_signal_regions=args.shared_signal_regions,
        motion_pain_coupling=args.motion_pain_coupling,
        rest_signal_scale=args.rest_signal_scale,
        session_pattern_sd=tuple(args.session_pattern_sd),
    )


def _individual_parameters(args: argparse.Namespace):
    """The individual topography's parameters, or False without --individual."""
    from painflow.simulation.parameters import IndividualParameters

    if not args.individual:
        return False
    return IndividualParameters(n_rest_volumes=args.rest_volumes)


def _add_provenance(subcommands) -> None:
    parser = subcommands.add_parser(
        "provenance",
        help="print the chain of steps and inputs that produced a result",
        description="Read the provenance sidecars (FILE.prov.json) of a workflow "
        "result and of its inputs, recursively, and print the chain from the raw "
        "inputs ([source]) to FILE, one file a line, inputs indented below.",
    )
    parser.add_argument("file", metavar="FILE", help="a painflow output")
    parser.set_defaults(handler=_run_provenance)


def _run_provenance(args: argparse.Namespace) -> None:
    from painflow.report.provenance import format_chain, provenance_chain

    try:
        chain = provenance_chain(args.file)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error
    print(format_chain(chain))


def build_parser() -> argparse.ArgumentParser:
    """Build the ``painflow`` argument parser with all its subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="painflow",
        description="Personalized brain decoding of spontaneous pain.",
    )
    subcommands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )
    _add_simulate(subcommands)
    _add_provenance(subcommands)
    add_atlas(subcommands)
    add_predict(subcommands)
    add_plan(subcommands)
    add_run(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``painflow`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 on success, 1 when the library rejects the input.
    """
    own, passed_on = _split_passthrough(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(own)
    if passed_on and not getattr(args, "passthrough", False):
        parser.error(f"painflow {args.command} takes no arguments after --")
    args.snakemake_args = passed_on
    try:
        args.handler(args)
    except ValueError as error:
        print(f"painflow {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


def _split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """The command's own arguments, and those after ``--`` for the tool it runs."""
    if "--" not in argv:
        return list(argv), []
    split = argv.index("--")
    return list(argv[:split]), list(argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main())
