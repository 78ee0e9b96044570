"""The fMRIPrep jobs' paths and settings, when painflow runs fMRIPrep.

That is when config ``fmriprep_dir`` is null: the outputs go into a tree of
painflow's own, one folder per session job, linked into one derivatives tree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from painflow.core.bids import natural_key
from painflow.inputs.dataset import first_t1w, fmriprep_outputs
from painflow.inputs.fmriprep import output_spaces
from painflow.inputs.series import FILTER_KEYS


class FmriprepPaths:
    """The fMRIPrep part of :class:`painflow.workflow.study.Study`.

    Uses the study's ``config``, ``dataset``, ``fmriprep_dir``,
    ``output_dir``, ``path`` and ``entities``.
    """

    def fmriprep_anat(self, desc: str, suffix: str = "T1w") -> str:
        """An anatomical output of ``fmriprep_anat``."""
        return self.path(
            self.fmriprep_dir, "subject", suffix, ".nii.gz", "anat", desc=desc
        )

    def first_t1w(self, subject: str) -> str:
        """The subject's T1w image that ``fmriprep_anat`` reads."""
        return str(first_t1w(self.dataset.bids_dir, subject))

    def fmriprep_session_dir(self, subject="{subject}", session="{session}") -> str:
        """The output folder of one fMRIPrep session job."""
        name = f"sub-{subject}_ses-{session}"
        return str(self.fmriprep_dir / "sourcedata" / "sessions" / name)

    def fmriprep_work_dir(self, job: str) -> str:
        """Work folder of one fMRIPrep job (each its own: workflows share names)."""
        configured = self.config["fmriprep"]["work_dir"]
        root = Path(configured) if configured else self.output_dir / "work" / "fmriprep"
        return str(root / job)

    def fmriprep_run_outputs(self) -> dict[str, str]:
        """Patterns of a run's fMRIPrep outputs that signal extraction reads."""
        # The scan wildcard holds the task: rating and rest runs alike.
        outputs = fmriprep_outputs(self.dataset, self.entities("run"))
        return {name: str(path) for name, path in outputs.items()}

    def fmriprep_entities(self, subject: str, session: str) -> dict:
        """Labels of the filtered entities among the session's runs painflow reads.

        fMRIPrep then preprocesses the acquisitions ``bold_filters`` keep
        (and those of the rest runs), not every run of the tasks. An entity
        some of those runs lack is not passed (a filter file cannot ask for
        its absence beside labels), nor the run entity (PyBIDS reads it as a
        number); fMRIPrep then preprocesses more than needed, never less.
        """
        names = [FILTER_KEYS[key] for key in self.dataset.bold_filters]
        rows = self.session_series(subject, session)
        entities = {}
        for name in names:
            labels = [row[name] for row in rows]
            if name != "run" and not any(pd.isna(label) for label in labels):
                entities[name] = sorted(set(labels), key=natural_key)
        return entities

    def session_series(self, subject: str, session: str) -> list[dict]:
        """Entities of every run of a session painflow reads, rest runs included."""
        rows = [self.runs_in(subject, [session])]
        if self.individual:
            rest = self.individual.subject_rest_runs(subject)
            rows.append(rest[rest["session"] == session])
        if self.rest_test and session in self.rest_test.sessions(subject):
            rows.append(self.rest_test.run(subject, session).to_frame().T)
        return [row for table in rows for row in table.to_dict("records")]

    def fmriprep_settings(self) -> dict:
        """Config ``fmriprep`` with the output spaces and CIFTI output it passes."""
        config = self.config
        spaces = output_spaces(
            config["space"],
            config["res"],
            config["den"],
            config["fmriprep"]["output_spaces"],
        )
        return dict(
            config["fmriprep"], output_spaces=list(spaces), cifti_output=config["den"]
        )
