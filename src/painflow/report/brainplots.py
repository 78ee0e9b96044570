"""Figures on a glass brain (nilearn), apart so that other steps skip its import."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from nilearn import plotting  # noqa: E402

from painflow.report.plots import STYLE, save_figure  # noqa: E402


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
    with plt.rc_context(STYLE):
        figure = plt.figure(figsize=(7.0, 2.6))
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
