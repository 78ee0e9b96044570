"""``painflow plan``: sessions each person needs, from a workflow's learning curves."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from painflow.analyses.plansettings import PlanSettings

LEARNING_CURVES = "sub-*/decoding/sub-*_learningcurve.tsv"


def add_plan(subcommands) -> None:
    """Add the ``plan`` subcommand."""
    defaults = PlanSettings()
    parser = subcommands.add_parser(
        "plan",
        help="how many sessions each person needs to reach a target r",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Fit an inverse power law r(s) = a - b s^-c to each "
        "person's learning curve (OUTPUT_DIR/sub-*/decoding/*_learningcurve.tsv "
        "of a workflow run, or one such table) at each scale, with a bootstrap "
        "over held-out sessions and repeats, and print the sessions needed to "
        "reach the target r and the gain of more sessions, with 95% intervals: "
        "the workflow's plan tables, for other settings.",
    )
    parser.add_argument(
        "output", metavar="OUTPUT_DIR", help="workflow output folder, or a table"
    )
    parser.add_argument("--subject", metavar="S", help="only this subject")
    parser.add_argument("--scale", metavar="SCALE", help="only this scale (1min...)")
    parser.add_argument(
        "--target-r",
        type=float,
        default=defaults.target_r,
        metavar="R",
        help="the within-session r to reach",
    )
    parser.add_argument(
        "--extra",
        type=int,
        default=defaults.extra_sessions,
        metavar="K",
        help="gain of K more sessions",
    )
    parser.add_argument(
        "--n-bootstrap",
        type=int,
        default=defaults.n_bootstrap,
        metavar="N",
        help="resamples of sessions and repeats (0: no intervals)",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=defaults.max_sessions,
        metavar="N",
        help="a target reached only beyond N sessions counts as never",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="the workflow's seed"
    )
    parser.set_defaults(handler=run_plan)


def learning_curve_tables(output: str, subject: str | None) -> dict[str, Path]:
    """Subject label to its learning-curve table, in a folder or a given table."""
    path = Path(output)
    if path.is_file():
        tables = [path]
    elif path.is_dir():
        tables = sorted(path.glob(LEARNING_CURVES))
    else:
        raise ValueError(f"{output}: no such folder or table")
    found = {}
    for table in tables:
        label = re.match(r"sub-([A-Za-z0-9]+)_", table.name)
        if label and "_desc-" not in table.name:
            found[label.group(1)] = table
    if subject is not None:
        found = {s: table for s, table in found.items() if s == subject}
    if not found:
        which = f" of subject {subject}" if subject else ""
        raise ValueError(
            f"{output}: no learning-curve table{which} ({LEARNING_CURVES})"
        )
    return found


def run_plan(args: argparse.Namespace) -> None:
    """Print every person's plan (``painflow plan``)."""
    from painflow.analyses.plan import plan_table
    from painflow.steps.plan import read_learning_curve

    settings = PlanSettings(
        target_r=args.target_r,
        extra_sessions=args.extra,
        n_bootstrap=args.n_bootstrap,
        max_sessions=args.max_sessions,
    )
    for subject, path in learning_curve_tables(args.output, args.subject).items():
        plan = plan_table(read_learning_curve(path), settings, args.seed)
        if args.scale is not None:
            plan = plan[plan["scale"] == args.scale]
        print(format_plan(subject, plan, settings))


def format_plan(subject: str, plan, settings) -> str:
    """A person's plan as lines of text, one block per scale."""
    from painflow.report.planplots import format_sessions

    lines = [f"sub-{subject} (target r {settings.target_r:g}):"]
    if plan.empty:
        lines.append("  no scale with a learning curve")
    for scale, rows in plan.groupby("scale", sort=False):
        by = rows[rows["quantity"] != "r"].set_index("quantity")
        needed = by.loc["sessions_to_target"]
        if "gain" not in by.index:
            lines.append(f"  {scale}: {needed['note']}")
            continue
        gain = by.loc["gain"]
        n_sessions = int(gain["n_sessions"]) - settings.extra_sessions
        curve = rows[rows["quantity"] == "r"].set_index("n_sessions")
        now, later = curve.loc[n_sessions], curve.loc[2 * n_sessions]
        interval = ", ".join(format_sessions(needed[k]) for k in ("ci_low", "ci_high"))
        lines += [
            f"  {scale}: sessions needed {format_sessions(needed['estimate'])} "
            f"[95% interval {interval}]; reached within {settings.max_sessions} "
            f"sessions in {by.loc['reach_probability', 'estimate']:.0%} of resamples",
            f"    expected r with {n_sessions} sessions {_interval(now)}, "
            f"with {2 * n_sessions} {_interval(later)}; "
            f"asymptote {_interval(by.loc['asymptote'])}",
            f"    gain from {settings.extra_sessions} more sessions "
            f"{_interval(gain, sign='+')}",
        ]
    return "\n".join(lines)


def _interval(row, sign: str = "") -> str:
    """``estimate [low, high]`` to three decimals."""
    values = [row["estimate"], row["ci_low"], row["ci_high"]]
    low_high = ", ".join(f"{value:{sign}.3f}" for value in values[1:])
    return f"{values[0]:{sign}.3f} [{low_high}]"
