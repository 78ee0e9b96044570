# A study without sessions has no later session to predict (and no session
# wildcard for the rule's log and benchmark).
if STUDY.prospective.mode == "split" and STUDY.has_sessions:

    rule predict:
        """Score a later session with the prospective model: intervals, figure, metrics."""
        input:
            # Only the model and this session: a session that arrives is scored alone.
            model=STUDY.output("model", ".npz", desc="prospective"),
            features=run_files_in(job_session, "edges", ".npz"),
            qc=run_files_in(job_session, "timeseries", ".json"),
        output:
            predictions=predict_outputs("predictions"),
            timebins=report(
                predict_outputs("timebins"),
                caption="../report/predicttimebins.rst",
                category="Prediction of new sessions",
                subcategory="sub-{subject}",
                labels={
                    "subject": "{subject}",
                    "session": "{session}",
                    "figure": "predicted pain per time bin",
                },
            ),
            metrics=predict_outputs("metrics"),
            figure=report(
                predict_outputs("figure"),
                caption="../report/predict.rst",
                category="Prediction of new sessions",
                subcategory="sub-{subject}",
                labels={
                    "subject": "{subject}",
                    "session": "{session}",
                    "figure": "predicted pain",
                },
            ),
        log:
            STUDY.log("predict", level="session"),
        benchmark:
            STUDY.benchmark("predict", level="session")
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=lambda wildcards, attempt: 2000 * attempt,
            runtime=lambda wildcards, attempt: 10 * attempt,
        params:
            units=run_units("features", "qc"),
            level=config["predict"]["level"],
        script:
            "../../scripts/predict.py"
