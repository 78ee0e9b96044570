"""Snakemake adapter of painflow.steps.evaluation.cross_subject_summary."""

from painflow.steps.evaluation import cross_subject_summary
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    cross_subject_summary(
        pair_tables=list(snakemake.input.pairs),
        metrics_files=list(snakemake.input.metrics),
        subjects=snakemake.params.subjects,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
