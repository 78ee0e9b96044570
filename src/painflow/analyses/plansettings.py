"""The plan's settings (config section ``plan``), light enough for the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanSettings:
    """What the plan asks of the fitted curve (config section ``plan``).

    Attributes
    ----------
    target_r : float
        The r whose number of sessions is wanted.
    extra_sessions : int
        ``K``: the gain of this many sessions beyond the person's ``N``.
    n_bootstrap : int
        Resamples of sessions and repeats (0: no intervals).
    max_sessions : int
        A target reached only beyond this many sessions counts as never.
    """

    target_r: float = 0.4
    extra_sessions: int = 4
    n_bootstrap: int = 1000
    max_sessions: int = 100

    def __post_init__(self):
        if not -1 < self.target_r < 1:
            raise ValueError(f"target_r must be in (-1, 1), got {self.target_r}")
        if self.extra_sessions < 1 or self.max_sessions < 1:
            raise ValueError("extra_sessions and max_sessions must be positive")
        if self.n_bootstrap < 0:
            raise ValueError(f"n_bootstrap must be >= 0, got {self.n_bootstrap}")
