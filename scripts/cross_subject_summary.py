"""Snakemake adapter of painflow.steps.evaluation.cross_subject_summary."""

from painflow.steps.evaluation import cross_subject_summary
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    cross_subject_summary(
        pair_tables=list(snakemake.input.pairs),
        metrics_files=list(snakemake.input.metrics),
        subjects=snakemake.params.subjects,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
