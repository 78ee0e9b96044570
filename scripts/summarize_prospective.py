"""Snakemake adapter of painflow.steps.prospective.summarize_prospective."""

from painflow.steps.logs import logged
from painflow.steps.prospective import summarize_prospective

with logged(snakemake.log[0]):
    summarize_prospective(
        tables=list(snakemake.input.tables),
        subject=snakemake.wildcards.subject,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
