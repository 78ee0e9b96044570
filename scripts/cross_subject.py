"""Snakemake adapter of painflow.steps.crosssubject.cross_subject."""

from painflow.steps.crosssubject import cross_subject
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    cross_subject(
        model=snakemake.input.model,
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        qc_files=list(snakemake.input.qc),
        train_subject=snakemake.wildcards.train,
        test_subject=snakemake.wildcards.test,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        table_out=snakemake.output.table,
    )
