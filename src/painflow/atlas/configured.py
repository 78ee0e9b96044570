"""The configured atlas: checked against the data's space, opened, applied.

The workflow's steps call these, whatever the kind of atlas: a volume label
image (:mod:`painflow.atlas.volume`) for NIfTI BOLD, a dlabel with its
subcortical source (:mod:`painflow.atlas.surface`) for dense CIFTI time
series. Named atlases are resolved by :mod:`painflow.atlas.named`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from painflow.atlas.named import DLABEL, NAMED_ATLASES, fslr_midthickness, named_atlas
from painflow.atlas.surface import (
    STRUCTURES,
    GrayordinateAtlas,
    is_dense_cifti,
    is_dlabel,
    load_grayordinate_atlas,
)
from painflow.atlas.surface import region_centroids as grayordinate_centroids
from painflow.atlas.surface import region_means as grayordinate_means
from painflow.atlas.volume import Atlas, load_atlas
from painflow.atlas.volume import region_centroids as volume_centroids
from painflow.atlas.volume import region_means as volume_means

# The atlas name that makes each subject's own parcellation from their rest runs.
INDIVIDUAL = "individual"


def _data_kind(den: str | None) -> str:
    """The configured data's kind, in the words of error messages."""
    if den is None:
        return "volumes (config 'den' is null)"
    return f"fsLR grayordinates (config 'den' is {den!r})"


def check_atlas_config(atlas: dict, den: str | None, space: str | None = None) -> None:
    """Raise before any job when the configured atlas cannot fit the data.

    Parameters
    ----------
    atlas : dict
        The config's ``atlas`` section: ``name``, ``image``, ``labels`` and
        optionally ``cache_dir``.
    den : str or None
        The config's ``den``: grayordinate data when set, volumes otherwise.
    space : str or None
        The config's ``space``, checked against a fetched atlas's space.

    Raises
    ------
    ValueError
        For an unknown named atlas, an atlas of the other kind of space (a
        volume atlas with grayordinate data or a dlabel with volumes, naming
        the file), a named atlas given a labels file, a volume atlas
        without one, grayordinate settings with volume data, or a fetched
        atlas missing from the cache (naming the files and the fetch command)
        or in another volume space than the data.
    """
    grayordinates = den is not None
    volume_only = str(atlas.get("subcortex", STRUCTURES)) != STRUCTURES or atlas.get(
        "surfaces"
    )
    if volume_only and not grayordinates:
        raise ValueError(
            "atlas 'subcortex' and 'surfaces' apply to grayordinate data only "
            f"(config 'den' set); the data are {_data_kind(den)}"
        )
    if atlas.get("image") is None and atlas["name"] == INDIVIDUAL:
        _check_individual(atlas, grayordinates, den)
        return
    if atlas.get("image") is None:
        try:
            entry = named_atlas(atlas["name"], grayordinates, atlas.get("cache_dir"))
        except FileNotFoundError as error:
            raise ValueError(str(error)) from error
        _check_fetched_space(entry, space)
        if (entry.kind == DLABEL) != grayordinates:
            fitting = [
                name
                for name, other in NAMED_ATLASES.items()
                if (other.kind == DLABEL) == grayordinates
            ]
            raise ValueError(
                f"atlas {entry.name} is a {entry.kind} atlas in {entry.space} space, "
                f"but the data are {_data_kind(den)}: name one of "
                f"{', '.join(fitting)}, or give atlas 'image' and 'labels'"
            )
        if atlas.get("labels") is not None:
            raise ValueError(
                f"atlas {entry.name} is named, so painflow writes its region table: "
                "set atlas 'labels' to null, or give atlas 'image' too"
            )
        return
    image = atlas["image"]
    if is_dlabel(image) != grayordinates:
        kind = "a CIFTI dlabel" if is_dlabel(image) else "a volume label image"
        raise ValueError(
            f"{image} is {kind}, but the data are {_data_kind(den)}: use an atlas "
            "in the data's space"
        )
    if not grayordinates and atlas.get("labels") is None:
        raise ValueError(f"{image}: a volume atlas needs atlas 'labels' (a TSV)")


def _check_fetched_space(entry, space: str | None) -> None:
    """A fetched volume atlas is in one named template; the data must be too."""
    if (
        entry.package is None
        and entry.kind != DLABEL
        and space not in (None, entry.space)
    ):
        raise ValueError(
            f"atlas {entry.name} is in {entry.space}, but the data are in {space}: "
            f"set 'space' {entry.space} (fMRIPrep --output-spaces "
            f"{entry.space}:res-2), or give atlas 'image' and 'labels'"
        )


def _check_individual(atlas: dict, grayordinates: bool, den: str | None) -> None:
    """The individual atlas is made on the fsLR cortex, and writes its own table."""
    if not grayordinates:
        raise ValueError(
            f"atlas {INDIVIDUAL} parcellates each subject's cortex on the fsLR "
            f"surface, but the data are {_data_kind(den)}: set 'space' fsLR and "
            "'den' 91k"
        )
    if atlas.get("labels") is not None:
        raise ValueError(
            f"atlas {INDIVIDUAL}: painflow writes each subject's region table; "
            "set atlas 'labels' to null"
        )
    if str(atlas.get("subcortex", STRUCTURES)) not in (STRUCTURES, "none"):
        raise ValueError(
            f"atlas {INDIVIDUAL} takes its subcortical regions from the dense time "
            "series' structures: set atlas 'subcortex' to 'structures' or 'none'"
        )


def load_configured_atlas(
    image: str | Path,
    labels: str | Path | None = None,
    subcortex: str | Path = STRUCTURES,
) -> Atlas | GrayordinateAtlas:
    """Open an atlas: a volume label image or a dlabel with its subcortex.

    Parameters
    ----------
    image : str or Path
        A 3D label NIfTI or a ``.dlabel.nii``.
    labels : str or Path, optional
        Its region TSV; optional for a dlabel, which names its labels.
    subcortex : str or Path
        For a dlabel: ``"structures"``, ``"none"`` or a label NIfTI
        (:func:`painflow.atlas.surface.load_grayordinate_atlas`).

    Returns
    -------
    painflow.atlas.volume.Atlas or painflow.atlas.surface.GrayordinateAtlas
    """
    if is_dlabel(image):
        return load_grayordinate_atlas(image, labels, subcortex)
    if labels is None:
        raise ValueError(f"{image}: a volume atlas needs a region table (labels)")
    return load_atlas(image, labels)


def _check_data_kind(bold: str | Path, atlas) -> None:
    """Raise, naming both files, when data and atlas are of different kinds."""
    cifti_atlas = isinstance(atlas, GrayordinateAtlas)
    if cifti_atlas != is_dense_cifti(bold):
        data = "a dense CIFTI" if is_dense_cifti(bold) else "a volume NIfTI"
        raise ValueError(
            f"{bold} is {data}, but the atlas {atlas.image_path} is "
            f"{'a dlabel of grayordinates' if cifti_atlas else 'a volume image'}"
        )


def atlas_region_means(bold: str | Path, atlas) -> np.ndarray:
    """Mean series of every region of a volume or grayordinate atlas.

    Parameters
    ----------
    bold : str or Path
        A 4D NIfTI for a volume atlas, a ``.dtseries.nii`` for a dlabel.
    atlas : Atlas or GrayordinateAtlas

    Returns
    -------
    numpy.ndarray
        (volumes, regions), regions in atlas order.

    Raises
    ------
    ValueError
        Naming both files when data and atlas are of different kinds, or when
        they do not match (grid, mesh, regions without data).
    """
    _check_data_kind(bold, atlas)
    if isinstance(atlas, GrayordinateAtlas):
        return grayordinate_means(bold, atlas)
    return volume_means(bold, atlas)


def atlas_centroids(atlas, reference: str | Path, surfaces: dict | None) -> np.ndarray:
    """Centre of every region (mm), for figures.

    Parameters
    ----------
    atlas : Atlas or GrayordinateAtlas
    reference : str or Path
        For a dlabel, a dense CIFTI of the data, whose grayordinates place
        the regions; unused for a volume atlas.
    surfaces : dict or None
        For a dlabel, ``left`` and ``right`` surface GIFTI files; None for
        :func:`fslr_midthickness`.

    Returns
    -------
    numpy.ndarray
        (regions, 3), in region order.
    """
    if not isinstance(atlas, GrayordinateAtlas):
        return volume_centroids(atlas)
    _check_data_kind(reference, atlas)
    return grayordinate_centroids(atlas, reference, surfaces or fslr_midthickness())
