"""What a saved model carries to be used alone, and the checks before using it.

Every ``*_model.npz`` the workflow writes holds, beside its weights, a JSON
record (the string array ``metadata``) and its out-of-sample errors (arrays
``errors_<scale>``): whose model it is, the atlas (names and SHA-256 of its
files), the space, the repetition times it was trained on, every setting that
turns a run into features, the training sessions, its out-of-sample metrics
and the painflow version. :func:`read_model` reads a model with its record;
:func:`check_model_fits` refuses data the model was not made for.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from painflow.core.fileio import read_npz

METADATA_KEY = "metadata"
ERRORS_PREFIX = "errors_"
# Entries every model record holds; a model without them predates them.
REQUIRED_KEYS = (
    "subject",
    "atlas",
    "space",
    "task",
    "rating_column",
    "rating_recording",
    "tr_range",
    "alignment",
    "denoise",
    "features",
    "training_sessions",
    "metrics",
    "errors",
    "painflow_version",
)
ATLAS_FILES = ("image", "labels", "subcortex")
# The rules' names of the atlas files.
ATLAS_INPUTS = tuple(f"atlas_{kind}" for kind in ATLAS_FILES)
# Repetition times this close to the trained range count as inside it (s).
TR_TOLERANCE_SECONDS = 1e-6


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atlas_checksums(files: dict) -> dict:
    """SHA-256 of each atlas file given (``image``, ``labels``, ``subcortex``).

    Parameters
    ----------
    files : dict
        ``atlas_<kind>`` to its path (as the rules' atlas inputs), absent or
        None where the atlas has no such file.

    Returns
    -------
    dict
        ``<kind>_sha256`` for every kind of ``ATLAS_FILES`` (None: no file).
    """
    return {
        f"{kind}_sha256": file_sha256(files[f"atlas_{kind}"])
        if files.get(f"atlas_{kind}")
        else None
        for kind in ATLAS_FILES
    }


def _json_safe(value):
    """NaN and infinities as None, so that the record is strict JSON."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metadata_arrays(record: dict, errors: dict) -> dict:
    """The arrays that carry a model's record and errors in its ``.npz``.

    Parameters
    ----------
    record : dict
        The model's record, with every key of ``REQUIRED_KEYS`` but
        ``errors`` (filled here with the scales of ``errors``).
    errors : dict
        Scale (``volume`` or a time-bin scale) to the out-of-sample errors
        (rating - predicted) at that scale.

    Returns
    -------
    dict
        ``metadata`` (the record as sorted JSON) and ``errors_<scale>``.
    """
    record = {**record, "errors": {**record.get("errors", {}), "scales": list(errors)}}
    text = json.dumps(_json_safe(record), sort_keys=True, allow_nan=False)
    return {
        METADATA_KEY: np.array(text),
        **{
            f"{ERRORS_PREFIX}{scale}": np.asarray(values, float)
            for scale, values in errors.items()
        },
    }


def read_model(path: str | Path) -> tuple[dict, dict]:
    """Read a model file and its record, checked to be complete.

    Parameters
    ----------
    path : str or Path
        A ``*_model.npz`` written by the workflow.

    Returns
    -------
    arrays : dict
        Every array of the file (``edge_weights``, ``intercept``, ...).
    record : dict
        The record, with ``errors_by_scale``: scale to its error array.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        Naming the file: no record (a model written by an older painflow),
        a record that is not JSON, or one without a required entry.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    arrays = read_npz(path)
    if METADATA_KEY not in arrays:
        raise ValueError(
            f"{path}: the model carries no metadata (written by an older painflow); "
            "fit it again"
        )
    try:
        record = json.loads(str(arrays[METADATA_KEY]))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}: the model's metadata is not JSON ({error})"
        ) from error
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise ValueError(f"{path}: the model's metadata lacks {', '.join(missing)}")
    record["errors_by_scale"] = {
        scale: arrays[f"{ERRORS_PREFIX}{scale}"] for scale in record["errors"]["scales"]
    }
    return arrays, record


def check_model_fits(
    record: dict,
    source: str,
    subject: str,
    checksums: dict,
    space: dict,
    allow_other_person: bool = False,
) -> None:
    """Refuse data a model was not made for, naming the mismatch.

    Parameters
    ----------
    record : dict
        From :func:`read_model`.
    source : str
        The model file (for messages).
    subject : str
        The person the data are of.
    checksums : dict
        :func:`atlas_checksums` of the atlas the data are parcellated with.
    space : dict
        ``space``, ``res``, ``den`` of the data.
    allow_other_person : bool
        Accept another person's model.

    Raises
    ------
    ValueError
        For another person (unless allowed), another atlas or another space.
    """
    if str(record["subject"]) != str(subject) and not allow_other_person:
        raise ValueError(
            f"{source}: the model is sub-{record['subject']}'s, the data "
            f"sub-{subject}'s; a personal decoder does not carry over to another "
            "person (give --allow-other-person to apply it anyway)"
        )
    _check_atlas(record["atlas"], source, checksums)
    trained, given = _space_entities(record["space"]), _space_entities(space)
    if trained != given:
        raise ValueError(
            f"{source}: the model was trained on data in {_space_name(trained)}, "
            f"the data are in {_space_name(given)}"
        )


def check_repetition_times(record: dict, source: str, trs: list[float]) -> None:
    """Refuse runs whose repetition time is outside the model's training range.

    Parameters
    ----------
    record, source
        As for :func:`check_model_fits`.
    trs : list of float
        Repetition times of the runs to predict (s).

    Raises
    ------
    ValueError
        Naming the first repetition time outside the range, and the range.
    """
    low, high = record["tr_range"]
    outside = [
        tr
        for tr in trs
        if not low - TR_TOLERANCE_SECONDS <= tr <= high + TR_TOLERANCE_SECONDS
    ]
    if outside:
        raise ValueError(
            f"{source}: repetition time {outside[0]} s is outside the model's "
            f"training range [{low}, {high}] s"
        )


def _check_atlas(atlas: dict, source: str, checksums: dict) -> None:
    """Raise when an atlas file's checksum differs from the model's."""
    for kind in ATLAS_FILES:
        key = f"{kind}_sha256"
        if atlas.get(key) != checksums.get(key):
            raise ValueError(
                f"{source}: the atlas {kind} differs from the model's atlas "
                f"'{atlas['name']}' (SHA-256 {atlas.get(key)}, given "
                f"{checksums.get(key)}); the data must be parcellated with the "
                "model's atlas"
            )


def _space_entities(space: dict) -> dict:
    """``space``, ``res``, ``den`` as labels (None where absent)."""
    return {
        key: None if space.get(key) is None else str(space[key])
        for key in ("space", "res", "den")
    }


def _space_name(space: dict) -> str:
    """A space as its fMRIPrep entities, e.g. ``space-MNI152NLin6Asym_res-2``."""
    return "_".join(
        f"{key}-{value}" for key, value in space.items() if value is not None
    )
