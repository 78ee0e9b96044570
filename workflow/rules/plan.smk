localrules:
    plan,


rule plan:
    """Fit a saturating curve to a subject's learning curve: sessions to a target r."""
    input:
        learning_curve=STUDY.output("learningcurve", ".tsv"),
    output:
        table=STUDY.output("plan", ".tsv"),
        figure=report(
            STUDY.figure("plan"),
            caption="../report/plan.rst",
            category="Learning curve",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "sessions needed"},
        ),
    log:
        STUDY.log("plan", level="subject"),
    benchmark:
        STUDY.benchmark("plan", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        settings=config["plan"],
        seed=config["seed"],
    script:
        "../../scripts/plan.py"
