"""The rest-run test of a study: which sessions have a rest run to score.

With config ``rest_test.enabled`` (the default) and sessions, every session's
rest run (task ``rest_test.task``) is cleaned by ``extract_rest_signals`` and
scored by ``rest_test`` with the subject's models. A session with several
rest runs uses its first (in run order); a session without one is left out
of the test, with the reason in the test's QC table; a subject without any
rest run has no rest-run test.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from painflow.inputs.dataset import DatasetSpec, raw_files
from painflow.inputs.restruns import find_rest_runs

REST_TEST_LEFT_OUT = (
    "the rest-run test compares sessions, and these runs have no session "
    "entity: it is left out"
)


@dataclasses.dataclass(frozen=True)
class RestTest:
    """The subjects' rest runs, one per session, and their rating sessions.

    Attributes
    ----------
    settings : dict
        Config ``rest_test``.
    rest_runs : pandas.DataFrame
        The first rest run of each session
        (:func:`painflow.inputs.restruns.find_rest_runs`).
    rating_sessions : dict
        Subject to its sessions with rating runs, in session order.
    """

    settings: dict
    rest_runs: pd.DataFrame
    rating_sessions: dict

    @classmethod
    def from_config(
        cls, config: dict, dataset: DatasetSpec, runs: pd.DataFrame
    ) -> RestTest | None:
        """The study's rest-run test; None when disabled or without rest runs.

        Parameters
        ----------
        config : dict
            The validated config.
        dataset : DatasetSpec
            Where the rating runs were found.
        runs : pandas.DataFrame
            The discovered rating runs (with sessions).

        Raises
        ------
        ValueError
            When the rest task is the rating task.
        """
        settings = config["rest_test"]
        if not settings["enabled"]:
            return None
        if settings["task"] == config["task"]:
            raise ValueError(
                f"config rest_test.task '{settings['task']}' is the rating task: "
                "rest runs are runs without ratings"
            )
        subjects = sorted(runs["subject"].unique())
        found = find_rest_runs(dataset, settings["task"], subjects)
        if found.empty:
            return None
        first = found.drop_duplicates(["subject", "session"], keep="first")
        sessions = {
            subject: list(dict.fromkeys(rows["session"]))
            for subject, rows in runs.groupby("subject", sort=True)
        }
        return cls(settings, first.reset_index(drop=True), sessions)

    @property
    def task(self) -> str:
        """The rest runs' task label."""
        return self.settings["task"]

    def subjects(self) -> list[str]:
        """Subjects with a rest run in at least one of their rating sessions."""
        return [s for s in self.rating_sessions if self.sessions(s)]

    def sessions(self, subject: str) -> list[str]:
        """The subject's rating sessions that have a rest run."""
        rows = self.rest_runs[self.rest_runs["subject"] == subject]
        have = set(rows["session"])
        return [s for s in self.rating_sessions.get(subject, []) if s in have]

    def run(self, subject: str, session: str) -> pd.Series:
        """The rest run scored for a session."""
        rows = self.rest_runs[
            (self.rest_runs["subject"] == subject)
            & (self.rest_runs["session"] == session)
        ]
        if rows.empty:
            raise KeyError(f"sub-{subject} ses-{session}: no rest run of {self.task}")
        return rows.iloc[0]

    def raw_bold(self, subject: str, session: str) -> list[str]:
        """Raw BOLD of the session's scored rest run (none without one)."""
        if session not in self.sessions(subject):
            return []
        return raw_files([self.run(subject, session)["echoes"]])
