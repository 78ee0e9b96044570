"""Snakemake adapter of painflow.steps.prospective.summarize_prospective."""

from painflow.steps.prospective import summarize_prospective
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    summarize_prospective(
        tables=list(snakemake.input.tables),
        subject=snakemake.wildcards.subject,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
