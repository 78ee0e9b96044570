localrules:
    summarize_learning_curve,


rule learning_curve_kernels:
    """Inner products of a subject's training samples and test units, for every size."""
    input:
        features=subject_run_files("edges", ".npz"),
    output:
        kernels=STUDY.output("learningcurve", ".npz", desc="kernels"),
    log:
        STUDY.log("learning_curve_kernels", level="subject"),
    benchmark:
        STUDY.benchmark("learning_curve_kernels", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        units=run_units("features"),
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/learning_curve_kernels.py"


rule learning_curve:
    """Predict every held-out session from random subsets of one size of the others; score."""
    input:
        kernels=STUDY.output("learningcurve", ".npz", desc="kernels"),
        folds=STUDY.output("folds", ".tsv"),
    output:
        table=STUDY.learning_curve_table(),
        summary=STUDY.learning_curve_table(desc="summary"),
    log:
        STUDY.log("learning_curve", level="size"),
    conda:
        CONDA_ENV
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
        tables=learning_curve_tables(),
        summaries=learning_curve_tables(desc="summary"),
        metrics=STUDY.output("metrics", ".tsv"),
    output:
        table=STUDY.output("learningcurve", ".tsv"),
        summary=report(
            STUDY.output("learningcurve", ".tsv", desc="summary"),
            caption="../report/learningcurvetable.rst",
            category="Learning curve",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "learning curve metrics"},
        ),
        figure=report(
            STUDY.figure("learningcurve"),
            caption="../report/learningcurve.rst",
            category="Learning curve",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "learning curve"},
        ),
    log:
        STUDY.log("summarize_learning_curve", level="subject"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/summarize_learning_curve.py"
