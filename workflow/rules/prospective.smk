if STUDY.prospective.mode == "split":

    rule prospective_model:
        """Train the prospective model once, on the first sessions in scan order."""
        input:
            unpack(subject_atlas),
            features=run_files_in(prospective_training_sessions, "edges", ".npz"),
            qc=run_files_in(prospective_training_sessions, "timeseries", ".json"),
        output:
            model=STUDY.output("model", ".npz", desc="prospective"),
        log:
            STUDY.log("prospective_model", level="subject"),
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=lambda wildcards, attempt: 4000 * attempt,
            runtime=lambda wildcards, attempt: 30 * attempt,
        params:
            units=run_units("features", "qc"),
            training_sessions=prospective_training_sessions,
            max_components=config["decoder"]["max_components"],
            settings=subject_model_settings,
        script:
            "../../scripts/prospective_model.py"

    rule prospective:
        """Predict one later session with the model of the first sessions."""
        input:
            # Only the model and this session: a new session leaves the others valid.
            model=STUDY.output("model", ".npz", desc="prospective"),
            features=run_files_in(job_session, "edges", ".npz"),
            qc=run_files_in(job_session, "timeseries", ".json"),
        output:
            table=STUDY.prospective_table(),
            predictions=STUDY.prospective_table("predictions"),
        log:
            STUDY.log("prospective", level="session"),
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=lambda wildcards, attempt: 2000 * attempt,
            runtime=lambda wildcards, attempt: 10 * attempt,
        params:
            units=run_units("features", "qc"),
            time_bins=config["features"]["time_bins"],
            scales=config["evaluation"]["scales"],
        script:
            "../../scripts/prospective.py"

else:

    rule prospective_expanding:
        """Predict one session with a model trained only on the sessions scanned before it."""
        input:
            features=run_files_in(sessions_up_to, "edges", ".npz"),
            qc=run_files_in(sessions_up_to, "timeseries", ".json"),
        output:
            table=STUDY.prospective_table(),
            predictions=STUDY.prospective_table("predictions"),
        log:
            STUDY.log("prospective_expanding", level="session"),
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=lambda wildcards, attempt: 4000 * attempt,
            runtime=lambda wildcards, attempt: 30 * attempt,
        params:
            units=run_units("features", "qc"),
            # Later sessions are left out so that a new session leaves this job valid.
            order=sessions_up_to,
            min_train_sessions=config["prospective"]["min_train_sessions"],
            max_components=config["decoder"]["max_components"],
            time_bins=config["features"]["time_bins"],
            scales=config["evaluation"]["scales"],
        script:
            "../../scripts/prospective_expanding.py"


rule summarize_prospective:
    """Gather a subject's prospective tests in scan order: pooled metrics, a figure."""
    input:
        tables=prospective_tables(),
        predictions=prospective_tables("predictions"),
        qc=run_files_in(prospective_tested_sessions, "timeseries", ".json"),
    output:
        table=STUDY.output("prospective", ".tsv"),
        metrics=report(
            STUDY.output("metrics", ".tsv", desc="prospective"),
            caption="../report/prospectivemetrics.rst",
            category="Prospective test",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "prospective metrics"},
        ),
        figure=report(
            STUDY.figure("prospective"),
            caption="../report/prospective.rst",
            category="Prospective test",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "prospective"},
        ),
    log:
        STUDY.log("summarize_prospective", level="subject"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        units=run_units("qc"),
        time_bins=config["features"]["time_bins"],
        scales=config["evaluation"]["scales"],
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../../scripts/summarize_prospective.py"
