rule edge_features:
    """Z-score a run's region series and average its edge time series in rating and time bins."""
    input:
        timeseries=STUDY.run_output("timeseries", ".tsv"),
        qc=STUDY.run_output("timeseries", ".json"),
    output:
        features=STUDY.run_output("edges", ".npz"),
    log:
        STUDY.log("edge_features"),
    group:
        "run"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        features=config["features"],
    script:
        "../../scripts/edge_features.py"
