"""The design of a messy simulated study: which runs exist, their labels, lengths.

Real studies are untidy: session labels are not zero-padded and come without
a sessions.tsv, a run is missing, runs differ in length. :class:`Mess`
gathers these options with the runs' artefacts
(:class:`~painflow.simulation.artifacts.ArtifactParameters`). Draws come from named
streams (:func:`painflow.core.streams.step_rng`), so a clean study's draws are
untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from painflow.core.streams import step_rng
from painflow.simulation.artifacts import ArtifactParameters, detection_rules
from painflow.simulation.confounds import N_COMPCOR

# Range of the fraction of its volumes a shortened run loses, and how often.
RUN_SHORTENING = (0.1, 0.2)
SHORT_RUN_PROBABILITY = 0.5
_MAX_SEED = 2**32  # larger seeds take two entropy words and could alias streams


@dataclass(frozen=True)
class Mess:
    """The mess of a simulated study: artefacts and an untidy design.

    Attributes
    ----------
    artifacts : ArtifactParameters or None
        The runs' artefacts; None for clean runs.
    unpadded_sessions : bool
        Sessions labelled ``1..`` instead of ``01..``, without sessions.tsv.
    missing_run : bool
        One run of one session per subject left out.
    variable_run_length : bool
        About half of the runs 10-20% shorter.
    """

    artifacts: ArtifactParameters | None = None
    unpadded_sessions: bool = False
    missing_run: bool = False
    variable_run_length: bool = False

    @property
    def active(self) -> bool:
        """Whether the study carries any mess (clean studies stay as they were)."""
        options = (self.unpadded_sessions, self.missing_run, self.variable_run_length)
        return self.artifacts is not None or any(options)

    def as_dict(self) -> dict:
        """The options and the censoring rules' thresholds, for the ground truth."""
        artifacts = self.artifacts
        return {
            "artifacts": None if artifacts is None else artifacts.as_dict(),
            "unpadded_sessions": self.unpadded_sessions,
            "missing_run": self.missing_run,
            "variable_run_length": self.variable_run_length,
            "detection_rules": detection_rules(),
        }

    def session_label(self, session: int) -> str:
        """The label of a 1-based session index."""
        return str(session) if self.unpadded_sessions else f"{session:02d}"

    def check(self, n_runs: int, n_volumes: int, min_volumes: int) -> None:
        """Raise ValueError when the design cannot carry this mess.

        Parameters
        ----------
        n_runs, n_volumes : int
            Runs per session and volumes per run.
        min_volumes : int
            The fewest volumes a run may have.
        """
        if self.missing_run and n_runs < 2:
            raise ValueError("a missing run needs at least 2 runs per session")
        shortest = int(round(n_volumes * (1.0 - RUN_SHORTENING[1])))
        if self.variable_run_length and shortest < min_volumes:
            raise ValueError(
                f"n_volumes={n_volumes}: runs of variable length, up to "
                f"{RUN_SHORTENING[1]:.0%} shorter, need at least {min_volumes}"
            )

    def runs(
        self, seed: int, subject: int, session: int, shape: tuple[int, int, int]
    ) -> list[tuple[int, int]]:
        """The runs of a session: (1-based run index, volumes).

        Parameters
        ----------
        seed : int
            The study's seed.
        subject, session : int
            1-based indices.
        shape : tuple of int
            The design's sessions per subject, runs per session and volumes
            per run.

        Returns
        -------
        list of tuple of int
        """
        n_sessions, n_runs, n_volumes = shape
        skipped = None
        if self.missing_run:
            skipped = missing_run(seed, subject, n_sessions, n_runs)
        runs = []
        for run in range(1, n_runs + 1):
            length = n_volumes
            if self.variable_run_length:
                length = run_length(seed, (subject, session, run), n_volumes)
            if (session, run) != skipped:
                runs.append((run, length))
        return runs


def missing_run(seed: int, subject: int, n_sessions: int, n_runs: int) -> tuple:
    """The (session, run) indices (1-based) of a subject's missing run.

    Parameters
    ----------
    seed : int
    subject : int
        1-based subject index.
    n_sessions, n_runs : int

    Returns
    -------
    tuple of int
    """
    rng = step_rng(seed, "simulate missing run", subject)
    return int(rng.integers(1, n_sessions + 1)), int(rng.integers(1, n_runs + 1))


def run_length(seed: int, run_keys: tuple[int, int, int], n_volumes: int) -> int:
    """A run's volumes when runs vary in length: about half are 10-20% shorter.

    Parameters
    ----------
    seed : int
    run_keys : tuple of int
        1-based subject, session and run indices.
    n_volumes : int
        The full length.

    Returns
    -------
    int
    """
    rng = step_rng(seed, "simulate run length", *run_keys)
    shortened = rng.random() < SHORT_RUN_PROBABILITY
    loss = rng.uniform(*RUN_SHORTENING)
    return int(round(n_volumes * (1.0 - loss))) if shortened else n_volumes


@dataclass(frozen=True)
class StudyDesign:
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
        """Root of the fMRIPrep-style derivatives."""
        return self.out_dir / "derivatives" / "fmriprep"

    @property
    def subjects(self) -> list[str]:
        """Subject labels ``01..``."""
        return [f"{s:02d}" for s in range(1, self.n_subjects + 1)]

    @property
    def sessions(self) -> list[str]:
        """Session labels, zero-padded unless the design says otherwise."""
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
