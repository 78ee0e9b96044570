"""Logging of a workflow step to its job's log file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("painflow")


@contextmanager
def logged(log_path: str | Path | None) -> Iterator[logging.Logger]:
    """Send painflow's log messages and Python warnings to a step's log file.

    Parameters
    ----------
    log_path : str, Path or None
        The job's log file (overwritten); None discards the messages.

    Yields
    ------
    logging.Logger
        painflow's logger. An exception escaping the block is logged with its
        traceback, then raised again.
    """
    handler = (
        logging.FileHandler(log_path, mode="w") if log_path else logging.NullHandler()
    )
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addHandler(handler)
    try:
        yield log
    except Exception:
        log.exception("step failed")
        raise
    finally:
        logging.getLogger("py.warnings").removeHandler(handler)
        log.removeHandler(handler)
        handler.close()
