"""Figures on a glass brain (nilearn), apart so that other steps skip its import."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from nilearn import plotting

from painflow.report.plots import STYLE, save_figure


def plot_importance_brain(
    importance: np.ndarray, coordinates: np.ndarray, title: str, path: str | Path
) -> None:
    """The most important regions as markers at their centroids on a glass brain.

    Marker colour and size grow with importance; the colour map (cividis)
    keeps its order in grey-scale print.

    Parameters
    ----------
    importance : numpy.ndarray
        (regions shown,) importance values.
    coordinates : numpy.ndarray
        (regions shown, 3) centroids in MNI space (mm).
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(7.0, 2.6))
        span = np.ptp(importance) or 1.0
        sizes = 20 + 80 * (importance - importance.min()) / span
        plotting.plot_markers(
            importance,
            coordinates,
            node_size=sizes,
            node_cmap="cividis",
            display_mode="lzry",
            title=title,
            colorbar=True,
            figure=figure,
        )
        save_figure(figure, path)


def plot_stat_volume(stat_map: str | Path, title: str, path: str | Path) -> None:
    """A thresholded statistical map on orthogonal slices (0: not shown).

    Parameters
    ----------
    stat_map : str or Path
        A 3D NIfTI map.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(7.0, 2.6))
        plotting.plot_stat_map(
            str(stat_map),
            bg_img=None,
            display_mode="ortho",
            threshold=1e-6,
            colorbar=True,
            title=title,
            figure=figure,
        )
        save_figure(figure, path)
