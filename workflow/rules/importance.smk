rule region_importance:
    """Rank regions by the drop in r when their contributions are permuted hierarchically."""
    input:
        unpack(importance_inputs),
    output:
        table=subject_path("importance", ".tsv"),
        bars=report(
            figure_path("importance"),
            caption="../report/importance.rst",
            category="Region importance",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "top regions"},
        ),
        brain=report(
            figure_path("importancebrain"),
            caption="../report/importancebrain.rst",
            category="Region importance",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "glass brain"},
        ),
    log:
        log_path("region_importance", level="subject"),
    benchmark:
        benchmark_path("region_importance", level="subject")
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        n_permutations=config["importance"]["n_permutations"],
        n_shown=config["importance"]["n_shown"],
        seed=config["seed"],
        atlas_subcortex=SUBCORTEX,
        surfaces=atlas_surfaces(),
    script:
        "../../scripts/region_importance.py"
