"""Snakemake adapter of painflow.steps.evaluation.qc_table."""

from painflow.steps.evaluation import qc_table
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    qc_table(
        qc_files=list(snakemake.input.qc),
        feature_files=list(snakemake.input.features),
        sessions=snakemake.params.sessions,
        runs=snakemake.params.runs,
        subject=snakemake.wildcards.subject,
        max_censored_fraction=snakemake.params.max_censored_fraction,
        min_binned_fraction=snakemake.params.min_binned_fraction,
        qc_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
