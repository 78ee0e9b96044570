"""Step ``named_atlas``: a named atlas written into the output, fit to the data."""

from __future__ import annotations

from painflow.atlas.named import prepare_named_atlas
from painflow.core.fileio import write_json


def named_atlas(
    name: str, reference: str, image_out: str, labels_out: str, description_out: str
) -> None:
    """Write a named atlas, its region table and a sidecar saying where it came from.

    Parameters
    ----------
    name : str
        A key of :data:`painflow.atlas.named.NAMED_ATLASES`.
    reference : str
        A preprocessed BOLD: a volume atlas is resampled to its grid, a
        dlabel's meshes are checked against its surfaces.
    image_out, labels_out, description_out : str
        Destinations of the label image, the region TSV and the JSON sidecar
        (source package and version, license, regions dropped and why).
    """
    description = prepare_named_atlas(name, reference, image_out, labels_out)
    write_json(description_out, description)
