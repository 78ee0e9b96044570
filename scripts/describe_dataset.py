"""Snakemake adapter of painflow.steps.dataset.describe_dataset."""

from painflow.steps.dataset import describe_dataset
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    describe_dataset(
        bids_dir=snakemake.params.bids_dir,
        fmriprep_dir=snakemake.params.fmriprep_dir,
        scan_order=snakemake.params.scan_order,
        description_out=snakemake.output.description,
        scan_order_out=snakemake.output.scan_order,
        fmriprep_run=snakemake.params.fmriprep_run,
    )
