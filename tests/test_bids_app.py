"""painflow run: the workflow as a BIDS App, from a wheel in a fresh environment."""

import importlib.util

import pytest
import yaml
from conftest import TINY_OVERRIDES
from test_study import validated_config
from workflow_runner import REPO, planned_jobs, study_config

from painflow.cli import main
from painflow.simulation.study import simulate_study
from painflow.workflow.app import AppRun
from painflow.workflow.levels import level_targets
from painflow.workflow.packaged import workflow_root
from painflow.workflow.study import Study

spec = importlib.util.spec_from_file_location(
    "check_bids_app", REPO / "tools" / "check_bids_app.py"
)
check_bids_app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_bids_app)

# The jobs that need every person; everything else is a participant's.
GROUP_RULES = {
    "describe_dataset",
    "cross_subject",
    "summarize_cross_subject",
    "group_model",
    "summarize_group_model",
}


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """2 subjects x 3 sessions x 1 run of 20 volumes: paths and levels only."""
    root = tmp_path_factory.mktemp("small_study")
    simulate_study(root, n_subjects=2, n_sessions=3, n_runs=1, n_volumes=20)
    return root


def test_levels_split_the_targets_into_each_persons_own_and_the_groups(
    small_study, tmp_path
):
    study = Study.from_config(validated_config(small_study, tmp_path / "out"))
    participant = level_targets(study, "participant")
    group = level_targets(study, "group")
    assert sorted(participant + group) == sorted(study.targets())
    assert not set(participant) & set(group)
    for target in participant:
        assert target.startswith((f"{tmp_path}/out/sub-01/", f"{tmp_path}/out/sub-02/"))
    names = {target.rsplit("/", 1)[1] for target in group}
    assert names == {
        "dataset_description.json",
        "atlas-AAL_crosssubject.tsv",
        "atlas-AAL_crosssubject.png",
        "atlas-AAL_groupmodel.tsv",
        "atlas-AAL_groupmodel.png",
    }
    with pytest.raises(ValueError, match="analysis level 'session'"):
        level_targets(study, "session")


def test_the_apps_config_is_the_files_with_the_commands_paths_and_subjects(
    small_study, tmp_path
):
    config_file = tmp_path / "mine.yaml"
    mine = study_config(small_study, tmp_path / "x")
    del mine["fmriprep_dir"]
    config_file.write_text(yaml.safe_dump(mine))
    run = AppRun(
        str(small_study),
        str(tmp_path / "out"),
        "participant",
        participant_labels=("sub-01", "02"),
        config_file=str(config_file),
    )
    config = run.config()
    assert config["output_dir"] == str(tmp_path / "out")
    assert config["subjects"] == ["01", "02"]
    assert config["res"] == "6"  # from the file
    # Neither --fmriprep-dir nor the file's: BIDS_DIR/derivatives/fmriprep.
    assert config["fmriprep_dir"] == str(small_study / "derivatives" / "fmriprep")
    bare = AppRun(str(small_study), "out", "group", config_file=None)
    with pytest.raises(ValueError, match="missing required key.s. atlas"):
        bare.config()
    command = run.command()
    assert command[3:6] == ["participant", "--snakefile", str(REPO / "Snakefile")]
    assert str(workflow_root() / "profiles" / "local") in command


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bids_dir": "/no/such/bids"}, "BIDS_DIR /no/such/bids: no such folder"),
        ({"fmriprep_dir": "/no/fmriprep"}, "--fmriprep-dir /no/fmriprep: no such"),
        ({"config_file": "/no/config.yaml"}, "--config /no/config.yaml: no such file"),
        ({"level": "session"}, "analysis level 'session': not one of"),
        ({"profile": "sge"}, "profile 'sge': not one of local, slurm"),
    ],
)
def test_bad_arguments_stop_before_snakemake_naming_the_problem(
    small_study, tmp_path, change, message
):
    arguments = {"bids_dir": str(small_study), "output_dir": str(tmp_path / "out")}
    run = AppRun(**{**arguments, "level": "participant", **change})
    with pytest.raises(ValueError, match=message):
        run.config()


def test_the_command_line_passes_what_follows_double_dash_to_snakemake(
    monkeypatch, tmp_path
):
    runs = []
    monkeypatch.setattr(
        "painflow.workflow.app.run_app", lambda run: runs.append(run) or 0
    )
    arguments = ["run", "bids", "out", "participant", "--participant-label", "01"]
    assert main([*arguments, "-n", "--", "--forcerun", "evaluate", "-p"]) == 0
    assert runs[0].snakemake_args == ("--forcerun", "evaluate", "-p")
    assert runs[0].participant_labels == ("01",) and runs[0].dry_run
    assert runs[0].command()[-4:] == ["--dry-run", "--forcerun", "evaluate", "-p"]
    with pytest.raises(SystemExit):  # another command takes nothing after --
        main(["simulate", str(tmp_path), "--", "--forceall"])


# Through the command, from a wheel installed in a fresh virtual environment.


@pytest.fixture(scope="module")
def installed_app(tmp_path_factory):
    """The ``bin`` folder of a new environment with the repository's wheel."""
    folder = tmp_path_factory.mktemp("bids_app_env")
    wheel = check_bids_app.build_wheel(folder / "wheel")
    return check_bids_app.fresh_environment(folder / "venv", wheel)


@pytest.fixture(scope="module")
def app_runs(installed_app, tiny_study, tmp_path_factory):
    """The tiny study through painflow run: sub-01, sub-02, then the group.

    Run from a folder outside the checkout with tiny_run's config. Returns
    the working folder, its output folder and each run's jobs.
    """
    cwd = tmp_path_factory.mktemp("bids_app_run")
    config_file = cwd / "study.yaml"
    config = study_config(tiny_study, cwd / "out", **TINY_OVERRIDES)
    config_file.write_text(yaml.safe_dump(config))
    paths = [str(tiny_study), str(cwd / "out")]
    fmriprep = ["--fmriprep-dir", config["fmriprep_dir"], "--config", str(config_file)]
    jobs = {}
    for name, level in (("01", "participant"), ("02", "participant"), ("", "group")):
        label = ["--participant-label", name] if name else []
        result = check_bids_app.run_app(
            installed_app, "run", *paths, level, *label, *fmriprep, cwd=cwd
        )
        assert result.returncode == 0, result.stdout[-3000:]
        # Each level's own target rule aside: the jobs that make files.
        jobs[name or "group"] = [
            job for job in planned_jobs(result.stdout) if job[0] != level
        ]
    return {"cwd": cwd, "out": cwd / "out", "jobs": jobs, "args": (*paths, *fmriprep)}


def test_help_and_the_workflow_come_from_the_installed_package(installed_app, tmp_path):
    result = check_bids_app.run_app(installed_app, "run", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("participant,group", "--participant-label", "--fmriprep-dir"):
        assert option in result.stdout
    python = installed_app / "python"
    located = check_bids_app.subprocess.run(
        [
            str(python),
            "-c",
            "from painflow.workflow import packaged as p; print(p.workflow_root())",
        ],
        capture_output=True,
        text=True,
        env=check_bids_app.app_environment(),
        cwd=tmp_path,
        check=True,
    ).stdout.strip()
    assert located.startswith(str(installed_app.parent)) and located.endswith(
        "painflow/workflow_files"
    )


def test_a_missing_bids_folder_is_named_before_snakemake_starts(
    installed_app, tmp_path
):
    missing = tmp_path / "no_bids"
    result = check_bids_app.run_app(
        installed_app, "run", str(missing), str(tmp_path / "out"), "group", cwd=tmp_path
    )
    assert result.returncode == 1
    assert f"painflow run: error: BIDS_DIR {missing}: no such folder" in result.stdout
    assert not (tmp_path / ".snakemake").exists() and not (tmp_path / "out").exists()


@pytest.mark.workflow
def test_each_level_runs_its_own_jobs(app_runs):
    jobs = app_runs["jobs"]
    for label in ("01", "02"):
        subjects = {wildcards.get("subject") for _, wildcards in jobs[label]}
        assert subjects == {label}, subjects
        assert not {rule for rule, _ in jobs[label]} & GROUP_RULES
    assert {rule for rule, _ in jobs["group"]} == GROUP_RULES


@pytest.mark.workflow
def test_a_dry_run_of_each_level_after_both_finds_nothing_to_do(
    app_runs, installed_app
):
    for level in ("participant", "group"):
        result = check_bids_app.run_app(
            installed_app,
            "run",
            *app_runs["args"][:2],
            level,
            *app_runs["args"][2:],
            "-n",
            cwd=app_runs["cwd"],
        )
        assert result.returncode == 0, result.stdout[-2000:]
        assert "Nothing to be done" in result.stdout, result.stdout[-2000:]


@pytest.mark.workflow
def test_participant_then_group_equals_snakemake_byte_for_byte(app_runs, tiny_run):
    compare = check_bids_app.compare_outputs()
    assert compare.differences(tiny_run, app_runs["out"], strict=True) == []
    n_files = len(compare.compared_files(tiny_run))
    print(f"painflow run from a wheel = snakemake from the checkout: {n_files} files")
    assert n_files > 80
