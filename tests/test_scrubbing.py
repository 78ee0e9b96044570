"""Scrubbing: censored volumes dropped at the edges, interpolated inside."""

import warnings

import numpy as np
import pytest
from conftest import with_defaults
from hypothesis import given, settings
from hypothesis import strategies as st
from nilearn.signal import clean
from scipy.interpolate import CubicSpline
from scipy.signal import butter, detrend, sosfiltfilt
from tiny_runs import still_head, write_confounds, write_tiny_run

from painflow.signals.confounds import DenoiseSettings
from painflow.signals.extract import AlignmentSettings, extract_run
from painflow.signals.scrubbing import clean_series

FILTERS = [(0.01, None), (None, 0.1), (0.01, 0.1), (None, None)]


def correlation(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def test_nilearn_sample_mask_shifts_the_series_when_both_ends_are_censored():
    """nilearn's scrubbing misaligns a run censored at both ends.

    ``nilearn.signal.clean(sample_mask=...)`` (0.13.1, 0.14.1) interpolates
    with ``volumes[~sample_mask]`` on an integer mask, where ``~i`` is
    ``-i - 1``: with the first and last volumes censored, neither is
    interpolated nor dropped, and the mask, shifted to start at 0, then picks
    volumes 0..n-3 where 1..n-2 were kept. Every cleaned series comes out one
    volume early against the ratings, so painflow scrubs itself
    (``painflow.signals.scrubbing``). When this test fails, nilearn is fixed and the
    workaround may go.
    """
    x = np.random.default_rng(0).normal(size=(300, 1))
    kept = np.arange(1, 299)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = clean(
            x, detrend=False, standardize=None, high_pass=0.01, t_r=2.0,
            filter="butterworth", sample_mask=kept,
        )  # fmt: skip
    assert out.shape == (298, 1)
    assert correlation(out, x[kept - 1]) > 0.9
    assert abs(correlation(out, x[kept])) < 0.3


def reference_clean(series, regressors, censored, tr, denoise):
    """Plain scrubbing: trim, spline, detrend, Butterworth, keep, regress."""
    kept = np.flatnonzero(~censored)
    span = slice(kept[0], kept[-1] + 1)
    data = np.hstack([series, regressors])[span].copy()
    keep = ~censored[span]
    index = np.arange(len(data))
    if not keep.all():
        data[~keep] = CubicSpline(index[keep], data[keep])(index[~keep])
    if denoise.detrend:
        data = detrend(data, axis=0, type="linear")
    cutoffs = [f for f in (denoise.high_pass_hz, denoise.low_pass_hz) if f]
    if cutoffs:
        btype = {
            (True, False): "highpass",
            (False, True): "lowpass",
            (True, True): "bandpass",
        }[(denoise.high_pass_hz is not None, denoise.low_pass_hz is not None)]
        wn = cutoffs if len(cutoffs) == 2 else cutoffs[0]
        sos = butter(5, wn, btype=btype, fs=1.0 / tr, output="sos")
        data = sosfiltfilt(sos, data, axis=0, padtype="odd")
    data = data[keep]
    signals, confounds = data[:, : series.shape[1]], data[:, series.shape[1] :]
    if confounds.shape[1]:
        centred = confounds - confounds.mean(axis=0)
        signals = signals - centred @ np.linalg.lstsq(centred, signals)[0]
    return signals, kept


@st.composite
def censoring_patterns(draw, n, max_lead=4):
    """Censored leading and trailing stretches and any interior volumes."""
    lead, trail = draw(st.integers(0, max_lead)), draw(st.integers(0, 4))
    inside = draw(st.sets(st.integers(lead + 1, n - trail - 2), max_size=n // 4))
    censored = np.zeros(n, dtype=bool)
    censored[:lead] = True
    censored[n - trail :] = True
    censored[sorted(inside)] = True
    return censored


@st.composite
def censored_runs(draw):
    """A run of 40-200 volumes, a few signals and regressors, any censoring."""
    n = draw(st.integers(40, 200))
    censored = draw(censoring_patterns(n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    drift = np.linspace(0, 3, n)[:, None]
    series = rng.normal(size=(n, draw(st.integers(1, 3)))) + drift
    regressors = rng.normal(size=(n, draw(st.integers(0, 3))))
    high, low = draw(st.sampled_from(FILTERS))
    denoise = DenoiseSettings(
        **with_defaults(
            "denoise", detrend=draw(st.booleans()), high_pass_hz=high, low_pass_hz=low
        )
    )
    tr = draw(st.sampled_from([0.46, 0.8, 2.0]))
    return series, regressors, censored, tr, denoise


@settings(max_examples=60, deadline=None)
@given(censored_runs())
def test_kept_volumes_match_a_plain_reference(run):
    series, regressors, censored, tr, denoise = run
    cleaned = clean_series(series, regressors, censored, tr, denoise)
    expected, kept = reference_clean(series, regressors, censored, tr, denoise)
    np.testing.assert_array_equal(cleaned.volumes, np.flatnonzero(~censored))
    np.testing.assert_array_equal(cleaned.volumes, kept)
    np.testing.assert_allclose(cleaned.values, expected, rtol=0, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(censored_runs())
def test_artefacts_in_censored_volumes_change_nothing(run):
    series, regressors, censored, tr, denoise = run
    spikes = 1e4 * np.where(np.arange(len(censored)) % 2, 1, -1)[censored, None]
    spiked_series, spiked_regressors = series.copy(), regressors.copy()
    spiked_series[censored] += spikes
    spiked_regressors[censored] += spikes
    clean_run = clean_series(series, regressors, censored, tr, denoise)
    spiked = clean_series(spiked_series, spiked_regressors, censored, tr, denoise)
    np.testing.assert_array_equal(spiked.volumes, clean_run.volumes)
    np.testing.assert_allclose(spiked.values, clean_run.values, rtol=0, atol=1e-8)


def test_white_noise_stays_aligned_when_first_and_last_volumes_are_censored():
    x = np.random.default_rng(1).normal(size=(1300, 1))
    censored = np.zeros(1300, dtype=bool)
    censored[[0, 1299]] = True
    cleaned = clean_series(
        x,
        np.empty((1300, 0)),
        censored,
        0.46,
        DenoiseSettings(**with_defaults("denoise")),
    )
    assert correlation(cleaned.values, x[cleaned.volumes]) > 0.9
    assert abs(correlation(cleaned.values, x[cleaned.volumes - 1])) < 0.1


def test_every_volume_censored_is_an_error():
    with pytest.raises(ValueError, match="all 50 volumes are censored"):
        clean_series(
            np.ones((50, 1)),
            np.empty((50, 0)),
            np.ones(50, bool),
            2.0,
            DenoiseSettings(**with_defaults("denoise")),
        )


TR, N_VOLUMES = 2.0, 80  # 15 volumes dropped, a delay of 3: window 18..79


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Region A is the rating delayed by 3 volumes; region B is noise."""
    rng = np.random.default_rng(5)
    ratings = rng.normal(50, 10, N_VOLUMES)
    regions = np.column_stack([np.roll(ratings, 3), rng.normal(50, 10, N_VOLUMES)])
    files, atlas = write_tiny_run(tmp_path_factory.mktemp("tiny"), regions, ratings, TR)
    return files, atlas, ratings, regions


@settings(max_examples=25, deadline=None)
@given(censoring_patterns(N_VOLUMES, max_lead=20), st.booleans())
def test_ratings_stay_paired_with_their_volumes_whatever_is_censored(
    tiny_run, censored, filtered
):
    files, atlas, ratings, regions = tiny_run
    # fMRIPrep's non-steady-state columns say what is censored.
    std_dvars = 1.0 + np.arange(N_VOLUMES) % 3 / 2  # 1, 1.5, 2, 1, ...
    write_confounds(files, still_head(N_VOLUMES, censored, std_dvars), None)
    denoise = DenoiseSettings(
        **with_defaults(
            "denoise",
            n_compcor=0,
            max_censored_fraction=1.0,
            detrend=filtered,
            high_pass_hz=0.005 if filtered else None,
        )
    )
    alignment = AlignmentSettings(**with_defaults("alignment"))
    table, qc = extract_run(files, TR, atlas, denoise, alignment, "pain")
    window = np.arange(18, N_VOLUMES)
    np.testing.assert_array_equal(table["volume"], window[~censored[window]])
    np.testing.assert_allclose(table["time"], (table["volume"] + 0.5) * TR)
    np.testing.assert_array_equal(table["rating"], ratings[table["volume"] - 3])
    if not filtered:  # region A is the rating, delayed
        np.testing.assert_allclose(table["A"], table["rating"], rtol=1e-12)
    expected, kept = reference_clean(
        regions, np.empty((N_VOLUMES, 0)), censored, TR, denoise
    )
    rows = np.isin(kept, table["volume"])
    np.testing.assert_allclose(table[["A", "B"]], expected[rows], rtol=0, atol=1e-8)
    assert qc["n_non_steady_state"] == censored.sum()
    assert qc["n_std_dvars_above_1_5"] == (std_dvars[table["volume"]] > 1.5).sum()
