localrules:
    summarize_learning_curve,


rule learning_curve_kernels:
    """Inner products of a subject's training samples and test units, for every size."""
    input:
        features=subject_run_files("edges", ".npz"),
    output:
        kernels=subject_path("learningcurve", ".npz", desc="kernels"),
    log:
        log_path("learning_curve_kernels", level="subject"),
    benchmark:
        benchmark_path("learning_curve_kernels", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        sessions=cv_groups,
        runs=run_labels,
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/learning_curve_kernels.py"


rule learning_curve:
    """Predict every held-out session from random subsets of one size of the others; score."""
    input:
        kernels=subject_path("learningcurve", ".npz", desc="kernels"),
        folds=subject_path("folds", ".tsv"),
    output:
        table=learning_curve_path(),
        summary=learning_curve_path(desc="summary"),
    log:
        str(OUT / "logs" / "learning_curve" / "sub-{subject}_size-{size}.log"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        n_repeats=config["learning_curve"]["n_repeats"],
        n_bootstrap=config["learning_curve"]["n_bootstrap"],
        seed=config["seed"],
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/learning_curve.py"


rule summarize_learning_curve:
    """Gather a subject's learning curve over training-set sizes: tables and a figure."""
    input:
        tables=lambda wildcards: [
            learning_curve_path(wildcards.subject, size)
            for size in training_sizes(wildcards.subject)
        ],
        summaries=lambda wildcards: [
            learning_curve_path(wildcards.subject, size, desc="summary")
            for size in training_sizes(wildcards.subject)
        ],
        metrics=subject_path("metrics", ".tsv"),
    output:
        table=subject_path("learningcurve", ".tsv"),
        summary=report(
            subject_path("learningcurve", ".tsv", desc="summary"),
            caption="../report/learningcurvetable.rst",
            category="Learning curve",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "learning curve metrics"},
        ),
        figure=report(
            figure_path("learningcurve"),
            caption="../report/learningcurve.rst",
            category="Learning curve",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "learning curve"},
        ),
    log:
        log_path("summarize_learning_curve", level="subject"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/summarize_learning_curve.py"
