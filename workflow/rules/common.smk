"""Input discovery and path functions; no rules here."""

import os
from functools import cache
from pathlib import Path

from painflow.bids import bids_name, bids_path
from painflow.dataset import (
    DatasetSpec,
    discover_runs,
    first_t1w,
    fmriprep_outputs,
    orders_by_subject,
    scan_order_table,
)
from painflow.fmriprep import check_engine, output_spaces, resolve_license
from painflow.prospective import ProspectiveDesign, prospective_plan

OUT = Path(config["output_dir"])
ATLAS = config["atlas"]["name"]
TASK = config["task"]
FIGURES = ("timecourse", "scatter", "roc")
# Null fmriprep_dir: painflow runs fMRIPrep, into a derivatives tree of its own.
RUN_FMRIPREP = config["fmriprep_dir"] is None
FMRIPREP_DIR = OUT / "fmriprep" if RUN_FMRIPREP else Path(config["fmriprep_dir"])
if RUN_FMRIPREP:
    check_engine(config["fmriprep"]["engine"], config["fmriprep"]["image"])
    FS_LICENSE = str(resolve_license(config["fmriprep"]["license"], os.environ))

DATASET = DatasetSpec.from_config(config, FMRIPREP_DIR)
RUNS = discover_runs(DATASET)
HAS_SESSIONS = bool(RUNS["session"].notna().all())
if RUN_FMRIPREP and not HAS_SESSIONS:
    raise ValueError(
        f"{DATASET.bids_dir}: painflow runs fMRIPrep one session at a time, and "
        "these runs have no session entity; run fMRIPrep on the dataset first and "
        "set config 'fmriprep_dir' to its outputs"
    )
SUBJECTS = sorted(RUNS["subject"].unique())
# Scan order of each subject's sessions: acq_time in sub-<label>_sessions.tsv,
# else assumed from the labels (with a warning, recorded in the report).
SCAN_ORDER = scan_order_table(DATASET.bids_dir, RUNS)
SESSION_ORDER = orders_by_subject(SCAN_ORDER)
PROSPECTIVE = ProspectiveDesign.from_config(config["prospective"])
# Tested sessions of each subject; an impossible split stops the run here.
PROSPECTIVE_TESTS = prospective_plan(PROSPECTIVE, SESSION_ORDER)


def run_entities_pattern():
    """Entities of a per-run output, as wildcards."""
    return {
        "subject": "{subject}",
        "session": "{session}" if HAS_SESSIONS else None,
        "task": TASK,
        "run": "{run}",
        "atlas": ATLAS,
    }


@cache
def run_path(suffix, extension):
    """Pattern of a per-run output."""
    return str(bids_path(OUT, run_entities_pattern(), suffix, extension))


def subject_path(suffix, extension, folder="decoding", subject="{subject}", desc=None):
    """Pattern of a per-subject output (``subject`` may name another wildcard)."""
    entities = {"subject": subject, "atlas": ATLAS, "desc": desc}
    return str(bids_path(OUT, entities, suffix, extension, datatype=folder))


def figure_path(name):
    """Pattern of a per-subject figure."""
    return subject_path(name, ".png", folder="figures")


def level_entities(level):
    """Wildcard entities of a job at ``run``, ``session`` or ``subject`` level."""
    if level == "run":
        return run_entities_pattern()
    if level == "session":
        return {"subject": "{subject}", "session": "{session}"}
    return {"subject": "{subject}"}


def log_path(rule_name, level="run"):
    """Pattern of a job's log file."""
    entities = level_entities(level)
    return str(bids_path(OUT / "logs" / rule_name, entities, "log", ".txt", None))


def benchmark_path(rule_name, level="run"):
    """Pattern of a job's benchmark table."""
    entities = level_entities(level)
    return str(
        bids_path(OUT / "benchmarks" / rule_name, entities, "bench", ".tsv", None)
    )


def dataset_description():
    """The output dataset's description file."""
    return str(OUT / "dataset_description.json")


def scan_order_path():
    """The table of every subject's sessions in scan order, with its source."""
    return str(OUT / "group" / "scanorder.tsv")


# Discovered runs by (subject, session, run), looked up by every per-run job.
RUN_ROWS = {
    (row.subject, row.session if HAS_SESSIONS else None, row.run): row
    for _, row in RUNS.iterrows()
}


def find_run(wildcards):
    """The discovered run a job's wildcards name."""
    session = wildcards.session if HAS_SESSIONS else None
    return RUN_ROWS[(wildcards.subject, session, wildcards.run)]


# The atlas: the configured files, or a named atlas the workflow writes.
NAMED_ATLAS_FOLDER = OUT / "atlas"
GRAYORDINATES = config["den"] is not None
NAMED_ATLAS_GRID = {
    "space": config["space"],
    "res": config["res"],
    "den": config["den"],
}


def named_atlas_path(entities, extension):
    """A file of the named atlas; atlas files lead with the atlas entity."""
    return str(
        NAMED_ATLAS_FOLDER / f"atlas-{ATLAS}_{bids_name(entities, 'dseg', extension)}"
    )


NAMED_ATLAS = {
    "image": named_atlas_path(
        NAMED_ATLAS_GRID, ".dlabel.nii" if GRAYORDINATES else ".nii.gz"
    ),
    "labels": named_atlas_path({}, ".tsv"),
    "description": named_atlas_path(NAMED_ATLAS_GRID, ".json"),
}
IS_NAMED_ATLAS = config["atlas"]["image"] is None
SUBCORTEX = str(config["atlas"]["subcortex"])


def atlas_inputs():
    """The atlas files a step reads: image, region table, subcortical image."""
    if IS_NAMED_ATLAS:
        return {
            "atlas_image": NAMED_ATLAS["image"],
            "atlas_labels": NAMED_ATLAS["labels"],
        }
    files = {"atlas_image": config["atlas"]["image"]}
    if config["atlas"]["labels"] is not None:
        files["atlas_labels"] = config["atlas"]["labels"]
    if GRAYORDINATES and SUBCORTEX not in ("structures", "none"):
        files["atlas_subcortex"] = SUBCORTEX
    return files


def atlas_surfaces():
    """Surfaces that place a dlabel's regions in figures (None: fsLR group average)."""
    surfaces = config["atlas"]["surfaces"]
    if not GRAYORDINATES or surfaces is None:
        return None
    return {side: str(surfaces[side]) for side in ("left", "right")}


def atlas_reference():
    """A preprocessed BOLD of the data: the grid or mesh a named atlas is fit to."""
    return str(RUNS.iloc[0]["bold"])


def run_inputs(wildcards):
    """Every input of a run's signal extraction."""
    row = find_run(wildcards)
    return {
        "bold": str(row["bold"]),
        "confounds": str(row["confounds"]),
        "confounds_json": str(row["confounds_json"]),
        "ratings": str(row["ratings"]),
        **atlas_inputs(),
    }


def importance_inputs(wildcards):
    """A subject's contributions, the atlas and a BOLD that places its regions."""
    surfaces = atlas_surfaces() or {}
    return {
        "contributions": subject_path("contributions", ".npz").format(
            subject=wildcards.subject
        ),
        "reference": str(subject_runs(wildcards.subject).iloc[0]["bold"]),
        **atlas_inputs(),
        **{f"surface_{side}": path for side, path in surfaces.items()},
    }


def run_tr(wildcards):
    """Repetition time of a run (s)."""
    return float(find_run(wildcards)["tr"])


@cache
def subject_runs(subject):
    """Rows of a subject's runs, in session and run order."""
    return RUNS[RUNS["subject"] == subject]


def cv_groups_of(subject):
    """Cross-validation unit of each run: its session, or itself without sessions."""
    rows = subject_runs(subject)
    return list(rows["session"] if HAS_SESSIONS else rows["run"])


def run_labels_of(subject):
    """Run label of each of a subject's runs."""
    return list(subject_runs(subject)["run"])


def cv_groups(wildcards):
    """Cross-validation units of the runs of the job's subject."""
    return cv_groups_of(wildcards.subject)


def run_labels(wildcards):
    """Run labels of the runs of the job's subject."""
    return run_labels_of(wildcards.subject)


def run_files(rows, suffix, extension):
    """A per-run output for each run of a table of discovered runs."""
    return [
        run_path(suffix, extension).format(
            subject=row.subject, session=row.session, run=row.run
        )
        for row in rows.itertuples()
    ]


def subject_run_files(suffix, extension, key="subject"):
    """Input function: a per-run output for every run of the subject named by ``key``."""

    def files(wildcards):
        return run_files(subject_runs(getattr(wildcards, key)), suffix, extension)

    return files


def pair_path():
    """Pattern of one ordered pair's cross-subject table."""
    name = f"train-{{train}}_test-{{test}}_atlas-{ATLAS}_crosssubject.tsv"
    return str(OUT / "group" / "crosssubject" / name)


def subject_pairs():
    """Every ordered pair of different subjects, as (train, test) lists."""
    pairs = [(a, b) for a in SUBJECTS for b in SUBJECTS if a != b]
    return [a for a, _ in pairs], [b for _, b in pairs]


def group_path(suffix, extension, folder=None):
    """Path of a group-level output."""
    name = f"atlas-{ATLAS}_{suffix}{extension}"
    return str(OUT / "group" / folder / name if folder else OUT / "group" / name)


def prospective_sessions(subject):
    """The subject's prospectively tested sessions, in scan order."""
    return PROSPECTIVE_TESTS.get(subject, [])


def prospective_subjects():
    """Subjects with at least one prospective test."""
    return [subject for subject in SUBJECTS if prospective_sessions(subject)]


def prospective_path(subject="{subject}", session="{session}", suffix="prospective"):
    """Pattern of one session's prospective test, or of its ``predictions``."""
    entities = {"subject": subject, "session": session, "atlas": ATLAS}
    if suffix != "prospective":
        entities["desc"] = "prospective"
    return str(bids_path(OUT, entities, suffix, ".tsv", datatype="decoding"))


def sessions_up_to(wildcards):
    """The job's session and the sessions scanned before it, in scan order."""
    order = SESSION_ORDER[wildcards.subject]
    return order[: order.index(wildcards.session) + 1]


def job_session(wildcards):
    """The job's session alone."""
    return [wildcards.session]


def prospective_training_sessions(wildcards):
    """Split design: the first sessions in scan order, which train the model."""
    return PROSPECTIVE.training_sessions(SESSION_ORDER[wildcards.subject])


def prospective_tested_sessions(wildcards):
    """The job's subject's prospectively tested sessions."""
    return prospective_sessions(wildcards.subject)


def runs_in(wildcards, select):
    """Rows of the job's subject's runs in the sessions ``select(wildcards)`` names."""
    rows = subject_runs(wildcards.subject)
    return rows[rows["session"].isin(select(wildcards))]


def run_files_in(select, suffix, extension):
    """Input function: a per-run output for each run of ``runs_in``."""

    def files(wildcards):
        return run_files(runs_in(wildcards, select), suffix, extension)

    return files


def run_labels_in(select, column):
    """Params function: the session or run label of each run of ``runs_in``."""

    def labels(wildcards):
        return list(runs_in(wildcards, select)[column])

    return labels


def training_sizes(subject):
    """Learning-curve training-set sizes of a subject: 1 .. sessions - 2."""
    n_units = len(set(cv_groups_of(subject)))
    return list(range(1, n_units - 1))


def learning_curve_path(subject="{subject}", size="{size}", desc=None):
    """Pattern of one training-set size's learning-curve table (per draw, or summary)."""
    label = f"_desc-{desc}" if desc else ""
    name = f"sub-{subject}_atlas-{ATLAS}_size-{size}{label}_learningcurve.tsv"
    return str(OUT / f"sub-{subject}" / "decoding" / "learningcurve" / name)


# fMRIPrep, when painflow runs it (config fmriprep_dir: null).

FMRIPREP_WORK = (
    Path(config["fmriprep"]["work_dir"])
    if config["fmriprep"]["work_dir"]
    else OUT / "work" / "fmriprep"
)


def fmriprep_anat_path(desc, suffix="T1w"):
    """Pattern of an anatomical output of ``fmriprep_anat``."""
    entities = {"subject": "{subject}", "desc": desc}
    return str(bids_path(FMRIPREP_DIR, entities, suffix, ".nii.gz", datatype="anat"))


def fmriprep_session_dir(subject="{subject}", session="{session}"):
    """fMRIPrep's output folder of one session job."""
    return str(
        FMRIPREP_DIR / "sourcedata" / "sessions" / f"sub-{subject}_ses-{session}"
    )


def fmriprep_work_dir(job):
    """Work folder of one fMRIPrep job (each job its own: workflows share names)."""
    return str(FMRIPREP_WORK / job)


def derivatives_root(path):
    """Root of the BIDS derivatives tree holding ``path``: the folder above sub-<label>."""
    return str(next(p.parent for p in Path(path).parents if p.name.startswith("sub-")))


def fmriprep_run_outputs():
    """Patterns of the fMRIPrep outputs of a run that signal extraction reads."""
    entities = {"subject": "{subject}", "session": "{session}", "task": TASK}
    outputs = fmriprep_outputs(DATASET, {**entities, "run": "{run}"})
    return {name: str(path) for name, path in outputs.items()}


def session_raw_bold(wildcards):
    """Raw BOLD files of the job's session."""
    rows = subject_runs(wildcards.subject)
    return [
        str(path) for path in rows.loc[rows["session"] == wildcards.session, "bold_raw"]
    ]


def fmriprep_output_spaces():
    """The space painflow reads, then any other configured output spaces."""
    return list(
        output_spaces(
            config["space"],
            config["res"],
            config["den"],
            config["fmriprep"]["output_spaces"],
        )
    )
