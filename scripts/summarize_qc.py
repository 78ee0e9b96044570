"""Snakemake adapter of painflow.steps.qc.summarize_qc."""

from painflow.steps.qc import summarize_qc
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    summarize_qc(
        qc_files=list(snakemake.input.qc),
        feature_files=list(snakemake.input.features),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        max_censored_fraction=snakemake.params.max_censored_fraction,
        min_binned_fraction=snakemake.params.min_binned_fraction,
        qc_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
