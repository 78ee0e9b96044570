"""Bindings of the study to the rules: the Study object and input functions."""

from snakemake.settings.types import DeploymentMethod

from painflow.workflow import nuisance as nuisance_paths
from painflow.workflow.glm import (
    glm_inputs,
    glm_outputs,
    glm_session_inputs,
    glm_session_runs,
    glm_surfaces,
    session_map,
    session_record,
)
from painflow.workflow.groupmodel import other_people_runs
from painflow.workflow.predict import model_settings, predict_paths
from painflow.workflow.study import Study, derivatives_root

# Discovery, units, sizes and every path: built once, before any job.
STUDY = Study.from_config(config)


def CONDA_ENV(wildcards):
    """The rules' conda environment (config conda_env) under --sdm conda.

    Snakemake exports a named environment to record each job, even without
    --sdm conda; without it the rules run in the Python that runs Snakemake.
    """
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        return config["conda_env"]
    return None


def subject_run_files(suffix, extension, key="subject"):
    """Input function: a per-run output of every run of the subject named by ``key``."""

    def files(wildcards):
        rows = STUDY.subject_runs(getattr(wildcards, key))
        return STUDY.run_files(rows, suffix, extension)

    return files


def run_files_in(select, suffix, extension):
    """Input function: a per-run output of each run in the sessions ``select`` names."""

    def files(wildcards):
        rows = STUDY.runs_in(wildcards.subject, select(wildcards))
        return STUDY.run_files(rows, suffix, extension)

    return files


def run_units(*names):
    """Params function: each file of the named inputs to its run's unit and label."""

    def units(wildcards, input):
        return STUDY.run_units(*(getattr(input, name) for name in names))

    return units


def run_inputs(wildcards):
    """Every input of a run's signal extraction."""
    return STUDY.run_inputs(wildcards.subject, wildcards.get("session"), wildcards.scan)


def rest_inputs(wildcards):
    """A subject's rest runs: preprocessed BOLD and confounds tables."""
    return STUDY.individual.rest_inputs(wildcards.subject)


def run_tr(wildcards):
    """Repetition time of a run (s)."""
    row = STUDY.find_run(wildcards.subject, wildcards.get("session"), wildcards.scan)
    return float(row["tr"])


def importance_inputs(wildcards):
    """A subject's contributions, the atlas and a BOLD that places its regions."""
    return STUDY.importance_inputs(wildcards.subject)


def learning_curve_tables(desc=None):
    """Input function: the job's subject's table of every training-set size."""

    def tables(wildcards):
        return [
            STUDY.learning_curve_table(desc, subject=wildcards.subject, size=size)
            for size in STUDY.training_sizes(wildcards.subject)
        ]

    return tables


def prospective_tables(suffix="prospective"):
    """Input function: the job's subject's per-session prospective outputs."""

    def tables(wildcards):
        return [
            STUDY.prospective_table(suffix, subject=wildcards.subject, session=session)
            for session in STUDY.prospective_sessions(wildcards.subject)
        ]

    return tables


def sessions_up_to(wildcards):
    """The job's session and the sessions scanned before it, in scan order."""
    return STUDY.sessions_up_to(wildcards.subject, wildcards.session)


def job_session(wildcards):
    """The job's session alone."""
    return [wildcards.session]


def prospective_training_sessions(wildcards):
    """Split design: the first sessions in scan order, which train the model."""
    return STUDY.prospective_training_sessions(wildcards.subject)


def prospective_tested_sessions(wildcards):
    """The job's subject's prospectively tested sessions."""
    return STUDY.prospective_sessions(wildcards.subject)


def subject_pairs():
    """Every ordered pair of different subjects, as train and test lists."""
    pairs = [(a, b) for a in STUDY.subjects for b in STUDY.subjects if a != b]
    return {"train": [a for a, _ in pairs], "test": [b for _, b in pairs]}


def session_raw_bold(wildcards):
    """Raw BOLD files of the job's session."""
    return STUDY.session_raw_bold(wildcards.subject, wildcards.session)


def nuisance_confounds(wildcards):
    """The subject's confounds tables, if the nuisance target is read from them."""
    return nuisance_paths.nuisance_confounds(STUDY, wildcards.subject, wildcards.target)


def nuisance_decoder_tables(wildcards):
    """Every configured nuisance decoder's predictions of the subject."""
    return nuisance_paths.nuisance_decoder_tables(STUDY, wildcards.subject)


def glm_session_files(wildcards):
    """A session's rating runs: preprocessed BOLD, confounds and ratings."""
    return glm_session_inputs(STUDY, wildcards.subject, wildcards.session)


def glm_session_labels(key):
    """Params function: the session's run labels (``runs``) or TRs (``trs``)."""

    def labels(wildcards):
        return glm_session_runs(STUDY, wildcards.subject, wildcards.session)[key]

    return labels


def glm_files(wildcards):
    """A subject's session effect maps and sidecars, and the atlas."""
    return glm_inputs(STUDY, wildcards.subject)


def glm_subject_surfaces(wildcards):
    """Surfaces of the job's subject's grayordinates (None: fsLR 32k group's)."""
    return glm_surfaces(STUDY, wildcards.subject)


def rest_run_inputs(wildcards):
    """A session's rest run (preprocessed BOLD, confounds) and the subject's atlas."""
    row = STUDY.rest_test.run(wildcards.subject, wildcards.session)
    return {
        "bold": str(row["bold"]),
        "confounds": str(row["confounds"]),
        **STUDY.atlas_inputs(wildcards.subject),
    }


def rest_test_inputs(wildcards):
    """A subject's models, rest-run series and rating-run QC sidecars."""
    return STUDY.rest_test_inputs(wildcards.subject)


def other_people_run_files(suffix, extension):
    """Input function: a per-run output of every run of everyone but the subject."""

    def files(wildcards):
        rows = other_people_runs(STUDY.runs, wildcards.subject)
        return STUDY.run_files(rows, suffix, extension)

    return files


def subject_atlas(wildcards):
    """The atlas files of the job's subject (image, regions, subcortex)."""
    return STUDY.atlas_inputs(wildcards.subject)


def subject_model_settings(wildcards):
    """Params function: what the job's subject's model files record of the config."""
    return model_settings(STUDY, wildcards.subject)


def predict_outputs(name):
    """An output of one session's prediction (``predict_paths``)."""
    return predict_paths(STUDY.output_dir, atlas=STUDY.atlas)[name]
