"""Snakemake adapter of painflow.steps.features.edge_features."""

from painflow.steps.features import edge_features
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    edge_features(
        timeseries=snakemake.input.timeseries,
        qc=snakemake.input.qc,
        features=snakemake.params.features,
        features_out=snakemake.output.features,
    )
