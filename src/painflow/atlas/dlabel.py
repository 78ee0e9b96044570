"""Writing CIFTI dlabels: one label map on the cortex of a dense file's mesh."""

from __future__ import annotations

import colorsys

import numpy as np
import pandas as pd
from nibabel.cifti2 import BrainModelAxis, Cifti2Image, LabelAxis

from painflow.atlas.surface import CORTEX_STRUCTURES

UNLABELLED = ("???", (1.0, 1.0, 1.0, 0.0))  # Connectome Workbench's key 0
GOLDEN_RATIO = 0.618033988749895


def label_colour(index: int) -> tuple[float, float, float, float]:
    """A reproducible RGBA colour; golden-ratio hue steps keep neighbours apart."""
    hue = (index * GOLDEN_RATIO) % 1.0
    return (*colorsys.hsv_to_rgb(hue, 0.65, 0.9), 1.0)


def dlabel_image(
    values: np.ndarray, models: BrainModelAxis, labels: dict, name: str
) -> Cifti2Image:
    """A dlabel of one map: key 0 is Connectome Workbench's unlabelled ``???``.

    Parameters
    ----------
    values : numpy.ndarray
        The label key of every grayordinate of ``models``.
    models : nibabel.cifti2.BrainModelAxis
    labels : dict
        Key -> (name, RGBA) of every label but 0.
    name : str
        The map's name.

    Returns
    -------
    nibabel.cifti2.Cifti2Image
    """
    axis = LabelAxis([name], [{0: UNLABELLED, **labels}])
    data = np.asarray(values, dtype=np.float32)[np.newaxis]
    image = Cifti2Image(data, header=(axis, models))
    image.nifti_header.set_intent("ConnDenseLabel")
    image.nifti_header.set_data_dtype(np.float32)
    return image


def cortex_dlabel(
    values: dict, vertices: dict, n_surface: dict, table: pd.DataFrame, name: str
) -> Cifti2Image:
    """Build a dlabel of the cortex from each hemisphere's labels.

    Parameters
    ----------
    values : dict
        ``left``/``right`` -> int label of each vertex in ``vertices`` (0: none).
    vertices : dict
        ``left``/``right`` -> the surface vertex indices that carry a value.
    n_surface : dict
        ``left``/``right`` -> vertices of the hemisphere's mesh.
    table : pandas.DataFrame
        ``index`` and ``name`` of each label.
    name : str
        The map's name.

    Returns
    -------
    nibabel.cifti2.Cifti2Image
    """
    models = [
        BrainModelAxis.from_surface(
            np.asarray(vertices[side]), n_surface[side], CORTEX_STRUCTURES[side]
        )
        for side in ("left", "right")
    ]
    keys = {
        int(index): (str(label), label_colour(int(index)))
        for index, label in zip(table["index"], table["name"], strict=True)
    }
    data = np.concatenate([values["left"], values["right"]])
    return dlabel_image(data, models[0] + models[1], keys, name)
