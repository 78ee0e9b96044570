"""The benchmark scripts run, and their two implementations agree."""

import math
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script: str) -> str:
    completed = subprocess.run(
        [sys.executable, script, "--quick"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def printed_number(pattern: str, output: str) -> float:
    """The number the pattern's group captures; it must be positive and finite."""
    found = re.search(pattern, output)
    assert found, (pattern, output)
    number = float(found.group(1))
    assert math.isfinite(number) and number > 0, (pattern, found.group(0))
    return number


def test_decoding_benchmark_implementations_agree():
    output = run_quick("decoding.py")
    assert "same numbers of components chosen in every fold: True" in output
    difference = re.search(
        r"largest difference between their predictions: (\S+)", output
    )
    assert float(difference.group(1)) <= 1e-8
    fast = printed_number(r"total: painflow (\S+) s", output)
    slow = printed_number(r"straightforward (\S+) s;", output)
    ratio = printed_number(r"painflow is (\S+)x faster", output)
    # The ratio of the totals, printed to a whole number, the totals to 0.01 s.
    lowest, highest = (slow - 0.005) / (fast + 0.005), (slow + 0.005) / (fast - 0.005)
    assert lowest - 0.5 <= ratio <= highest + 0.5, (ratio, slow, fast)


def test_study_scale_benchmark_finds_the_signal_regions():
    output = run_quick("study_scale.py")
    found = re.search(r"signal regions among the top (\d+): (\d+)", output)
    assert int(found.group(2)) >= int(found.group(1)) - 1
    for stage in ("features", "nested LOSO", "learning curve", "importance", "total"):
        assert re.search(rf"^{stage}\s+[\d.]+ s\s+peak", output, re.MULTILINE)


def test_parcellation_benchmark_agrees_with_nilearn():
    output = run_quick("parcellate.py")
    difference = re.search(
        r"largest difference of their region means: \S+ \(relative (\S+);", output
    )
    assert float(difference.group(1)) < 1e-6
    printed_number(r"painflow is (\S+)x faster than nilearn", output)
    printed_number(r"painflow / decompression floor on \d+ volumes: (\S+)x", output)


def test_grayordinate_benchmark_agrees_with_the_whole_run():
    output = run_quick("grayordinates.py")
    difference = re.search(
        r"largest difference of their region means: \S+ \(relative (\S+)\)", output
    )
    assert float(difference.group(1)) < 1e-10
    assert re.search(r"peak memory: painflow [\d.]+ GB, whole run", output)


def test_individual_parcellation_benchmark_subsamples_faithfully():
    output = run_quick("parcellation.py")
    agreement = printed_number(r"correlation with the exact one: (\S+)", output)
    assert agreement > 0.8
    rand_index = printed_number(r"Rand index with the planted parcels: (\S+)", output)
    assert rand_index > 0.3
    for stage in ("maps", "edge map", "parcels"):
        assert re.search(rf"^{stage}\s+[\d.]+ s\s+peak", output, re.MULTILINE)


def test_prediction_interval_benchmark_prints_its_coverage():
    output = run_quick("predict_coverage.py")
    for scale in ("volume", "1min"):
        coverage = printed_number(
            rf"90% intervals, {scale}: mean coverage (\S+)", output
        )
        assert 0.5 < coverage <= 1
