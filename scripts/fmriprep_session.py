"""Snakemake adapter of painflow.steps.fmriprep.fmriprep_session."""

from painflow.steps.fmriprep import fmriprep_session
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    fmriprep_session(
        bids_dir=snakemake.params.bids_dir,
        subject=snakemake.wildcards.subject,
        session=snakemake.wildcards.session,
        fmriprep=snakemake.params.fmriprep,
        license_path=snakemake.params.license,
        output_dir=snakemake.output.session,
        anat_dir=snakemake.params.anat_dir,
        work_dir=snakemake.params.work_dir,
        tasks=snakemake.params.tasks,
        entities=snakemake.params.entities,
        threads=snakemake.threads,
        mem_mb=snakemake.resources.mem_mb,
        log_path=snakemake.log[0],
    )
