"""Specificity: nuisance series and decoders, partial r, the permutation null."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from workflow_runner import planned_jobs, run_workflow, study_config

from painflow.analyses.metrics import add_time_bins, metrics_table, scale_units
from painflow.analyses.partial import partial_r, partial_r_table
from painflow.analyses.permutation import (
    permutation_null,
    permutation_p,
    shifted_bin_means,
    swapped_runs,
)
from painflow.analyses.windows import run_windows, scale_estimates
from painflow.core.bids import file_key
from painflow.core.fileio import read_npz, read_tsv, write_json, write_npz
from painflow.signals.edges import FeatureSettings, run_features
from painflow.signals.nuisance import (
    NUISANCE_TARGETS,
    confound_series,
    cursor_speed,
    nuisance_series,
)
from painflow.steps.nuisance import nuisance, nuisance_decoder

TR = 2.0
REGIONS = [f"R{k}" for k in range(6)]
TIME_BINS = {"1min": 60}


def smooth(rng, n: int, width: int = 8) -> np.ndarray:
    """A slowly varying series, standardized."""
    series = np.convolve(rng.standard_normal(n + width), np.ones(width), "valid")[:n]
    return (series - series.mean()) / series.std()


# Partial correlation against its definition: correlate the residuals.


def residual_r(x, y, z) -> float:
    """Partial r by regressing z (with an intercept) out of x and y."""
    design = np.column_stack([np.ones_like(z), z])
    rx = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    ry = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return np.corrcoef(rx, ry)[0, 1]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (3, 12), elements=st.integers(-50, 50).map(float)),
    st.floats(-2, 2),
)
def test_partial_r_equals_correlation_of_residuals(values, mixing):
    x, y, z = values
    y = y + mixing * z  # let z matter
    if np.ptp(values, axis=1).min() == 0 or np.ptp(y) == 0:
        return  # a constant series has no correlation
    pairwise = [np.corrcoef(a, b)[0, 1] for a, b in ((x, y), (x, z), (y, z))]
    if np.isnan(pairwise).any() or max(abs(pairwise[1]), abs(pairwise[2])) > 0.999:
        return  # undefined or ill-conditioned: no residual left
    assert partial_r(*pairwise) == pytest.approx(residual_r(x, y, z), abs=1e-6)


def pain_volumes(rng, covary: bool, n_sessions=5, n_runs=3, n=60) -> pd.DataFrame:
    """Per-volume ratings and predictions, and a nuisance that drives both, or not."""
    rows = []
    for session in range(n_sessions):
        for run in range(n_runs):
            nuisance = smooth(rng, n) + rng.normal()
            pain = smooth(rng, n) + rng.normal()
            if covary:  # the prediction follows only the nuisance
                rating, predicted = pain + 2 * nuisance, 2 * nuisance
            else:
                rating, predicted = pain, pain + 0.8 * smooth(rng, n)
            rows.append(
                pd.DataFrame(
                    {
                        "session": str(session),
                        "run": str(run),
                        "volume": np.arange(n),
                        "rating": rating,
                        "predicted": predicted + 0.3 * rng.standard_normal(n),
                        "nuisance": nuisance,
                        "bin_1min": np.arange(n) // 6,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


SCALES = ["1min", "run", "session"]


def test_plain_r_is_the_metrics_tables_r_with_the_same_resamples(rng):
    volumes = pain_volumes(rng, covary=False)
    ours = partial_r_table(volumes, {}, SCALES, 300, seed=4)
    theirs = metrics_table(volumes, SCALES, 300, seed=4)
    theirs = theirs[theirs["metric"] == "r"].reset_index(drop=True)
    columns = ["estimate", "ci_low", "ci_high", "p_value"]
    np.testing.assert_allclose(ours[columns], theirs[columns], atol=1e-12)


def partial_rows(volumes) -> pd.DataFrame:
    labels = {"nuisance": ("nuisance", "partial")}
    table = partial_r_table(volumes, labels, SCALES, 200, seed=1)
    return table.pivot(index="scale", columns="metric", values="estimate")


def test_partial_r_stays_near_plain_r_when_the_nuisance_is_independent(rng):
    estimates = partial_rows(pain_volumes(rng, covary=False))
    assert (estimates["r"] > 0.5).all()
    np.testing.assert_allclose(estimates["partial"], estimates["r"], atol=0.1)


def test_partial_r_drops_when_pain_and_the_nuisance_covary(rng):
    estimates = partial_rows(pain_volumes(rng, covary=True, n_sessions=10))
    assert (estimates["r"] > 0.7).all()
    assert (estimates["partial"].abs() < 0.3).all()


# The permutation null.


def test_a_circular_shift_is_a_rotation_of_the_run(rng):
    values = rng.standard_normal(23)
    labels = np.repeat(np.arange(5), [4, 5, 5, 5, 4])
    shifts = np.array([0, 1, 7, 22])
    means = shifted_bin_means(values, labels, shifts)
    for row, shift in zip(means, shifts, strict=True):
        rolled = np.roll(values, shift)
        expected = [rolled[labels == b].mean() for b in range(5)]
        np.testing.assert_allclose(row, expected)
    each_own_bin = shifted_bin_means(values, np.arange(23), shifts)
    for row in each_own_bin:  # the run's ratings, reordered
        np.testing.assert_allclose(np.sort(row), np.sort(values))


def test_swapped_runs_keep_the_unit_means_of_the_data_in_copy_zero(rng):
    volumes = pain_volumes(rng, covary=False).iloc[5:]  # runs of unequal length
    for scale in ("run", "session"):
        predicted, ratings = swapped_runs(volumes, scale, 20, rng)
        units = scale_units(volumes, scale)
        np.testing.assert_allclose(predicted, units["predicted"])
        np.testing.assert_allclose(ratings[0], units["rating"])
        # Every copy permutes the same runs: the grand mean of run ratings stays.
        if scale == "run":
            np.testing.assert_allclose(ratings.mean(axis=1), units["rating"].mean())


def test_permutation_p_counts_the_observed_value_once():
    assert permutation_p(0.5, np.array([0.1, -0.6, 0.5, 0.2])) == pytest.approx(3 / 5)
    assert permutation_p(0.9, np.zeros(99)) == pytest.approx(1 / 100)


def test_permutation_p_is_small_for_a_strong_relation(rng):
    volumes = pain_volumes(rng, covary=False, n_sessions=8)
    null = permutation_null(volumes, SCALES, 199, seed=0).set_index("scale")
    assert (null["r"] > 0.5).all()
    assert (null["permutation_p"] < 0.02).all()


def test_permutation_p_is_about_uniform_without_a_relation(rng):
    p_values = []
    for _ in range(40):
        volumes = pain_volumes(rng, covary=False, n_sessions=4, n_runs=2)
        volumes["predicted"] = smooth(rng, len(volumes))  # unrelated to ratings
        null = permutation_null(volumes, ["1min", "run"], 99, seed=len(p_values))
        p_values.extend(null["permutation_p"])
    p_values = np.array(p_values)
    assert 0.35 < p_values.mean() < 0.65
    assert np.mean(p_values < 0.05) < 0.15


def test_the_permutation_null_is_reproducible_with_its_seed(rng):
    volumes = pain_volumes(rng, covary=False)
    first = permutation_null(volumes, SCALES, 50, seed=3)
    pd.testing.assert_frame_equal(first, permutation_null(volumes, SCALES, 50, seed=3))
    other = permutation_null(volumes, SCALES, 50, seed=4)
    assert not np.allclose(first["null_mean"], other["null_mean"])


# Nuisance series.


def test_cursor_speed_divides_a_censoring_gap_by_its_duration():
    time = np.array([1.0, 2.0, 3.0, 7.0, 8.0])
    rating = np.array([10.0, 12.0, 12.0, 20.0, 19.0])
    np.testing.assert_allclose(cursor_speed(rating, time), [2.0, 2.0, 0.0, 2.0, 1.0])
    assert cursor_speed(np.array([5.0]), np.array([1.0])).tolist() == [0.0]


def test_confound_series_reads_volumes_and_names_a_missing_column(tmp_path):
    path = tmp_path / "sub-01_task-rating_desc-confounds_timeseries.tsv"
    pd.DataFrame({"global_signal": [1.0, 2.0, 3.0, 4.0]}).to_csv(
        path, sep="\t", index=False
    )
    np.testing.assert_array_equal(
        confound_series(path, "global_signal", np.array([1, 3])), [2.0, 4.0]
    )
    with pytest.raises(ValueError, match=rf"{path.name}.*no std_dvars column"):
        confound_series(path, "std_dvars", np.array([1, 3]))


# Nuisance decoders on a synthetic subject whose edges carry FD, or not.


def write_subject(folder: Path, rng, coupled: bool) -> dict:
    """4 sessions x 2 runs of 6 regions; regions R0 and R1 couple with FD if asked.

    Returns the inputs of the steps: feature and QC files and their units.
    """
    settings = FeatureSettings(**with_defaults("features"))
    features, qc_files, units = [], [], {}
    n, start = 180, 15
    for session in ("1", "2", "3", "4"):
        for run in ("1", "2"):
            fd = 0.1 + 0.04 * smooth(rng, n, width=12)
            regions = rng.standard_normal((n, len(REGIONS)))
            if coupled:
                strength = 1.5 * (fd - fd.min()) / np.ptp(fd)
                shared = rng.standard_normal(n)
                regions[:, :2] += strength[:, None] * shared[:, None]
            volumes = start + np.arange(n)
            kept = np.ones(n, bool)
            kept[40:43] = False  # a censoring gap
            table = pd.DataFrame(regions[kept], columns=REGIONS)
            table.insert(0, "fd", fd[kept])
            table.insert(0, "rating", 50 + 20 * smooth(rng, n)[kept])
            table.insert(0, "time", (volumes[kept] + 0.5) * TR)
            table.insert(0, "volume", volumes[kept])
            qc = {
                "RepetitionTime": TR,
                "window_start": start,
                "window_stop": start + n,
                "included": True,
            }
            stem = f"sub-01_ses-{session}_task-rating_run-{run}_atlas-test"
            feature_file = folder / f"{stem}_edges.npz"
            qc_file = folder / f"{stem}_timeseries.json"
            write_npz(
                feature_file, **run_features(table, qc, REGIONS, settings, ["fd"])
            )
            write_json(qc_file, qc)
            features.append(str(feature_file))
            qc_files.append(str(qc_file))
            for path in (feature_file, qc_file):
                units[file_key(path)] = {"session": session, "run": run}
    return {"features": features, "qc_files": qc_files, "units": units}


def decode_fd(folder: Path, subject: dict) -> pd.DataFrame:
    out = folder / "fd_predictions.tsv"
    nuisance_decoder(
        **subject,
        confounds=[],
        subject="01",
        target="fd",
        feature_settings=with_defaults("features"),
        max_components=None,
        predictions_out=str(out),
    )
    return read_tsv(out, dtype={"session": str, "run": str, "fold": str})


def fd_decoder_r(folder: Path, subject: dict) -> float:
    volumes = decode_fd(folder, subject).rename(columns={"value": "rating"})
    windows = run_windows(subject["qc_files"], subject["units"])
    return float(scale_estimates(volumes, windows, TIME_BINS, ["1min"], ("r",))["r"][0])


def test_an_fd_decoder_predicts_fd_when_the_edges_carry_it(tmp_path, rng):
    subject = write_subject(tmp_path, rng, coupled=True)
    assert fd_decoder_r(tmp_path, subject) > 0.5


def test_an_fd_decoder_fails_when_the_edges_do_not_carry_it(tmp_path, rng):
    subject = write_subject(tmp_path, rng, coupled=False)
    assert abs(fd_decoder_r(tmp_path, subject)) < 0.3


def test_the_fd_decoder_reads_painflows_fd_at_each_kept_volume(tmp_path, rng):
    subject = write_subject(tmp_path, rng, coupled=True)
    decoded = decode_fd(tmp_path, subject)
    expected = np.concatenate(
        [nuisance_series(read_npz(p), "fd") for p in subject["features"]]
    )
    assert len(decoded) == len(expected)
    np.testing.assert_allclose(np.sort(decoded["value"]), np.sort(expected))
    assert 42 not in set(decoded["volume"] - 15)  # the censored volumes stay out


def test_the_nuisance_table_pairs_decoders_partials_and_the_null(tmp_path, rng):
    subject = write_subject(tmp_path, rng, coupled=True)
    decoded = decode_fd(tmp_path, subject)
    pain = decoded.drop(columns="value")
    pain["rating"] = 50 + 20 * smooth(rng, len(pain))  # unrelated to FD
    pain["predicted"] = pain["rating"] + 5 * rng.standard_normal(len(pain))
    pain_file = tmp_path / "pain.tsv"
    pain.to_csv(pain_file, sep="\t", index=False)
    table_file = tmp_path / "nuisance.tsv"
    nuisance(
        predictions=str(pain_file),
        decoder_predictions=[str(tmp_path / "fd_predictions.tsv")],
        targets=["fd"],
        qc_files=subject["qc_files"],
        units=subject["units"],
        subject="01",
        time_bins=TIME_BINS,
        scales=["1min", "run"],
        n_bootstrap=50,
        n_permutations=49,
        seed=0,
        table_out=str(table_file),
        figure_out=str(tmp_path / "nuisance.png"),
    )
    table = read_tsv(table_file)
    assert list(table.columns) == [
        "target", "scale", "metric", "estimate", "ci_low", "ci_high", "p_value",
        "permutation_p",
    ]  # fmt: skip
    rows = table.set_index(["target", "metric", "scale"])
    windows = run_windows(subject["qc_files"], subject["units"])
    pain_r = metrics_table(add_time_bins(pain, windows, TIME_BINS), ["1min"], 50, 0)
    assert rows.loc[("pain", "r", "1min"), "estimate"] == pytest.approx(
        pain_r.set_index("metric").loc["r", "estimate"]
    )
    # Pain and FD are unrelated here: controlling for FD changes little.
    plain = rows.loc[("pain", "r", "1min"), "estimate"]
    assert plain > 0.8
    for metric in ("pain_partial_r", "pain_partial_r_decoded"):
        assert rows.loc[("fd", metric, "1min"), "estimate"] == pytest.approx(
            plain, abs=0.1
        )
    assert rows.loc[("pain", "r", "1min"), "permutation_p"] == pytest.approx(1 / 50)
    assert rows.loc[("fd", "r", "1min"), "estimate"] > 0.5
    # Only the pain model has a null.
    assert rows.drop(index="pain", level="target")["permutation_p"].isna().all()
    assert (tmp_path / "nuisance.png").stat().st_size > 0


def test_a_decoder_missing_volumes_of_the_pain_model_is_named(tmp_path, rng):
    subject = write_subject(tmp_path, rng, coupled=False)
    rows = []
    for path in subject["features"]:
        arrays = read_npz(path)
        labels = subject["units"][file_key(path)]
        rows.append(pd.DataFrame({**labels, "volume": arrays["volume"]}))
    pain = pd.concat(rows, ignore_index=True).assign(time=0.0, fold="1")
    pain["rating"] = rng.standard_normal(len(pain))
    pain["predicted"] = rng.standard_normal(len(pain))
    pain.to_csv(tmp_path / "pain.tsv", sep="\t", index=False)
    decoder = tmp_path / "desc-fd_predictions.tsv"
    pain.iloc[1:].rename(columns={"rating": "value"}).to_csv(
        decoder, sep="\t", index=False
    )
    with pytest.raises(ValueError, match=f"{decoder.name}: volumes .* missing"):
        nuisance(
            predictions=str(tmp_path / "pain.tsv"),
            decoder_predictions=[str(decoder)],
            targets=["fd"],
            qc_files=subject["qc_files"],
            units=subject["units"],
            subject="01",
            time_bins=TIME_BINS,
            scales=["1min"],
            n_bootstrap=10,
            n_permutations=10,
            seed=0,
            table_out=str(tmp_path / "nuisance.tsv"),
            figure_out=str(tmp_path / "nuisance.png"),
        )


# The workflow plans the jobs.


@pytest.mark.workflow
def test_the_workflow_plans_one_decoder_per_subject_and_target(tiny_study, tmp_path):
    config = study_config(tiny_study, tmp_path / "out")
    result = run_workflow(config, tmp_path, "--dry-run", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result.stdout)
    decoders = {(w["subject"], w["target"]) for r, w in jobs if r == "nuisance_decoder"}
    subjects = {"01", "02"}
    assert decoders == {(s, t) for s in subjects for t in NUISANCE_TARGETS}
    assert sum(r == "nuisance_decoder" for r, _ in jobs) == len(decoders)
    assert sorted(w["subject"] for r, w in jobs if r == "nuisance") == sorted(subjects)
