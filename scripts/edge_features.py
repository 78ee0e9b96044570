"""Snakemake adapter of painflow.steps.features.edge_features."""

from painflow.steps.features import edge_features
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    edge_features(
        timeseries=snakemake.input.timeseries,
        qc=snakemake.input.qc,
        features=snakemake.params.features,
        features_out=snakemake.output.features,
    )
