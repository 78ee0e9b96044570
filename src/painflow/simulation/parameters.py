"""The tunable numbers of the simulated study's generative model."""

from __future__ import annotations

from dataclasses import dataclass


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
    activation_gain : float
        The signal regions also carry ``activation_gain * pain(t - delay) /
        100``: a univariate response to pain, which a GLM of the ratings can
        find (0: the signal is in the coupling alone).
    shared_signal_regions : int
        How many of each subject's signal regions are the same regions in
        every subject; the others stay disjoint across subjects.
    motion_pain_coupling : float
        Head-motion steps scale by ``1 + motion_pain_coupling * pain / 100``,
        so that framewise displacement covaries with pain (0: independent).
    rest_signal_scale : float
        Scale of the rest runs' pain signal (coupling and activation) relative
        to the rating runs' (1: the same; 0: rest runs carry no pain signal).
    session_pattern_sd : tuple of float
        How much the pain signal's pattern varies from session to session, one
        value per subject (cycled; empty: no variation): in each session, each
        signal region's coupling is scaled by ``1 + sd * z`` (``z`` standard
        normal, drawn per session and region), so that a model of few sessions
        learns their own patterns and a person with a larger value needs more
        sessions before the learning curve saturates. Rating runs only.
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
    activation_gain: float = 0.0
    shared_signal_regions: int = 0
    motion_pain_coupling: float = 0.0
    rest_signal_scale: float = 1.0
    session_pattern_sd: tuple[float, ...] = ()

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
        if not 0 <= self.shared_signal_regions <= self.n_signal_regions:
            raise ValueError(
                "shared_signal_regions must be between 0 and n_signal_regions "
                f"({self.n_signal_regions}), got {self.shared_signal_regions}"
            )
        if self.motion_pain_coupling < 0:
            raise ValueError("motion_pain_coupling must be non-negative")
        if self.rest_signal_scale < 0:
            raise ValueError("rest_signal_scale must be non-negative")
        if any(not sd >= 0 for sd in self.session_pattern_sd):
            raise ValueError("session_pattern_sd must be non-negative")

    def session_pattern_of(self, subject: int) -> float:
        """The session-to-session variation of the 1-based ``subject``'s pattern."""
        values = self.session_pattern_sd
        return float(values[(subject - 1) % len(values)]) if values else 0.0


@dataclass(frozen=True)
class IndividualParameters:
    """The numbers of the individual topography and of the rest runs.

    Distances are on the fsLR sphere (radius 100 mm), where the template's
    parcels are drawn.

    Attributes
    ----------
    n_rest_volumes : int
        Volumes of each session's rest run.
    parcels_per_hemisphere : int
        Parcels of the group template in each hemisphere, shared among the
        Yeo-7 networks in proportion to their size.
    parcel_jitter_mm : float
        Standard deviation of the displacement of each parcel's centre in a
        person (per tangent direction), which moves the parcel boundaries.
    network_growth_mm : float
        Width of the band by which one network is larger in each person.
    rest_network_amplitude : float
        Amplitude of the series each network shares among its parcels.
    rest_parcel_amplitude : float
        Amplitude of each parcel's own series, shared by its vertices.
    rest_time_constant : float
        Time constant (s) of the AR(1) network and parcel series.
    """

    n_rest_volumes: int = 300
    parcels_per_hemisphere: int = 150
    parcel_jitter_mm: float = 10.0
    network_growth_mm: float = 8.0
    rest_network_amplitude: float = 1.0
    rest_parcel_amplitude: float = 1.0
    rest_time_constant: float = 4.0

    def __post_init__(self):
        for name in ("n_rest_volumes", "parcels_per_hemisphere"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        non_negative = (
            "parcel_jitter_mm",
            "network_growth_mm",
            "rest_network_amplitude",
            "rest_parcel_amplitude",
        )
        for name in non_negative:
            if not getattr(self, name) >= 0:
                raise ValueError(
                    f"{name} must be non-negative, got {getattr(self, name)}"
                )
        if not self.rest_time_constant > 0:
            raise ValueError("rest_time_constant must be positive")
