import gzip
import json

import numpy as np
import pytest

from painflow.signals.ratings import (
    aligned_ratings,
    alignment,
    read_recording,
    volume_midpoints,
)


def write_recording(folder, values, frequency=10.0, start=0.0, sidecar=None):
    path = folder / "sub-01_task-rating_run-1_recording-rating_physio.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("".join(f"{value}\n" for value in values))
    metadata = {"SamplingFrequency": frequency, "StartTime": start, "Columns": ["pain"]}
    if sidecar is not None:
        metadata = sidecar
    path.with_name(path.name.replace(".tsv.gz", ".json")).write_text(
        json.dumps(metadata)
    )
    return path


def test_alignment_in_volumes_follows_the_study():
    pairs = alignment(1300, 0.46, drop_seconds=30, delay_seconds=6)
    assert pairs.drop == 66  # ceil(30 / 0.46)
    assert pairs.delay == 13  # round(6 / 0.46)
    assert pairs.bold_volumes[0] == 79 and pairs.bold_volumes[-1] == 1299
    assert pairs.rating_volumes[0] == 66 and pairs.rating_volumes[-1] == 1286
    assert len(pairs.bold_volumes) == len(pairs.rating_volumes)


def test_ratings_are_interpolated_at_volume_midpoints(tmp_path):
    times = np.arange(0, 200, 0.1)
    path = write_recording(tmp_path, 2.0 * times)  # a ramp: rating = 2 * t
    recording = read_recording(path, "pain")
    pairs = alignment(90, 2.0, drop_seconds=30, delay_seconds=6)
    ratings = aligned_ratings(recording, pairs, 2.0)
    expected = 2.0 * volume_midpoints(90, 2.0)[pairs.rating_volumes]
    np.testing.assert_allclose(ratings, expected)
    # BOLD volume v + 3 is paired with the rating at the midpoint of volume v.
    assert ratings[0] == pytest.approx(2.0 * (15 + 0.5) * 2.0)


def test_ratings_that_end_before_the_scan_are_an_error(tmp_path):
    path = write_recording(tmp_path, np.zeros(500))  # 50 s of ratings
    recording = read_recording(path, "pain")
    pairs = alignment(100, 2.0, 30, 6)  # needs ratings up to ~190 s
    with pytest.raises(ValueError, match=f"{path.name}.*ratings cover"):
        aligned_ratings(recording, pairs, 2.0)


@pytest.mark.parametrize("bad", ["nan", "abc", ""])
def test_nan_or_non_numeric_ratings_are_an_error(tmp_path, bad):
    values = ["1.0"] * 50 + [bad] + ["2.0"] * 50
    path = write_recording(tmp_path, values)
    with pytest.raises(ValueError, match=f"{path.name}: rating on line 51"):
        read_recording(path, "pain")


@pytest.mark.parametrize("field", ["SamplingFrequency", "StartTime", "Columns"])
def test_sidecar_without_a_required_field_is_an_error(tmp_path, field):
    metadata = {"SamplingFrequency": 10, "StartTime": 0, "Columns": ["pain"]}
    del metadata[field]
    path = write_recording(tmp_path, np.zeros(10), sidecar=metadata)
    with pytest.raises(ValueError, match=f"physio.json: the sidecar has no '{field}'"):
        read_recording(path, "pain")


def test_missing_rating_column_is_an_error(tmp_path):
    path = write_recording(tmp_path, np.zeros(10))
    with pytest.raises(ValueError, match="no column 'vas'"):
        read_recording(path, "vas")
