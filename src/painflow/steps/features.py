"""Step ``edge_features``: a run's z-scored series and bin mean edge vectors."""

from __future__ import annotations

from painflow.edges import FeatureSettings, run_features
from painflow.fileio import read_json, read_tsv, write_npz


def edge_features(timeseries: str, qc: str, features: dict, features_out: str) -> None:
    """Write a run's z-scored series and its rating-bin and time-bin edge means.

    Parameters
    ----------
    timeseries, qc : str
        The run's region series table and its QC sidecar.
    features : dict
        Config section ``features``.
    features_out : str
        Destination ``.npz``.
    """
    record = read_json(qc)
    table = read_tsv(timeseries)
    settings = FeatureSettings(**features)
    arrays = run_features(
        table, record, record["RegionNames"], settings, record["MotionColumns"]
    )
    write_npz(features_out, **arrays)
