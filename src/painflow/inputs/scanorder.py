"""The order in which each subject's sessions were scanned.

From ``acq_time`` in the subject's ``sub-<label>_sessions.tsv``; without that
file, the natural order of the session labels, with a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from painflow.core.bids import bids_path, natural_key

SCAN_ORDER_COLUMNS = ("subject", "session", "position", "acq_time", "order_source")
# Where a subject's scan order comes from: sessions.tsv, or the labels alone.
ORDER_FROM_ACQ_TIME = "acq_time"
ORDER_ASSUMED = "assumed"

log = logging.getLogger(__name__)


def sessions_table_path(bids_dir: Path, subject: str) -> Path:
    """The subject's ``sub-<label>_sessions.tsv`` (``acq_time`` of each session)."""
    return bids_path(bids_dir, {"subject": subject}, "sessions", ".tsv", None)


def parse_acq_time(table_path: Path, session_id: str, value: str) -> pd.Timestamp:
    """One ``acq_time`` as a timestamp; raise naming the file, session and value."""
    try:
        parsed = pd.to_datetime(value, format="ISO8601")
    except (ValueError, OverflowError):
        parsed = pd.NaT
    if pd.isna(parsed):
        raise ValueError(
            f"{table_path}: acq_time {value!r} of {session_id} is not an ISO 8601 "
            "date-time (e.g. 2024-01-09T10:30:00)"
        )
    return parsed


def acquisition_times(table_path: Path, sessions: list[str]) -> dict:
    """Acquisition time of each session, from a ``sessions.tsv``.

    Times with a time zone are compared in UTC.

    Parameters
    ----------
    table_path : Path
        The subject's sessions file.
    sessions : list of str
        Session labels (without ``ses-``).

    Returns
    -------
    dict
        Session label to :class:`pandas.Timestamp`.

    Raises
    ------
    ValueError
        Naming the file: a missing column or session, a session listed
        twice, a value that is not a date-time, or times with and without a
        time zone side by side.
    """
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    if "acq_time" not in table or "session_id" not in table:
        raise ValueError(f"{table_path}: needs columns session_id and acq_time")
    repeated = table.loc[table["session_id"].duplicated(), "session_id"].tolist()
    if repeated:
        raise ValueError(f"{table_path}: sessions listed more than once: {repeated}")
    values = dict(zip(table["session_id"], table["acq_time"], strict=True))
    missing = [label for label in sessions if f"ses-{label}" not in values]
    if missing:
        raise ValueError(f"{table_path}: no acq_time for sessions {missing}")
    times = {
        label: parse_acq_time(table_path, f"ses-{label}", values[f"ses-{label}"])
        for label in sessions
    }
    zoned = {label for label, time in times.items() if time.tzinfo is not None}
    if zoned and len(zoned) < len(times):
        naive = sorted(set(times) - zoned, key=natural_key)
        raise ValueError(
            f"{table_path}: acq_time of ses-{sorted(zoned, key=natural_key)[0]} has "
            f"a time zone and that of ses-{naive[0]} has none; they cannot be "
            "ordered"
        )
    return {
        label: time.tz_convert("UTC") if zoned else time
        for label, time in times.items()
    }


def assumed_order_warning(subject: str, table_path: Path) -> str:
    """The warning that a subject's scan order was assumed from its labels."""
    return (
        f"sub-{subject}: no {table_path} with an acq_time column; scan order "
        "assumed to be the natural order of the session labels (2 before 10). "
        "Add acq_time in that file for the prospective test to follow the real "
        "order"
    )


def has_acq_times(table_path: Path) -> bool:
    """Whether a sessions file exists with an ``acq_time`` column (BIDS: optional)."""
    if not table_path.exists():
        return False
    header = pd.read_csv(table_path, sep="\t", dtype=str, nrows=0)
    return "acq_time" in header.columns


def scan_order(bids_dir: Path, subject: str, sessions: list[str]) -> pd.DataFrame:
    """A subject's sessions in the order they were scanned.

    Parameters
    ----------
    bids_dir : Path
        The raw BIDS dataset.
    subject : str
        Subject label.
    sessions : list of str
        The subject's session labels.

    Returns
    -------
    pandas.DataFrame
        ``SCAN_ORDER_COLUMNS``, one row per session in scan order: by
        ``acq_time`` in ``sub-<label>_sessions.tsv`` (``order_source``
        ``acq_time``), ties by label; without that file or column, in the
        natural order of the labels (``order_source`` ``assumed``,
        ``acq_time`` ``n/a``), with a warning in the log.

    Raises
    ------
    ValueError
        As :func:`acquisition_times`.
    """
    table_path = sessions_table_path(bids_dir, subject)
    labels = sorted(set(sessions), key=natural_key)
    if has_acq_times(table_path):
        times = acquisition_times(table_path, labels)
        labels = sorted(labels, key=lambda label: (times[label], natural_key(label)))
        stamps = [times[label].isoformat() for label in labels]
        source = ORDER_FROM_ACQ_TIME
    else:
        log.warning(assumed_order_warning(subject, table_path))
        stamps = ["n/a"] * len(labels)
        source = ORDER_ASSUMED
    return pd.DataFrame(
        {
            "subject": subject,
            "session": labels,
            "position": range(1, len(labels) + 1),
            "acq_time": stamps,
            "order_source": source,
        },
        columns=list(SCAN_ORDER_COLUMNS),
    )


def session_order(bids_dir: Path, subject: str, sessions: list[str]) -> list[str]:
    """A subject's session labels in scan order (see :func:`scan_order`)."""
    return scan_order(bids_dir, subject, sessions)["session"].tolist()


def scan_order_table(bids_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The scan order of every subject's sessions (no rows without sessions).

    Parameters
    ----------
    bids_dir : Path
        The raw BIDS dataset.
    runs : pandas.DataFrame
        From :func:`discover_runs`.

    Returns
    -------
    pandas.DataFrame
        :func:`scan_order` of each subject, one after another.
    """
    with_session = runs[runs["session"].notna()]
    tables = [
        scan_order(bids_dir, subject, rows["session"].tolist())
        for subject, rows in with_session.groupby("subject", sort=False)
    ]
    if not tables:
        return pd.DataFrame(columns=list(SCAN_ORDER_COLUMNS))
    return pd.concat(tables, ignore_index=True)


def orders_by_subject(table: pd.DataFrame) -> dict[str, list[str]]:
    """Subject to its sessions in scan order, from :func:`scan_order_table`."""
    return {
        subject: rows["session"].tolist()
        for subject, rows in table.groupby("subject", sort=False)
    }
