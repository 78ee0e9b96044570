"""Snakemake adapter of painflow.steps.learning.summarize_learning_curve."""

from painflow.steps.learning import summarize_learning_curve
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    summarize_learning_curve(
        tables=list(snakemake.input.tables),
        summaries=list(snakemake.input.summaries),
        metrics=snakemake.input.metrics,
        subject=snakemake.wildcards.subject,
        table_out=snakemake.output.table,
        summary_out=snakemake.output.summary,
        figure_out=snakemake.output.figure,
    )
