"""Snakemake adapter of painflow.steps.prospective.prospective_model."""

from painflow.steps.prospective import prospective_model
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    prospective_model(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        training_sessions=snakemake.params.training_sessions,
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        model_out=snakemake.output.model,
    )
