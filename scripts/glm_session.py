"""Snakemake adapter of painflow.steps.glm.glm_session."""

from painflow.steps.glm import glm_session
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    glm_session(
        bold=list(snakemake.input.bold),
        confounds=list(snakemake.input.confounds),
        ratings=list(snakemake.input.ratings),
        runs=snakemake.params.runs,
        trs=snakemake.params.trs,
        denoise=snakemake.params.denoise,
        alignment=snakemake.params.alignment,
        rating_column=snakemake.params.rating_column,
        glm=snakemake.params.glm,
        surfaces=snakemake.params.surfaces,
        session=snakemake.wildcards.session,
        effect_out=snakemake.output.effect,
        sidecar_out=snakemake.output.sidecar,
    )
