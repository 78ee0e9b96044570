rule evaluate:
    """Metrics at every time scale with hierarchical-bootstrap intervals, and figures."""
    input:
        predictions=STUDY.output("predictions", ".tsv"),
        motion_predictions=STUDY.output("predictions", ".tsv", desc="motion"),
        qc=subject_run_files("timeseries", ".json"),
    output:
        metrics=report(
            STUDY.output("metrics", ".tsv"),
            caption="../report/metrics.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "metrics table"},
        ),
        timecourse=report(
            STUDY.figure("timecourse"),
            caption="../report/timecourse.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "time course"},
        ),
        scatter=report(
            STUDY.figure("scatter"),
            caption="../report/scatter.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "scatter"},
        ),
        roc=report(
            STUDY.figure("roc"),
            caption="../report/roc.rst",
            category="Decoding",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "ROC"},
        ),
    log:
        STUDY.log("evaluate", level="subject"),
    benchmark:
        STUDY.benchmark("evaluate", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        units=run_units("qc"),
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../../scripts/evaluate.py"
