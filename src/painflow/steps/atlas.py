"""Step ``named_atlas``: a named atlas written into the output, fit to the data."""

from __future__ import annotations

from painflow.atlas.named import prepare_named_atlas
from painflow.core.fileio import write_json


def named_atlas(
    name: str,
    reference: str,
    image_out: str,
    labels_out: str,
    description_out: str,
    cache_dir: str | None = None,
) -> None:
    """Write a named atlas, its region table and a sidecar saying where it came from.

    Parameters
    ----------
    name : str
        A key of :data:`painflow.atlas.named.NAMED_ATLASES`, or a Schaefer
        version's name (``Schaefer2018_500Parcels7Networks``).
    reference : str
        A preprocessed BOLD: a volume atlas is resampled to its grid, a
        dlabel's meshes are checked against its surfaces.
    image_out, labels_out, description_out : str
        Destinations of the label image, the region TSV and the JSON sidecar
        (source package and version, license, regions dropped and why).
    cache_dir : str, optional
        The atlas cache a Schaefer version is read from (config
        ``atlas.cache_dir``).
    """
    description = prepare_named_atlas(name, reference, image_out, labels_out, cache_dir)
    write_json(description_out, description)
