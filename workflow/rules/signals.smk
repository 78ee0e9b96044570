rule extract_signals:
    """Parcellate a run's preprocessed BOLD, clean the region series and pair them with ratings."""
    input:
        unpack(run_inputs),
    output:
        timeseries=STUDY.run_output("timeseries", ".tsv"),
        qc=STUDY.run_output("timeseries", ".json"),
    log:
        STUDY.log("extract_signals"),
    benchmark:
        STUDY.benchmark("extract_signals")
    group:
        "run"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        tr=run_tr,
        denoise=config["denoise"],
        alignment=config["alignment"],
        rating_column=config["ratings"]["column"],
        atlas_subcortex=STUDY.subcortex,
    script:
        "../../scripts/extract_signals.py"
