"""Steps ``extract_rest_signals`` and ``rest_test``: the decoder on rest runs."""

from __future__ import annotations

import warnings

import pandas as pd

from painflow import __version__
from painflow.analyses.resttest import (
    REST_TEST_MODELS,
    first_run_ratings,
    rest_test_metrics,
    rest_test_table,
)
from painflow.analyses.windows import run_qc_table
from painflow.atlas.configured import load_configured_atlas
from painflow.core.bids import file_key
from painflow.core.fileio import read_json, read_npz, read_tsv, write_json, write_tsv
from painflow.model.crossval import fold_models_from_arrays, model_from_arrays
from painflow.parcellation.restdata import rest_settings
from painflow.report.plots import plot_scatter
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.extract import AlignmentSettings, extract_rest_run

REST_QC_COLUMNS = (
    "session",
    "rest_bold",
    "included",
    "reason",
    "n_censored",
    "fraction_censored",
    "mean_fd",
)
MODEL_LABELS = {"all": "all-sessions model", "loso": "model of the other sessions"}


def extract_rest_signals(
    bold: str,
    confounds: str,
    atlas_image: str,
    atlas_labels: str | None,
    atlas_subcortex: str,
    tr: float,
    denoise: dict,
    alignment: dict,
    band_hz: tuple[float, float],
    timeseries_out: str,
    qc_out: str,
) -> None:
    """Write a rest run's cleaned region series and its QC sidecar.

    Parameters
    ----------
    bold, confounds : str
        fMRIPrep's preprocessed BOLD and confounds table of the rest run.
    atlas_image, atlas_labels, atlas_subcortex : str
        As for :func:`painflow.steps.signals.extract_signals`.
    tr : float
        Repetition time (s).
    denoise, alignment : dict
        Config sections ``denoise`` and ``alignment``.
    band_hz : tuple of float
        The rest runs' band-pass (config ``rest_test.high_pass_hz`` and
        ``low_pass_hz``), in place of the rating runs' filter.
    timeseries_out, qc_out : str
        Destinations of the TSV and its JSON sidecar.
    """
    atlas = load_configured_atlas(atlas_image, atlas_labels, atlas_subcortex)
    table, qc = extract_rest_run(
        bold,
        confounds,
        tr=tr,
        atlas=atlas,
        denoise=rest_settings(DenoiseSettings(**denoise), tuple(band_hz)),
        align=AlignmentSettings(**alignment),
    )
    if not qc["included"]:
        warnings.warn(f"{bold}: rest run left out: {qc['reason']}", stacklevel=1)
    qc.update(
        {
            "Sources": [str(bold), str(confounds)],
            "Atlas": str(atlas_image),
            "RegionNames": atlas.names,
            "BandPassHz": list(band_hz),
            "painflow_version": __version__,
        }
    )
    write_tsv(timeseries_out, table)
    write_json(qc_out, qc)


def rest_test(
    model: str,
    fold_models: str,
    rest_timeseries: list[str],
    rating_qc: list[str],
    units: dict,
    sessions: dict,
    subject: str,
    n_bootstrap: int,
    seed: int,
    outputs: dict,
) -> None:
    """Score each session's rest run and compare it with the session's rating.

    Parameters
    ----------
    model, fold_models : str
        The subject's all-sessions model and its outer folds' models.
    rest_timeseries : list of str
        Region series of the subject's rest runs (their QC sidecars beside
        them, ``.json`` for ``.tsv``), one per session that has one.
    rating_qc : list of str
        QC sidecars of the subject's rating runs (their mean ratings).
    units : dict
        Name (file_key) of each rating QC file to its run's ``session`` and
        ``run`` labels.
    sessions : dict
        Every session with rating runs to the name (file_key) of its rest
        run's series, or None when it has no rest run.
    subject : str
        Subject label.
    n_bootstrap, seed : int
        Bootstrap resamples over sessions and seed.
    outputs : dict
        Destinations: ``table``, ``metrics``, ``qc`` (every session's
        inclusion and reason) and ``figure``.
    """
    weights = read_npz(model)
    regions = [str(name) for name in weights["region_names"]]
    series_of = {file_key(path): path for path in rest_timeseries}
    qc_rows, series = [], {}
    for session, name in sessions.items():
        row, values = _rest_session(session, name and series_of[name], regions)
        qc_rows.append(row)
        if values is not None:
            series[session] = values
    write_tsv(outputs["qc"], pd.DataFrame(qc_rows, columns=list(REST_QC_COLUMNS)))
    ratings = first_run_ratings(
        run_qc_table(rating_qc, units, {"rating_mean": "rating_mean"})
    )
    all_model = model_from_arrays(weights)
    folds = fold_models_from_arrays(read_npz(fold_models))
    table = rest_test_table(series, ratings, all_model, folds)
    write_tsv(outputs["table"], table)
    write_tsv(outputs["metrics"], rest_test_metrics(table, n_bootstrap, seed))
    plot_scatter(
        {
            MODEL_LABELS[name]: table[table["model"] == name]
            for name in REST_TEST_MODELS
        },
        f"sub-{subject}: rest runs against the first rating run",
        outputs["figure"],
    )


def _rest_session(
    session: str, path: str | None, regions: list[str]
) -> tuple[dict, object]:
    """A session's QC row and its rest run's series (None when left out).

    Raises
    ------
    ValueError
        When the run was parcellated into other regions than the model's.
    """
    if path is None:
        row = {"session": session, "included": False, "reason": "no rest run"}
        return row, None
    qc = read_json(path.removesuffix(".tsv") + ".json")
    row = {
        "session": session,
        "rest_bold": qc["Sources"][0],
        "included": bool(qc["included"]),
        "reason": qc["reason"],
        **{key: qc[key] for key in ("n_censored", "fraction_censored", "mean_fd")},
    }
    if not qc["included"]:
        return row, None
    if list(qc["RegionNames"]) != regions:
        raise ValueError(
            f"{path}: {len(qc['RegionNames'])} regions, but the model was trained "
            f"on {len(regions)} other ones: rest runs must be parcellated with the "
            "model's atlas"
        )
    return row, read_tsv(path).loc[:, regions].to_numpy(float)
