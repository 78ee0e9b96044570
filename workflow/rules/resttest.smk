rule extract_rest_signals:
    """Parcellate and clean a session's rest run as a rating run, band-passed."""
    input:
        unpack(rest_run_inputs),
    output:
        timeseries=STUDY.rest_series("timeseries", ".tsv"),
        qc=STUDY.rest_series("timeseries", ".json"),
    log:
        STUDY.log("extract_rest_signals", level="session"),
    benchmark:
        STUDY.benchmark("extract_rest_signals", level="session")
    group:
        "rest"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        tr=lambda wildcards: float(
            STUDY.rest_test.run(wildcards.subject, wildcards.session)["tr"]
        ),
        denoise=config["denoise"],
        alignment=config["alignment"],
        band_hz=[
            config["rest_test"]["high_pass_hz"],
            config["rest_test"]["low_pass_hz"],
        ],
        atlas_subcortex=STUDY.subcortex,
    script:
        "../../scripts/extract_rest_signals.py"


rule rest_test:
    """Score each session's rest run with the subject's models; compare with its rating."""
    input:
        unpack(rest_test_inputs),
    output:
        table=STUDY.output("resttest", ".tsv"),
        metrics=report(
            STUDY.rest_test_output("metrics"),
            caption="../report/resttestmetrics.rst",
            category="Rest-run test",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "metrics"},
        ),
        qc=STUDY.rest_test_output("qc"),
        figure=report(
            STUDY.rest_test_output("figure"),
            caption="../report/resttest.rst",
            category="Rest-run test",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "item": "figure"},
        ),
    log:
        STUDY.log("rest_test", level="subject"),
    benchmark:
        STUDY.benchmark("rest_test", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        units=run_units("rating_qc"),
        sessions=lambda wildcards: STUDY.rest_test_sessions(wildcards.subject),
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../../scripts/rest_test.py"
