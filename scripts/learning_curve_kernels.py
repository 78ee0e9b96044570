"""Snakemake adapter of painflow.steps.learningcurve.learning_curve_kernels."""

from painflow.steps.learningcurve import learning_curve_kernels
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    learning_curve_kernels(
        features=list(snakemake.input.features),
        units=snakemake.params.units,
        scales=snakemake.params.scales,
        kernels_out=snakemake.output.kernels,
    )
