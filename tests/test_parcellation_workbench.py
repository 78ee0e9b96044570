"""wb_command's gradients and smoothing on known fields, and its errors."""

import nibabel as nib
import numpy as np
import pytest
from parcellation_meshes import grid_mesh, single_threaded, write_surface  # noqa: F401

from painflow.parcellation.mesh import Cortex
from painflow.parcellation.workbench import (
    WorkbenchError,
    fwhm_to_sigma,
    gradient_magnitude,
    read_dense,
    run_wb_command,
    smooth_dtseries,
    smooth_maps,
    write_dscalar,
)

SIDE = 41  # vertices per side of the flat grids
SPACING = 1.0  # mm


@pytest.fixture
def flat_cortex(tmp_path):
    coordinates, triangles = grid_mesh(SIDE, SIDE, SPACING)
    left = write_surface(tmp_path / "left.surf.gii", coordinates, triangles)
    right = write_surface(tmp_path / "right.surf.gii", coordinates, triangles)
    everything = np.arange(SIDE * SIDE)
    return Cortex.from_surfaces(left, right, everything, everything)


def grid_positions(cortex):
    return np.concatenate([h.coordinates[h.vertices] for h in cortex.hemispheres])


def interior(cortex, margin):
    positions = grid_positions(cortex)[:, :2]
    low, high = margin * SPACING, (SIDE - 1 - margin) * SPACING
    return np.all((positions >= low) & (positions <= high), axis=1)


def test_gradient_of_a_plane_is_its_slope(flat_cortex):
    positions = grid_positions(flat_cortex)
    slopes = np.array([[0.5, 0.2], [-1.0, 3.0]])
    maps = slopes @ positions[:, :2].T
    gradients = gradient_magnitude(maps, flat_cortex)
    inside = interior(flat_cortex, 1)
    expected = np.linalg.norm(slopes, axis=1)
    assert gradients.shape == maps.shape
    assert np.allclose(gradients[:, inside], expected[:, None], rtol=1e-3)


def test_smoothing_damps_a_wave_as_a_gaussian_of_that_sigma(flat_cortex):
    # A Gaussian of sigma s multiplies a wave of wavelength L by
    # exp(-2 pi^2 s^2 / L^2); Workbench truncates its kernel, damping a bit less.
    positions = grid_positions(flat_cortex)
    sigma, wavelength = 3.0, 20.0
    wave = np.sin(2 * np.pi * positions[:, 0] / wavelength)
    maps = np.vstack([wave, np.ones_like(wave)])
    maps[:, flat_cortex.columns("right")] = 0
    smoothed = smooth_maps(maps, flat_cortex, sigma)
    inside = interior(flat_cortex, 12) & (np.arange(len(wave)) < SIDE * SIDE)
    damping = smoothed[0, inside] @ wave[inside] / (wave[inside] @ wave[inside])
    assert damping == pytest.approx(
        np.exp(-2 * np.pi**2 * sigma**2 / wavelength**2), rel=0.06
    )
    assert np.allclose(smoothed[1, : SIDE * SIDE], 1, atol=1e-5)
    assert np.all(smoothed[:, flat_cortex.columns("right")] == 0)


def test_fwhm_and_sigma():
    assert fwhm_to_sigma(6.0) == pytest.approx(2.548, abs=1e-3)


def test_dtseries_smoothing_matches_map_smoothing(tmp_path, flat_cortex):
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((3, flat_cortex.n_vertices)).astype(np.float32)
    maps_file = write_dscalar(tmp_path / "x.dscalar.nii", frames, flat_cortex)
    models = nib.load(maps_file).header.get_axis(1)
    series = nib.cifti2.SeriesAxis(0, 0.46, 3)
    image = nib.cifti2.Cifti2Image(
        frames, nib.cifti2.Cifti2Header.from_axes((series, models))
    )
    nib.save(image, tmp_path / "run.dtseries.nii")
    left, right = (h.surface for h in flat_cortex.hemispheres)
    out = smooth_dtseries(
        tmp_path / "run.dtseries.nii",
        tmp_path / "smooth.dtseries.nii",
        6.0,
        left,
        right,
    )
    expected = smooth_maps(frames, flat_cortex, fwhm_to_sigma(6.0))
    assert np.allclose(read_dense(out), expected, atol=1e-5)
    assert nib.load(out).header.get_axis(0).step == pytest.approx(0.46)


def test_bad_smoothing_kernels_are_refused(tmp_path, flat_cortex):
    with pytest.raises(ValueError, match="sigma_mm must be positive, got 0"):
        smooth_maps(np.zeros((1, flat_cortex.n_vertices)), flat_cortex, 0)
    with pytest.raises(ValueError, match="fwhm_mm must be positive, got -1"):
        smooth_dtseries("a", "b", -1, "l", "r")
    with pytest.raises(ValueError, match="maps has 5 cortex columns"):
        gradient_magnitude(np.zeros((1, 5)), flat_cortex)


def test_a_failing_command_reports_itself_and_its_stderr(tmp_path):
    missing = tmp_path / "missing.surf.gii"
    with pytest.raises(WorkbenchError, match="-surface-geodesic-distance.*failed"):
        run_wb_command("-surface-geodesic-distance", missing, 0, tmp_path / "o.gii")


def test_a_missing_wb_command_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WorkbenchError, match="apt-get install connectome-workbench"):
        run_wb_command("-version")
