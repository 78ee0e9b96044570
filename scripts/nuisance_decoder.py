"""Snakemake adapter of painflow.steps.nuisance.nuisance_decoder."""

from painflow.steps.nuisance import nuisance_decoder
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    nuisance_decoder(
        features=list(snakemake.input.features),
        qc_files=list(snakemake.input.qc),
        confounds=list(snakemake.input.confounds),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        target=snakemake.wildcards.target,
        feature_settings=snakemake.params.feature_settings,
        max_components=snakemake.params.max_components,
        predictions_out=snakemake.output.predictions,
    )
