"""Snakemake adapter of painflow.steps.fmriprep.collect_run_outputs."""

from painflow.steps.fmriprep import collect_run_outputs
from painflow.steps.recorded import recorded_step

with recorded_step(snakemake):
    collect_run_outputs(
        session_root=snakemake.input.session,
        merged_root=snakemake.params.derivatives,
        outputs=list(snakemake.output),
    )
