"""Real data's mess for simulated studies.

Data a project simulates for itself share the code's assumptions and hide the
bugs real data trigger. This module plants what real fMRIPrep outputs and
rating recordings carry:

- non-steady-state volumes at the start of a run (T1 saturation: brighter
  images, flagged by fMRIPrep's ``non_steady_state_outlierXX`` columns);
- head jerks: a brief, large displacement over one or two volumes with a
  non-linear intensity artefact, some of them in the last volumes of a run;
- slider plateaus: integer ratings held still for seconds at a time.

:mod:`painflow.simulation.design` adds an untidy design (unpadded session labels, a
missing run, shorter runs).

Every draw comes from a named stream (:func:`painflow.core.streams.step_rng`) of
the study's seed and the run's 1-based subject, session and run indices, one
stream per kind of mess, so a clean study's draws are untouched and switching
one kind on or off leaves the others as they were. The generative model and the
study import this module, never the other way round.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from painflow.core.streams import step_rng
from painflow.signals.confounds import (
    MOTION_COLUMNS,
    framewise_displacement,
)

NON_STEADY_STATE_PREFIX = "non_steady_state_outlier"
# The usual spike threshold of standardized DVARS (Power et al. 2014; fMRIPrep).
STD_DVARS_THRESHOLD = 1.5
# The study's censoring by FD (config denoise.fd_low_pass_hz and fd_threshold_mm
# at their defaults), the rule whose detections the ground truth records.
STUDY_FD_LOW_PASS_HZ = 0.1
STUDY_FD_THRESHOLD_MM = 0.15


@dataclass(frozen=True)
class ArtifactParameters:
    """Which artefacts a simulated run carries, and their sizes.

    Attributes
    ----------
    non_steady_state, jerks, plateaus : bool
        Plant non-steady-state volumes, head jerks, slider plateaus.
    non_steady_state_volumes : tuple of int
        Range (inclusive) of the number of non-steady-state volumes of a run.
    saturation_excess : float
        Relative intensity excess of a run's first volume; it falls linearly
        to zero at the first steady-state volume.
    jerks_per_minute : float
        Mean rate of jerks inside a run (Poisson).
    end_jerk_probability : float
        Probability that a run ends with a jerk (its last one or two volumes).
    jerk_size_range : tuple of float
        Range of a jerk's displacement (mm; rotations as arc length).
    jerk_volumes : tuple of int
        Range (inclusive) of the volumes a jerk lasts.
    plateau_seconds : tuple of float
        Range of the time the slider sits still between moves (s).
    """

    non_steady_state: bool = True
    jerks: bool = True
    plateaus: bool = True
    non_steady_state_volumes: tuple[int, int] = (2, 4)
    saturation_excess: float = 0.6
    jerks_per_minute: float = 0.2
    end_jerk_probability: float = 0.5
    jerk_size_range: tuple[float, float] = (1.0, 2.0)
    jerk_volumes: tuple[int, int] = (1, 2)
    plateau_seconds: tuple[float, float] = (1.0, 5.0)

    def __post_init__(self):
        ranges = (
            "non_steady_state_volumes",
            "jerk_size_range",
            "jerk_volumes",
            "plateau_seconds",
        )
        for name in ranges:
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must be an increasing positive range")
        if not self.saturation_excess > 0:
            raise ValueError("saturation_excess must be positive")
        if not self.jerks_per_minute >= 0:
            raise ValueError("jerks_per_minute must be non-negative")
        if not 0 <= self.end_jerk_probability <= 1:
            raise ValueError("end_jerk_probability must be a probability")

    def as_dict(self) -> dict:
        """The parameters as JSON values (tuples as lists)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True, eq=False)
class RunSignals:
    """The parts of a simulated run that artefacts change.

    Attributes
    ----------
    bold : numpy.ndarray
        (volumes, voxels) image intensity.
    motion : numpy.ndarray
        (volumes, 6): translations (mm), rotations (rad).
    ratings : numpy.ndarray
        Rating samples from the first volume on.
    motion_response : numpy.ndarray
        (6, voxels) intensity change per mm of each motion parameter.
    artifact_scale : float
        Intensity of the non-linear motion artefact per mm of displacement.
    head_radius : float
        Radius (mm) converting rotations to displacements.
    rating_frequency : float
        Sampling frequency of the ratings (Hz).
    """

    bold: np.ndarray
    motion: np.ndarray
    ratings: np.ndarray
    motion_response: np.ndarray
    artifact_scale: float
    head_radius: float
    rating_frequency: float


@dataclass(frozen=True)
class Jerk:
    """A head jerk: displaced volumes, their shift and whether it ends the run."""

    volumes: tuple[int, ...]
    shift_mm: tuple[float, ...]  # (6,), rotations as arc length
    at_run_end: bool

    @property
    def size_mm(self) -> float:
        """Displacement (mm)."""
        return float(np.abs(self.shift_mm).sum())


# -- motion artefacts -----------------------------------------------------------


def motion_artifacts(
    rng: np.random.Generator, sizes: np.ndarray, n_voxels: int, amplitude: float
) -> np.ndarray:
    """Non-linear artefact of displaced volumes: a global shift plus voxel noise.

    Parameters
    ----------
    rng : numpy.random.Generator
    sizes : numpy.ndarray
        Displacement (mm) of each displaced volume.
    n_voxels : int
    amplitude : float
        Artefact per mm of displacement.

    Returns
    -------
    numpy.ndarray
        (len(sizes), voxels).
    """
    shared = rng.standard_normal((sizes.size, 1))
    local = rng.standard_normal((sizes.size, n_voxels))
    return amplitude * sizes[:, None] * (shared + local)


def _jerk(
    rng: np.random.Generator,
    onset: int | None,
    n_volumes: int,
    params: ArtifactParameters,
) -> Jerk:
    """One jerk along one motion axis; ``onset`` None puts it at the run's end."""
    duration = int(rng.integers(params.jerk_volumes[0], params.jerk_volumes[1] + 1))
    if onset is None:
        onset = n_volumes - min(duration, 2)  # the last volume or two
    shift = np.zeros(6)
    shift[rng.integers(0, 6)] = rng.choice([-1.0, 1.0]) * rng.uniform(
        *params.jerk_size_range
    )
    volumes = tuple(range(onset, min(onset + duration, n_volumes)))
    return Jerk(volumes, tuple(shift), at_run_end=volumes[-1] == n_volumes - 1)


def draw_jerks(
    rng: np.random.Generator,
    n_volumes: int,
    tr: float,
    first: int,
    params: ArtifactParameters,
) -> list[Jerk]:
    """Draw a run's jerks: Poisson inside the run, and maybe one at its end.

    Inside jerks start at or after ``first``, apart by the longest duration
    plus two volumes, and the head returns before the run's last three
    volumes; an end jerk covers the last one or two volumes and the head
    stays displaced.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    tr : float
    first : int
        First volume a jerk may start at (after the non-steady-state ones).
    params : ArtifactParameters

    Returns
    -------
    list of Jerk
        In time order.
    """
    candidates = np.arange(first, n_volumes - params.jerk_volumes[1] - 3)
    count = rng.poisson(params.jerks_per_minute * n_volumes * tr / 60.0)
    count = min(int(count), candidates.size)
    onsets = np.sort(rng.choice(candidates, count, replace=False))
    gap = params.jerk_volumes[1] + 2  # the head returns, then stays a volume
    spaced = []
    for onset in onsets:
        if not spaced or onset >= spaced[-1] + gap:
            spaced.append(int(onset))
    jerks = [_jerk(rng, onset, n_volumes, params) for onset in spaced]
    if rng.random() < params.end_jerk_probability and n_volumes - 2 > first:
        jerks.append(_jerk(rng, None, n_volumes, params))
    return jerks


def _add_jerks(
    signals: RunSignals, jerks: list[Jerk], rng: np.random.Generator
) -> RunSignals:
    """Displace the head at each jerk, with its linear and non-linear effect."""
    if not jerks:
        return signals
    shift_mm = np.zeros_like(signals.motion)
    for jerk in jerks:
        shift_mm[list(jerk.volumes)] += jerk.shift_mm
    motion = signals.motion + np.hstack(
        [shift_mm[:, :3], shift_mm[:, 3:] / signals.head_radius]
    )
    volumes = np.flatnonzero(np.abs(shift_mm).sum(axis=1))
    sizes = np.abs(shift_mm[volumes]).sum(axis=1)
    effect = shift_mm[volumes] @ signals.motion_response + motion_artifacts(
        rng, sizes, signals.bold.shape[1], signals.artifact_scale
    )
    bold = signals.bold.copy()
    bold[volumes] = (bold[volumes] + effect).astype(bold.dtype)
    return dataclasses.replace(signals, bold=bold, motion=motion)


# -- non-steady-state volumes -----------------------------------------------------


def saturate(bold: np.ndarray, n_volumes: int, excess: float) -> np.ndarray:
    """Brighten the first volumes the way T1 saturation does.

    Parameters
    ----------
    bold : numpy.ndarray
        (volumes, voxels) intensity.
    n_volumes : int
        Non-steady-state volumes at the start.
    excess : float
        Relative excess of the first volume; volume ``v`` gets
        ``excess * (n_volumes - v) / n_volumes``.

    Returns
    -------
    numpy.ndarray
        A copy of ``bold``.
    """
    factor = 1.0 + excess * (n_volumes - np.arange(n_volumes)) / n_volumes
    out = bold.copy()
    out[:n_volumes] = (bold[:n_volumes] * factor[:, None]).astype(bold.dtype)
    return out


def non_steady_state_columns(n_volumes: int, n_flagged: int) -> dict:
    """FMRIPrep's indicator columns: one per non-steady-state volume.

    Parameters
    ----------
    n_volumes : int
        Volumes in the run.
    n_flagged : int
        Non-steady-state volumes at the start.

    Returns
    -------
    dict
        ``non_steady_state_outlierXX`` to a 0/1 integer column, 1 at volume XX.
    """
    identity = np.eye(n_volumes, n_flagged, dtype=int)
    return {
        f"{NON_STEADY_STATE_PREFIX}{i:02d}": identity[:, i] for i in range(n_flagged)
    }


# -- ratings ----------------------------------------------------------------------


def hold_ratings(
    rng: np.random.Generator,
    ratings: np.ndarray,
    sampling_frequency: float,
    hold_seconds: tuple[float, float],
) -> np.ndarray:
    """Integer ratings that sit still between moves (sample and hold).

    Parameters
    ----------
    rng : numpy.random.Generator
    ratings : numpy.ndarray
        The slider's continuous position at each sample.
    sampling_frequency : float
        Samples per second.
    hold_seconds : tuple of float
        Range of the time the slider sits still.

    Returns
    -------
    numpy.ndarray
        Integer ratings: the rounded position at the start of each still
        stretch, held until the next.
    """
    n = ratings.size
    shortest = max(1, int(round(hold_seconds[0] * sampling_frequency)))
    durations = rng.uniform(*hold_seconds, n // shortest + 1)
    lengths = np.maximum(1, np.round(durations * sampling_frequency).astype(int))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    starts = starts[starts < n]
    held = np.repeat(np.round(ratings[starts]), np.diff(np.append(starts, n)))
    return held.astype(np.int64)


# -- a run's artefacts --------------------------------------------------------------


def add_artifacts(
    signals: RunSignals,
    tr: float,
    params: ArtifactParameters,
    seed: int,
    run_keys: tuple[int, int, int],
) -> tuple[RunSignals, list[dict]]:
    """Plant a run's non-steady-state volumes, jerks and plateaus.

    Parameters
    ----------
    signals : RunSignals
        The clean run.
    tr : float
    params : ArtifactParameters
    seed : int
        The study's seed.
    run_keys : tuple of int
        1-based subject, session and run indices: the streams' keys.

    Returns
    -------
    signals : RunSignals
        The messy run.
    events : list of dict
        ``kind`` (``non_steady_state`` or ``jerk``) and ``volumes`` of every
        artefact; jerks also have ``size_mm`` and ``at_run_end``.
    """
    n_volumes, events, first = len(signals.bold), [], 1
    if params.non_steady_state:
        rng = step_rng(seed, "simulate non-steady-state", *run_keys)
        low, high = params.non_steady_state_volumes
        first = min(int(rng.integers(low, high + 1)), n_volumes - 1)
        bold = saturate(signals.bold, first, params.saturation_excess)
        signals = dataclasses.replace(signals, bold=bold)
        events.append({"kind": "non_steady_state", "volumes": list(range(first))})
    if params.jerks:
        rng = step_rng(seed, "simulate jerks", *run_keys)
        jerks = draw_jerks(rng, n_volumes, tr, first + 1, params)
        signals = _add_jerks(signals, jerks, rng)
        events += [_jerk_event(jerk) for jerk in jerks]
    if params.plateaus:
        rng = step_rng(seed, "simulate rating plateaus", *run_keys)
        ratings = hold_ratings(
            rng, signals.ratings, signals.rating_frequency, params.plateau_seconds
        )
        signals = dataclasses.replace(signals, ratings=ratings)
    return signals, events


def _jerk_event(jerk: Jerk) -> dict:
    return {
        "kind": "jerk",
        "volumes": list(jerk.volumes),
        "size_mm": round(jerk.size_mm, 6),
        "at_run_end": jerk.at_run_end,
    }


def spike_events(volumes: np.ndarray, sizes: np.ndarray) -> list[dict]:
    """Events of the clean model's small random motion spikes (kind ``spike``)."""
    return [
        {"kind": "spike", "volumes": [int(v)], "size_mm": round(float(s), 6)}
        for v, s in zip(volumes, sizes, strict=True)
    ]


# -- detection ------------------------------------------------------------------------


def censoring_flags(confounds, tr: float, head_radius: float) -> dict:
    """Volumes each censoring rule flags in an fMRIPrep-style confounds table.

    Parameters
    ----------
    confounds : pandas.DataFrame
        With the motion columns, ``std_dvars`` and any
        ``non_steady_state_outlierXX`` columns.
    tr : float
    head_radius : float

    Returns
    -------
    dict
        Boolean (volumes,) per rule: ``non_steady_state_outlier`` (fMRIPrep's
        columns), ``filtered_fd`` (painflow's default: FD of 0.1 Hz low-passed
        motion above 0.15 mm) and ``std_dvars`` (above 1.5).
    """
    motion = confounds[list(MOTION_COLUMNS)].to_numpy(float)
    try:
        fd = framewise_displacement(
            motion,
            tr,
            low_pass_hz=STUDY_FD_LOW_PASS_HZ,
            head_radius_mm=head_radius,
        )
    except ValueError:  # a run shorter than the zero-phase filter's padding
        fd = np.zeros(len(motion))
    flags = confounds.loc[:, confounds.columns.str.startswith(NON_STEADY_STATE_PREFIX)]
    std_dvars = confounds["std_dvars"].to_numpy(float)
    return {
        NON_STEADY_STATE_PREFIX: flags.to_numpy(float).sum(axis=1) > 0,
        "filtered_fd": fd > STUDY_FD_THRESHOLD_MM,
        "std_dvars": np.nan_to_num(std_dvars) > STD_DVARS_THRESHOLD,
    }


def with_detection(events: list[dict], flags: dict) -> list[dict]:
    """Add to each event the rules that flag every one of its volumes.

    Parameters
    ----------
    events : list of dict
        With ``volumes``.
    flags : dict
        Boolean (volumes,) per rule, from :func:`censoring_flags`.

    Returns
    -------
    list of dict
        Copies of the events with ``detected_by`` (list of rule names).
    """
    return [
        {
            **event,
            "detected_by": [
                rule
                for rule, flagged in flags.items()
                if flagged[event["volumes"]].all()
            ],
        }
        for event in events
    ]


def detection_rules() -> dict:
    """The thresholds of the rules in ``detected_by``, for the ground truth."""
    return {
        "filtered_fd": {
            "low_pass_hz": STUDY_FD_LOW_PASS_HZ,
            "threshold_mm": STUDY_FD_THRESHOLD_MM,
        },
        "std_dvars": {"threshold": STD_DVARS_THRESHOLD},
        NON_STEADY_STATE_PREFIX: {"columns": f"{NON_STEADY_STATE_PREFIX}XX"},
    }
