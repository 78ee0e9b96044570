"""Snakemake adapter of painflow.steps.resttest.extract_rest_signals."""

from painflow.steps.resttest import extract_rest_signals
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    extract_rest_signals(
        bold=snakemake.input.bold,
        confounds=snakemake.input.confounds,
        atlas_image=snakemake.input.atlas_image,
        atlas_labels=snakemake.input.get("atlas_labels"),
        atlas_subcortex=snakemake.params.atlas_subcortex,
        tr=snakemake.params.tr,
        denoise=snakemake.params.denoise,
        alignment=snakemake.params.alignment,
        band_hz=tuple(snakemake.params.band_hz),
        timeseries_out=snakemake.output.timeseries,
        qc_out=snakemake.output.qc,
    )
