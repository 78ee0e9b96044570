"""Snakemake adapter of painflow.steps.predict.predict."""

from painflow.steps.predict import predict
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    predict(
        model=snakemake.input.model,
        features=list(snakemake.input.features),
        qc_files=list(snakemake.input.qc),
        units=snakemake.params.units,
        level=snakemake.params.level,
        title=f"sub-{snakemake.wildcards.subject} ses-{snakemake.wildcards.session}",
        predictions_out=snakemake.output.predictions,
        timebins_out=snakemake.output.timebins,
        figure_out=snakemake.output.figure,
        metrics_out=snakemake.output.metrics,
    )
