"""Snakemake adapter of painflow.steps.atlas.named_atlas."""

from painflow.steps.atlas import named_atlas
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    named_atlas(
        name=snakemake.params.name,
        reference=snakemake.input.reference,
        image_out=snakemake.output.image,
        labels_out=snakemake.output.labels,
        description_out=snakemake.output.description,
        cache_dir=snakemake.params.cache_dir,
    )
