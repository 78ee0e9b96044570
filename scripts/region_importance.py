"""Snakemake adapter of painflow.steps.importance.region_importance."""

from painflow.steps.importance import region_importance
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    region_importance(
        contributions=snakemake.input.contributions,
        atlas_image=snakemake.input.atlas_image,
        atlas_labels=snakemake.input.get("atlas_labels"),
        atlas_subcortex=snakemake.params.atlas_subcortex,
        reference=snakemake.input.reference,
        surfaces=snakemake.params.surfaces,
        subject=snakemake.wildcards.subject,
        n_permutations=snakemake.params.n_permutations,
        n_shown=snakemake.params.n_shown,
        seed=snakemake.params.seed,
        table_out=snakemake.output.table,
        bars_out=snakemake.output.bars,
        brain_out=snakemake.output.brain,
    )
