localrules:
    summarize_cross_subject,


rule cross_subject:
    """Apply one subject's all-sessions model to every run of another subject."""
    input:
        model=subject_path("model", ".npz", subject="{train}"),
        features=subject_run_files("edges", ".npz", key="test"),
        qc=subject_run_files("timeseries", ".json", key="test"),
    output:
        table=pair_path(),
    log:
        str(OUT / "logs" / "cross_subject" / "train-{train}_test-{test}.log"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        sessions=lambda wildcards: cv_groups_of(wildcards.test),
        runs=lambda wildcards: run_labels_of(wildcards.test),
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/cross_subject.py"


rule summarize_cross_subject:
    """Gather the cross-subject tests and each subject's own cross-validated accuracy."""
    input:
        pairs=expand(
            pair_path(), zip, train=subject_pairs()[0], test=subject_pairs()[1]
        ),
        metrics=expand(subject_path("metrics", ".tsv"), subject=SUBJECTS),
    output:
        table=report(
            group_path("crosssubject", ".tsv"),
            caption="../report/crosssubjecttable.rst",
            category="Cross-subject",
            labels={"item": "table"},
        ),
        figure=report(
            group_path("crosssubject", ".png", folder="figures"),
            caption="../report/crosssubject.rst",
            category="Cross-subject",
            labels={"item": "figure"},
        ),
    log:
        str(OUT / "logs" / "summarize_cross_subject.log"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        subjects=SUBJECTS,
    script:
        "../../scripts/cross_subject_summary.py"
