"""Step ``edge_features``: a run's z-scored series and bin mean edge vectors."""

from __future__ import annotations

import logging

from painflow.core.fileio import read_json, read_tsv, write_npz
from painflow.signals.edges import FeatureSettings, low_binned_fraction, run_features

log = logging.getLogger("painflow")

# QC record entries the later steps read; a record without them predates them.
RUN_QC_KEYS = ("RepetitionTime", "window_start", "window_stop", "included")


def read_run_qc(path: str) -> dict:
    """Read a run's QC sidecar, naming the file and any entry it lacks.

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


def edge_features(timeseries: str, qc: str, features: dict, features_out: str) -> None:
    """Write a run's z-scored series and its rating-bin and time-bin edge means.

    Logs a warning when the share of the run's kept volumes in rating bins is
    below ``features.min_binned_fraction``.

    Parameters
    ----------
    timeseries, qc : str
        The run's region series table and its QC sidecar.
    features : dict
        Config section ``features``.
    features_out : str
        Destination ``.npz``.
    """
    record = read_run_qc(qc)
    table = read_tsv(timeseries)
    settings = FeatureSettings(**features)
    arrays = run_features(
        table, record, record["RegionNames"], settings, record["MotionColumns"]
    )
    fraction = float(arrays["rating_bin_fraction"])
    log.info("%s: %.1f%% of kept volumes in rating bins", timeseries, 100 * fraction)
    if low_binned_fraction(fraction, settings.min_binned_fraction):
        log.warning(
            "%s: only %.0f%% of kept volumes are in rating bins (floor %.0f%%): "
            "the rating changes bin faster than features.min_stretch_seconds",
            timeseries,
            100 * fraction,
            100 * settings.min_binned_fraction,
        )
    write_npz(features_out, **arrays)
