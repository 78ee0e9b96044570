"""Snakemake adapter of painflow.steps.evaluation.evaluate."""

from painflow.steps.evaluation import evaluate
from painflow.workflow.recorded import recorded_step

with recorded_step(snakemake):
    evaluate(
        predictions=snakemake.input.predictions,
        motion_predictions=snakemake.input.motion_predictions,
        qc_files=list(snakemake.input.qc),
        units=snakemake.params.units,
        subject=snakemake.wildcards.subject,
        time_bins=snakemake.params.time_bins,
        scales=snakemake.params.scales,
        n_bootstrap=snakemake.params.n_bootstrap,
        seed=snakemake.params.seed,
        metrics_out=snakemake.output.metrics,
        figures_out={
            name: getattr(snakemake.output, name)
            for name in ("timecourse", "scatter", "roc")
        },
    )
