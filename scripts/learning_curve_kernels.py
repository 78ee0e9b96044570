"""Snakemake adapter of painflow.steps.learning.learning_curve_kernels."""

from painflow.steps.learning import learning_curve_kernels
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    learning_curve_kernels(
        features=list(snakemake.input.features),
        sessions=snakemake.params.sessions,
        runs=snakemake.params.runs,
        scales=snakemake.params.scales,
        kernels_out=snakemake.output.kernels,
    )
