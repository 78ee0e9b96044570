"""A workflow step run inside its job's log, with the provenance of its outputs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from painflow.report.provenance import provenance_record, write_provenance
from painflow.workflow.logs import logged


@contextmanager
def recorded_step(snakemake) -> Iterator:
    """Log a step to its job's log; when it succeeds, record its outputs' provenance.

    Parameters
    ----------
    snakemake : snakemake.script.Snakemake
        The object Snakemake gives a rule's script: its rule, wildcards,
        inputs, outputs, params (the configuration values the step reads),
        config and log.

    Yields
    ------
    logging.Logger
        painflow's logger.
    """
    with logged(snakemake.log[0]) as log:
        yield log
        record = provenance_record(
            step=snakemake.rule,
            wildcards=dict(snakemake.wildcards.items()),
            inputs=list(snakemake.input),
            config=dict(snakemake.params.items()),
            seed=snakemake.config.get("seed"),
            workflow_dir=Path(snakemake.scriptdir).parent,
            root=snakemake.config["output_dir"],
        )
        write_provenance(list(snakemake.output), record, snakemake.config["output_dir"])
