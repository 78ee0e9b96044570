"""Snakemake adapter of painflow.steps.signals.extract_signals."""

from painflow.steps.signals import extract_signals
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    extract_signals(
        bold=snakemake.input.bold,
        confounds=snakemake.input.confounds,
        ratings=snakemake.input.ratings,
        atlas_image=snakemake.input.atlas_image,
        atlas_labels=snakemake.input.get("atlas_labels"),
        atlas_subcortex=snakemake.params.atlas_subcortex,
        tr=snakemake.params.tr,
        denoise=snakemake.params.denoise,
        alignment=snakemake.params.alignment,
        rating_column=snakemake.params.rating_column,
        timeseries_out=snakemake.output.timeseries,
        qc_out=snakemake.output.qc,
    )
