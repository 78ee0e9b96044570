localrules:
    summarize_qc,


rule summarize_qc:
    """Gather a subject's per-run quality measures and inclusion decisions, with a figure."""
    input:
        qc=subject_run_files("timeseries", ".json"),
        features=subject_run_files("edges", ".npz"),
    output:
        table=report(
            STUDY.output("qc", ".tsv", folder="qc"),
            caption="../report/qctable.rst",
            category="Quality control",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "QC table"},
        ),
        figure=report(
            STUDY.figure("qc"),
            caption="../report/qc.rst",
            category="Quality control",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "QC figure"},
        ),
    log:
        STUDY.log("summarize_qc", level="subject"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        units=run_units("qc", "features"),
        max_censored_fraction=config["denoise"]["max_censored_fraction"],
        min_binned_fraction=config["features"]["min_binned_fraction"],
    script:
        "../../scripts/summarize_qc.py"
