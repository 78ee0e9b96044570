"""An individual atlas on the cortical surface (nilearn), with its parcel sizes."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from nilearn import plotting, surface

from painflow.report.plots import STYLE, save_figure

_SIDES = ("left", "right")


def surface_values(values: np.ndarray, vertices: np.ndarray, n_surface: int):
    """Values on every vertex of a mesh (NaN where the data have none)."""
    full = np.full(n_surface, np.nan)
    full[vertices] = values
    return full


def _network_codes(table: pd.DataFrame, labels: np.ndarray) -> tuple:
    """Each vertex's network as a code (0: none), and the network names."""
    names = sorted(name for name in table["network"].unique() if name)
    code_of = {name: code for code, name in enumerate(names, start=1)}
    codes_of_parcels = table["network"].map(code_of).fillna(0)
    parcel_code = dict(zip(table["index"], codes_of_parcels, strict=True))
    codes = np.array([parcel_code.get(label, 0) for label in labels], dtype=float)
    return codes, names


def plot_individual_atlas(
    labels: dict,
    vertices: dict,
    n_surface: dict,
    table: pd.DataFrame,
    surfaces: dict,
    title: str,
    path: str | Path,
) -> None:
    """Parcels and networks on both hemispheres, and the parcel sizes.

    Parameters
    ----------
    labels : dict
        ``left``/``right`` -> parcel of each data vertex (0: none).
    vertices, n_surface : dict
        ``left``/``right`` -> the data's surface vertices, the mesh's size.
    table : pandas.DataFrame
        ``index``, ``network``, ``n_vertices``, ``homogeneity`` per parcel.
    surfaces : dict
        ``left``/``right`` GIFTI surfaces to draw on.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(10, 6.5))
        for column, side in enumerate(_SIDES):
            mesh = surface.load_surf_mesh(surfaces[side])
            parcels = labels[side].astype(float)
            codes, names = _network_codes(table, labels[side])
            maps = {"parcels": parcels, "networks": codes}
            for row, (kind, values) in enumerate(maps.items()):
                axes = figure.add_subplot(3, 2, 2 * row + column + 1, projection="3d")
                shown = surface_values(values, vertices[side], n_surface[side])
                shown[shown == 0] = np.nan
                colours = _colours(kind, values)
                plotting.plot_surf_roi(
                    mesh,
                    shown,
                    hemi=side,
                    view="lateral",
                    cmap=colours,
                    colorbar=False,
                    axes=axes,
                    figure=figure,
                    title=f"{kind}, {side}"
                    + (f": {', '.join(names)}" if kind == "networks" else ""),
                )
        _plot_sizes(figure.add_subplot(3, 2, 5), table)
        _plot_homogeneity(figure.add_subplot(3, 2, 6), table)
        figure.suptitle(title)
        save_figure(figure, path)


def _colours(kind: str, values: np.ndarray) -> ListedColormap:
    """Distinct colours for parcels (cycled) or for networks."""
    base = matplotlib.colormaps["tab20" if kind == "parcels" else "tab10"]
    n = max(int(np.nanmax(values)) if values.size else 1, 1)
    return ListedColormap([base(i % base.N) for i in range(n)])


def _plot_sizes(axes, table: pd.DataFrame) -> None:
    """Histogram of parcel sizes (vertices)."""
    axes.hist(table["n_vertices"], bins=30, color="0.4")
    axes.set_xlabel("parcel size (vertices)")
    axes.set_ylabel("parcels")
    axes.set_title(f"{len(table)} parcels")


def _plot_homogeneity(axes, table: pd.DataFrame) -> None:
    """Histogram of parcel homogeneity (first component's share of variance)."""
    axes.hist(table["homogeneity"].dropna(), bins=30, color="0.4")
    axes.set_xlabel("homogeneity (variance explained by 1st component)")
    axes.set_ylabel("parcels")
    axes.set_title(f"mean {np.nanmean(table['homogeneity']):.2f}")
