localrules:
    summarize_group_model,


rule group_model:
    """Models of everyone else (all, and at the personal size) against the subject's own."""
    input:
        features=subject_run_files("edges", ".npz"),
        qc=subject_run_files("timeseries", ".json"),
        predictions=STUDY.output("predictions", ".tsv"),
        pool=other_people_run_files("edges", ".npz"),
    output:
        table=STUDY.output("groupmodel", ".tsv"),
    log:
        STUDY.log("group_model", level="subject"),
    benchmark:
        STUDY.benchmark("group_model", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        # Every other person's rating bins, and their Gram matrix, in memory.
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        units=run_units("features", "qc", "pool"),
        pool_subjects=lambda wildcards, input: STUDY.subjects_of(input.pool),
        max_components=config["decoder"]["max_components"],
        matched=config["group_model"]["matched"],
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../../scripts/group_model.py"


rule summarize_group_model:
    """Gather every person's comparison of their own model with the group models."""
    input:
        tables=expand(STUDY.output("groupmodel", ".tsv"), subject=STUDY.subjects),
    output:
        table=report(
            STUDY.group_output("groupmodel", ".tsv"),
            caption="../report/groupmodeltable.rst",
            category="Group model",
            labels={"item": "table"},
        ),
        figure=report(
            STUDY.group_output("groupmodel", ".png", folder="figures"),
            caption="../report/groupmodel.rst",
            category="Group model",
            labels={"item": "figure"},
        ),
    log:
        STUDY.log("summarize_group_model", level="group"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/summarize_group_model.py"
