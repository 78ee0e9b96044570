"""The figure of a predicted session: pain over time with its prediction interval."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from painflow.report.plots import (
    PREDICTED_COLOR,
    RATED_COLOR,
    STYLE,
    new_figure,
    save_figure,
)


def plot_prediction(
    bins: pd.DataFrame, level: float, title: str, path: str | Path
) -> None:
    """Predicted pain per time bin of each run, its interval, and the ratings.

    Parameters
    ----------
    bins : pandas.DataFrame
        ``session, run, bin, time, predicted, pi_low, pi_high, rating``
        (ratings may be missing).
    level : float
        Coverage of the intervals (for the legend).
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    runs = list(dict.fromkeys(bins["run"].astype(str))) or [""]
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            1, len(runs), figsize=(3.4 * len(runs), 2.8), sharey=True, squeeze=False
        )
        for ax, run in zip(axes.flat, runs, strict=True):
            rows = bins[bins["run"].astype(str) == run]
            minutes = rows["time"].to_numpy(float) / 60
            ax.fill_between(
                minutes,
                rows["pi_low"],
                rows["pi_high"],
                color=PREDICTED_COLOR,
                alpha=0.2,
                lw=0,
                label=f"{level:.0%} prediction interval",
            )
            ax.plot(
                minutes, rows["predicted"], color=PREDICTED_COLOR, label="predicted"
            )
            if rows["rating"].notna().any():
                ax.plot(
                    minutes, rows["rating"], color=RATED_COLOR, ls="--", label="rated"
                )
            ax.set_title(f"run {run}")
            ax.set_xlabel("time (min)")
        axes[0, 0].set_ylabel("pain")
        if not np.isnan(bins["predicted"].to_numpy(float)).all():
            axes[0, 0].legend(frameon=False, fontsize=7)
        figure.suptitle(title)
        figure.tight_layout()
        save_figure(figure, path)
