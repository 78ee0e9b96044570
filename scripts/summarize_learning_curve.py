"""Snakemake adapter of painflow.steps.learning.summarize_learning_curve."""

from painflow.steps.learning import summarize_learning_curve
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    summarize_learning_curve(
        tables=list(snakemake.input.tables),
        subject=snakemake.wildcards.subject,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
