import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from painflow.model.decoder import LassoPCR, available_components, component_path
from painflow.model.dual import (
    dual_predict,
    eigen_dual_fit,
    gram_component_path,
    gram_dual_fit,
    gram_eigen,
    gram_fit,
)


def planted_data(seed, n_samples=60, n_features=500, n_signal=3, n_test=40):
    """Features with a few high-variance ones that drive the target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples + n_test, n_features))
    X[:, :n_signal] *= 4.0
    y = X[:, :n_signal] @ rng.uniform(1.0, 2.0, n_signal)
    y += 2.0 * rng.standard_normal(n_samples + n_test)
    return X[:n_samples], y[:n_samples], X[n_samples:], y[n_samples:]


def explicit_pipeline(X, y, k):
    """PCA -> standardize -> LASSO selecting k -> OLS refit -> back-projection."""
    n_samples = X.shape[0]
    pca = PCA(n_components=n_samples - 1, svd_solver="full").fit(X)
    scores = pca.transform(X)
    standardized = StandardScaler().fit_transform(scores)
    # With orthogonal standardized scores, component j is nonzero exactly
    # when alpha < |z_j . y| / n; pick alpha between the k-th and (k+1)-th.
    entry = np.sort(np.abs(standardized.T @ (y - y.mean())) / n_samples)[::-1]
    alpha = (entry[k - 1] + entry[k]) / 2
    lasso = Lasso(alpha=alpha, fit_intercept=True, tol=1e-12, max_iter=100_000)
    selected = np.flatnonzero(lasso.fit(standardized, y).coef_)
    assert len(selected) == k
    ols = LinearRegression().fit(scores[:, selected], y)
    coef = pca.components_[selected].T @ ols.coef_
    intercept = ols.intercept_ - pca.mean_ @ coef
    return coef, intercept, selected


def test_check_estimator():
    check_estimator(LassoPCR())


@pytest.mark.parametrize("k", [1, 2, 5, 17, 40, 58])
def test_matches_explicit_pipeline(k):
    X, y, X_new, _ = planted_data(seed=k)
    coef, intercept, selected = explicit_pipeline(X, y, k)
    model = LassoPCR(n_components=k).fit(X, y)

    assert model.n_components_ == k
    assert_array_equal(np.sort(model.selected_components_), selected)
    assert_allclose(model.coef_, coef, rtol=0, atol=1e-8 * np.abs(coef).max())
    assert_allclose(model.intercept_, intercept, rtol=1e-8)
    assert_allclose(model.predict(X_new), X_new @ coef + intercept, rtol=1e-8)


def test_components_ranked_by_correlation():
    X, y, _, _ = planted_data(seed=0)
    model = LassoPCR(n_components=10).fit(X, y)
    scores = PCA(svd_solver="full").fit_transform(X)
    correlation = [abs(np.corrcoef(s, y)[0, 1]) for s in scores.T[:-1]]
    expected = np.argsort(correlation)[::-1][:10]
    assert_array_equal(model.selected_components_, expected)


@pytest.mark.parametrize("max_components", [None, 1, 7, 1000])
def test_component_path_matches_fits(max_components):
    X, y, X_new, _ = planted_data(seed=1, n_samples=30, n_features=80)
    path = component_path(X, y, X_new, max_components=max_components)

    n_expected = available_components(30, 80)
    if max_components is not None:
        n_expected = min(n_expected, max_components)
    assert path.shape == (len(X_new), n_expected)
    for k in range(1, n_expected + 1):
        predicted = LassoPCR(n_components=k).fit(X, y).predict(X_new)
        assert_allclose(path[:, k - 1], predicted, rtol=1e-10, atol=1e-10)


def test_component_path_checks_inputs():
    X, y, X_new, _ = planted_data(seed=2, n_samples=20, n_features=10)
    with pytest.raises(ValueError, match="features"):
        component_path(X, y, X_new[:, :5])
    with pytest.raises(ValueError, match="at least 3 samples"):
        component_path(X[:2], y[:2], X_new)
    with pytest.raises(ValueError, match="max_components"):
        component_path(X, y, X_new, max_components=0)


def out_of_sample_correlation(seed, k, shuffle):
    X, y, X_test, y_test = planted_data(seed=seed, n_samples=80, n_features=300)
    if shuffle:
        y = np.random.default_rng(seed).permutation(y)
    predicted = LassoPCR(n_components=k).fit(X, y).predict(X_test)
    return np.corrcoef(predicted, y_test)[0, 1]


def test_recovers_planted_signal():
    # Averaged over seeds: one shuffled split can correlate by chance.
    seeds = range(10)
    signal = np.mean([out_of_sample_correlation(s, 5, shuffle=False) for s in seeds])
    null = np.mean([out_of_sample_correlation(s, 5, shuffle=True) for s in seeds])
    assert signal > 0.8
    assert abs(null) < 0.25


def test_n_components_clipped():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((10, 50)), rng.standard_normal(10)
    clipped = LassoPCR(n_components=100).fit(X, y)
    every = LassoPCR().fit(X, y)
    assert clipped.n_components_ == every.n_components_ == 8
    assert_allclose(clipped.coef_, every.coef_)

    X_narrow = rng.standard_normal((20, 3))
    assert LassoPCR(n_components=100).fit(X_narrow, y.repeat(2)).n_components_ == 3


def test_n_components_clipped_to_rank():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 2)) @ rng.standard_normal((2, 40))
    y = rng.standard_normal(30)
    model = LassoPCR().fit(X, y)
    assert model.n_components_ == 2
    assert np.all(np.isfinite(model.coef_))
    assert component_path(X, y, X).shape == (30, 2)


@pytest.mark.parametrize(
    ("n_samples", "n_features", "expected"),
    [(10, 50, 8), (20, 3, 3), (3, 1, 1), (2, 5, 0), (1, 5, 0)],
)
def test_available_components(n_samples, n_features, expected):
    assert available_components(n_samples, n_features) == expected


def test_constant_target():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 30))
    y = np.full(20, 0.1)
    model = LassoPCR(n_components=4).fit(X, y)
    assert_array_equal(model.coef_, 0.0)
    assert_allclose(model.predict(rng.standard_normal((5, 30))), 0.1)
    assert_allclose(component_path(X, y, X), 0.1)


@pytest.mark.parametrize("n_samples", [1, 2])
def test_too_few_samples(n_samples):
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((n_samples, 5)), rng.standard_normal(n_samples)
    message = f"at least 3 samples; got n_samples = {n_samples}"
    with pytest.raises(ValueError, match=message):
        LassoPCR().fit(X, y)


@pytest.mark.parametrize("n_components", [0, -2, 1.5, "3", True])
def test_invalid_n_components(n_components):
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((10, 5)), rng.standard_normal(10)
    with pytest.raises(ValueError, match="n_components"):
        LassoPCR(n_components=n_components).fit(X, y)


def test_numpy_integer_n_components():
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((10, 5)), rng.standard_normal(10)
    assert LassoPCR(n_components=np.int64(2)).fit(X, y).n_components_ == 2


@pytest.mark.parametrize("max_components", [None, 1, 9])
def test_gram_component_path_equals_the_svd_path(max_components):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((70, 900))
    y = X[:, :5].sum(axis=1) + rng.standard_normal(70)
    train, test = np.arange(0, 55), np.arange(55, 70)
    expected = component_path(X[train], y[train], X[test], max_components)
    got = gram_component_path(X @ X.T, y, train, test, X.shape[1], max_components)
    assert got.shape == expected.shape
    assert_allclose(got, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())


def test_gram_component_path_with_constant_target():
    X = np.random.default_rng(0).standard_normal((10, 40))
    path = gram_component_path(
        X @ X.T, np.full(10, 3.0), np.arange(8), np.arange(8, 10), 40
    )
    assert_allclose(path, 3.0)


@pytest.mark.parametrize("n_components", [1, 6, 200])
def test_gram_fit_equals_lasso_pcr(n_components):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((60, 700))
    y = X[:, :3].sum(axis=1) + rng.standard_normal(60)
    train = np.arange(5, 52)
    coef, intercept = gram_fit(X @ X.T, X, y, train, n_components)
    model = LassoPCR(n_components=n_components).fit(X[train], y[train])
    assert_allclose(coef, model.coef_, atol=1e-8 * np.abs(model.coef_).max())
    assert intercept == pytest.approx(model.intercept_, rel=1e-8)


@pytest.mark.parametrize("n_components", [1, 6, 200])
def test_dual_model_predicts_as_lasso_pcr(n_components):
    rng = np.random.default_rng(13)
    X = rng.standard_normal((60, 700))
    y = X[:, :3].sum(axis=1) + rng.standard_normal(60)
    train, test = np.arange(5, 52), np.arange(52, 60)
    model = LassoPCR(n_components=n_components).fit(X[train], y[train])
    gram = X @ X.T
    dual = gram_dual_fit(gram, y, train, X.shape[1], n_components)
    assert dual.n_components == model.n_components_
    expected = model.predict(X[test])
    got = dual_predict(dual, gram[np.ix_(test, train)])
    assert_allclose(got, expected, atol=1e-8 * np.abs(expected).max())
    # One decomposition serves fits of any size on the same samples.
    eigen = gram_eigen(gram, train, X.shape[1])
    again = eigen_dual_fit(eigen, y, n_components)
    assert_allclose(again.dual_coef, dual.dual_coef)
