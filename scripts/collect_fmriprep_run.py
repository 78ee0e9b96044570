"""Snakemake adapter of painflow.steps.fmriprep.collect_fmriprep_run."""

from painflow.steps.fmriprep import collect_fmriprep_run
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    collect_fmriprep_run(
        session_root=snakemake.input.session,
        merged_root=snakemake.params.derivatives,
        outputs=list(snakemake.output),
    )
