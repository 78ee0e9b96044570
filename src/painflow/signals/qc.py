"""A run's QC record, written by signal extraction and read by the later steps."""

from __future__ import annotations

from painflow.core.fileio import read_json

# QC record entries the later steps read; a record without them predates them.
RUN_QC_KEYS = ("RepetitionTime", "window_start", "window_stop", "included")


def read_run_qc(path: str) -> dict:
    """Read a run's QC sidecar, naming the file and any entry it lacks.

    Parameters
    ----------
    path : str
        The run's ``timeseries.json``.

    Returns
    -------
    dict
        The QC record.

    Raises
    ------
    ValueError
        When an entry of ``RUN_QC_KEYS`` is missing (a sidecar written by an
        older painflow: run ``extract_signals`` again).
    """
    record = read_json(path)
    missing = [key for key in RUN_QC_KEYS if key not in record]
    if missing:
        raise ValueError(
            f"{path}: QC record without {', '.join(missing)}; written by an older "
            "painflow, extract the run's signals again"
        )
    return record
