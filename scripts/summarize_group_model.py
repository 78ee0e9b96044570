"""Snakemake adapter of painflow.steps.groupmodel.summarize_group_model."""

from painflow.steps.groupmodel import summarize_group_model
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    summarize_group_model(
        tables=list(snakemake.input.tables),
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
