"""Step ``edge_features``: a run's z-scored series and bin mean edge vectors."""

from __future__ import annotations

from painflow.core.fileio import read_tsv, write_npz
from painflow.signals.edges import FeatureSettings, low_binned_fraction, run_features
from painflow.signals.qc import read_run_qc
from painflow.workflow.logs import log


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
