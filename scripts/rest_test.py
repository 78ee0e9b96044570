"""Snakemake adapter of painflow.steps.resttest.rest_test."""

from painflow.steps.resttest import rest_test
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    rest_test(
        model=snakemake.input.model,
        fold_models=snakemake.input.fold_models,
        rest_timeseries=list(snakemake.input.rest_timeseries),
        rating_qc=list(snakemake.input.rating_qc),
        units=snakemake.params.units,
        sessions=snakemake.params.sessions,
        subject=snakemake.wildcards.subject,
        n_bootstrap=snakemake.params.n_bootstrap,
        seed=snakemake.params.seed,
        outputs={
            name: getattr(snakemake.output, name)
            for name in ("table", "metrics", "qc", "figure")
        },
    )
