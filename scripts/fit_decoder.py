"""Snakemake adapter of painflow.steps.decoding.fit_decoder."""

from painflow.model.metadata import ATLAS_INPUTS
from painflow.steps.decoding import fit_decoder
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    fit_decoder(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        qc_files=list(snakemake.input.qc),
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        settings=snakemake.params.settings,
        atlas_files={key: snakemake.input.get(key) for key in ATLAS_INPUTS},
        importance_scale=snakemake.params.importance_scale,
        predictions_out=snakemake.output.predictions,
        folds_out=snakemake.output.folds,
        model_out=snakemake.output.model,
        contributions_out=snakemake.output.contributions,
        fold_models_out=snakemake.output.fold_models,
    )
