"""Figures comparing models of the same people."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd

from painflow.core.bids import natural_key
from painflow.report.plots import (
    SCALE_LABELS,
    STYLE,
    interval_errors,
    new_figure,
    save_figure,
)

# Marker and grey of each model, told apart in grey-scale print.
MODEL_STYLES = {
    "personal": ("o", "#000000"),
    "group": ("s", "#666666"),
    "group_matched": ("^", "#aaaaaa"),
}


def plot_group_model(table: pd.DataFrame, path: str | Path) -> None:
    """Each person's r with its interval for each model, one panel per scale.

    Parameters
    ----------
    table : pandas.DataFrame
        ``subject, model, scale, metric, estimate, ci_low, ci_high``; the rows
        of metric ``r`` and of the models of ``MODEL_STYLES`` are drawn.
    path : str or Path
        PNG destination.
    """
    rows = table[(table["metric"] == "r") & table["model"].isin(MODEL_STYLES)]
    scales = list(dict.fromkeys(rows["scale"]))
    subjects = sorted(set(rows["subject"]), key=natural_key)
    models = [name for name in MODEL_STYLES if name in set(rows["model"])]
    width = 0.7 / max(len(models), 1)
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            1,
            len(scales),
            figsize=(max(2.6, 0.6 * len(subjects) + 1.2) * len(scales), 2.8),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        for ax, scale in zip(axes.flat, scales, strict=True):
            for offset, model in enumerate(models):
                marker, color = MODEL_STYLES[model]
                cells = rows[(rows["scale"] == scale) & (rows["model"] == model)]
                cells = cells.set_index("subject").reindex(subjects)
                x = [
                    i + (offset - (len(models) - 1) / 2) * width
                    for i in range(len(subjects))
                ]
                ax.errorbar(
                    x,
                    cells["estimate"],
                    yerr=interval_errors(
                        cells["estimate"], cells["ci_low"], cells["ci_high"]
                    ),
                    fmt=marker,
                    ms=4,
                    color=color,
                    capsize=2,
                    lw=1,
                    label=model.replace("_", " "),
                )
            ax.axhline(0, color="0.85", lw=0.8)
            ax.set_xticks(range(len(subjects)), [f"sub-{s}" for s in subjects])
            ax.set_ylim(-1, 1)
            ax.set_title(SCALE_LABELS.get(scale, scale))
        axes[0, 0].set_ylabel("r (95% CI), held-out person")
        axes[0, -1].legend(frameon=False, fontsize=7)
        save_figure(figure, path)
