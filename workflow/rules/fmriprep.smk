localrules:
    collect_fmriprep_run,


rule fmriprep_anat:
    """Run fMRIPrep's anatomical workflow (FreeSurfer included) once per subject."""
    input:
        t1w=lambda wildcards: str(first_t1w(DATASET.bids_dir, wildcards.subject)),
    output:
        preproc=fmriprep_anat_path("preproc"),
        mask=fmriprep_anat_path("brain", suffix="mask"),
    log:
        log_path("fmriprep_anat", level="subject"),
    benchmark:
        benchmark_path("fmriprep_anat", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 8
    resources:
        mem_mb=lambda wildcards, attempt: 16000 * attempt,
        runtime=lambda wildcards, attempt: 1440 * attempt,
    params:
        fmriprep=config["fmriprep"],
        license=FS_LICENSE,
        output_spaces=fmriprep_output_spaces(),
        cifti_output=config["den"],
        output_dir=lambda wildcards, output: derivatives_root(output.preproc),
        work_dir=lambda wildcards: fmriprep_work_dir(f"anat_sub-{wildcards.subject}"),
        task=TASK,
    script:
        "../../scripts/run_fmriprep.py"


rule fmriprep_session:
    """Run fMRIPrep on one session's BOLD runs, re-using the subject's anatomy."""
    input:
        bold=session_raw_bold,
        anat=fmriprep_anat_path("preproc"),
        mask=fmriprep_anat_path("brain", suffix="mask"),
    output:
        session=directory(fmriprep_session_dir()),
    log:
        log_path("fmriprep_session", level="session"),
    benchmark:
        benchmark_path("fmriprep_session", level="session")
    conda:
        "../../envs/painflow.yaml"
    threads: 8
    resources:
        mem_mb=lambda wildcards, attempt: 24000 * attempt,
        runtime=lambda wildcards, attempt: 480 * attempt,
    params:
        fmriprep=config["fmriprep"],
        license=FS_LICENSE,
        output_spaces=fmriprep_output_spaces(),
        cifti_output=config["den"],
        anat_dir=lambda wildcards, input: derivatives_root(input.anat),
        work_dir=lambda wildcards: fmriprep_work_dir(
            f"sub-{wildcards.subject}_ses-{wildcards.session}"
        ),
        task=TASK,
    script:
        "../../scripts/run_fmriprep.py"


rule collect_fmriprep_run:
    """Link a run's fMRIPrep outputs from its session's folder into the derivatives tree."""
    input:
        session=fmriprep_session_dir(),
    output:
        **fmriprep_run_outputs(),
    log:
        log_path("collect_fmriprep_run"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        derivatives=lambda wildcards, output: derivatives_root(output.bold),
    script:
        "../../scripts/collect_fmriprep_run.py"
