"""The study a workflow runs on: its runs, units, sizes and every path.

Built once from the validated config when the Snakefile is parsed, so the set
of jobs is known before any runs; the rules only bind its answers. Paths are
patterns: an entity not given is a Snakemake wildcard (``{subject}``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from painflow.analyses.learningcurve import training_sizes
from painflow.analyses.prospective import ProspectiveDesign, prospective_plan
from painflow.core.bids import (
    bids_name,
    bids_path,
    file_key,
    parse_entities,
    scan_label,
)
from painflow.inputs.dataset import (
    DatasetSpec,
    cv_unit_column,
    discover_runs,
    raw_files,
)
from painflow.inputs.fmriprep import check_engine, resolve_license
from painflow.inputs.scanorder import orders_by_subject, scan_order_table
from painflow.workflow.fmriprep import FmriprepPaths
from painflow.workflow.glm import glm_targets
from painflow.workflow.groupmodel import group_model_targets
from painflow.workflow.individual import IndividualAtlas, is_individual
from painflow.workflow.nuisance import nuisance_targets
from painflow.workflow.plan import plan_targets
from painflow.workflow.predict import predict_targets
from painflow.workflow.resttest import RestTest

# The entities that tell apart the files of each level (a job's wildcards).
LEVELS = {
    # A run's series label (``scan``) holds its task and every entity to part.
    "run": ("subject", "session", "scan"),
    "session": ("subject", "session"),
    "subject": ("subject",),
    "size": ("subject", "size"),
    "pair": ("train", "test"),
    "group": (),
}
EVALUATION_FIGURES = ("timecourse", "scatter", "roc")
RUN_INPUTS = ("bold", "confounds", "confounds_json", "ratings")


class Study(FmriprepPaths):
    """Subjects, sessions, runs and outputs of one configured study.

    Parameters
    ----------
    config : dict
        The validated config.
    runs : pandas.DataFrame
        :func:`painflow.inputs.dataset.discover_runs` of the config's dataset.
    dataset : DatasetSpec
        Where the runs were found.
    environ : mapping
        Environment variables (the FreeSurfer license when painflow runs
        fMRIPrep).

    Raises
    ------
    ValueError
        When painflow is to run fMRIPrep on runs without sessions, or the
        prospective design has no session to test for a subject.
    FileNotFoundError
        When painflow is to run fMRIPrep and its engine, image or license is
        missing.
    """

    def __init__(
        self,
        config: dict,
        runs: pd.DataFrame,
        dataset: DatasetSpec,
        environ: Mapping = os.environ,
    ):
        self.config = config
        self.output_dir = Path(config["output_dir"])
        self.atlas = config["atlas"]["name"].replace("_", "")  # a BIDS label
        self.task = config["task"]
        self.dataset = dataset
        self.fmriprep_dir = dataset.fmriprep_dir
        # Null fmriprep_dir: painflow runs fMRIPrep, into a tree of its own.
        self.run_fmriprep = config["fmriprep_dir"] is None
        self.runs = runs
        self.has_sessions = bool(runs["session"].notna().all())
        self.subjects = sorted(runs["subject"].unique())
        self.fs_license = self._check_fmriprep(environ)
        # acq_time in sub-<label>_sessions.tsv, else assumed from the labels.
        self.scan_order = scan_order_table(dataset.bids_dir, runs)
        self.session_order = orders_by_subject(self.scan_order)
        self.prospective = ProspectiveDesign.from_config(config["prospective"])
        # An impossible split stops the workflow here, before any job.
        self.prospective_tests = prospective_plan(self.prospective, self.session_order)
        # Atlas "individual": each subject's own, from their rest runs.
        self.individual = (
            IndividualAtlas.from_config(config, dataset, self.subjects)
            if is_individual(config["atlas"])
            else None
        )
        # Each session's rest run scored by the decoder (sessions only).
        self.rest_test = (
            RestTest.from_config(config, dataset, runs) if self.has_sessions else None
        )
        self._rows = {
            (row.subject, row.session if self.has_sessions else None, row.scan): row
            for row in runs.itertuples(index=False)
        }

    @classmethod
    def from_config(cls, config: dict, environ: Mapping = os.environ) -> Study:
        """Discover the config's runs and build the study.

        Parameters
        ----------
        config : dict
            The validated config.
        environ : mapping
            Environment variables (``FS_LICENSE``).

        Returns
        -------
        Study
        """
        output_dir = Path(config["output_dir"])
        run_fmriprep = config["fmriprep_dir"] is None
        dataset = DatasetSpec.from_config(
            config,
            output_dir / "fmriprep" if run_fmriprep else config["fmriprep_dir"],
        )
        return cls(config, discover_runs(dataset), dataset, environ)

    def _check_fmriprep(self, environ: Mapping) -> str | None:
        """The FreeSurfer license when painflow runs fMRIPrep, after its checks."""
        if not self.run_fmriprep:
            return None
        if not self.has_sessions:
            raise ValueError(
                f"{self.dataset.bids_dir}: painflow runs fMRIPrep one session at a "
                "time, and these runs have no session entity; run fMRIPrep on the "
                "dataset first and set config 'fmriprep_dir' to its outputs"
            )
        settings = self.config["fmriprep"]
        check_engine(settings["engine"], settings["image"])
        return str(resolve_license(settings["license"], environ))

    # Runs and cross-validation units.

    @property
    def unit_column(self) -> str:
        """The runs' column that names their cross-validation unit."""
        return cv_unit_column(self.has_sessions)

    def subject_runs(self, subject: str) -> pd.DataFrame:
        """Rows of a subject's runs, in session and run order."""
        rows = self.runs[self.runs["subject"] == subject]
        if rows.empty:
            raise KeyError(f"sub-{subject}: no such subject among {self.subjects}")
        return rows

    def cv_units(self, subject: str) -> list[str]:
        """The subject's cross-validation units (sessions, else runs), in order."""
        return list(dict.fromkeys(self.subject_runs(subject)[self.unit_column]))

    def training_sizes(self, subject: str) -> list[int]:
        """The subject's learning-curve training-set sizes."""
        return training_sizes(len(self.cv_units(subject)))

    def find_run(self, subject: str, session: str | None, scan: str) -> pd.Series:
        """The discovered run of these labels (session ignored without sessions)."""
        return pd.Series(self._row(subject, session, scan)._asdict())

    def _row(self, subject: str, session: str | None, scan: str):
        """The discovered run's row (a named tuple: quick, for every file)."""
        key = (subject, session if self.has_sessions else None, scan)
        if key not in self._rows:
            raise KeyError(
                f"no discovered run sub-{subject} ses-{session} {scan} "
                f"in {self.dataset.bids_dir}"
            )
        return self._rows[key]

    def run_of(self, path: str):
        """The discovered run a per-run file belongs to, from its name (a row)."""
        entities = parse_entities(path)
        return self._row(
            entities.get("subject"), entities.get("session"), scan_label(entities)
        )

    def run_units(self, *files: Iterable[str]) -> dict[str, dict[str, str]]:
        """Name of per-run files to their run's labels (keys: :func:`file_key`).

        Parameters
        ----------
        *files : iterables of str
            Per-run files (outputs of :meth:`run_files`).

        Returns
        -------
        dict
            ``{file name: {"session": cross-validation unit, "run": run_id}}``.
        """
        units = {}
        lists = ([paths] if isinstance(paths, str) else paths for paths in files)
        for path in (str(path) for paths in lists for path in paths):
            row = self.run_of(path)
            units[file_key(path)] = {
                "session": getattr(row, self.unit_column),
                "run": row.run_id,
            }
        return units

    def subjects_of(self, files: Iterable[str]) -> dict[str, str]:
        """Name of per-subject files to their subject label (keys: :func:`file_key`)."""
        return {file_key(path): parse_entities(path)["subject"] for path in files}

    def runs_in(self, subject: str, sessions: Iterable[str]) -> pd.DataFrame:
        """Rows of the subject's runs in the given sessions."""
        rows = self.subject_runs(subject)
        return rows[rows["session"].isin(list(sessions))]

    def session_raw_bold(self, subject: str, session: str) -> list[str]:
        """Raw BOLD files of one session, rest runs included."""
        rating = raw_files(self.runs_in(subject, [session])["echoes"])
        rest = [
            *(self.individual.raw_bold(subject, session) if self.individual else []),
            *(self.rest_test.raw_bold(subject, session) if self.rest_test else []),
        ]
        return list(dict.fromkeys(rating + rest))

    @property
    def fmriprep_tasks(self) -> list[str]:
        """The tasks fMRIPrep's session jobs preprocess."""
        rest = [part.task for part in (self.individual, self.rest_test) if part]
        return list(dict.fromkeys([self.task, *rest]))

    # The prospective test.

    def sessions_up_to(self, subject: str, session: str) -> list[str]:
        """The session and those scanned before it, in scan order."""
        order = self.session_order[subject]
        return order[: order.index(session) + 1]

    def prospective_training_sessions(self, subject: str) -> list[str]:
        """Split design: the first sessions in scan order, which train the model."""
        return self.prospective.training_sessions(self.session_order[subject])

    def prospective_sessions(self, subject: str) -> list[str]:
        """The subject's prospectively tested sessions, in scan order."""
        return self.prospective_tests.get(subject, [])

    def prospective_subjects(self) -> list[str]:
        """Subjects with at least one prospective test."""
        return [s for s in self.subjects if self.prospective_sessions(s)]

    # Paths: every output, log and benchmark is built by ``path``.

    def entities(self, level: str, **given: str | None) -> dict:
        """Entities of a file at ``level``: given values, else wildcards.

        The task is the study's unless given; a session entity exists only
        with sessions.
        Other given entities (``atlas``, ``desc``) are added.
        """
        task = given.pop("task", self.task)
        entities = {name: given.pop(name, "{" + name + "}") for name in LEVELS[level]}
        if "task" in entities:
            entities["task"] = task
        if "session" in entities and not self.has_sessions:
            entities["session"] = None
        return {**entities, **given}

    def path(
        self,
        root: Path,
        level: str,
        suffix: str,
        extension: str,
        folder: str | None,
        **given: str | None,
    ) -> str:
        """A file's path pattern below ``root`` (BIDS names and folders)."""
        return str(
            bids_path(root, self.entities(level, **given), suffix, extension, folder)
        )

    def output(
        self,
        suffix: str,
        extension: str,
        level: str = "subject",
        folder: str | None = "decoding",
        **given: str | None,
    ) -> str:
        """An output's path pattern; files without a subject go under ``group/``.

        Parameters
        ----------
        suffix, extension : str
            As in :func:`painflow.core.bids.bids_name`.
        level : str
            A key of ``LEVELS``.
        folder : str or None
            The output folder below the subject (or session, or group).
        **given : str or None
            Entity values: labels or other wildcards in place of the
            level's own wildcards, ``desc``, or ``atlas=None``.
        """
        root = self.output_dir if "subject" in LEVELS[level] else self.group_dir
        given = {"atlas": self.atlas, **given}
        return self.path(root, level, suffix, extension, folder, **given)

    @property
    def group_dir(self) -> Path:
        """The folder of the outputs of the whole study."""
        return self.output_dir / "group"

    def run_output(self, suffix: str, extension: str, **given: str) -> str:
        """A per-run output's path pattern."""
        return self.output(suffix, extension, level="run", folder="func", **given)

    def figure(self, name: str, **given: str) -> str:
        """A per-subject figure's path pattern."""
        return self.output(name, ".png", folder="figures", **given)

    def log(self, rule: str, level: str = "run", **given: str) -> str:
        """A job's log file; a run's log carries the atlas, as its outputs."""
        atlas = self.atlas if level == "run" else None
        root = self.output_dir / "logs" / rule
        return self.path(root, level, "log", ".txt", None, atlas=atlas, **given)

    def benchmark(self, rule: str, level: str = "run", **given: str) -> str:
        """A job's benchmark table."""
        atlas = self.atlas if level == "run" else None
        root = self.output_dir / "benchmarks" / rule
        return self.path(root, level, "bench", ".tsv", None, atlas=atlas, **given)

    def run_files(self, rows: pd.DataFrame, suffix: str, extension: str) -> list[str]:
        """A per-run output of each run of a table of discovered runs."""
        return [
            self.run_output(
                suffix,
                extension,
                subject=row.subject,
                session=row.session,
                scan=row.scan,
            )
            for row in rows.itertuples()
        ]

    def pair_table(self) -> str:
        """One ordered pair's cross-subject table."""
        return self.output("crosssubject", ".tsv", "pair", "crosssubject")

    def group_output(self, suffix: str, extension: str, folder=None) -> str:
        """An output of the whole study."""
        return self.output(suffix, extension, level="group", folder=folder)

    def learning_curve_table(self, desc: str | None = None, **given: str) -> str:
        """One training-set size's learning-curve table (per draw, or ``summary``)."""
        folder = "decoding/learningcurve"
        return self.output("learningcurve", ".tsv", "size", folder, desc=desc, **given)

    def prospective_table(self, suffix: str = "prospective", **given: str) -> str:
        """One session's prospective test, or its ``predictions``."""
        desc = None if suffix == "prospective" else "prospective"
        return self.output(suffix, ".tsv", level="session", desc=desc, **given)

    @property
    def dataset_description(self) -> str:
        """The output dataset's description file."""
        return str(self.output_dir / "dataset_description.json")

    @property
    def scan_order_file(self) -> str:
        """The table of every subject's sessions in scan order, with its source."""
        return self.output("scanorder", ".tsv", level="group", folder=None, atlas=None)

    def targets(self) -> list[str]:
        """Every final output of the workflow."""
        subjects = self.subjects
        return [
            self.dataset_description,
            *self._each("metrics", ".tsv", subjects),
            *self._each("qc", ".tsv", subjects, folder="qc"),
            *self._each("model", ".npz", subjects),
            *[
                self.figure(name, subject=s)
                for s in subjects
                for name in EVALUATION_FIGURES
            ],
            *self._each("prospective", ".tsv", self.prospective_subjects()),
            *self._each("learningcurve", ".tsv", subjects),
            *self._each("importance", ".tsv", subjects),
            *self._cross_subject_targets(),
            *nuisance_targets(self),
            *glm_targets(self),
            *self._rest_test_targets(),
            *group_model_targets(self),
            *predict_targets(self),
            *plan_targets(self),
        ]

    def _rest_test_targets(self) -> list[str]:
        """The rest-run test's outputs of every subject with a rest run."""
        subjects = self.rest_test.subjects() if self.rest_test else []
        return [
            *self._each("resttest", ".tsv", subjects),
            *[
                self.rest_test_output(name, subject=s)
                for s in subjects
                for name in ("metrics", "qc", "figure")
            ],
        ]

    def rest_test_output(self, name: str, **given: str) -> str:
        """The rest-run test's ``metrics``, ``qc`` table or ``figure``."""
        if name == "figure":
            return self.figure("resttest", **given)
        folder = "qc" if name == "qc" else "decoding"
        return self.output(name, ".tsv", folder=folder, desc="resttest", **given)

    def rest_series(self, suffix: str, extension: str, **given: str) -> str:
        """A session's rest-run series (``timeseries``) or its QC sidecar."""
        given = {"task": self.rest_test.task, **given}
        return self.output(suffix, extension, level="session", folder="func", **given)

    def rest_test_inputs(self, subject: str) -> dict:
        """A subject's models, rest-run series and rating-run QC sidecars."""
        return {
            "model": self.output("model", ".npz", subject=subject),
            "fold_models": self.output("model", ".npz", subject=subject, desc="loso"),
            "rest_timeseries": [
                self.rest_series("timeseries", ".tsv", subject=subject, session=t)
                for t in self.rest_test.sessions(subject)
            ],
            "rating_qc": self.run_files(
                self.subject_runs(subject), "timeseries", ".json"
            ),
        }

    def rest_test_sessions(self, subject: str) -> dict[str, str | None]:
        """Every rating session to its rest series' name (None: no rest run)."""
        have = set(self.rest_test.sessions(subject))
        return {
            session: file_key(
                self.rest_series("timeseries", ".tsv", subject=subject, session=session)
            )
            if session in have
            else None
            for session in self.rest_test.rating_sessions[subject]
        }

    def _cross_subject_targets(self) -> list[str]:
        """The cross-subject test's outputs; none on individual atlases."""
        if self.individual:  # one person's regions are not another's
            return []
        return [
            self.group_output("crosssubject", ".tsv"),
            self.group_output("crosssubject", ".png", folder="figures"),
        ]

    def _each(self, suffix, extension, subjects, folder="decoding") -> list[str]:
        """A per-subject output of each subject."""
        return [
            self.output(suffix, extension, folder=folder, subject=s) for s in subjects
        ]

    # The atlas: configured files, or a named atlas the workflow writes.

    @property
    def grayordinates(self) -> bool:
        """Whether the data are grayordinates (config ``den`` set)."""
        return self.config["den"] is not None

    @property
    def is_named_atlas(self) -> bool:
        """Whether the workflow writes a named atlas (config ``atlas.image`` null)."""
        return self.config["atlas"]["image"] is None and self.individual is None

    @property
    def subcortex(self) -> str:
        """Config ``atlas.subcortex``, as a string."""
        return str(self.config["atlas"]["subcortex"])

    def named_atlas_files(self) -> dict[str, str]:
        """The named atlas's image, region table and description sidecar."""
        grid = {key: self.config[key] for key in ("space", "res", "den")}
        image = ".dlabel.nii" if self.grayordinates else ".nii.gz"
        # Atlas files lead with the atlas entity.
        folder = self.output_dir / "atlas"
        name = f"atlas-{self.atlas}_{{}}"
        return {
            "image": str(folder / name.format(bids_name(grid, "dseg", image))),
            "labels": str(folder / name.format(bids_name({}, "dseg", ".tsv"))),
            "description": str(folder / name.format(bids_name(grid, "dseg", ".json"))),
        }

    def atlas_inputs(self, subject: str) -> dict[str, str]:
        """The atlas files a subject's steps read: image, regions, subcortex."""
        if self.individual:
            files = self.individual.files(subject)
            atlas = {"atlas_image": files["image"], "atlas_labels": files["labels"]}
            if self.subcortex not in ("structures", "none"):
                atlas["atlas_subcortex"] = self.subcortex
            return atlas
        if self.is_named_atlas:
            named = self.named_atlas_files()
            return {"atlas_image": named["image"], "atlas_labels": named["labels"]}
        atlas = self.config["atlas"]
        files = {"atlas_image": atlas["image"]}
        if atlas["labels"] is not None:
            files["atlas_labels"] = atlas["labels"]
        if self.grayordinates and self.subcortex not in ("structures", "none"):
            files["atlas_subcortex"] = self.subcortex
        return files

    def atlas_surfaces(self) -> dict[str, str] | None:
        """Surfaces placing a dlabel's regions in figures (None: fsLR average)."""
        surfaces = self.config["atlas"]["surfaces"]
        if not self.grayordinates or surfaces is None:
            return None
        return {side: str(surfaces[side]) for side in ("left", "right")}

    def atlas_reference(self) -> str:
        """A preprocessed BOLD: the grid or mesh a named atlas is fit to."""
        return str(self.runs.iloc[0]["bold"])

    def run_inputs(self, subject: str, session: str | None, scan: str) -> dict:
        """Every input of a run's signal extraction."""
        row = self.find_run(subject, session, scan)
        return {
            **{name: str(row[name]) for name in RUN_INPUTS},
            **self.atlas_inputs(subject),
        }

    def importance_inputs(self, subject: str) -> dict:
        """A subject's contributions, the atlas and a BOLD placing its regions."""
        surfaces = self.atlas_surfaces() or {}
        return {
            "contributions": self.output("contributions", ".npz", subject=subject),
            "reference": str(self.subject_runs(subject).iloc[0]["bold"]),
            **self.atlas_inputs(subject),
            **{f"surface_{side}": path for side, path in surfaces.items()},
        }


def derivatives_root(path: str) -> str:
    """Root of the BIDS derivatives tree holding ``path``: the folder above sub-*."""
    return str(next(p.parent for p in Path(path).parents if p.name.startswith("sub-")))
