localrules:
    summarize_prospective,


rule prospective:
    """Predict one session with a model trained only on the sessions scanned before it."""
    input:
        features=run_files_up_to("edges", ".npz"),
        qc=run_files_up_to("timeseries", ".json"),
    output:
        table=prospective_path(),
    log:
        log_path("prospective", level="session"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        sessions=lambda wildcards: list(runs_up_to(wildcards)["session"]),
        runs=lambda wildcards: list(runs_up_to(wildcards)["run"]),
        # Later sessions are left out so that a new session leaves this job valid.
        order=sessions_up_to,
        min_train_sessions=config["prospective"]["min_train_sessions"],
        max_components=config["decoder"]["max_components"],
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
    script:
        "../../scripts/prospective.py"


rule summarize_prospective:
    """Gather a subject's prospective tests in scan order, with a figure."""
    input:
        tables=lambda wildcards: [
            prospective_path(wildcards.subject, session)
            for session in prospective_sessions(wildcards.subject)
        ],
    output:
        table=subject_path("prospective", ".tsv"),
        figure=report(
            figure_path("prospective"),
            caption="../report/prospective.rst",
            category="Prospective test",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "prospective"},
        ),
    log:
        log_path("summarize_prospective", level="subject"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/summarize_prospective.py"
