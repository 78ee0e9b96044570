"""Steps ``nuisance_decoder`` and ``nuisance``: specificity of the pain model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from painflow.analyses.metrics import add_time_bins, metrics_table
from painflow.analyses.nuisance import nuisance_runs
from painflow.analyses.partial import ROW_COLUMNS, partial_r_table
from painflow.analyses.permutation import permutation_null
from painflow.analyses.windows import run_windows
from painflow.core.bids import file_key
from painflow.core.fileio import read_tsv, write_tsv
from painflow.model.crossval import nested_loso
from painflow.model.loading import load_subject_features
from painflow.report.nuisanceplots import plot_nuisance
from painflow.signals.edges import FeatureSettings

# The decoders' per-volume tables: the target's value in place of the rating.
VALUE_COLUMN = "value"
NUISANCE_COLUMNS = (*ROW_COLUMNS, "permutation_p")
LABELS = {"session": str, "run": str, "fold": str}


def _by_run(paths: list[str], units: dict) -> dict:
    """Each file keyed by its run's ``(session, run)`` labels."""
    return {
        (str(units[file_key(p)]["session"]), str(units[file_key(p)]["run"])): p
        for p in paths
    }


def nuisance_decoder(
    features: list[str],
    qc_files: list[str],
    confounds: list[str],
    units: dict,
    subject: str,
    target: str,
    feature_settings: dict,
    max_components: int | None,
    predictions_out: str,
) -> None:
    """Nested LOSO decoding of one nuisance target with the pain decoder's pipeline.

    Parameters
    ----------
    features, qc_files : list of str
        The subject's run features and QC sidecars.
    confounds : list of str
        The runs' fMRIPrep confounds tables (empty for targets not read there).
    units : dict
        Name (file_key) of each input file to its run's ``session`` and ``run``.
    subject : str
        Subject label.
    target : str
        One of :data:`painflow.signals.nuisance.NUISANCE_TARGETS`.
    feature_settings : dict
        Config section ``features`` (the target's rank bins).
    max_components : int or None
        Upper limit of the number of components.
    predictions_out : str
        Destination: the per-volume predictions, the target in ``value``.
    """
    trs = run_windows(qc_files, units).set_index(["session", "run"])["tr"].to_dict()
    runs = nuisance_runs(
        load_subject_features(features, units),
        target,
        FeatureSettings(**feature_settings),
        trs,
        _by_run(confounds, units),
    )
    result = nested_loso(runs, subject, max_components)
    predictions = result.predictions.rename(columns={"rating": VALUE_COLUMN})
    write_tsv(predictions_out, predictions)


def _read_volumes(path: str, windows, time_bins: dict, rating: str) -> pd.DataFrame:
    """Per-volume predictions with time bins; ``rating`` names the actual values."""
    volumes = read_tsv(path, dtype=LABELS).rename(columns={rating: "rating"})
    return add_time_bins(volumes, windows, time_bins)


def _with_covariates(pain: pd.DataFrame, decoders: dict, paths: dict) -> pd.DataFrame:
    """Pain predictions with each target's series and decoded series as columns.

    Raises
    ------
    ValueError
        Naming the decoder's file when it lacks volumes the pain model predicted.
    """
    keys = ["session", "run", "volume"]
    merged = pain
    for target, volumes in decoders.items():
        columns = volumes.loc[:, [*keys, "rating", "predicted"]].rename(
            columns={"rating": f"{target}_series", "predicted": f"{target}_decoded"}
        )
        merged = merged.merge(columns, on=keys, how="left", validate="1:1")
        if merged[f"{target}_series"].isna().any():
            raise ValueError(
                f"{paths[target]}: volumes of the pain model's predictions are "
                "missing; run the nuisance decoder again on the same features"
            )
    return merged


def nuisance(
    predictions: str,
    decoder_predictions: list[str],
    targets: list[str],
    qc_files: list[str],
    units: dict,
    subject: str,
    time_bins: dict,
    scales: list[str],
    n_bootstrap: int,
    n_permutations: int,
    seed: int,
    table_out: str,
    figure_out: str,
) -> None:
    """Nuisance decoders' metrics, the pain model's partial r and permutation p.

    Parameters
    ----------
    predictions : str
        The pain model's nested LOSO per-volume predictions.
    decoder_predictions : list of str
        Each nuisance decoder's per-volume predictions, in the order of ``targets``.
    targets : list of str
        The nuisance targets.
    qc_files : list of str
        QC sidecars of the subject's runs (analysis windows).
    units : dict
        Name (file_key) of each QC file to its run's ``session`` and ``run``.
    subject : str
        Subject label.
    time_bins : dict
        Config ``features.time_bins``.
    scales : list of str
        Scales of the metrics.
    n_bootstrap, n_permutations, seed : int
        Bootstrap resamples, permutations and seed.
    table_out, figure_out : str
        Destinations of the table and the figure.
    """
    windows = run_windows(qc_files, units)
    pain = _read_volumes(predictions, windows, time_bins, "rating")
    paths = dict(zip(targets, decoder_predictions, strict=True))
    decoders = {
        target: _read_volumes(path, windows, time_bins, VALUE_COLUMN)
        for target, path in paths.items()
    }
    # One seed: every table below resamples the same units the same way.
    decoder_rows = [
        metrics_table(volumes, scales, n_bootstrap, seed).assign(target=target)
        for target, volumes in decoders.items()
    ]
    covariates = {}
    for target in targets:
        covariates[f"{target}_series"] = (target, "pain_partial_r")
        covariates[f"{target}_decoded"] = (target, "pain_partial_r_decoded")
    partial = partial_r_table(
        _with_covariates(pain, decoders, paths), covariates, scales, n_bootstrap, seed
    )
    null = permutation_null(pain, scales, n_permutations, seed)
    plain = (partial["target"] == "pain") & (partial["metric"] == "r")
    partial["permutation_p"] = np.nan
    partial.loc[plain, "permutation_p"] = partial.loc[plain, "scale"].map(
        null.set_index("scale")["permutation_p"]
    )
    table = pd.concat([*decoder_rows, partial], ignore_index=True)
    table = table.reindex(columns=list(NUISANCE_COLUMNS))
    write_tsv(table_out, table)
    plot_nuisance(table, f"sub-{subject}: specificity", figure_out)
