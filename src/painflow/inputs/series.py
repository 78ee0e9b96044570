"""The BOLD series of a task: their entities, echoes, filters and run labels.

A series is what fMRIPrep preprocesses into one output: one BOLD file, or the
echoes of a multi-echo acquisition together. Its entities from task to part
(:data:`painflow.core.bids.SCAN_ENTITIES`) name its derivatives and
painflow's outputs, in BIDS order, as fMRIPrep names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from painflow.core.bids import (
    ENTITY_ORDER,
    SCAN_ENTITIES,
    natural_key,
    parse_entities,
    scan_label,
)

SERIES_ENTITIES = ("subject", "session", *SCAN_ENTITIES)
# Config ``bold_filters`` keys: BIDS keys of the entities a user may select on.
FILTER_KEYS = {
    "acq": "acquisition",
    "ce": "ceagent",
    "rec": "reconstruction",
    "dir": "direction",
    "run": "run",
    "part": "part",
}
# The entities that may tell a session's series apart (task aside).
IDENTITY_ENTITIES = tuple(FILTER_KEYS.values())
# fMRIPrep preprocesses the magnitude of complex-valued BOLD and ignores the rest.
SKIPPED_PARTS = ("phase", "real", "imag")
NO_VALUE = "(none)"
# A series label as a Snakemake wildcard matches it: task, then the entities.
SCAN_PATTERN = "task-[a-zA-Z0-9]+(?:_(?:{})-[a-zA-Z0-9]+)*".format(
    "|".join(key for name, key in ENTITY_ORDER if name in SCAN_ENTITIES[1:])
)


def bold_entities(bold: Path) -> dict:
    """The entities of a raw BOLD file: ``SERIES_ENTITIES`` and ``echo``.

    Raises
    ------
    ValueError
        Naming the file and the entity, when it has one painflow cannot carry
        through fMRIPrep's outputs (``chunk``, ``inv``, ...).
    """
    entities = parse_entities(bold)
    del entities["suffix"], entities["extension"]
    known = (*SERIES_ENTITIES, "echo")
    unknown = [name for name in entities if name not in known]
    if unknown:
        raise ValueError(
            f"{bold}: the '{unknown[0]}' entity of BOLD files is not supported "
            f"(painflow reads series named by {', '.join(known)})"
        )
    return {name: entities.get(name) for name in known}


def group_echoes(files: Iterable[Path]) -> list[dict]:
    """The BOLD series among raw files: each file, or one series' echoes together.

    Parameters
    ----------
    files : iterable of Path
        Raw BOLD files.

    Returns
    -------
    list of dict
        One per series, in the order of its first file: ``SERIES_ENTITIES``,
        ``scan`` (:func:`painflow.core.bids.scan_label`), ``echoes`` (the
        series' files, in echo order) and ``bold_raw`` (its first file).
        Complex-valued series other than the magnitude are left out.

    Raises
    ------
    ValueError
        Naming the file: an unsupported entity, or a series whose files are
        not all told apart by an echo entity.
    """
    series: dict[tuple, list] = {}
    for bold in files:
        entities = bold_entities(bold)
        if entities["part"] in SKIPPED_PARTS:
            continue
        key = (entities["subject"], entities["session"], scan_label(entities))
        series.setdefault(key, []).append((entities, Path(bold)))
    return [series_row(members) for members in series.values()]


def series_row(members: list[tuple[dict, Path]]) -> dict:
    """One series from its files' entities and paths (see :func:`group_echoes`)."""
    echoes = [entities["echo"] for entities, _ in members]
    if len(members) > 1 and (None in echoes or len(set(echoes)) < len(echoes)):
        raise ValueError(
            f"{members[1][1]}: the same series as {members[0][1]} (the same "
            "entities); keep one file of each series, and name the echoes of a "
            "multi-echo series by their echo entity"
        )
    ordered = sorted(members, key=lambda member: natural_key(member[0]["echo"] or ""))
    entities = ordered[0][0]
    paths = tuple(path for _, path in ordered)
    return {
        **{name: entities[name] for name in SERIES_ENTITIES},
        "scan": scan_label(entities),
        "echoes": paths,
        "bold_raw": paths[0],
    }


def filter_values(key: str, wanted) -> list[str]:
    """A ``bold_filters`` value as a list of labels (a label or a list of them)."""
    if key not in FILTER_KEYS:
        raise ValueError(
            f"config 'bold_filters': unknown key {key!r}; use {sorted(FILTER_KEYS)}"
        )
    return [str(value) for value in (wanted if isinstance(wanted, list) else [wanted])]


def select_series(rows: list[dict], filters: Mapping, where: str) -> list[dict]:
    """The series that every ``bold_filters`` entry selects.

    Parameters
    ----------
    rows : list of dict
        From :func:`group_echoes`.
    filters : mapping
        BIDS key (``acq``, ``dir``, ...) to a label or a list of labels.
    where : str
        What was searched (the BIDS folder and task), for the error.

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        When a filter matches no series, listing the labels that exist.
    """
    for key, wanted in filters.items():
        name, values = FILTER_KEYS.get(key), filter_values(key, wanted)
        kept = [row for row in rows if row[name] in values]
        if not kept:
            labels = {row[name] for row in rows}
            present = sorted(labels - {None}, key=natural_key)
            present += [NO_VALUE] if None in labels else []
            raise ValueError(
                f"config 'bold_filters' {key}: {values} matches no BOLD file of "
                f"{where}; the {key} labels there: {', '.join(present)}"
            )
        rows = kept
    return rows


def varying_entities(rows: Iterable[Mapping]) -> list[str]:
    """The identity entities whose value differs between series (None counts)."""
    rows = list(rows)
    return [name for name in IDENTITY_ENTITIES if len({row[name] for row in rows}) > 1]


def run_id(row: Mapping, varying: list[str]) -> str:
    """A series' label within its session in painflow's tables.

    The run label when the study's series differ by run alone (``1`` for a
    series without one, the only run of its kind by BIDS' rule); else the
    entities that differ, as in the file name (``acq-fullbrain_run-1``).
    """
    if set(varying) <= {"run"}:
        return row["run"] or "1"
    return scan_label({name: row[name] for name in varying})


def run_ids(rows: list[Mapping], where: str) -> list[str]:
    """:func:`run_id` of every series; raise when two in a session share one."""
    varying = varying_entities(rows)
    ids = [run_id(row, varying) for row in rows]
    seen: dict[tuple, Path] = {}
    for row, label in zip(rows, ids, strict=True):
        key = (row["subject"], row["session"], label)
        if key in seen:
            raise ValueError(
                f"{row['bold_raw']}: same run as {seen[key]} in {where} (run "
                f"'{label}'); give one of them a run entity"
            )
        seen[key] = row["bold_raw"]
    return ids
