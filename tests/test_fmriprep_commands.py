"""Every fMRIPrep command the workflow would run, checked by fMRIPrep's own parser."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from painflow.core.fileio import write_json
from painflow.inputs.dataset import first_t1w
from painflow.inputs.fmriprep import (
    DOCKER_IMAGE,
    FmriprepJob,
    FmriprepSettings,
    check_engine,
    exit_message,
    fmriprep_command,
    output_spaces,
    resolve_license,
    session_filter,
)
from painflow.simulation.study import simulate_study
from painflow.steps.fmriprep import collect_fmriprep_run

TESTS = Path(__file__).resolve().parent
DOUBLES = TESTS / "doubles"
SUBJECTS, SESSIONS = ("01", "02"), ("01", "02", "03")
SPACES = ("MNI152NLin6Asym:res-2", "MNI152NLin2009cAsym:res-2")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("fmriprep_commands")
    simulate_study(root / "bids", n_subjects=2, n_sessions=3, n_runs=1, n_volumes=20)
    license_file = root / "license.txt"
    license_file.write_text("a FreeSurfer license\n")
    image = root / "fmriprep-25.2.7.sif"
    image.write_bytes(b"")
    return root, license_file, image


def every_job(root: Path) -> list[FmriprepJob]:
    """Each subject's anatomy and session jobs, as the workflow makes them."""
    out = root / "out" / "fmriprep"
    jobs = []
    for subject in SUBJECTS:
        for session in (None, *SESSIONS):
            name = f"sub-{subject}" + (f"_ses-{session}" if session else "_anat")
            work = root / "work" / name
            filter_file = None
            if session:
                filter_file = work / "bids_filter.json"
                write_json(filter_file, session_filter(session, ["rating"]))
            jobs.append(
                FmriprepJob(
                    bids_dir=root / "bids",
                    output_dir=out / "sourcedata" / "sessions" / name
                    if session
                    else out,
                    work_dir=work,
                    subject=subject,
                    session=session,
                    filter_file=filter_file,
                    anat_dir=out if session else None,
                    threads=8,
                    mem_mb=20000,
                )
            )
    return jobs


def settings(engine: str, license_file: Path, image: Path) -> FmriprepSettings:
    return FmriprepSettings(
        engine=engine,
        license=license_file,
        output_spaces=SPACES,
        cifti_output="91k",
        image=image if engine == "apptainer" else None,
        templateflow_home=None,
        extra_arguments=(),
    )


def parse_with_fmriprep(argument_lists: list) -> list[dict]:
    completed = subprocess.run(
        [sys.executable, str(TESTS / "fmriprep_parse.py")],
        input=json.dumps(argument_lists),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1])


def native_arguments(command: list) -> list:
    assert command[0] == "fmriprep"
    return command[1:]


def apptainer_arguments(command: list, image: Path) -> list:
    """fMRIPrep's arguments, checking that every path it is given is bound."""
    assert command[:3] == ["apptainer", "run", "--cleanenv"]
    start = command.index(str(image)) + 1
    binds = [command[i + 1] for i, word in enumerate(command[:start]) if word == "-B"]
    inside = {bind.split(":")[1] for bind in binds}
    for bind in binds:
        assert bind.split(":")[0] == bind.split(":")[1], "folders keep their paths"
    arguments = command[start:]
    for word in arguments:
        path = word.split("=", 1)[-1]
        if path.startswith("/"):
            assert any(path == root or path.startswith(root + "/") for root in inside)
    return arguments


def docker_arguments(command: list, tmp_path: Path) -> list:
    """Run the real fmriprep-docker wrapper against a docker double; map paths back."""
    calls = tmp_path / "docker_calls.jsonl"
    calls.unlink(missing_ok=True)
    environment = dict(os.environ, DOCKER_DOUBLE_CALLS=str(calls))
    environment["PATH"] = os.pathsep.join([str(DOUBLES), environment["PATH"]])
    wrapper = Path(sys.executable).with_name(command[0])
    subprocess.run(
        [str(wrapper), *command[1:]], env=environment, check=True, capture_output=True
    )
    (docker_run,) = [json.loads(line) for line in calls.read_text().splitlines()]
    start = docker_run.index(DOCKER_IMAGE) + 1
    volumes = [docker_run[i + 1] for i, w in enumerate(docker_run[:start]) if w == "-v"]
    mounts = sorted(
        ((v.split(":")[1], v.split(":")[0]) for v in volumes), key=lambda m: -len(m[0])
    )

    def host(word: str) -> str:
        for inside, outside in mounts:
            if word == inside or word.startswith(inside + "/"):
                return outside + word[len(inside) :]
        return word

    # The wrapper mounts the license where the image's FS_LICENSE points.
    license_file = command[command.index("--fs-license-file") + 1]
    assert ("/opt/freesurfer/license.txt", license_file) in mounts
    return [host(word) for word in docker_run[start:]]


def check_parsed(parsed: dict, job: FmriprepJob, license_file: Path | None) -> None:
    assert "error" not in parsed, parsed.get("error")
    assert parsed["participant_label"] == [job.subject]
    assert parsed["bids_dir"] == str(job.bids_dir)
    assert parsed["output_dir"] == str(job.output_dir)
    assert parsed["work_dir"] == str(job.work_dir)
    assert parsed["track_sessions"] is False
    assert parsed["output_spaces"][:2] == list(SPACES)
    assert parsed["cifti_output"] == "91k"
    assert parsed["fs_license_file"] == str(license_file)
    assert parsed["nprocs"] == 8 and parsed["omp_nthreads"] == 8
    assert parsed["memory_gb"] == pytest.approx(18.0)
    assert parsed["anat_only"] is (job.session is None)
    if job.session is None:
        assert parsed["derivatives"] == {}
        assert parsed["bids_filters"] is None
    else:
        # fMRIPrep searches every derivatives folder whatever its name.
        assert list(parsed["derivatives"].values()) == [str(job.anat_dir)]
        assert parsed["bids_filters"] == session_filter(job.session, ["rating"])
        assert parsed["fs_subjects_dir"] == str(
            job.anat_dir / "sourcedata" / "freesurfer"
        )


@pytest.mark.parametrize("engine", ["native", "apptainer", "docker"])
def test_every_command_is_accepted_by_fmriprep(engine, layout, tmp_path):
    root, license_file, image = layout
    jobs = every_job(root)
    commands = [
        fmriprep_command(settings(engine, license_file, image), j) for j in jobs
    ]
    if engine == "native":
        argument_lists = [native_arguments(command) for command in commands]
    elif engine == "apptainer":
        argument_lists = [apptainer_arguments(command, image) for command in commands]
    else:
        argument_lists = [docker_arguments(command, tmp_path) for command in commands]
    # Inside Docker the license is found through FS_LICENSE, not an option.
    expected_license = None if engine == "docker" else license_file
    for parsed, job in zip(parse_with_fmriprep(argument_lists), jobs, strict=True):
        check_parsed(parsed, job, expected_license)


def test_grayordinates_come_from_cifti_output_with_its_volume_space(layout):
    root, license_file, image = layout
    spaces = output_spaces("fsLR", None, "91k", ["MNI152NLin2009cAsym:res-2"])
    assert spaces == ("MNI152NLin6Asym:res-2", "MNI152NLin2009cAsym:res-2")
    volume = output_spaces("MNI152NLin6Asym", "2", None, ["MNI152NLin6Asym:res-2"])
    assert volume == ("MNI152NLin6Asym:res-2",)
    grayordinates = FmriprepSettings(
        engine="native",
        license=license_file,
        output_spaces=spaces,
        cifti_output="91k",
        image=None,
        templateflow_home=None,
        extra_arguments=(),
    )
    job = every_job(root)[1]
    (parsed,) = parse_with_fmriprep(
        [native_arguments(fmriprep_command(grayordinates, job))]
    )
    assert "error" not in parsed, parsed.get("error")
    assert parsed["cifti_output"] == "91k"
    assert parsed["output_spaces"][:2] == list(spaces)


def test_a_misspelled_option_is_refused_by_fmriprep(layout):
    root, license_file, image = layout
    job = every_job(root)[1]
    arguments = native_arguments(
        fmriprep_command(settings("native", license_file, image), job)
    )
    misspelled = [
        "--bids-fliter-file" if word == "--bids-filter-file" else word
        for word in arguments
    ]
    assert "error" not in parse_with_fmriprep([arguments])[0]
    assert "error" in parse_with_fmriprep([misspelled])[0]


def test_the_license_comes_from_the_config_or_fs_license(tmp_path):
    license_file = tmp_path / "license.txt"
    license_file.write_text("x")
    assert resolve_license(str(license_file), {}) == license_file
    assert resolve_license(None, {"FS_LICENSE": str(license_file)}) == license_file
    with pytest.raises(FileNotFoundError, match="FS_LICENSE"):
        resolve_license(None, {})
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        resolve_license(str(tmp_path / "missing.txt"), {})


def test_a_missing_engine_or_image_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="'fmriprep' is not on PATH"):
        check_engine("native", None)
    (tmp_path / "apptainer").write_text("#!/bin/sh\n")
    (tmp_path / "apptainer").chmod(0o755)
    with pytest.raises(FileNotFoundError, match="nothing.sif"):
        check_engine("apptainer", str(tmp_path / "nothing.sif"))


def test_exit_codes_are_explained():
    assert "license" in exit_message(126, "job.log")
    assert "build" in exit_message(70, "job.log")
    assert "job.log" in exit_message(1, "job.log")


def test_a_subject_without_a_t1w_is_named(tmp_path):
    (tmp_path / "sub-01" / "ses-01" / "func").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="sub-01: no T1w image"):
        first_t1w(tmp_path, "01")
    anat = tmp_path / "sub-01" / "ses-02" / "anat"
    anat.mkdir(parents=True)
    for session in ("02", "01"):
        (anat / f"sub-01_ses-{session}_T1w.nii.gz").write_bytes(b"")
    assert first_t1w(tmp_path, "01").name == "sub-01_ses-01_T1w.nii.gz"


def test_a_run_output_fmriprep_did_not_write_is_named(tmp_path):
    session_root, merged = tmp_path / "session", tmp_path / "fmriprep"
    func = Path("sub-01") / "ses-01" / "func"
    (session_root / func).mkdir(parents=True)
    (session_root / func / "a_bold.nii.gz").write_bytes(b"bold")
    collect_fmriprep_run(
        str(session_root), str(merged), [str(merged / func / "a_bold.nii.gz")]
    )
    linked = merged / func / "a_bold.nii.gz"
    assert linked.read_bytes() == b"bold"
    assert linked.stat().st_ino == (session_root / func / "a_bold.nii.gz").stat().st_ino
    with pytest.raises(FileNotFoundError, match="did not write this output"):
        collect_fmriprep_run(
            str(session_root), str(merged), [str(merged / func / "b_confounds.tsv")]
        )
    assert not (merged / func / "b_confounds.tsv").exists()
