"""The prospective test: the study's split design and the expanding window."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import model_settings, with_defaults

from painflow.analyses.metrics import METRIC_COLUMNS
from painflow.analyses.prospective import (
    ProspectiveDesign,
    fit_on_sessions,
    prospective_plan,
)
from painflow.core.fileio import read_npz, read_tsv, write_json, write_npz
from painflow.model.crossval import fit_with_inner_selection, predict_runs, training_set
from painflow.model.decoder import LassoPCR
from painflow.model.metadata import read_model
from painflow.signals.edges import predict_volumes
from painflow.steps.prospective import (
    PROSPECTIVE_COLUMNS,
    prospective,
    prospective_expanding,
    prospective_model,
    summarize_prospective,
)

# A scan order unlike the labels' order, so that sorting would show.
ORDER = ["03", "01", "07", "02", "05", "08", "04", "06"]
SCALES = ["1min", "run", "session"]
TIME_BINS = {"1min": 60}


def plain_fit(runs, sessions):
    """A model of some sessions' runs, components chosen by inner LOSO."""
    X, y, groups = training_set([run for run in runs if run.session in sessions])
    everything = np.arange(len(y))
    return fit_with_inner_selection(X @ X.T, X, y, groups, everything, None)


def plain_inner_prediction(runs, session, run, model):
    """A run's predictions by LassoPCR of the other first sessions at the model's k."""
    others = [r for r in runs if r.session in ORDER[:4] and r.session != session]
    X, y, _ = training_set(others)
    fitted = LassoPCR(n_components=model.n_components).fit(X, y)
    return predict_volumes(run.arrays["zscored"], fitted.coef_, fitted.intercept_)


def test_split_tests_exactly_the_sessions_after_the_first_ones():
    design = ProspectiveDesign(
        **with_defaults("prospective", mode="split", train_sessions=4)
    )
    assert design.training_sessions(ORDER) == ORDER[:4]
    assert prospective_plan(design, {"01": ORDER}) == {"01": ORDER[4:]}
    expanding = ProspectiveDesign(
        **with_defaults("prospective", mode="expanding", min_train_sessions=3)
    )
    assert prospective_plan(expanding, {"01": ORDER}) == {"01": ORDER[3:]}


def test_a_subject_too_short_for_the_split_is_an_error_naming_the_keys():
    design = ProspectiveDesign(
        **with_defaults("prospective", mode="split", train_sessions=5)
    )
    with pytest.raises(ValueError) as error:
        prospective_plan(design, {"01": ORDER, "02": ORDER[:5]})
    message = str(error.value)
    assert "sub-02: 5 session(s)" in message
    assert "prospective.train_sessions" in message
    assert "prospective.mode: expanding" in message
    # The expanding window has no such requirement: the subject is skipped.
    expanding = ProspectiveDesign(
        **with_defaults("prospective", mode="expanding", min_train_sessions=5)
    )
    assert prospective_plan(expanding, {"02": ORDER[:5]}) == {"02": []}
    with pytest.raises(ValueError, match="prospective.mode"):
        ProspectiveDesign(**with_defaults("prospective", mode="rolling"))


def test_training_sessions_left_without_usable_runs_are_an_error():
    # Quality control can leave fewer usable sessions than were planned.
    with pytest.raises(ValueError, match="0 of the training sessions") as error:
        fit_on_sessions([], ["01", "02"], None)
    assert "prospective.train_sessions" in str(error.value)


@pytest.fixture(scope="module")
def files(decoded, tmp_path_factory):
    """One subject's run features and QC windows as the workflow's files."""
    folder = tmp_path_factory.mktemp("prospective")
    result = decoded["02"]
    windows = result["windows"].set_index(["session", "run"])
    rows = []
    for run in result["features"]:
        name = f"ses-{run.session}_run-{run.run}"
        write_npz(folder / f"{name}_edges.npz", **run.arrays)
        window = windows.loc[(run.session, run.run)]
        write_json(
            folder / f"{name}_timeseries.json",
            {
                **{key: int(window[key]) for key in ("window_start", "window_stop")},
                "RepetitionTime": float(window["tr"]),
                "included": True,
            },
        )
        rows.append(
            {
                "session": run.session,
                "run": run.run,
                "features": str(folder / f"{name}_edges.npz"),
                "qc": str(folder / f"{name}_timeseries.json"),
            }
        )
    return {"folder": folder, "runs": pd.DataFrame(rows), "result": result}


def of_sessions(files, sessions):
    """Features and QC sidecars of some sessions' runs, and each file's labels."""
    rows = files["runs"][files["runs"]["session"].isin(sessions)]
    units = {
        Path(path).name: {"session": row.session, "run": row.run}
        for row in rows.itertuples()
        for path in (row.features, row.qc)
    }
    return {
        "features": list(rows["features"]),
        "qc_files": list(rows["qc"]),
        "units": units,
    }


def test_split_model_trains_on_the_first_sessions_in_scan_order(files):
    folder, features = files["folder"], files["result"]["features"]
    every = of_sessions(files, ORDER)
    model_path = folder / "model.npz"
    prospective_model(
        every["features"],
        every["units"],
        every["qc_files"],
        ORDER[:4],
        "02",
        None,
        model_settings(SCALES, TIME_BINS),
        {},
        str(model_path),
    )
    saved = read_npz(model_path)
    assert saved["train_sessions"].tolist() == ORDER[:4]
    # Given every session, it still learns from the first four only.
    expected = plain_fit(features, ORDER[:4])
    np.testing.assert_allclose(saved["edge_weights"], expected.coef, atol=1e-10)
    assert int(saved["n_components"]) == expected.n_components
    by_label = plain_fit(features, sorted(ORDER)[:4])
    assert not np.allclose(saved["edge_weights"], by_label.coef)
    # Its errors: each training session predicted by the others at the chosen k.
    _, record = read_model(model_path)
    assert record["training_sessions"] == ORDER[:4]
    errors = [
        run.arrays["rating"] - plain_inner_prediction(features, session, run, expected)
        for session in ORDER[:4]
        for run in features
        if run.session == session
    ]
    np.testing.assert_allclose(
        record["errors_by_scale"]["volume"], np.concatenate(errors), atol=1e-8
    )

    tables, predictions = [], []
    for session in ORDER[4:]:
        one = of_sessions(files, [session])
        tables.append(str(folder / f"{session}_prospective.tsv"))
        predictions.append(str(folder / f"{session}_predictions.tsv"))
        prospective(
            str(model_path),
            one["features"],
            one["units"],
            one["qc_files"],
            session,
            TIME_BINS,
            SCALES,
            tables[-1],
            predictions[-1],
        )
        volumes = read_tsv(predictions[-1], dtype={"session": str, "run": str})
        held_out = [run for run in features if run.session == session]
        np.testing.assert_allclose(
            volumes["predicted"],
            predict_runs(held_out, expected, "x")["predicted"],
            atol=1e-8,
        )
    tested = of_sessions(files, ORDER[4:])
    out = {name: str(folder / f"summary_{name}") for name in ("t", "m", "f")}
    summarize_prospective(
        tables,
        predictions,
        tested["qc_files"],
        tested["units"],
        "02",
        TIME_BINS,
        SCALES,
        200,
        0,
        out["t"],
        out["m"],
        out["f"] + ".png",
    )
    table = read_tsv(out["t"], dtype={"test_session": str})
    assert list(table.columns) == list(PROSPECTIVE_COLUMNS)
    assert table.drop_duplicates("test_session")["test_session"].tolist() == ORDER[4:]
    assert (table["n_train_sessions"] == 4).all()
    metrics = read_tsv(out["m"]).set_index(["scale", "metric"])
    assert list(metrics.reset_index().columns) == list(METRIC_COLUMNS)
    # Pooled r of the tested sessions' runs, computed plainly.
    pooled = pd.concat(
        [read_tsv(path, dtype={"session": str, "run": str}) for path in predictions]
    )
    runs = pooled.groupby(["session", "run"])[["rating", "predicted"]].mean()
    r = np.corrcoef(runs["rating"], runs["predicted"])[0, 1]
    assert metrics.loc[("run", "r"), "estimate"] == pytest.approx(r, abs=1e-8)
    row = metrics.loc[("1min", "r")]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]


def test_expanding_window_trains_on_every_earlier_session(files, tmp_path):
    features = files["result"]["features"]
    session = ORDER[5]
    up_to = of_sessions(files, ORDER[:6])
    table_path, predictions_path = tmp_path / "t.tsv", tmp_path / "p.tsv"
    prospective_expanding(
        up_to["features"],
        up_to["units"],
        up_to["qc_files"],
        ORDER[:6],
        session,
        3,
        None,
        TIME_BINS,
        SCALES,
        str(table_path),
        str(predictions_path),
    )
    table = read_tsv(table_path, dtype={"test_session": str})
    assert table["test_session"].tolist() == [session] * len(SCALES)
    assert (table["n_train_sessions"] == 5).all()
    held_out = [run for run in features if run.session == session]
    expected = predict_runs(
        held_out, plain_fit(features, ORDER[:5]), f"before-{session}"
    )
    volumes = read_tsv(predictions_path, dtype={"session": str, "run": str})
    np.testing.assert_allclose(volumes["predicted"], expected["predicted"], atol=1e-8)
    assert (volumes["fold"] == f"before-{session}").all()
