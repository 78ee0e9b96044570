rule individual_parcellation:
    """Parcellate a subject's cortex and find its networks from the subject's rest runs."""
    input:
        unpack(rest_inputs),
    output:
        **STUDY.individual.files(),
        figure=report(
            STUDY.figure("parcellation"),
            caption="../report/parcellation.rst",
            category="Individual parcellation",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "parcels and networks"},
        ),
    log:
        STUDY.log("individual_parcellation", level="subject"),
    benchmark:
        STUDY.benchmark("individual_parcellation", level="subject")
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        trs=lambda wildcards: STUDY.individual.rest_trs(wildcards.subject),
        surfaces=lambda wildcards: STUDY.individual.surfaces(wildcards.subject),
        denoise=config["denoise"],
        individual=config["individual"],
        seed=config["seed"],
    script:
        "../../scripts/individual_parcellation.py"
