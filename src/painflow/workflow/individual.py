"""The individual atlas of a study: each subject's parcels from their rest runs.

With config ``atlas.name: individual``, the rule ``individual_parcellation``
makes one atlas per subject from the subject's rest runs, and each subject's
rating runs are parcellated with it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from painflow.atlas.configured import INDIVIDUAL
from painflow.atlas.named import fslr_midthickness
from painflow.inputs.dataset import DatasetSpec, raw_files
from painflow.inputs.restruns import discover_rest_runs

CROSS_SUBJECT_LEFT_OUT = (
    "atlas 'individual': the cross-subject test is left out, and so is the group "
    "model, as one person's parcels are not another's regions; run the workflow "
    "again with a group atlas (e.g. atlas name Glasser) into another output "
    "folder for them"
)


def is_individual(atlas: dict) -> bool:
    """Whether the config's atlas is the individual parcellation."""
    return atlas["name"] == INDIVIDUAL and atlas.get("image") is None


@dataclasses.dataclass(frozen=True)
class IndividualAtlas:
    """The subjects' rest runs and individual atlas files.

    Attributes
    ----------
    settings : dict
        Config ``individual``.
    rest_runs : pandas.DataFrame
        :func:`painflow.inputs.restruns.discover_rest_runs` of the subjects.
    output_dir : Path
        The workflow's output folder.
    den : str
        The data's density (``91k``).
    """

    settings: dict
    rest_runs: pd.DataFrame
    output_dir: Path
    den: str

    @classmethod
    def from_config(
        cls, config: dict, dataset: DatasetSpec, subjects: list[str]
    ) -> IndividualAtlas:
        """Find the subjects' rest runs; raise naming a subject without any."""
        settings = config[INDIVIDUAL]
        runs = discover_rest_runs(dataset, settings["rest_task"], subjects)
        return cls(settings, runs, Path(config["output_dir"]), config["den"])

    @property
    def task(self) -> str:
        """The rest runs' task label."""
        return self.settings["rest_task"]

    def files(self, subject: str = "{subject}") -> dict[str, str]:
        """A subject's atlas: dlabel, region table and the dlabel's sidecar."""
        folder = self.output_dir / f"sub-{subject}" / "anat"
        grid = f"sub-{subject}_space-fsLR_den-{self.den}_atlas-{INDIVIDUAL}_dseg"
        return {
            "image": str(folder / f"{grid}.dlabel.nii"),
            "labels": str(folder / f"sub-{subject}_atlas-{INDIVIDUAL}_dseg.tsv"),
            "description": str(folder / f"{grid}.json"),
        }

    def subject_rest_runs(self, subject: str) -> pd.DataFrame:
        """Rows of a subject's rest runs, in session and run order."""
        return self.rest_runs[self.rest_runs["subject"] == subject]

    def rest_inputs(self, subject: str) -> dict[str, list[str]]:
        """A subject's rest runs' preprocessed BOLD and confounds tables."""
        rows = self.subject_rest_runs(subject)
        return {
            name: [str(path) for path in rows[name]]
            for name in ("bold", "confounds", "confounds_json")
        }

    def rest_trs(self, subject: str) -> list[float]:
        """Repetition time of each of a subject's rest runs, in input order."""
        return [float(tr) for tr in self.subject_rest_runs(subject)["tr"]]

    def raw_bold(self, subject: str, session: str) -> list[str]:
        """Raw BOLD files of a session's rest runs."""
        rows = self.subject_rest_runs(subject)
        return raw_files(rows[rows["session"] == session]["echoes"])

    def surfaces(self, subject: str) -> dict[str, str]:
        """Left and right midthickness of a subject (config, else the group's)."""
        configured = self.settings["surfaces"]
        if configured is None:
            return {side: str(path) for side, path in fslr_midthickness().items()}
        return {
            side: configured[side].replace("{subject}", subject)
            for side in ("left", "right")
        }
