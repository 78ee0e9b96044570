"""Snakemake adapter of painflow.steps.evaluation.describe_dataset."""

from painflow.steps.evaluation import describe_dataset
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    describe_dataset(
        bids_dir=snakemake.params.bids_dir,
        fmriprep_dir=snakemake.params.fmriprep_dir,
        description_out=snakemake.output[0],
        fmriprep_run=snakemake.params.fmriprep_run,
    )
