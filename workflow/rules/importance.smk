rule region_importance:
    """Rank regions by the drop in r when their contributions are permuted hierarchically."""
    input:
        unpack(importance_inputs),
    output:
        table=STUDY.output("importance", ".tsv"),
        bars=report(
            STUDY.figure("importance"),
            caption="../report/importance.rst",
            category="Region importance",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "top regions"},
        ),
        brain=report(
            STUDY.figure("importancebrain"),
            caption="../report/importancebrain.rst",
            category="Region importance",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "glass brain"},
        ),
    log:
        STUDY.log("region_importance", level="subject"),
    benchmark:
        STUDY.benchmark("region_importance", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        n_permutations=config["importance"]["n_permutations"],
        n_shown=config["importance"]["n_shown"],
        seed=config["seed"],
        atlas_subcortex=STUDY.subcortex,
        surfaces=STUDY.atlas_surfaces(),
    script:
        "../../scripts/region_importance.py"
