"""Connectome Workbench's ``wb_command``: the one place painflow runs it.

Gradients and smoothing on the cortical surface are Workbench's: maps are
written as a dscalar in a temporary folder, transformed by ``wb_command`` and
read back.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from painflow.atlas.surface import CORTEX_STRUCTURES
from painflow.parcellation.mesh import Cortex

INSTALL_HINT = (
    "install Connectome Workbench (Debian/Ubuntu: "
    "`apt-get install connectome-workbench`)"
)


class WorkbenchError(RuntimeError):
    """``wb_command`` is missing or failed."""


def wb_command() -> str:
    """Path of the ``wb_command`` program, or a clear error saying how to get it."""
    found = shutil.which("wb_command")
    if found is None:
        raise WorkbenchError(f"wb_command not found on PATH: {INSTALL_HINT}")
    return found


def run_wb_command(*arguments: str | Path) -> None:
    """Run ``wb_command`` with arguments; raise with its stderr if it fails."""
    command = [wb_command(), *map(str, arguments)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise WorkbenchError(
            f"{' '.join(command)} failed (exit {completed.returncode}): "
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )


def surface_arguments(cortex: Cortex) -> list[str]:
    """``-left-surface``/``-right-surface`` options for the cortex's surfaces."""
    arguments = []
    for hemisphere in cortex.hemispheres:
        arguments += [f"-{hemisphere.name}-surface", str(hemisphere.surface)]
    return arguments


def cortex_models(cortex: Cortex) -> nib.cifti2.BrainModelAxis:
    """The CIFTI brain models of the cortex's data columns, in column order."""
    axes = [
        nib.cifti2.BrainModelAxis.from_surface(
            h.vertices, h.n_surface_vertices, CORTEX_STRUCTURES[h.name]
        )
        for h in cortex.hemispheres
    ]
    models = axes[0]
    for axis in axes[1:]:
        models = models + axis
    return models


def write_dscalar(path: Path, maps: np.ndarray, cortex: Cortex) -> Path:
    """Write (maps x cortex columns) as a float32 dscalar on the cortex."""
    cortex.check_columns(maps.shape[1], "maps")
    names = nib.cifti2.ScalarAxis([f"map{i}" for i in range(len(maps))])
    header = nib.cifti2.Cifti2Header.from_axes((names, cortex_models(cortex)))
    image = nib.cifti2.Cifti2Image(np.asarray(maps, np.float32), header)
    nib.save(image, path)
    return path


def read_dense(path: Path) -> np.ndarray:
    """The data matrix of a dense CIFTI, as float32."""
    return np.asarray(nib.load(path).get_fdata(dtype=np.float32))


def _transformed(maps: np.ndarray, cortex: Cortex, operation) -> np.ndarray:
    """Maps written to a dscalar, ``operation(input, output)`` run, read back."""
    maps = np.atleast_2d(maps)
    with tempfile.TemporaryDirectory(prefix="painflow-wb-") as folder:
        source = write_dscalar(Path(folder) / "in.dscalar.nii", maps, cortex)
        target = Path(folder) / "out.dscalar.nii"
        operation(source, target)
        return read_dense(target)


def gradient_magnitude(maps: np.ndarray, cortex: Cortex) -> np.ndarray:
    """Gradient magnitude of each map on its hemisphere's surface.

    Parameters
    ----------
    maps : numpy.ndarray
        (maps, cortex columns).
    cortex : Cortex
        Its surfaces carry the gradient (``wb_command -cifti-gradient``).

    Returns
    -------
    numpy.ndarray
        (maps, cortex columns), float32, in map units per mm.
    """

    def gradient(source, target):
        run_wb_command(
            "-cifti-gradient", source, "COLUMN", target, *surface_arguments(cortex)
        )

    return _transformed(maps, cortex, gradient)


def fwhm_to_sigma(fwhm_mm: float) -> float:
    """A Gaussian kernel's sigma from its full width at half maximum."""
    return fwhm_mm / np.sqrt(8 * np.log(2))


def smooth_maps(maps: np.ndarray, cortex: Cortex, sigma_mm: float) -> np.ndarray:
    """Gaussian smoothing of each map on the surface (``-cifti-smoothing``).

    Parameters
    ----------
    maps : numpy.ndarray
        (maps, cortex columns).
    cortex : Cortex
    sigma_mm : float
        Kernel sigma in mm (see :func:`fwhm_to_sigma`).

    Returns
    -------
    numpy.ndarray
        (maps, cortex columns), float32.
    """
    if not sigma_mm > 0:
        raise ValueError(f"sigma_mm must be positive, got {sigma_mm}")

    def smoothing(source, target):
        run_wb_command(
            "-cifti-smoothing",
            source,
            sigma_mm,
            sigma_mm,
            "COLUMN",
            target,
            *surface_arguments(cortex),
        )

    return _transformed(maps, cortex, smoothing)


def smooth_dtseries(
    in_path: str | Path,
    out_path: str | Path,
    fwhm_mm: float,
    left_surface: str | Path,
    right_surface: str | Path,
) -> Path:
    """Smooth a dense time series on the surface and in the volume.

    Parameters
    ----------
    in_path, out_path : str or Path
        The ``.dtseries.nii`` to read and the one to write.
    fwhm_mm : float
        Kernel full width at half maximum, mm, on the surface and in the volume.
    left_surface, right_surface : str or Path
        Surface GIFTIs of the data's mesh (e.g. midthickness).

    Returns
    -------
    Path
        ``out_path``.
    """
    if not fwhm_mm > 0:
        raise ValueError(f"fwhm_mm must be positive, got {fwhm_mm}")
    run_wb_command(
        "-cifti-smoothing",
        in_path,
        fwhm_mm,
        fwhm_mm,
        "COLUMN",
        out_path,
        "-fwhm",
        "-left-surface",
        left_surface,
        "-right-surface",
        right_surface,
    )
    return Path(out_path)
