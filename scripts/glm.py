"""Snakemake adapter of painflow.steps.glm.glm."""

from painflow.steps.glm import glm
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    glm(
        effects=list(snakemake.input.effects),
        sidecars=list(snakemake.input.sidecars),
        atlas_image=snakemake.input.atlas_image,
        atlas_labels=snakemake.input.get("atlas_labels"),
        atlas_subcortex=snakemake.params.atlas_subcortex,
        glm=snakemake.params.glm,
        surfaces=snakemake.params.surfaces,
        subject=snakemake.wildcards.subject,
        outputs={
            name: getattr(snakemake.output, name)
            for name in ("tmap", "tmap_json", "fdr", "fdr_json", "table")
        },
        figure_out=snakemake.output.figure,
    )
