"""Every BIDS entity of a BOLD series is carried through; the numbers do not change.

The tiny study is copied and renamed as a multiband study would be named: every
rating run gains ``acq-mb8_dir-AP`` and the runs of some sessions lose their
run label (BIDS allows none when a session has one run). The workflow on that
copy must give the tiny study's numbers, with the entities in every per-run
file name.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
from conftest import TINY_OVERRIDES
from workflow_runner import run_workflow, study_config

from painflow.core.bids import parse_entities
from painflow.core.fileio import read_json

# Sessions whose single run loses its run label in the renamed copy.
UNLABELLED_SESSIONS = ("01", "03")
ENTITIES = "acq-mb8_dir-AP"


def renamed(name: str) -> str:
    """A tiny-study file name as the multiband copy names it."""
    session = parse_entities(name).get("session")
    run = "" if session in UNLABELLED_SESSIONS else "_run-1"
    return name.replace("_task-rating_run-1_", f"_task-rating_{ENTITIES}{run}_")


def copy_with_entities(source: Path, target: Path) -> None:
    """Copy a study, renaming each rating run's files (raw and fMRIPrep's)."""
    shutil.copytree(source, target)
    for path in sorted(target.rglob("*_task-rating_run-1_*")):
        path.rename(path.with_name(renamed(path.name)))


def decoding_tables(study: Path) -> list[str]:
    """Each subject's decoding tables the comparison covers, below the output."""
    truth = read_json(study / "ground_truth.json")
    return [
        f"sub-{subject}/decoding/sub-{subject}_atlas-{truth['atlas']['name']}_{name}"
        for subject in sorted(truth["subjects"])
        for name in ("metrics.tsv", "predictions.tsv")
    ]


@pytest.fixture(scope="module")
def entity_run(tiny_study, tmp_path_factory) -> Path:
    """The decoding outputs of the renamed copy of the tiny study."""
    work = tmp_path_factory.mktemp("entity_run")
    study = work / "study"
    copy_with_entities(tiny_study, study)
    config = study_config(study, work / "out", **TINY_OVERRIDES)
    targets = [str(work / "out" / table) for table in decoding_tables(study)]
    result = run_workflow(config, work, *targets)
    assert result.returncode == 0, result.stdout[-3000:]
    return work / "out"


def test_renamed_copy_has_the_entities_and_sessions_without_run_labels(
    tiny_study, tmp_path
):
    copy_with_entities(tiny_study, tmp_path / "study")
    names = [path.name for path in (tmp_path / "study").rglob("*_bold.nii.gz")]
    rating = [name for name in names if "_task-rating_" in name]
    assert rating and all(f"_task-rating_{ENTITIES}" in name for name in rating)
    unlabelled = {parse_entities(n)["session"] for n in rating if "_run-" not in n}
    assert unlabelled == set(UNLABELLED_SESSIONS)


def test_same_numbers_as_without_the_entities(entity_run, tiny_run, tiny_study):
    for table in decoding_tables(tiny_study):
        assert filecmp.cmp(entity_run / table, tiny_run / table, shallow=False), table


def test_per_run_files_carry_every_entity_in_bids_order(entity_run):
    names = sorted(path.name for path in entity_run.rglob("*_timeseries.tsv"))
    assert names
    for name in names:
        session = parse_entities(name)["session"]
        run = "" if session in UNLABELLED_SESSIONS else "_run-1"
        assert f"_ses-{session}_task-rating_{ENTITIES}{run}_atlas-" in name
