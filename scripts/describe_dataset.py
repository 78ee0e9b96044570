"""Snakemake adapter of painflow.steps.evaluation.describe_dataset."""

from painflow.steps.evaluation import describe_dataset
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    describe_dataset(
        bids_dir=snakemake.params.bids_dir,
        fmriprep_dir=snakemake.params.fmriprep_dir,
        description_out=snakemake.output[0],
        fmriprep_run=snakemake.params.fmriprep_run,
    )
