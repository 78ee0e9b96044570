"""Snakemake adapter of painflow.steps.prospective.prospective_expanding."""

from painflow.steps.prospective import prospective_expanding
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    prospective_expanding(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        qc_files=list(snakemake.input.qc),
        order=snakemake.params.order,
        test_session=snakemake.wildcards.session,
        min_train_sessions=snakemake.params.min_train_sessions,
        max_components=snakemake.params.max_components,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        table_out=snakemake.output.table,
        predictions_out=snakemake.output.predictions,
    )
