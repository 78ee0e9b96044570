rule fit_decoder:
    """Nested leave-one-session-out LASSO-PCR for one subject, and its all-sessions model."""
    input:
        features=subject_run_files("edges", ".npz"),
    output:
        predictions=subject_path("predictions", ".tsv"),
        folds=subject_path("folds", ".tsv"),
        model=subject_path("model", ".npz"),
        contributions=subject_path("contributions", ".npz"),
    log:
        log_path("fit_decoder", level="subject"),
    benchmark:
        benchmark_path("fit_decoder", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        # A subject of the study's size (566 regions, 75 runs) peaks near 4.5 GB.
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        sessions=cv_groups,
        runs=run_labels,
        max_components=config["decoder"]["max_components"],
        importance_scale=config["importance"]["scale"],
    script:
        "../../scripts/fit_decoder.py"


rule fit_motion_control:
    """The same nested cross-validation with head-motion summaries as the only features."""
    input:
        features=subject_run_files("edges", ".npz"),
    output:
        predictions=subject_path("predictions", ".tsv", desc="motion"),
        folds=subject_path("folds", ".tsv", desc="motion"),
    log:
        log_path("fit_motion_control", level="subject"),
    benchmark:
        benchmark_path("fit_motion_control", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        sessions=cv_groups,
        runs=run_labels,
        max_components=config["decoder"]["max_components"],
    script:
        "../../scripts/fit_motion_control.py"
