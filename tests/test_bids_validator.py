"""The simulated raw dataset passes the official BIDS validator."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from painflow.simulate import simulate_study

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


def test_the_simulated_dataset_has_no_validation_errors(study):
    errors = [issue for issue in validate(study) if issue["severity"] == "error"]
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
