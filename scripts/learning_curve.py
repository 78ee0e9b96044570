"""Snakemake adapter of painflow.steps.learning.learning_curve."""

from painflow.steps.learning import learning_curve
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    learning_curve(
        features=list(snakemake.input.features),
        sessions=snakemake.params.sessions,
        runs=snakemake.params.runs,
        qc_files=list(snakemake.input.qc),
        folds=snakemake.input.folds,
        n_train_sessions=int(snakemake.wildcards.size),
        n_repeats=snakemake.params.n_repeats,
        seed=snakemake.params.seed,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        table_out=snakemake.output.table,
    )
