localrules:
    summarize_qc,
    describe_dataset,


rule evaluate:
    """Metrics at every time scale with hierarchical-bootstrap intervals, and figures."""
    input:
        predictions=subject_path("predictions", ".tsv"),
        motion_predictions=subject_path("predictions", ".tsv", desc="motion"),
        qc=subject_run_files("timeseries", ".json"),
    output:
        metrics=report(
            subject_path("metrics", ".tsv"),
            caption="../report/metrics.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "metrics table"},
        ),
        timecourse=report(
            figure_path("timecourse"),
            caption="../report/timecourse.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "time course"},
        ),
        scatter=report(
            figure_path("scatter"),
            caption="../report/scatter.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "scatter"},
        ),
        roc=report(
            figure_path("roc"),
            caption="../report/roc.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "ROC"},
        ),
    log:
        log_path("evaluate", level="subject"),
    benchmark:
        benchmark_path("evaluate", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        sessions=cv_groups,
        runs=run_labels,
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../../scripts/evaluate.py"


rule summarize_qc:
    """Gather a subject's per-run quality measures and inclusion decisions, with a figure."""
    input:
        qc=subject_run_files("timeseries", ".json"),
        features=subject_run_files("edges", ".npz"),
    output:
        table=report(
            subject_path("qc", ".tsv", folder="qc"),
            caption="../report/qctable.rst",
            category="Quality control",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "QC table"},
        ),
        figure=report(
            subject_path("qc", ".png", folder="figures"),
            caption="../report/qc.rst",
            category="Quality control",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "QC figure"},
        ),
    log:
        log_path("summarize_qc", level="subject"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        sessions=cv_groups,
        runs=run_labels,
        max_censored_fraction=config["denoise"]["max_censored_fraction"],
        min_binned_fraction=config["features"]["min_binned_fraction"],
    script:
        "../../scripts/summarize_qc.py"


rule describe_dataset:
    """Describe the output folder (BIDS derivatives) and the sessions' scan order."""
    output:
        description=dataset_description(),
        scan_order=report(
            scan_order_path(),
            caption="../report/scanorder.rst",
            category="Dataset",
            labels={"item": "scan order"},
        ),
    log:
        str(OUT / "logs" / "describe_dataset.log"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        bids_dir=config["bids_dir"],
        fmriprep_dir=str(FMRIPREP_DIR),
        scan_order=SCAN_ORDER.to_dict("records"),
        fmriprep_run=config["fmriprep"] if RUN_FMRIPREP else None,
    script:
        "../../scripts/describe_dataset.py"
