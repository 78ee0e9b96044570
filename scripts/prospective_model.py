"""Snakemake adapter of painflow.steps.prospective.prospective_model."""

from painflow.model.metadata import ATLAS_INPUTS
from painflow.steps.prospective import prospective_model
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    prospective_model(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        qc_files=list(snakemake.input.qc),
        training_sessions=snakemake.params.training_sessions,
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        settings=snakemake.params.settings,
        atlas_files={key: snakemake.input.get(key) for key in ATLAS_INPUTS},
        model_out=snakemake.output.model,
    )
