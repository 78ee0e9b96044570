"""The simulated raw dataset passes the official BIDS validator."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from painflow.simulation.study import simulate_study

VALIDATOR = Path(sys.executable).with_name("bids-validator-deno")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("bids")
    simulate_study(root, n_subjects=2, n_sessions=3, n_runs=2, n_volumes=30)
    return root


def validate(root: Path) -> list[dict]:
    """The validator's issues (it runs offline, from the installed package)."""
    completed = subprocess.run(
        [str(VALIDATOR), str(root), "--json"], capture_output=True, text=True
    )
    assert completed.stdout, completed.stderr[-2000:]
    return json.loads(completed.stdout)["issues"]["issues"]


@pytest.fixture(scope="module")
def messy_study(tmp_path_factory):
    """Artefacts, unpadded sessions without sessions.tsv, a missing run and
    runs of different lengths."""
    root = tmp_path_factory.mktemp("messy")
    simulate_study(
        root,
        n_subjects=2,
        n_sessions=3,
        n_runs=2,
        n_volumes=30,
        artifacts=True,
        unpadded_sessions=True,
        missing_run=True,
        variable_run_length=True,
    )
    return root


def test_the_simulated_dataset_has_no_validation_errors(study):
    errors = [issue for issue in validate(study) if issue["severity"] == "error"]
    assert errors == []


def test_the_messy_simulated_dataset_has_no_validation_errors(messy_study):
    errors = [issue for issue in validate(messy_study) if issue["severity"] == "error"]
    assert errors == []


def test_the_validator_finds_a_broken_dataset(study, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(study, broken)
    (broken / "dataset_description.json").unlink()
    (broken / "sub-01" / "ses-01" / "func" / "notes.txt").write_text("x")
    codes = {
        issue["code"] for issue in validate(broken) if issue["severity"] == "error"
    }
    assert codes
