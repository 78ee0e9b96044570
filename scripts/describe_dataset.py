"""Snakemake adapter of painflow.steps.evaluation.describe_dataset."""

from painflow.steps.evaluation import describe_dataset
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    describe_dataset(
        bids_dir=snakemake.params.bids_dir,
        fmriprep_dir=snakemake.params.fmriprep_dir,
        scan_order=snakemake.params.scan_order,
        description_out=snakemake.output.description,
        scan_order_out=snakemake.output.scan_order,
        fmriprep_run=snakemake.params.fmriprep_run,
    )
