"""Snakemake adapter of painflow.steps.decoding.fit_decoder."""

from painflow.steps.decoding import fit_decoder
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    fit_decoder(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        max_components=snakemake.params.max_components,
        importance_scale=snakemake.params.importance_scale,
        predictions_out=snakemake.output.predictions,
        folds_out=snakemake.output.folds,
        model_out=snakemake.output.model,
        contributions_out=snakemake.output.contributions,
        fold_models_out=snakemake.output.fold_models,
    )
