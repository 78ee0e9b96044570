"""Snakemake adapter of painflow.steps.groupmodel.group_model."""

from painflow.steps.groupmodel import group_model
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    group_model(
        features=list(snakemake.input.features),
        pool_features=list(snakemake.input.pool),
        qc_files=list(snakemake.input.qc),
        predictions=snakemake.input.predictions,
        units=snakemake.params.units,
        pool_subjects=snakemake.params.pool_subjects,
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        matched=snakemake.params.matched,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        n_bootstrap=snakemake.params.n_bootstrap,
        seed=snakemake.params.seed,
        table_out=snakemake.output.table,
    )
