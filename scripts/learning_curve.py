"""Snakemake adapter of painflow.steps.learningcurve.learning_curve."""

from painflow.steps.learningcurve import learning_curve
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    learning_curve(
        kernels=snakemake.input.kernels,
        folds=snakemake.input.folds,
        n_train_sessions=int(snakemake.wildcards.size),
        n_repeats=snakemake.params.n_repeats,
        n_bootstrap=snakemake.params.n_bootstrap,
        seed=snakemake.params.seed,
        scales=snakemake.params.scales,
        table_out=snakemake.output.table,
        summary_out=snakemake.output.summary,
    )
