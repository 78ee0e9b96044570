localrules:
    collect_fmriprep_run,


rule fmriprep_anat:
    """Run fMRIPrep's anatomical workflow (FreeSurfer included) once per subject."""
    input:
        t1w=lambda wildcards: STUDY.first_t1w(wildcards.subject),
    output:
        preproc=STUDY.fmriprep_anat("preproc"),
        mask=STUDY.fmriprep_anat("brain", suffix="mask"),
    log:
        STUDY.log("fmriprep_anat", level="subject"),
    benchmark:
        STUDY.benchmark("fmriprep_anat", level="subject")
    conda:
        CONDA_ENV
    threads: 8
    resources:
        mem_mb=lambda wildcards, attempt: 16000 * attempt,
        runtime=lambda wildcards, attempt: 1440 * attempt,
    params:
        bids_dir=config["bids_dir"],
        fmriprep=STUDY.fmriprep_settings(),
        license=STUDY.fs_license,
        output_dir=lambda wildcards, output: derivatives_root(output.preproc),
        work_dir=lambda wildcards: STUDY.fmriprep_work_dir(
            f"anat_sub-{wildcards.subject}"
        ),
        tasks=STUDY.fmriprep_tasks,
    script:
        "../../scripts/fmriprep_anat.py"


rule fmriprep_session:
    """Run fMRIPrep on one session's BOLD runs, re-using the subject's anatomy."""
    input:
        bold=session_raw_bold,
        anat=STUDY.fmriprep_anat("preproc"),
        mask=STUDY.fmriprep_anat("brain", suffix="mask"),
    output:
        session=directory(STUDY.fmriprep_session_dir()),
    log:
        STUDY.log("fmriprep_session", level="session"),
    benchmark:
        STUDY.benchmark("fmriprep_session", level="session")
    conda:
        CONDA_ENV
    threads: 8
    resources:
        mem_mb=lambda wildcards, attempt: 24000 * attempt,
        runtime=lambda wildcards, attempt: 480 * attempt,
    params:
        bids_dir=config["bids_dir"],
        fmriprep=STUDY.fmriprep_settings(),
        license=STUDY.fs_license,
        anat_dir=lambda wildcards, input: derivatives_root(input.anat),
        work_dir=lambda wildcards: STUDY.fmriprep_work_dir(
            f"sub-{wildcards.subject}_ses-{wildcards.session}"
        ),
        tasks=STUDY.fmriprep_tasks,
        entities=lambda wildcards: STUDY.fmriprep_entities(
            wildcards.subject, wildcards.session
        ),
    script:
        "../../scripts/fmriprep_session.py"


rule collect_fmriprep_run:
    """Link a run's fMRIPrep outputs from its session's folder into the derivatives tree."""
    input:
        session=STUDY.fmriprep_session_dir(),
    output:
        **STUDY.fmriprep_run_outputs(),
    log:
        STUDY.log("collect_fmriprep_run"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        derivatives=lambda wildcards, output: derivatives_root(output.bold),
    script:
        "../../scripts/collect_fmriprep_run.py"
