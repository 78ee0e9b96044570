"""Figure of the plan: each scale's fitted learning curve, extrapolated."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from painflow.report.plots import SCALE_LABELS, STYLE, new_figure, save_figure

CURVE_COLOR = "#1b1b1b"
TARGET_COLOR = "#d95f02"


def format_sessions(value: float) -> str:
    """A number of sessions as read: whole sessions up, ``never`` for inf."""
    if np.isnan(value):
        return "n/a"
    return "never" if np.isinf(value) else str(int(np.ceil(value)))


def plot_plan(plan: pd.DataFrame, target_r: float, title: str, path: str | Path):
    """One panel per scale: fitted curve, its band, the observed means, the target.

    Parameters
    ----------
    plan : pandas.DataFrame
        :func:`painflow.analyses.plan.plan_table`.
    target_r : float
        Drawn as a horizontal line.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    curves = plan[plan["quantity"] == "r"]
    scales = list(pd.unique(curves["scale"])) or [None]
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            1, len(scales), figsize=(3.2 * len(scales), 3.0), squeeze=False
        )
        for ax, scale in zip(axes[0], scales, strict=True):
            if scale is None:
                ax.text(0.5, 0.5, "no learning curve to fit", ha="center")
                ax.set_axis_off()
                continue
            rows = plan[plan["scale"] == scale]
            _plot_scale(ax, rows, target_r)
            ax.set_title(
                f"{SCALE_LABELS.get(scale, scale)}\n{needed_sessions(rows, target_r)}"
            )
        axes[0, 0].set_ylabel("within-session r")
        axes[0, 0].legend(frameon=False, fontsize=7, loc="lower right")
        figure.suptitle(title)
        figure.tight_layout()
        save_figure(figure, path)


def _plot_scale(ax, rows: pd.DataFrame, target_r: float) -> None:
    """A scale's curve, band, observed means, target and sessions scanned."""
    curve = rows[rows["quantity"] == "r"]
    ax.fill_between(
        curve["n_sessions"],
        curve["ci_low"],
        curve["ci_high"],
        color=CURVE_COLOR,
        alpha=0.15,
        lw=0,
    )
    ax.plot(curve["n_sessions"], curve["estimate"], color=CURVE_COLOR, label="fit")
    ax.plot(
        curve["n_sessions"],
        curve["observed"],
        "o",
        ms=3,
        color=CURVE_COLOR,
        label="learning curve",
    )
    ax.axhline(target_r, color=TARGET_COLOR, ls="--", lw=0.9, label="target")
    ax.axvline(curve["n_sessions"].max() / 2, color="#888888", ls=":", lw=0.9)
    ax.set_xlabel("training sessions")


def needed_sessions(rows: pd.DataFrame, target_r: float) -> str:
    """``sessions to r T: S [low, high]`` of a scale's plan rows."""
    needed = rows[rows["quantity"] == "sessions_to_target"].iloc[0]
    interval = ", ".join(format_sessions(needed[k]) for k in ("ci_low", "ci_high"))
    estimate = format_sessions(needed["estimate"])
    return f"sessions to r {target_r:g}: {estimate} [{interval}]"
