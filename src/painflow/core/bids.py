"""BIDS names and paths: every file name painflow reads or writes is built here."""

from __future__ import annotations

import re
from pathlib import Path

# BIDS entity order (BIDS specification, appendix "Entity table"), with the
# derivative entities fMRIPrep and painflow use appended in their usual order.
ENTITY_ORDER = (
    ("subject", "sub"),
    ("session", "ses"),
    ("task", "task"),
    ("acquisition", "acq"),
    ("ceagent", "ce"),
    ("reconstruction", "rec"),
    ("direction", "dir"),
    ("run", "run"),
    ("echo", "echo"),
    ("part", "part"),
    ("recording", "recording"),
    # painflow's own: the training and test subjects of a cross-subject pair.
    ("train", "train"),
    ("test", "test"),
    ("space", "space"),
    ("atlas", "atlas"),
    ("res", "res"),
    ("den", "den"),
    # painflow's own: a learning curve's training-set size.
    ("size", "size"),
    # A statistical map's statistic (BIDS statistical-model derivatives).
    ("stat", "stat"),
    ("desc", "desc"),
)
_KEY_TO_ENTITY = {key: name for name, key in ENTITY_ORDER}
# The entities of a BOLD series, in order: ``scan`` joins them into one label.
# The echo is left out: fMRIPrep combines a series' echoes into one output.
SCAN_ENTITIES = ("task", "acquisition", "ceagent", "reconstruction", "direction")
SCAN_ENTITIES += ("run", "part")


def bids_name(entities: dict, suffix: str, extension: str) -> str:
    """Build a BIDS file name from entities.

    Parameters
    ----------
    entities : dict
        Entity name (``subject``, ``session``, ``task``, ``run``, ...) to
        value. Entities whose value is None are left out. Values may be
        Snakemake wildcards such as ``"{subject}"``. ``scan`` stands for a
        series' entities from task to part at once (:func:`scan_label`).
    suffix : str
        The BIDS suffix, e.g. ``"bold"``.
    extension : str
        The extension including its leading dot, e.g. ``".nii.gz"``.

    Returns
    -------
    str
        e.g. ``"sub-01_ses-02_task-rating_run-1_bold.nii.gz"``.
    """
    unknown = set(entities) - {name for name, _ in ENTITY_ORDER} - {"scan"}
    if unknown:
        raise ValueError(f"unknown BIDS entities: {sorted(unknown)}")
    if entities.get("scan") is not None:
        check_scan_alone(entities)
    parts = [
        entities[name] if name == "scan" else f"{key}-{entities[name]}"
        for name, key in (*ENTITY_ORDER[:2], ("scan", None), *ENTITY_ORDER[2:])
        if entities.get(name) is not None
    ]
    return "_".join([*parts, suffix]) + extension


def check_scan_alone(entities: dict) -> None:
    """Raise when ``scan`` is given with an entity it stands for, or an echo."""
    # An echo goes between run and part: a scan label cannot place it.
    given = [
        name for name in (*SCAN_ENTITIES, "echo") if entities.get(name) is not None
    ]
    if given:
        raise ValueError(f"'scan' is given with the entities it stands for: {given}")


def scan_label(entities: dict) -> str:
    """A BOLD series' entities from task on, joined as in its file name.

    Parameters
    ----------
    entities : dict
        Entity names to values (None: absent), as :func:`parse_entities` gives.

    Returns
    -------
    str
        e.g. ``"task-rating_acq-mb8_dir-AP_run-1"``; the echo is left out.
    """
    return "_".join(
        f"{key}-{entities[name]}"
        for name, key in ENTITY_ORDER
        if name in SCAN_ENTITIES and entities.get(name) is not None
    )


def bids_path(
    root: str | Path,
    entities: dict,
    suffix: str,
    extension: str,
    datatype: str | None = "func",
) -> Path:
    """Build the path of a BIDS file below a dataset root.

    Parameters
    ----------
    root : str or Path
        The dataset (or derivatives) root folder.
    entities : dict
        As in :func:`bids_name`; ``subject`` and ``session`` also give the
        ``sub-<label>/ses-<label>/`` folders.
    suffix, extension : str
        As in :func:`bids_name`.
    datatype : str or None
        The data type folder (``func``, ``anat``, ...) or a painflow output
        folder (``decoding``, ``figures``, ...); None for no folder.

    Returns
    -------
    Path
    """
    folder = Path(root)
    if entities.get("subject") is not None:
        folder = folder / f"sub-{entities['subject']}"
    if entities.get("session") is not None:
        folder = folder / f"ses-{entities['session']}"
    if datatype:
        folder = folder / datatype
    return folder / bids_name(entities, suffix, extension)


def parse_entities(filename: str | Path) -> dict:
    """Read the entities, suffix and extension of a BIDS file name.

    Parameters
    ----------
    filename : str or Path
        A BIDS file name or path.

    Returns
    -------
    dict
        Entity names (``subject``, ``session``, ...) to values, plus the keys
        ``suffix`` and ``extension``.

    Raises
    ------
    ValueError
        When a part of the name is not a ``key-value`` pair.
    """
    name = Path(filename).name
    stem, dot, rest = name.partition(".")
    parts = stem.split("_")
    parsed: dict = {"suffix": parts[-1], "extension": dot + rest}
    for part in parts[:-1]:
        key, sep, value = part.partition("-")
        if not sep or not value:
            raise ValueError(f"{filename}: '{part}' is not a BIDS key-value pair")
        parsed[_KEY_TO_ENTITY.get(key, key)] = value
    return parsed


def label_entities(label: str) -> dict:
    """BIDS key to label of a run label made of entities.

    Parameters
    ----------
    label : str
        A run's label in painflow's tables: a run entity's label (``1``), or
        the entities that tell a session's runs apart (``acq-fullbrain_run-1``).

    Returns
    -------
    dict
        e.g. ``{"acq": "fullbrain", "run": "1"}``; empty for a plain label.
    """
    label = str(label)
    if "-" not in label:
        return {}
    return dict(part.split("-", 1) for part in label.split("_"))


_DIGITS = re.compile(r"([0-9]+)")


def natural_key(label: str) -> tuple:
    """Sort key of a label in natural order: numbers as numbers, text as text.

    ``2`` sorts before ``10``, ``run9`` before ``run10``; a number sorts
    before text in the same place, and ``01`` and ``1`` are told apart by
    their spelling last, so the order is total.

    Parameters
    ----------
    label : str
        A BIDS label (session, run, subject).

    Returns
    -------
    tuple

    Examples
    --------
    >>> sorted(["10", "2", "1", "pre"], key=natural_key)
    ['1', '2', '10', 'pre']
    """
    label = str(label)
    parts = tuple(
        (0, int(part), "") if _DIGITS.fullmatch(part) else (1, 0, part)
        for part in _DIGITS.split(label)
        if part
    )
    return parts, label


def file_key(path: str | Path) -> str:
    """A file's key in the label mappings rules give their steps: its name.

    Its BIDS entities make the name unique among a step's inputs, and unlike
    the path it does not depend on where the outputs are written, so a step's
    recorded configuration is the same in every output folder.
    """
    return Path(path).name
