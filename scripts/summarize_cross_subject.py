"""Snakemake adapter of painflow.steps.crosssubject.summarize_cross_subject."""

from painflow.steps.crosssubject import summarize_cross_subject
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    summarize_cross_subject(
        pair_tables=list(snakemake.input.pairs),
        metrics_files=list(snakemake.input.metrics),
        subjects=snakemake.params.subjects,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
