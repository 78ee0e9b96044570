"""Snakemake adapter of painflow.steps.learningcurve.summarize_learning_curve."""

from painflow.steps.learningcurve import summarize_learning_curve
from painflow.workflow.recorded import recorded_step

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
