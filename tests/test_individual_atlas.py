"""The individual atlas's pieces: rest-run cleaning, parcel means, homogeneity."""

import shutil
from pathlib import Path

import hypothesis.extra.numpy as hnp
import nibabel as nib
import nilearn.interfaces.fmriprep as fmriprep_interface
import numpy as np
import pandas as pd
import pytest
from conftest import with_defaults
from grayordinate_data import standard_91k_axis
from hypothesis import given, settings
from hypothesis import strategies as st

from painflow.atlas.dlabel import cortex_dlabel
from painflow.atlas.surface import grayordinate_labels, load_grayordinate_atlas
from painflow.parcellation import restdata
from painflow.parcellation.individual import HomogeneityAccumulator, parcel_average
from painflow.parcellation.mesh import cortex_columns
from painflow.parcellation.parcels import parcel_homogeneity
from painflow.signals.confounds import DenoiseSettings, censoring, nuisance_regressors
from painflow.signals.scrubbing import clean_series

NILEARN_FMRIPREP = Path(fmriprep_interface.__file__).parent / "data"
REAL_CONFOUNDS = "test-v21_desc-confounds_timeseries"
STEM = "sub-01_ses-1_task-rest_run-1"
TR = 2.0


@st.composite
def labelled_series(draw):
    """Series (frames x columns) and labels 0..k with every parcel present."""
    n_columns = draw(st.integers(2, 12))
    labels = np.array(
        draw(st.lists(st.integers(0, 3), min_size=n_columns, max_size=n_columns))
    )
    if not (labels > 0).any():
        labels[0] = 1
    series = draw(
        hnp.arrays(
            float, (draw(st.integers(3, 8)), n_columns), elements=st.floats(-5, 5)
        )
    )
    return series, labels


@given(labelled_series())
@settings(max_examples=60, deadline=None)
def test_parcel_average_is_the_plain_mean_of_each_parcels_columns(case):
    series, labels = case
    means = np.asarray(parcel_average(labels) @ series.T).T
    parcels = np.unique(labels[labels > 0])
    expected = np.column_stack([series[:, labels == p].mean(axis=1) for p in parcels])
    np.testing.assert_allclose(means, expected, atol=1e-12)


def test_homogeneity_accumulated_over_runs_is_that_of_the_demeaned_runs_joined(rng):
    labels = np.array([1, 1, 1, 2, 2, 0, 3, 3, 3, 3])
    runs = [
        rng.normal(size=(n, labels.size)) + rng.normal(size=labels.size) * 10
        for n in (7, 12, 5)
    ]
    shared = rng.normal(size=(24, 1))
    runs[1][:, labels == 3] += 3 * shared[:12]  # parcel 3 is homogeneous in run 2
    accumulator = HomogeneityAccumulator(labels)
    for run in runs:
        accumulator.add(run)
    joined = np.vstack([run - run.mean(axis=0) for run in runs])
    expected = parcel_homogeneity(joined, labels)
    np.testing.assert_allclose(accumulator.homogeneity(), expected, rtol=1e-10)
    assert accumulator.homogeneity()[2] > 0.7


def test_a_cortex_dlabel_reads_back_as_the_same_parcels(tmp_path, rng):
    axis = standard_91k_axis()
    structures = {name: (block, model) for name, block, model in axis.iter_structures()}
    vertices, n_surface, values = {}, {}, {}
    for side, name in (
        ("left", "CIFTI_STRUCTURE_CORTEX_LEFT"),
        ("right", "CIFTI_STRUCTURE_CORTEX_RIGHT"),
    ):
        block, model = structures[name]
        vertices[side] = model.vertex
        n_surface[side] = model.nvertices[name]
        values[side] = rng.integers(0, 6, size=model.vertex.size) + (
            0 if side == "left" else 5
        ) * (rng.random(model.vertex.size) > 0.5)
    table = pd.DataFrame(
        {
            "index": range(1, 11),
            "name": [f"p{k}" for k in range(1, 11)],
            "network": "n/a",
        }
    )
    image = cortex_dlabel(values, vertices, n_surface, table, "atlas-individual")
    path = tmp_path / "atlas.dlabel.nii"
    nib.save(image, path)
    table.to_csv(tmp_path / "atlas.tsv", sep="\t", index=False)
    atlas = load_grayordinate_atlas(path, tmp_path / "atlas.tsv", subcortex="none")
    cortex = np.concatenate([values["left"], values["right"]])
    found = grayordinate_labels(atlas, axis, path)[: cortex.size]
    names = dict(zip(atlas.regions["index"], atlas.regions["name"], strict=True))
    assert [names.get(k) for k in np.unique(cortex[cortex > 0])] == [
        f"p{k}" for k in np.unique(cortex[cortex > 0])
    ]
    assert np.array_equal(found > 0, cortex > 0)


@pytest.fixture
def rest_run(tmp_path, rng):
    """A 91k dense time series beside nilearn's real fMRIPrep 21 confounds.

    The 30-volume table is repeated 4 times: the rest band's filter needs more.
    """
    axis = standard_91k_axis()
    real = pd.read_csv(NILEARN_FMRIPREP / f"{REAL_CONFOUNDS}.tsv", sep="\t")
    table = pd.concat([real] * 4, ignore_index=True)
    data = rng.normal(size=(len(table), len(axis))).astype(np.float32)
    series = nib.cifti2.SeriesAxis(0, TR, len(table))
    bold = tmp_path / f"{STEM}_space-fsLR_den-91k_bold.dtseries.nii"
    nib.save(nib.Cifti2Image(data, header=(series, axis)), bold)
    confounds = tmp_path / f"{STEM}_desc-confounds_timeseries.tsv"
    table.to_csv(confounds, sep="\t", index=False, na_rep="n/a")
    shutil.copy(
        NILEARN_FMRIPREP / f"{REAL_CONFOUNDS}.json", confounds.with_suffix(".json")
    )
    return bold, confounds, data


def rest_denoise(**overrides) -> DenoiseSettings:
    return restdata.rest_settings(
        DenoiseSettings(**with_defaults("denoise", **overrides)), (0.005, 0.1)
    )


def test_a_rest_run_is_cleaned_as_a_rating_run_with_the_rest_band(
    rest_run, monkeypatch
):
    bold, confounds, data = rest_run
    settings = rest_denoise(max_censored_fraction=1.0, fd_threshold_mm=1.0)
    assert (settings.high_pass_hz, settings.low_pass_hz) == (0.005, 0.1)
    columns = cortex_columns(bold)
    assert columns.all_columns.size == 59412
    monkeypatch.setattr(restdata, "_BLOCK_COLUMNS", 10000)  # several blocks
    cleaned = restdata.clean_rest_run(bold, confounds, TR, settings, columns)
    found = censoring(confounds, TR, settings)
    assert 0 < found.censored.sum() < found.censored.size
    expected = clean_series(
        data[:, :59412],
        nuisance_regressors(bold, confounds, settings).to_numpy(float),
        found.censored,
        TR,
        settings,
    )
    assert cleaned.values.shape == expected.values.shape
    assert cleaned.values.dtype == np.float32
    np.testing.assert_allclose(cleaned.values, expected.values, rtol=1e-4, atol=1e-4)
    assert cleaned.n_censored == int(found.censored.sum())


def test_a_too_censored_rest_run_is_left_out(rest_run):
    bold, confounds, _ = rest_run
    settings = rest_denoise(max_censored_fraction=0.0, fd_threshold_mm=0.01)
    columns = cortex_columns(bold)
    assert restdata.clean_rest_run(bold, confounds, TR, settings, columns) is None


def test_a_rest_run_whose_confounds_have_other_volumes_is_named(rest_run):
    bold, confounds, _ = rest_run
    table = pd.read_csv(confounds, sep="\t")
    table.iloc[:-2].to_csv(confounds, sep="\t", index=False, na_rep="n/a")
    settings = rest_denoise(max_censored_fraction=1.0)
    with pytest.raises(ValueError, match=r"120 volumes, but its confounds .* 118 rows"):
        restdata.clean_rest_run(bold, confounds, TR, settings, cortex_columns(bold))


def test_a_dense_file_without_a_cortex_is_named(tmp_path):
    axis = standard_91k_axis()
    subcortex = axis[59412:]
    path = tmp_path / "sub.dtseries.nii"
    series = nib.cifti2.SeriesAxis(0, TR, 2)
    nib.save(
        nib.Cifti2Image(
            np.zeros((2, len(subcortex)), np.float32), header=(series, subcortex)
        ),
        path,
    )
    with pytest.raises(ValueError, match="no left or right cortex"):
        cortex_columns(path)
