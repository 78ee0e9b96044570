"""``painflow run``: the workflow as a BIDS App.

The convention of fMRIPrep, XCP-D and snakebids apps: ``painflow run BIDS_DIR
OUTPUT_DIR participant`` makes each person's own outputs, ``group`` those that
need every person. The run's config is a config file's (or, without one, the
schema's defaults) with the dataset paths and subjects of the command; it is
saved under ``OUTPUT_DIR/logs/painflow_run/`` and handed to Snakemake with the
Snakefile and profile the installed package carries
(:func:`painflow.workflow.packaged.workflow_root`). Snakemake runs in the
current folder, as ``snakemake --configfile`` does, so relative paths in the
config mean the same in both.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from painflow.workflow.config import check_required
from painflow.workflow.levels import ANALYSIS_LEVELS
from painflow.workflow.packaged import PROFILES, workflow_root

CONFIG_FOLDER = Path("logs") / "painflow_run"


@dataclass(frozen=True)
class AppRun:
    """One ``painflow run``: its datasets, level and how Snakemake runs it.

    Parameters
    ----------
    bids_dir, output_dir : str
        The raw BIDS dataset and the output folder, as given.
    level : {"participant", "group"}
        The analysis level.
    participant_labels : tuple of str
        Subjects to analyse (with or without ``sub-``); empty: the config's.
    fmriprep_dir : str or None
        fMRIPrep's derivatives; None: the config's, else
        ``BIDS_DIR/derivatives/fmriprep``.
    config_file : str or None
        A config file; None: the schema's defaults.
    profile : {"local", "slurm"}
        The packaged Snakemake profile.
    cores : int or None
        Snakemake's ``--cores`` (None: the profile's).
    dry_run : bool
        Only list the jobs.
    snakemake_args : tuple of str
        Further Snakemake options, passed as given.
    """

    bids_dir: str
    output_dir: str
    level: str
    participant_labels: tuple[str, ...] = ()
    fmriprep_dir: str | None = None
    config_file: str | None = None
    profile: str = "local"
    cores: int | None = None
    dry_run: bool = False
    snakemake_args: tuple[str, ...] = ()

    def config(self) -> dict:
        """The run's config, checked before Snakemake starts.

        Raises
        ------
        ValueError
            When the BIDS folder, the fMRIPrep folder or the config file is
            missing, the level or profile is unknown, or the config lacks
            required keys (``atlas`` without a config file).
        """
        self._check_choices()
        _require(self.bids_dir, "BIDS_DIR", folder=True)
        config = {}
        if self.config_file is not None:
            _require(self.config_file, "--config", folder=False)
            config = yaml.safe_load(Path(self.config_file).read_text()) or {}
        config["bids_dir"] = self.bids_dir
        config["output_dir"] = self.output_dir
        if self.fmriprep_dir is not None:
            _require(self.fmriprep_dir, "--fmriprep-dir", folder=True)
            config["fmriprep_dir"] = self.fmriprep_dir
        config.setdefault(
            "fmriprep_dir", str(Path(self.bids_dir) / "derivatives" / "fmriprep")
        )
        if self.participant_labels:
            labels = [label.removeprefix("sub-") for label in self.participant_labels]
            config["subjects"] = labels
        check_required(config)
        return config

    def _check_choices(self) -> None:
        """Raise for a level or profile painflow does not have."""
        for name, value, choices in (
            ("analysis level", self.level, ANALYSIS_LEVELS),
            ("profile", self.profile, PROFILES),
        ):
            if value not in choices:
                raise ValueError(f"{name} {value!r}: not one of {', '.join(choices)}")

    @property
    def config_path(self) -> Path:
        """Where the run's config is saved (one file per level)."""
        return Path(self.output_dir) / CONFIG_FOLDER / f"config_{self.level}.yaml"

    def command(self) -> list[str]:
        """The Snakemake command: the level's target rule, then the options."""
        root = workflow_root()
        return [
            sys.executable,
            "-m",
            "snakemake",
            self.level,
            "--snakefile",
            str(root / "Snakefile"),
            "--profile",
            str(root / "profiles" / self.profile),
            "--configfile",
            str(self.config_path),
            *(["--cores", str(self.cores)] if self.cores is not None else []),
            *(["--dry-run"] if self.dry_run else []),
            *self.snakemake_args,
        ]


def _require(path: str, name: str, folder: bool) -> None:
    """Raise unless ``path`` is an existing folder (or file)."""
    exists = Path(path).is_dir() if folder else Path(path).is_file()
    if not exists:
        kind = "folder" if folder else "file"
        raise ValueError(f"{name} {path}: no such {kind}")


def run_app(run: AppRun) -> int:
    """Build the run's config, save it and run Snakemake on it.

    Parameters
    ----------
    run : AppRun

    Returns
    -------
    int
        Snakemake's exit status.

    Raises
    ------
    ValueError
        As :meth:`AppRun.config`, before Snakemake starts.
    """
    config = run.config()
    run.config_path.parent.mkdir(parents=True, exist_ok=True)
    run.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return subprocess.run(run.command(), check=False).returncode
