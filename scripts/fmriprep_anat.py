"""Snakemake adapter of painflow.steps.fmriprep.fmriprep_anat."""

from painflow.steps.fmriprep import fmriprep_anat
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    fmriprep_anat(
        bids_dir=snakemake.params.bids_dir,
        subject=snakemake.wildcards.subject,
        fmriprep=snakemake.params.fmriprep,
        license_path=snakemake.params.license,
        output_dir=snakemake.params.output_dir,
        work_dir=snakemake.params.work_dir,
        tasks=snakemake.params.tasks,
        threads=snakemake.threads,
        mem_mb=snakemake.resources.mem_mb,
        log_path=snakemake.log[0],
    )
