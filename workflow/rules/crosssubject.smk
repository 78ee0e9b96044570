localrules:
    summarize_cross_subject,


rule cross_subject:
    """Apply one subject's all-sessions model to every run of another subject."""
    input:
        model=STUDY.output("model", ".npz", subject="{train}"),
        features=subject_run_files("edges", ".npz", key="test"),
        qc=subject_run_files("timeseries", ".json", key="test"),
    output:
        table=STUDY.pair_table(),
    log:
        STUDY.log("cross_subject", level="pair"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        units=run_units("features", "qc"),
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/cross_subject.py"


rule summarize_cross_subject:
    """Gather the cross-subject tests and each subject's own cross-validated accuracy."""
    input:
        pairs=expand(STUDY.pair_table(), zip, **subject_pairs()),
        metrics=expand(STUDY.output("metrics", ".tsv"), subject=STUDY.subjects),
    output:
        table=report(
            STUDY.group_output("crosssubject", ".tsv"),
            caption="../report/crosssubjecttable.rst",
            category="Cross-subject",
            labels={"item": "table"},
        ),
        figure=report(
            STUDY.group_output("crosssubject", ".png", folder="figures"),
            caption="../report/crosssubject.rst",
            category="Cross-subject",
            labels={"item": "figure"},
        ),
    log:
        STUDY.log("summarize_cross_subject", level="group"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        subjects=lambda wildcards, input: STUDY.subjects_of(input.metrics),
    script:
        "../../scripts/summarize_cross_subject.py"
