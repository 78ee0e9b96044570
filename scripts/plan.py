"""Snakemake adapter of painflow.steps.plan.plan."""

from painflow.steps.plan import plan
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    plan(
        learning_curve=snakemake.input.learning_curve,
        subject=snakemake.wildcards.subject,
        settings=dict(snakemake.params.settings),
        seed=snakemake.params.seed,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
