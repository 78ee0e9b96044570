rule fit_decoder:
    """Nested leave-one-session-out LASSO-PCR for one subject, and its all-sessions model."""
    input:
        unpack(subject_atlas),
        features=subject_run_files("edges", ".npz"),
        qc=subject_run_files("timeseries", ".json"),
    output:
        predictions=STUDY.output("predictions", ".tsv"),
        folds=STUDY.output("folds", ".tsv"),
        model=STUDY.output("model", ".npz"),
        contributions=STUDY.output("contributions", ".npz"),
        fold_models=STUDY.output("model", ".npz", desc="loso"),
    log:
        STUDY.log("fit_decoder", level="subject"),
    benchmark:
        STUDY.benchmark("fit_decoder", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        # A subject of the study's size (566 regions, 75 runs) peaks near 4.5 GB.
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        units=run_units("features", "qc"),
        max_components=config["decoder"]["max_components"],
        importance_scale=config["importance"]["scale"],
        settings=subject_model_settings,
    script:
        "../../scripts/fit_decoder.py"


rule fit_motion_control:
    """The same nested cross-validation with head-motion summaries as the only features."""
    input:
        features=subject_run_files("edges", ".npz"),
    output:
        predictions=STUDY.output("predictions", ".tsv", desc="motion"),
        folds=STUDY.output("folds", ".tsv", desc="motion"),
    log:
        STUDY.log("fit_motion_control", level="subject"),
    benchmark:
        STUDY.benchmark("fit_motion_control", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        units=run_units("features"),
        max_components=config["decoder"]["max_components"],
    script:
        "../../scripts/fit_motion_control.py"
