"""Figures of a subject's decoding: time courses, scatter plots, ROC curves."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_curve

from painflow.core.bids import natural_key
from painflow.core.fileio import atomic_path
from painflow.core.stats import pearson_r

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 120,
    "savefig.dpi": 120,
}
# Dark and light ends of one hue, so lines stay apart in grey-scale print.
RATED_COLOR = "#1b1b1b"
PREDICTED_COLOR = "#d95f02"
SCALE_LABELS = {
    "1min": "1-min bins",
    "2min": "2-min bins",
    "5min": "5-min bins",
    "run": "runs",
    "session": "sessions",
}


def new_figure(*grid: int, figsize: tuple, layout: str | None = None, **subplots):
    """A figure and its axes, as ``pyplot.subplots`` makes them, without pyplot.

    The figure belongs to no pyplot state, so no backend is chosen and nothing
    needs closing; :func:`save_figure` renders it to PNG.

    Parameters
    ----------
    *grid : int
        Rows and columns of axes (one axes when empty).
    figsize : tuple
        Width and height in inches.
    layout : str, optional
        Matplotlib's layout engine (e.g. ``"constrained"``).
    **subplots
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``sharex``,
        ``squeeze``, ...).

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : matplotlib.axes.Axes or numpy.ndarray
    """
    figure = Figure(figsize=figsize, layout=layout)
    return figure, figure.subplots(*grid, **subplots)


def interval_errors(estimate, low, high) -> np.ndarray:
    """Error-bar lengths below and above estimates, from their intervals.

    A bootstrap percentile interval of a small sample need not contain its
    point estimate; the bar on that side then has no length instead of a
    negative one, which matplotlib refuses.

    Returns
    -------
    numpy.ndarray
        (2, estimates): lengths below and above, NaN where unknown.
    """
    estimate = np.asarray(estimate, dtype=float)
    lengths = np.array(
        [
            estimate - np.asarray(low, dtype=float),
            np.asarray(high, dtype=float) - estimate,
        ]
    )
    return np.clip(lengths, 0.0, None)


def save_figure(figure: Figure, path: str | Path) -> None:
    """Save a PNG atomically, without the software stamp."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})


def plot_timecourses(units: pd.DataFrame, title: str, path: str | Path) -> None:
    """Rated and predicted pain over each session, one panel a session.

    Parameters
    ----------
    units : pandas.DataFrame
        Time-bin units (``session, run, bin, rating, predicted``), e.g. 1-min.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    sessions = sorted(units["session"].unique(), key=natural_key)
    n_cols = min(4, len(sessions))
    n_rows = math.ceil(len(sessions) / n_cols)
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            n_rows,
            n_cols,
            figsize=(2.6 * n_cols, 1.9 * n_rows),
            sharey=True,
            squeeze=False,
        )
        for ax, session in zip(axes.flat, sessions, strict=False):
            rows = units[units["session"] == session].sort_values(["run", "bin"])
            position = np.arange(len(rows))
            ax.plot(position, rows["rating"], color=RATED_COLOR, lw=1.4, label="rated")
            ax.plot(
                position,
                rows["predicted"],
                color=PREDICTED_COLOR,
                lw=1.4,
                ls="--",
                label="predicted",
            )
            for boundary in np.flatnonzero(
                np.diff(rows["run"].astype(str).factorize()[0])
            ):
                ax.axvline(boundary + 0.5, color="0.8", lw=0.8)
            ax.set_title(f"session {session}")
        for ax in axes.flat[len(sessions) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel("pain (0-100)")
        for ax in axes[-1, :]:
            ax.set_xlabel("time bin (runs in order)")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        figure.legend(handles, labels, frameon=False, loc="upper right", ncol=2)
        figure.suptitle(title)
        figure.tight_layout()
        save_figure(figure, path)


def plot_scatter(units_by_scale: dict, title: str, path: str | Path) -> None:
    """Predicted against rated pain at each scale, with the pooled r.

    Parameters
    ----------
    units_by_scale : dict
        Scale name to its units table.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            1,
            len(units_by_scale),
            figsize=(2.6 * len(units_by_scale), 2.7),
            squeeze=False,
        )
        for ax, (scale, units) in zip(axes.flat, units_by_scale.items(), strict=True):
            r = pearson_r(units["rating"], units["predicted"])
            ax.scatter(
                units["rating"],
                units["predicted"],
                s=9,
                color=PREDICTED_COLOR,
                edgecolor=RATED_COLOR,
                linewidths=0.3,
                alpha=0.8,
            )
            ax.set_title(f"{SCALE_LABELS.get(scale, scale)} (r = {r:.2f})")
            ax.set_xlabel("rated pain (0-100)")
        axes[0, 0].set_ylabel("predicted pain (0-100)")
        figure.suptitle(title)
        figure.tight_layout()
        save_figure(figure, path)


def plot_roc(units_by_scale: dict, title: str, path: str | Path) -> None:
    """ROC curves of high (above the median rating) against low pain, per scale."""
    styles = ["-", "--", "-.", ":"]
    greys = ["#000000", "#555555", "#888888", "#bbbbbb"]
    with matplotlib.rc_context(STYLE):
        figure, ax = new_figure(figsize=(3.4, 3.2))
        for position, (scale, units) in enumerate(units_by_scale.items()):
            high = units["rating"] > units["rating"].median()
            if high.all() or not high.any():
                continue
            false_pos, true_pos, _ = roc_curve(high, units["predicted"])
            ax.plot(
                false_pos,
                true_pos,
                ls=styles[position % 4],
                color=greys[position % 4],
                lw=1.5,
                label=SCALE_LABELS.get(scale, scale),
            )
        ax.plot([0, 1], [0, 1], color="0.85", lw=0.8)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_aspect("equal")
        ax.legend(frameon=False, loc="lower right")
        ax.set_title(title)
        figure.tight_layout()
        save_figure(figure, path)


def plot_cross_subject(table: pd.DataFrame, path: str | Path) -> None:
    """Train x test matrices of r, one panel per scale.

    Parameters
    ----------
    table : pandas.DataFrame
        ``train_subject, test_subject, scale, r``; rows with equal subjects
        hold the within-subject cross-validated r.
    path : str or Path
        PNG destination.
    """
    scales = list(dict.fromkeys(table["scale"]))
    subjects = sorted(set(table["train_subject"]) | set(table["test_subject"]))
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            1,
            len(scales),
            figsize=(2.3 * len(scales) + 1.6, 2.8),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        for ax, scale in zip(axes.flat, scales, strict=True):
            rows = table[table["scale"] == scale]
            matrix = (
                rows.pivot(index="train_subject", columns="test_subject", values="r")
                .reindex(index=subjects, columns=subjects)
                .to_numpy(float)
            )
            # cividis: luminance rises monotonically, so grey-scale keeps the order.
            image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="cividis")
            for (i, j), value in np.ndenumerate(matrix):
                if np.isfinite(value):
                    ax.text(
                        j,
                        i,
                        f"{value:.2f}",
                        ha="center",
                        va="center",
                        color="white" if value < 0.2 else "black",
                    )
            labels = [f"sub-{s}" for s in subjects]
            ax.set_xticks(range(len(subjects)), labels)
            ax.set_yticks(range(len(subjects)), labels)
            ax.set_xlabel("tested on")
            ax.set_title(SCALE_LABELS.get(scale, scale))
        axes[0, 0].set_ylabel("model trained on")
        figure.colorbar(image, ax=axes.ravel().tolist(), label="r", shrink=0.8)
        save_figure(figure, path)


def plot_prospective(table: pd.DataFrame, title: str, path: str | Path) -> None:
    """Within-session r of each prospectively predicted session, in scan order.

    Parameters
    ----------
    table : pandas.DataFrame
        ``test_session, n_train_sessions, scale, r`` in scan order.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    sessions = list(dict.fromkeys(table["test_session"]))
    styles = ["-", "--", "-.", ":"]
    greys = ["#000000", "#555555", "#888888", "#bbbbbb"]
    with matplotlib.rc_context(STYLE):
        figure, ax = new_figure(figsize=(max(3.4, 0.45 * len(sessions) + 1.5), 2.8))
        for position, (scale, rows) in enumerate(table.groupby("scale", sort=False)):
            if rows["r"].notna().any():
                ax.plot(
                    [sessions.index(s) for s in rows["test_session"]],
                    rows["r"],
                    marker="o",
                    ms=3,
                    ls=styles[position % 4],
                    color=greys[position % 4],
                    label=SCALE_LABELS.get(scale, scale),
                )
        ax.axhline(0, color="0.85", lw=0.8)
        ax.set_xticks(range(len(sessions)), sessions)
        ax.set_xlabel("test session (scan order)")
        ax.set_ylabel("r within the session")
        ax.set_ylim(-1, 1)
        ax.legend(frameon=False, fontsize=7)
        ax.set_title(f"{title}: trained on earlier sessions only")
        figure.tight_layout()
        save_figure(figure, path)


METRIC_LABELS = {
    "r": "pooled r",
    "r2": "R²",
    "mae": "mean absolute error",
    "auc": "ROC AUC",
    "within_run_r": "mean r within runs",
    "within_session_r": "mean r within sessions",
}


def plot_learning_curve(
    summary: pd.DataFrame, reference: pd.DataFrame, title: str, path: str | Path
) -> None:
    """Every metric against the number of training sessions, with 95% bands.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``n_train_sessions, scale, metric, estimate, ci_low, ci_high``.
    reference : pandas.DataFrame
        The main metrics table (``scale, metric, estimate``): each scale's
        estimate of the model of all other sessions, drawn as a dotted line.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    styles = ["-", "--", "-.", ":"]
    greys = ["#000000", "#555555", "#888888", "#bbbbbb"]
    metrics = list(METRIC_LABELS)
    main = reference.set_index(["scale", "metric"])["estimate"]
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(2, 3, figsize=(9.0, 5.2), squeeze=False)
        for ax, metric in zip(axes.ravel(), metrics, strict=True):
            rows = summary[summary["metric"] == metric]
            for position, (scale, curve) in enumerate(
                rows.groupby("scale", sort=False)
            ):
                curve = curve.dropna(subset=["estimate"])
                if curve.empty:
                    continue
                color = greys[position % 4]
                ax.fill_between(
                    curve["n_train_sessions"],
                    curve["ci_low"],
                    curve["ci_high"],
                    color=color,
                    alpha=0.15,
                    lw=0,
                )
                ax.plot(
                    curve["n_train_sessions"],
                    curve["estimate"],
                    ls=styles[position % 4],
                    color=color,
                    marker="o",
                    ms=3,
                    label=SCALE_LABELS.get(scale, scale),
                )
                if np.isfinite(main.get((scale, metric), np.nan)):
                    ax.axhline(main[(scale, metric)], color=color, ls=":", lw=0.9)
            ax.set_title(METRIC_LABELS[metric])
            ax.set_xlabel("number of training sessions")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            lowest = rows["estimate"].min()
            if metric == "r2" and np.isfinite(lowest):
                # R² has no floor: a resample of near-constant ratings would
                # stretch the axis far below every estimate.
                ax.set_ylim(1.1 * min(-1.0, lowest), 1.0)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if handles:
            axes[0, 0].legend(frameon=False, fontsize=7)
        figure.suptitle(
            f"{title}: mean over random draws, 95% bootstrap bands; "
            "dotted: all other sessions"
        )
        figure.tight_layout()
        save_figure(figure, path)


def plot_importance_bars(table: pd.DataFrame, title: str, path: str | Path) -> None:
    """Horizontal bars of the most important regions, the first at the top.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of the importance table to show (``name``, ``network``,
        ``importance``), most important first.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    with matplotlib.rc_context(STYLE):
        figure, ax = new_figure(figsize=(4.6, 0.9 + 0.19 * len(table)))
        positions = np.arange(len(table))[::-1]
        ax.barh(positions, table["importance"], color="#4d4d4d", height=0.7)
        labels = [
            name if network in ("", "n/a") else f"{name} ({network})"
            for name, network in zip(table["name"], table["network"], strict=True)
        ]
        ax.set_yticks(positions, labels, fontsize=7)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel("importance: mean drop in r when permuted")
        ax.set_title(title)
        figure.tight_layout()
        save_figure(figure, path)


def plot_qc(
    table: pd.DataFrame, title: str, max_censored: float, min_binned: float, path
) -> None:
    """Per-run quality: motion, censoring, ratings and binning, excluded runs marked.

    Parameters
    ----------
    table : pandas.DataFrame
        The subject's QC table (``session, run, mean_fd, fraction_censored,
        rating_min, rating_max, rating_mean, rating_sd, included, reason,
        fraction_binned``).
    title : str
        Figure title.
    max_censored : float
        Largest censored fraction of an included run (drawn as a line).
    min_binned : float
        Share of kept volumes in rating bins below which a run is flagged
        (drawn as a line).
    path : str or Path
        PNG destination.
    """
    labels = [f"{s}/{r}" for s, r in zip(table["session"], table["run"], strict=True)]
    positions = np.arange(len(table))
    included = table["included"].astype(bool).to_numpy()
    # Excluded runs: light and hatched, so they stand out in grey-scale print.
    colors = np.where(included, "#4d4d4d", "#d9d9d9")
    with matplotlib.rc_context(STYLE):
        figure, axes = new_figure(
            4, 1, figsize=(max(4.0, 0.18 * len(table) + 1.5), 7.0), sharex=True
        )
        bars = axes[0].bar(positions, table["mean_fd"], color=colors, width=0.8)
        for bar, kept in zip(bars, included, strict=True):
            bar.set_hatch("" if kept else "///")
        axes[0].set_ylabel("mean FD (mm)")
        axes[1].bar(
            positions, 100 * table["fraction_censored"], color=colors, width=0.8
        )
        axes[1].axhline(100 * max_censored, color="0.3", ls="--", lw=0.8)
        axes[1].set_ylabel("censored (%)")
        axes[2].vlines(
            positions, table["rating_min"], table["rating_max"], color="0.6", lw=1
        )
        axes[2].errorbar(
            positions,
            table["rating_mean"],
            yerr=table["rating_sd"],
            fmt="o",
            ms=3,
            color="0.1",
            elinewidth=1.5,
        )
        axes[2].set_ylim(-5, 105)
        axes[2].set_ylabel("rating (0-100)")
        axes[3].bar(positions, 100 * table["fraction_binned"], color=colors, width=0.8)
        axes[3].axhline(100 * min_binned, color="0.3", ls="--", lw=0.8)
        axes[3].set_ylim(0, 105)
        axes[3].set_ylabel("in rating bins (%)")
        axes[3].set_xticks(positions, labels, rotation=90, fontsize=6)
        axes[3].set_xlabel("session/run")
        excluded = int((~included).sum())
        sessions_used = table.loc[included, "session"].nunique()
        axes[0].set_title(
            f"{title}: {len(table) - excluded} runs included, {excluded} excluded "
            f"(hatched)\n{sessions_used} of {table['session'].nunique()} sessions used"
        )
        figure.tight_layout()
        save_figure(figure, path)
