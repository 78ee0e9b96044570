rule nuisance_decoder:
    """Nested leave-one-session-out decoding of one nuisance target with the pain pipeline."""
    input:
        features=subject_run_files("edges", ".npz"),
        qc=subject_run_files("timeseries", ".json"),
        confounds=nuisance_confounds,
    output:
        predictions=nuisance_paths.decoder_predictions(STUDY),
    log:
        STUDY.log("nuisance_decoder", level="subject", desc="{target}"),
    benchmark:
        STUDY.benchmark("nuisance_decoder", level="subject", desc="{target}")
    wildcard_constraints:
        target="[a-zA-Z0-9]+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        units=run_units("features", "qc", "confounds"),
        feature_settings=config["features"],
        max_components=config["decoder"]["max_components"],
    script:
        "../../scripts/nuisance_decoder.py"


rule nuisance:
    """Nuisance decoders' metrics, the pain model's partial r and its permutation null."""
    input:
        predictions=STUDY.output("predictions", ".tsv"),
        decoders=nuisance_decoder_tables,
        qc=subject_run_files("timeseries", ".json"),
    output:
        table=report(
            STUDY.output("nuisance", ".tsv"),
            caption="../report/nuisancetable.rst",
            category="Specificity",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "nuisance table"},
        ),
        figure=report(
            STUDY.figure("nuisance"),
            caption="../report/nuisance.rst",
            category="Specificity",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "nuisance decoders"},
        ),
    log:
        STUDY.log("nuisance", level="subject"),
    benchmark:
        STUDY.benchmark("nuisance", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 6000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        units=run_units("qc"),
        targets=config["nuisance"]["targets"],
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        n_permutations=config["nuisance"]["n_permutations"],
        seed=config["seed"],
    script:
        "../../scripts/nuisance.py"
