"""Snakemake adapter of painflow.steps.decoding.fit_motion_control."""

from painflow.steps.decoding import fit_motion_control
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    fit_motion_control(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        predictions_out=snakemake.output.predictions,
        folds_out=snakemake.output.folds,
    )
