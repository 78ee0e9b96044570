import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from painflow.core.stats import pearson_r, percentile_interval

VALUES = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def spread(values: np.ndarray) -> bool:
    """Whether a vector varies by more than rounding noise around its mean."""
    return np.std(values) > 1e-6 * (1 + np.abs(values).max())


@st.composite
def vector_pairs(draw, min_size=2):
    n = draw(st.integers(min_size, 30))
    x = draw(arrays(float, n, elements=VALUES))
    y = draw(arrays(float, n, elements=VALUES))
    return x, y


@settings(max_examples=200, deadline=None)
@given(vector_pairs())
def test_pearson_r_of_vectors_matches_numpy(pair):
    x, y = pair
    if spread(x) and spread(y):
        expected = np.corrcoef(x, y)[0, 1]
        assert pearson_r(x, y) == pytest.approx(expected, abs=1e-9)
        assert -1 <= pearson_r(x, y) <= 1 + 1e-12


@settings(max_examples=100, deadline=None)
@given(vector_pairs(min_size=1), VALUES)
def test_pearson_r_of_a_constant_side_is_nan(pair, value):
    x, y = pair
    constant = np.full(len(x), value)
    assert np.isnan(pearson_r(constant, y))
    assert np.isnan(pearson_r(x, constant))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 12), st.integers(1, 4))
def test_batch_pearson_r_matches_numpy_on_each_row_and_its_mask(seed, n, rows):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, rows, n))
    mask = rng.random((rows, n)) < 0.7
    mask[:, :3] = True
    got = pearson_r(x, y, axis=1, mask=mask)
    unmasked = pearson_r(x, y, axis=1)
    for row in range(rows):
        kept = mask[row]
        expected = np.corrcoef(x[row, kept], y[row, kept])[0, 1]
        assert got[row] == pytest.approx(expected, abs=1e-9)
        assert unmasked[row] == pytest.approx(pearson_r(x[row], y[row]), abs=1e-12)


def test_batch_pearson_r_is_nan_where_no_value_counts():
    x = np.arange(12.0).reshape(3, 4)
    mask = np.ones_like(x, bool)
    mask[1] = False
    r = pearson_r(x, x**2, axis=1, mask=mask)
    assert np.isnan(r[1]) and np.all(r[[0, 2]] > 0.9)


def test_pearson_r_rejects_unequal_shapes_and_a_mask_without_axis():
    with pytest.raises(ValueError, match="equal shapes"):
        pearson_r(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="give an axis"):
        pearson_r(np.arange(3.0), np.arange(3.0), mask=np.ones(3, bool))


def test_percentile_interval_leaves_out_nan_and_infinite_samples():
    finite = np.arange(101.0)
    messy = np.concatenate([finite, [np.nan, np.inf, -np.inf]])
    assert percentile_interval(messy) == (2.5, 97.5)
    assert percentile_interval(messy) == tuple(np.percentile(finite, [2.5, 97.5]))
    low, high = percentile_interval(np.array([np.nan, -np.inf]))
    assert np.isnan(low) and np.isnan(high)
    assert all(np.isnan(percentile_interval(np.array([]))))
