"""Snakemake adapter of painflow.steps.fmriprep.collect_run_outputs."""

from painflow.steps.fmriprep import collect_run_outputs
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    collect_run_outputs(
        session_root=snakemake.input.session,
        merged_root=snakemake.params.derivatives,
        outputs=list(snakemake.output),
    )
