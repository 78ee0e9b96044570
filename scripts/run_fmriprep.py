"""Snakemake adapter of painflow.steps.fmriprep.run_fmriprep (anatomy or session)."""

from pathlib import Path

from painflow.inputs.fmriprep import FmriprepJob
from painflow.steps.fmriprep import fmriprep_settings, run_fmriprep
from painflow.steps.recorded import recorded_step

session = snakemake.wildcards.get("session")
work_dir = Path(snakemake.params.work_dir)
job = FmriprepJob(
    bids_dir=Path(snakemake.config["bids_dir"]).resolve(),
    output_dir=Path(
        snakemake.output.session if session else snakemake.params.output_dir
    ).resolve(),
    work_dir=work_dir.resolve(),
    subject=snakemake.wildcards.subject,
    session=session,
    filter_file=(work_dir / "bids_filter.json").resolve() if session else None,
    anat_dir=Path(snakemake.params.anat_dir).resolve() if session else None,
    threads=snakemake.threads,
    mem_mb=snakemake.resources.mem_mb,
)
fmriprep = dict(
    snakemake.params.fmriprep,
    output_spaces=snakemake.params.output_spaces,
    cifti_output=snakemake.params.cifti_output,
)
with recorded_step(snakemake):
    run_fmriprep(
        fmriprep_settings(fmriprep, snakemake.params.license),
        job,
        snakemake.params.task,
        snakemake.log[0],
    )
