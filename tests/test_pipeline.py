"""The decoding chain recovers the simulated ground truth, and nothing else."""

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import decode_study, study_atlas

from painflow.analyses.learningcurve import (
    kernel_arrays,
    kernel_data,
    kernel_data_from_arrays,
    learning_curve_draws,
    learning_curve_scores,
)
from painflow.analyses.metrics import add_time_bins, point_metrics
from painflow.analyses.prospective import prospective_predictions
from painflow.core.bids import parse_entities
from painflow.core.fileio import read_json, read_npz, write_npz
from painflow.model.crossval import FittedModel, predict_runs, training_set
from painflow.model.decoder import LassoPCR
from painflow.signals.edges import edge_weight_matrix

WRONG_DELAY = 66.0  # seconds; the simulated delay is 6 s


def test_each_subject_is_decoded_far_above_chance(decoded):
    for subject, result in decoded.items():
        r = result["metrics"].loc["r"]
        assert r["estimate"] > 0.3, subject
        assert r["ci_low"] > 0.1, subject
        assert r["p_value"] < 0.05, subject


def test_model_weights_concentrate_on_the_signal_regions(decoded, recovery_study):
    truth = read_json(recovery_study / "ground_truth.json")["subjects"]
    names = study_atlas(recovery_study).names
    for subject, result in decoded.items():
        weights = edge_weight_matrix(result["model"].coef, len(names))
        signal = [names.index(name) for name in truth[subject]["signal_region_names"]]
        inside = weights[np.ix_(signal, signal)][np.triu_indices(len(signal), 1)]
        every = weights[np.triu_indices(len(names), 1)]
        # Coupling among a person's own signal regions predicts more pain: their
        # mean weight stands far above that of as many edges drawn at random.
        z = (inside.mean() - every.mean()) / (every.std() / np.sqrt(inside.size))
        assert z > 5, subject


def test_ratings_shuffled_across_sessions_give_no_decoding(recovery_study, tmp_path):
    shuffled = tmp_path / "shuffled"
    shutil.copytree(recovery_study, shuffled, symlinks=True)
    recordings = sorted(shuffled.glob("sub-*/ses-*/func/*_physio.tsv.gz"))
    by_subject_run = {}
    for path in recordings:
        entities = parse_entities(path)
        by_subject_run.setdefault((entities["subject"], entities["run"]), []).append(
            path
        )
    rng = np.random.default_rng(5)
    for paths in by_subject_run.values():
        contents = [path.read_bytes() for path in paths]
        order = rng.permutation(len(paths))
        while np.any(order == np.arange(len(paths))):  # every session gets another's
            order = rng.permutation(len(paths))
        for path, source in zip(paths, order, strict=True):
            path.write_bytes(contents[source])
    for subject, result in decode_study(shuffled).items():
        metrics = result["metrics"]
        # Within runs and sessions, the ratings now belong to another session's
        # brain: nothing is left to decode.
        for name in ("within_run_r", "within_session_r"):
            row = metrics.loc[name]
            assert abs(row["estimate"]) < 0.25, (subject, name)
            assert row["ci_low"] < 0 < row["ci_high"], (subject, name)
        metrics = metrics["estimate"]
        # Pooled over sessions, leave-one-session-out is biased the other way,
        # never up: a model that cannot tell sessions apart predicts each
        # held-out session near the mean of the others, below it when the
        # held-out session is high. Leakage would push r up instead.
        assert metrics["r"] < 0.1, subject


def test_a_wrong_hemodynamic_delay_lowers_r(decoded, recovery_study):
    # Pain drifts over about a minute within a run: pairing each volume with
    # the rating a minute off loses the within-run tracking; the session
    # levels, which do not depend on the delay, stay.
    wrong = decode_study(recovery_study, delay=WRONG_DELAY)
    for subject, result in decoded.items():
        r_right = result["metrics"].loc["within_run_r", "estimate"]
        r_wrong = wrong[subject]["metrics"].loc["within_run_r", "estimate"]
        assert r_right > 0.2, subject
        assert r_wrong < r_right - 0.15, subject


def test_a_model_does_not_transfer_to_another_person(decoded):
    for train, test in (("01", "02"), ("02", "01")):
        predictions = predict_runs(
            decoded[test]["features"], decoded[train]["model"], fold=train
        )
        volumes = add_time_bins(predictions, decoded[test]["windows"], {"1min": 60})
        across = point_metrics(volumes, ["1min"], ("r", "auc")).iloc[0]
        own = decoded[test]["metrics"].loc["r", "estimate"]
        # Another person's model does no better than chance (its edges' relation
        # to this person's pain is arbitrary, in sign too), far below their own.
        # Pooled 1-min r follows the 8 session levels, so chance reaches +-0.3.
        assert across["r"] < 0.25, (train, test)
        assert own > across["r"] + 0.3, (train, test)


def test_prospective_model_never_sees_later_sessions(decoded):
    features = decoded["02"]["features"]
    order = sorted({run.session for run in features})
    test_session = order[4]
    predictions, n_train = prospective_predictions(features, order, test_session, 4)
    assert n_train == 4
    assert set(predictions["session"]) == {test_session}
    # Dropping every later session changes nothing: they were never used.
    past = [run for run in features if run.session <= test_session]
    again, _ = prospective_predictions(past, order, test_session, 4)
    pd.testing.assert_frame_equal(predictions, again)
    with pytest.raises(ValueError, match="needs at least 5"):
        prospective_predictions(features, order, test_session, 5)


def test_learning_curve_rises_with_the_number_of_training_sessions(decoded):
    for subject, result in decoded.items():
        choices = result["folds"].set_index("fold")["n_components"].to_dict()
        median_r = {}
        for size in (1, 6):
            table = learning_curve_scores(
                kernel_data(result["features"], ["1min"]),
                choices,
                size,
                n_repeats=10,
                seed=0,
                scales=["1min"],
            )
            assert table["r"].notna().all()
            median_r[size] = table["r"].median()
        assert median_r[6] > median_r[1] + 0.1, (subject, median_r)


def test_learning_curve_in_the_dual_equals_explicit_fits(decoded):
    result = decoded["01"]
    features, windows = result["features"], result["windows"]
    choices = result["folds"].set_index("fold")["n_components"].to_dict()
    scales = ["1min", "2min", "run"]
    data = kernel_data(features, scales)
    fast = learning_curve_scores(data, choices, 3, n_repeats=2, seed=4, scales=scales)
    sessions = sorted({run.session for run in features})
    for repeat, test_session, chosen in learning_curve_draws(sessions, 3, 2, 4):
        # The straightforward way: explicit edges, an SVD, per-volume predictions.
        X, y, _ = training_set([run for run in features if run.session in chosen])
        model = LassoPCR(n_components=choices[test_session]).fit(X, y)
        fitted = FittedModel(model.coef_, model.intercept_, model.n_components_, None)
        held_out = [run for run in features if run.session == test_session]
        volumes = add_time_bins(
            predict_runs(held_out, fitted, test_session),
            windows,
            {"1min": 60, "2min": 120},
        )
        expected = point_metrics(volumes, scales, ("r",)).set_index("scale")["r"]
        rows = fast[(fast["repeat"] == repeat) & (fast["test_session"] == test_session)]
        np.testing.assert_allclose(
            rows.set_index("scale")["r"].loc[scales], expected.loc[scales], atol=1e-8
        )


def test_learning_curve_kernels_read_from_a_file_give_the_same_scores(
    decoded, tmp_path
):
    result = decoded["02"]
    choices = result["folds"].set_index("fold")["n_components"].to_dict()
    scales = ["1min", "run"]
    data = kernel_data(result["features"], scales)
    write_npz(tmp_path / "kernels.npz", **kernel_arrays(data))
    read = kernel_data_from_arrays(read_npz(tmp_path / "kernels.npz"))
    assert sorted(read.units) == sorted(data.units)
    pd.testing.assert_frame_equal(
        learning_curve_scores(read, choices, 2, n_repeats=2, seed=1, scales=scales),
        learning_curve_scores(data, choices, 2, n_repeats=2, seed=1, scales=scales),
    )
