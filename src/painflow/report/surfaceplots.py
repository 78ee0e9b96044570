"""An individual atlas on the cortical surface (nilearn), with its parcel sizes."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from nilearn import plotting, surface

from painflow.report.plots import STYLE, save_figure

_SIDES = ("left", "right")


def surface_values(values: np.ndarray, vertices: np.ndarray, n_surface: int):
    """Values on every vertex of a mesh (NaN where the data have none)."""
    full = np.full(n_surface, np.nan)
    full[vertices] = values
    return full


def _network_codes(table: pd.DataFrame, labels: np.ndarray, names: list) -> np.ndarray:
    """Each vertex's network as its position in ``names`` plus one (0: none)."""
    code_of = {name: code for code, name in enumerate(names, start=1)}
    codes = table["network"].map(code_of).fillna(0).to_numpy()
    lookup = np.zeros(int(max(labels.max(initial=0), table["index"].max())) + 1)
    lookup[table["index"].to_numpy()] = codes
    return lookup[labels]


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
        figure = Figure(figsize=(10, 8))
        figure.subplots_adjust(hspace=0.5)
        names = sorted(name for name in table["network"].unique() if name)
        n_parcels = int(max(labels[side].max(initial=0) for side in _SIDES))
        palettes = {
            "parcels": _palette("tab20", n_parcels),
            "networks": _palette("tab10", len(names)),
        }
        for column, side in enumerate(_SIDES):
            mesh = surface.load_surf_mesh(surfaces[side])
            maps = {
                "parcels": labels[side].astype(float),
                "networks": _network_codes(table, labels[side], names),
            }
            for row, (kind, values) in enumerate(maps.items()):
                axes = figure.add_subplot(3, 2, 2 * row + column + 1, projection="3d")
                shown = surface_values(values, vertices[side], n_surface[side])
                shown[shown == 0] = np.nan  # boundary and medial wall: no colour
                plotting.plot_surf_roi(
                    mesh,
                    shown,
                    hemi=side,
                    view="lateral",
                    cmap=palettes[kind],
                    vmin=0.5,  # key k takes the palette's k-th colour
                    vmax=palettes[kind].N + 0.5,
                    colorbar=False,
                    axes=axes,
                    figure=figure,
                    title=f"{kind}, {side}",
                )
        figure.legend(
            handles=[
                Patch(color=palettes["networks"](k), label=name)
                for k, name in enumerate(names)
            ],
            loc="center",
            bbox_to_anchor=(0.5, 0.4),
            ncol=4,
            frameon=False,
        )
        _plot_sizes(figure.add_subplot(3, 2, 5), table)
        _plot_homogeneity(figure.add_subplot(3, 2, 6), table)
        figure.suptitle(title)
        save_figure(figure, path)


def _palette(name: str, n: int) -> ListedColormap:
    """``n`` distinct colours of a qualitative colour map, cycled."""
    base = matplotlib.colormaps[name]
    return ListedColormap([base(i % base.N) for i in range(max(n, 1))])


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


def plot_stat_surface(
    values: np.ndarray, models, surfaces: dict, title: str, path: str | Path
) -> None:
    """A thresholded statistical map of grayordinates on both hemispheres' cortex.

    Parameters
    ----------
    values : numpy.ndarray
        (grayordinates,) the map (0: not significant, not coloured).
    models : nibabel.cifti2.BrainModelAxis
        The grayordinates' brain models.
    surfaces : dict
        ``left``/``right`` GIFTI surfaces of the mesh to draw on.
    title : str
        Figure title.
    path : str or Path
        PNG destination.
    """
    structures = {
        "CIFTI_STRUCTURE_CORTEX_LEFT": "left",
        "CIFTI_STRUCTURE_CORTEX_RIGHT": "right",
    }
    finite = values[np.isfinite(values)]
    vmax = float(np.abs(finite).max(initial=0.0)) or 1.0
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(8, 3.5))
        for name, piece, model in models.iter_structures():
            side = structures.get(name)
            if side is None:
                continue
            shown = surface_values(values[piece], model.vertex, model.nvertices[name])
            shown[shown == 0] = np.nan
            axes = figure.add_subplot(1, 2, _SIDES.index(side) + 1, projection="3d")
            plotting.plot_surf_stat_map(
                surface.load_surf_mesh(surfaces[side]),
                shown,
                hemi=side,
                view="lateral",
                cmap="RdBu_r",
                vmin=-vmax,
                vmax=vmax,
                colorbar=side == "right",
                axes=axes,
                figure=figure,
                title=side,
            )
        figure.suptitle(title)
        save_figure(figure, path)
