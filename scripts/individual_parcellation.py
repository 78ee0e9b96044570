"""Snakemake adapter of painflow.steps.parcellation.individual_parcellation."""

from painflow.steps.parcellation import individual_parcellation
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    individual_parcellation(
        bold=list(snakemake.input.bold),
        confounds=list(snakemake.input.confounds),
        trs=snakemake.params.trs,
        surfaces=snakemake.params.surfaces,
        denoise=snakemake.params.denoise,
        individual=snakemake.params.individual,
        seed=snakemake.params.seed,
        image_out=snakemake.output.image,
        labels_out=snakemake.output.labels,
        description_out=snakemake.output.description,
        figure_out=snakemake.output.figure,
    )
