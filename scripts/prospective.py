"""Snakemake adapter of painflow.steps.prospective.prospective."""

from painflow.steps.prospective import prospective
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    prospective(
        model=snakemake.input.model,
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        qc_files=list(snakemake.input.qc),
        test_session=snakemake.wildcards.session,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        table_out=snakemake.output.table,
        predictions_out=snakemake.output.predictions,
    )
