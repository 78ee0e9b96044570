"""Snakemake adapter of painflow.steps.evaluation.qc_table."""

from painflow.steps.evaluation import qc_table
from painflow.steps.logs import logged

with logged(snakemake.log[0]):
    qc_table(
        qc_files=list(snakemake.input.qc),
        sessions=snakemake.params.sessions,
        runs=snakemake.params.runs,
        qc_out=snakemake.output.table,
    )
