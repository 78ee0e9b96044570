"""Figure of the specificity tests: nuisance decoders beside the pain model."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from painflow.report.plots import (
    SCALE_LABELS,
    STYLE,
    interval_errors,
    new_figure,
    save_figure,
)

PAIN_COLOR = "black"
# Horizontal room each scale gives its lines, set side by side so that their
# interval bars do not hide each other.
DODGE_WIDTH = 0.5
# The partial r's drawn per target: metric, label suffix, line style.
PARTIALS = (
    ("pain_partial_r", "", "-"),
    ("pain_partial_r_decoded", " (decoded)", "--"),
)


def _dodge(position: int, count: int) -> float:
    """Horizontal offset of the line at ``position`` among ``count`` lines."""
    return DODGE_WIDTH * ((position + 0.5) / count - 0.5)


def _plot_rows(ax, rows: pd.DataFrame, scales: list[str], label: str, offset, **style):
    """One line of estimates with interval bars across scales."""
    rows = rows.set_index("scale").reindex(scales)
    x = np.arange(len(scales)) + offset
    errors = interval_errors(rows["estimate"], rows["ci_low"], rows["ci_high"])
    ax.errorbar(x, rows["estimate"], yerr=errors, label=label, capsize=2, **style)


def plot_nuisance(table: pd.DataFrame, title: str, path: str | Path) -> None:
    """Each nuisance decoder's r, and the pain model's plain and partial r.

    Parameters
    ----------
    table : pandas.DataFrame
        The nuisance table (``target, scale, metric, estimate, ci_low,
        ci_high``).
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    scales = list(dict.fromkeys(table["scale"]))
    targets = [t for t in dict.fromkeys(table["target"]) if t != "pain"]
    pain = table[(table["target"] == "pain") & (table["metric"] == "r")]
    colors = matplotlib.colormaps["tab10"].colors
    with matplotlib.rc_context(STYLE):
        figure, (decoders, partials) = new_figure(1, 2, figsize=(9.5, 3.4), sharey=True)
        n_partials = 1 + 2 * len(targets)
        for ax, count in ((decoders, 1 + len(targets)), (partials, n_partials)):
            offset = _dodge(0, count)
            _plot_rows(ax, pain, scales, "pain model r", offset, color=PAIN_COLOR, lw=2)
            ax.axhline(0, color="grey", lw=0.6)
            ax.set_xticks(np.arange(len(scales)))
            ax.set_xticklabels([SCALE_LABELS.get(s, s) for s in scales])
        for k, (color, target) in enumerate(zip(colors, targets, strict=False)):
            rows = table[table["target"] == target].set_index("metric")
            offset = _dodge(1 + k, 1 + len(targets))
            _plot_rows(decoders, rows.loc[["r"]], scales, target, offset, color=color)
            for j, (metric, suffix, line) in enumerate(PARTIALS):
                _plot_rows(
                    partials,
                    rows.loc[[metric]],
                    scales,
                    target + suffix,
                    _dodge(1 + 2 * k + j, n_partials),
                    color=color,
                    ls=line,
                )
        decoders.set_title("decoders of each target: r with it")
        partials.set_title("pain model: r with ratings, partial")
        decoders.set_ylabel("r")
        decoders.legend(fontsize="x-small", loc="lower left")
        partials.legend(fontsize="x-small", ncol=2)
        figure.suptitle(title)
        figure.tight_layout()
        save_figure(figure, path)
