"""Snakemake adapter of painflow.steps.prospective.summarize_prospective."""

from painflow.steps.prospective import summarize_prospective
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    summarize_prospective(
        tables=list(snakemake.input.tables),
        predictions=list(snakemake.input.predictions),
        qc_files=list(snakemake.input.qc),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        n_bootstrap=snakemake.params.n_bootstrap,
        seed=snakemake.params.seed,
        table_out=snakemake.output.table,
        metrics_out=snakemake.output.metrics,
        figure_out=snakemake.output.figure,
    )
