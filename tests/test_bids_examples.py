"""Discovery and the dry run on layouts the BIDS community wrote, not painflow.

Each study is built on an example dataset that pybids ships
(:mod:`bids_examples`): its own file names, folders and inherited sidecars,
with small images and rating recordings written under them. What discovery
should find is read from the example folder by a glob of this file's own.
"""

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from bids_examples import (
    ATLAS_NAME,
    EXAMPLES,
    build_example,
    example_bold,
    example_dir,
    fetch_bids_examples,
    name_pairs,
    with_session,
)
from snakemake.utils import validate
from workflow_runner import REPO, planned_files, run_workflow

from painflow.inputs.dataset import DatasetSpec, discover_runs

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
# The discovery table's entity columns and the BIDS key of each.
ENTITY_COLUMNS = {
    "subject": "sub",
    "session": "ses",
    "task": "task",
    "acquisition": "acq",
    "ceagent": "ce",
    "reconstruction": "rec",
    "direction": "dir",
    "run": "run",
    "part": "part",
}


@dataclass(frozen=True)
class Example:
    """How a study is built on an example dataset, and who its dry run plans."""

    task: str
    subjects: tuple
    space: str = "MNI152NLin6Asym"
    res: str | None = "2"
    copy_session: tuple | None = None
    overrides: dict = field(default_factory=dict)


EXAMPLE_STUDIES = {
    # 7t_trt and synthetic have two sessions per subject, and painflow needs at
    # least three cross-validation units per subject: session 3 repeats the
    # layout of session 2 under its own label. 7t_trt's one task, rest, is
    # the rating task here, so the rest-run test (of task rest) is off.
    "7t_trt": Example(
        "rest",
        ("01", "02"),
        copy_session=("2", "3"),
        overrides={"rest_test": {"enabled": False}},
    ),
    "ds005": Example("mixedgamblestask", ("01", "02")),
    # fMRIPrep outputs in the space synthetic's own derivatives have, which
    # carry no res entity (its confounds are named by fMRIPrep < 20.2,
    # desc-confounds_regressors.tsv; the study has today's name).
    "synthetic": Example(
        "nback",
        ("01", "02"),
        space="MNI152NLin2009cAsym",
        res=None,
        copy_session=("02", "03"),
    ),
}


def build(name: str, out: Path):
    """The study on an example, as :data:`EXAMPLE_STUDIES` describes it."""
    example = EXAMPLE_STUDIES[name]
    return build_example(
        name,
        example.task,
        out,
        space=example.space,
        res=example.res,
        copy_session=example.copy_session,
    )


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """Each example's study, built once when a test first asks for it."""
    built = {}

    def study(name: str):
        if name not in built:
            built[name] = build(name, tmp_path_factory.mktemp(name))
        return built[name]

    return study


def expected_bold(study) -> list[Path]:
    """The raw BOLD of a built study: the example's, and any copied session."""
    name, example = study.name, EXAMPLE_STUDIES[study.name]
    found = [
        path.relative_to(example_dir(name))
        for path in example_bold(example_dir(name), example.task)
    ]
    if example.copy_session:
        source, _ = example.copy_session
        found += [
            with_session(path, *example.copy_session)
            for path in found
            if f"ses-{source}" in path.parts
        ]
    return sorted(study.bids_dir / path for path in found)


def expected_row(study, bold: Path) -> dict:
    """What discovery should say of a run, read from its BOLD file's name."""
    pairs = name_pairs(bold)
    chain = [
        part
        for part in bold.name.removesuffix("_bold.nii.gz").split("_")
        if not part.startswith(("sub-", "ses-", "echo-"))
    ]
    return {
        **{column: pairs.get(key) for column, key in ENTITY_COLUMNS.items()},
        "scan": "_".join(chain),
        "echoes": (bold,),
        "bold_raw": bold,
        **study.files(bold),
        "tr": study.tr[bold],
    }


def example_config(study, output: Path, **overrides) -> dict:
    """The study's quick config, with the example's own settings."""
    return study.config(output, **EXAMPLE_STUDIES[study.name].overrides, **overrides)


def dataset_spec(study, **overrides) -> DatasetSpec:
    """The study's inputs as a validated config names them."""
    config = example_config(study, study.bids_dir / "out", **overrides)
    validate(config, str(SCHEMA), set_default=True)
    return DatasetSpec.from_config(config, config["fmriprep_dir"])


def label(value):
    """An entity's label, None when absent (a missing string is NaN in pandas)."""
    return None if pd.isna(value) else value


def output_name(bold: Path, suffix: str) -> str:
    """A run-level output's name: the run's entities in BIDS order, then the atlas."""
    stem = bold.name.removesuffix("_bold.nii.gz")
    return f"{stem}_atlas-{ATLAS_NAME}_{suffix}"


def test_the_examples_are_those_of_the_pinned_sdist():
    example_dir("ds005")
    assert fetch_bids_examples.is_current(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLE_STUDIES))
def test_discovery_finds_every_bold_file_with_its_entities(name, studies):
    study = studies(name)
    runs = discover_runs(dataset_spec(study))
    expected = expected_bold(study)
    assert sorted(runs["bold_raw"]) == expected
    for row in runs.to_dict("records"):
        row.update({column: label(row[column]) for column in ENTITY_COLUMNS})
        wanted = expected_row(study, row["bold_raw"])
        assert {key: row[key] for key in wanted} == wanted
    assert runs["run_id"].notna().all()
    identities = runs[["subject", "session", "run_id"]].astype(str)
    assert not identities.duplicated().any()


def test_7t_trt_runs_with_and_without_a_run_label_inherit_their_own_tr(studies):
    runs = discover_runs(dataset_spec(studies("7t_trt")))
    found = {
        acquisition: (set(rows["tr"]), {label(run) for run in rows["run"]})
        for acquisition, rows in runs.groupby("acquisition")
    }
    # Each acquisition's RepetitionTime is only in its sidecar at the dataset's
    # root (task-rest_acq-<label>_bold.json); prefrontal runs have no run label.
    assert found == {"fullbrain": ({3.0}, {"1", "2"}), "prefrontal": ({4.0}, {None})}


def test_synthetic_derivatives_mirror_those_of_the_example(studies):
    study = studies("synthetic")
    own = example_dir("synthetic") / "derivatives" / "fmriprep"
    for bold in expected_bold(study):
        if "ses-03" not in bold.parts:
            preprocessed = study.files(bold)["bold"]
            assert (own / preprocessed.relative_to(study.fmriprep_dir)).exists()


@pytest.mark.parametrize("name", sorted(EXAMPLE_STUDIES))
def test_a_dry_run_plans_signals_and_features_for_every_run(name, studies, tmp_path):
    study = studies(name)
    subjects = EXAMPLE_STUDIES[name].subjects
    config = example_config(study, tmp_path / "out", subjects=list(subjects))
    result = run_workflow(config, tmp_path / "work", "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    runs = [
        bold for bold in expected_bold(study) if name_pairs(bold)["sub"] in subjects
    ]
    jobs = planned_files(result.stdout)
    rules = Counter(rule for rule, _ in jobs)
    assert rules["extract_signals"] == rules["edge_features"] == len(runs)
    planned = {
        Path(path).name: (rule, {Path(given) for given in files["input"]})
        for rule, files in jobs
        for path in files["output"]
    }
    for bold in runs:
        rule, inputs = planned[output_name(bold, "timeseries.tsv")]
        assert rule == "extract_signals"
        own = study.files(bold)
        assert {own["bold"], own["confounds"], own["ratings"]} <= inputs
        assert planned[output_name(bold, "edges.npz")][0] == "edge_features"


def test_an_acquisition_filter_keeps_only_its_runs(studies):
    study = studies("7t_trt")
    kept = discover_runs(dataset_spec(study, bold_filters={"acq": "prefrontal"}))
    every = expected_bold(study)
    prefrontal = [bold for bold in every if "_acq-prefrontal_" in bold.name]
    assert sorted(kept["bold_raw"]) == prefrontal
    both = {"acq": ["prefrontal", "fullbrain"]}
    assert (
        sorted(discover_runs(dataset_spec(study, bold_filters=both))["bold_raw"])
        == every
    )


def test_a_filter_matching_nothing_stops_the_dry_run_naming_what_exists(
    studies, tmp_path
):
    study = studies("7t_trt")
    config = example_config(study, tmp_path / "out", bold_filters={"acq": "nope"})
    result = run_workflow(config, tmp_path / "work", "-n")
    assert result.returncode != 0
    assert "nope" in result.stdout, result.stdout[-3000:]
    message = result.stdout[result.stdout.index("nope") :]
    assert "fullbrain" in message and "prefrontal" in message, message
    assert "Job stats" not in result.stdout


def test_synthetic_runs_as_nii_and_nii_gz_both_stop_discovery_naming_them(tmp_path):
    # synthetic ships every run both compressed and not (the builder keeps the
    # .nii.gz); restored for one run, the pair is one series twice.
    study = build("synthetic", tmp_path)
    bold = expected_bold(study)[0]
    shutil.copyfile(bold, bold.with_suffix(""))
    with pytest.raises(ValueError) as raised:
        discover_runs(dataset_spec(study))
    assert bold.name in str(raised.value)
    assert bold.with_suffix("").name in str(raised.value)
