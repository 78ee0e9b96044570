"""Step ``plan``: how many sessions a person's decoder needs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from painflow.analyses.plan import missing_columns, plan_table
from painflow.analyses.plansettings import PlanSettings
from painflow.core.fileio import read_tsv, write_tsv
from painflow.report.planplots import plot_plan

LEARNING_CURVE_TYPES = {"test_session": str, "scale": str, "r": float}


def read_learning_curve(path: str | Path) -> pd.DataFrame:
    """Read a learning-curve table (``sub-S_atlas-A_learningcurve.tsv``).

    Raises
    ------
    ValueError
        When the file is missing or lacks the learning curve's columns.
    """
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such learning-curve table")
    table = read_tsv(path, dtype=LEARNING_CURVE_TYPES)
    missing = missing_columns(table)
    if missing:
        raise ValueError(f"{path} is not a learning-curve table: no column {missing}")
    return table


def plan(
    learning_curve: str,
    subject: str,
    settings: dict,
    seed: int,
    table_out: str,
    figure_out: str,
) -> None:
    """Fit a person's learning curve and extrapolate it: a table and a figure.

    Parameters
    ----------
    learning_curve : str
        The person's learning-curve table (every draw's within-session r).
    subject : str
        Subject label (figure title).
    settings : dict
        The config's ``plan`` section (:class:`PlanSettings` fields).
    seed : int
        The workflow's seed.
    table_out, figure_out : str
        Destinations (:data:`painflow.analyses.plan.PLAN_COLUMNS`, PNG).
    """
    plan_settings = PlanSettings(**settings)
    table = plan_table(read_learning_curve(learning_curve), plan_settings, seed)
    write_tsv(table_out, table)
    plot_plan(table, plan_settings.target_r, f"sub-{subject}", figure_out)
