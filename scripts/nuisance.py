"""Snakemake adapter of painflow.steps.nuisance.nuisance."""

from painflow.steps.nuisance import nuisance
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    nuisance(
        predictions=snakemake.input.predictions,
        decoder_predictions=list(snakemake.input.decoders),
        targets=snakemake.params.targets,
        qc_files=list(snakemake.input.qc),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        n_bootstrap=snakemake.params.n_bootstrap,
        n_permutations=snakemake.params.n_permutations,
        seed=snakemake.params.seed,
        table_out=snakemake.output.table,
        figure_out=snakemake.output.figure,
    )
