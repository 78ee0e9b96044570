rule extract_signals:
    """Parcellate a run's preprocessed BOLD, clean the region series and pair them with ratings."""
    input:
        unpack(run_inputs),
    output:
        timeseries=run_path("timeseries", ".tsv"),
        qc=run_path("timeseries", ".json"),
    log:
        log_path("extract_signals"),
    benchmark:
        benchmark_path("extract_signals")
    group:
        "run"
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        tr=run_tr,
        denoise=config["denoise"],
        alignment=config["alignment"],
        rating_column=config["ratings"]["column"],
        atlas_subcortex=SUBCORTEX,
    script:
        "../../scripts/extract_signals.py"
