rule edge_features:
    """Z-score a run's region series and average its edge time series in rating and time bins."""
    input:
        timeseries=run_path("timeseries", ".tsv"),
        qc=run_path("timeseries", ".json"),
    output:
        features=run_path("edges", ".npz"),
    log:
        log_path("edge_features"),
    group:
        "run"
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        features=config["features"],
    script:
        "../../scripts/edge_features.py"
