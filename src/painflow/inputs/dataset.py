"""Input discovery: the runs of a BIDS dataset and their fMRIPrep derivatives.

Discovery happens once, when the workflow is parsed, so the set of jobs is
known in advance and every missing or malformed input is reported before any
job starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from painflow.atlas.surface import DTSERIES_SUFFIX
from painflow.core.bids import bids_path, natural_key, parse_entities, scan_label
from painflow.core.fileio import read_json
from painflow.inputs.series import (
    SERIES_ENTITIES,
    group_echoes,
    run_ids,
    select_series,
)
from painflow.signals.ratings import read_recording_sidecar, sidecar_path

MIN_SESSIONS = 3
RUN_COLUMNS = (*SERIES_ENTITIES, "scan", "echoes", "bold_raw")
RUN_COLUMNS += ("bold", "confounds", "confounds_json", "tr", "ratings")
# What names a run's files: its subject, session and series (task to part).
RUN_ENTITIES = ("subject", "session", "scan")

# fMRIPrep's CIFTI outputs (--cifti-output 91k or 170k) are in this space.
GRAYORDINATE_SPACE = "fsLR"


def check_space_entities(space: str, res: str | None, den: str | None) -> None:
    """Raise when the config's space entities name no fMRIPrep output.

    Grayordinates (``den`` set) are fMRIPrep's CIFTI outputs, which are in
    space fsLR and have no ``res``; fsLR has no volume outputs.

    Raises
    ------
    ValueError
        Naming the config keys ``space``, ``res`` and ``den``.
    """
    if den is None:
        if space == GRAYORDINATE_SPACE:
            raise ValueError(
                f"config 'space' is {space!r} and 'den' is null: fMRIPrep writes "
                f"{space} as grayordinates only; set 'den' (e.g. \"91k\") and 'res' "
                "to null, or name a volume space"
            )
        return
    if res is not None:
        raise ValueError(
            f"config 'den' is {den!r} (grayordinates) and 'res' is "
            f"{res!r}: 'res' names a volume grid; set it to null"
        )
    if space != GRAYORDINATE_SPACE:
        raise ValueError(
            f"config 'den' is {den!r}, but 'space' is {space!r}: "
            f"fMRIPrep writes grayordinates in space {GRAYORDINATE_SPACE}"
        )


@dataclass(frozen=True)
class DatasetSpec:
    """Where the inputs are and how they are named (from the config).

    Attributes
    ----------
    bids_dir, fmriprep_dir : Path
        Raw BIDS dataset and fMRIPrep derivatives.
    task : str
        Task label of the rating runs.
    space, res, den : str or None
        fMRIPrep output space entities of the preprocessed BOLD.
    recording : str
        ``recording`` entity of the ratings.
    subjects : tuple of str
        Subjects to include (empty: all).
    bold_filters : dict
        BIDS key (``acq``, ``dir``, ...) to the label or labels of the
        rating runs to include (empty: all).
    check_derivatives : bool
        Whether fMRIPrep's outputs must exist already (False when the
        workflow runs fMRIPrep itself).
    """

    bids_dir: Path
    fmriprep_dir: Path
    task: str
    space: str
    res: str | None
    den: str | None
    recording: str
    subjects: tuple
    check_derivatives: bool
    bold_filters: dict = field(default_factory=dict)

    def __post_init__(self):
        check_space_entities(self.space, self.res, self.den)

    @classmethod
    def from_config(cls, config: dict, fmriprep_dir: str | Path) -> DatasetSpec:
        """The inputs a validated config names.

        Parameters
        ----------
        config : dict
            The config, defaults filled.
        fmriprep_dir : str or Path
            Where fMRIPrep's outputs are: config ``fmriprep_dir``, or the
            folder painflow runs fMRIPrep into when that key is null (the
            outputs need not exist yet then).
        """
        return cls(
            bids_dir=Path(config["bids_dir"]),
            fmriprep_dir=Path(fmriprep_dir),
            task=config["task"],
            space=config["space"],
            res=config["res"],
            den=config["den"],
            recording=config["ratings"]["recording"],
            subjects=tuple(str(label) for label in config["subjects"]),
            check_derivatives=config["fmriprep_dir"] is not None,
            bold_filters=dict(config["bold_filters"]),
        )


def raw_files(echoes: Iterable[tuple]) -> list[str]:
    """Every raw BOLD file of some runs (each run's ``echoes``), in order."""
    return [str(path) for paths in echoes for path in paths]


def run_entities(row) -> dict:
    """The entities that name a run's files: subject, session (or None), scan."""
    return {name: row[name] for name in RUN_ENTITIES}


def preproc_bold_path(spec: DatasetSpec, entities: dict) -> Path:
    """FMRIPrep's preprocessed BOLD of a run in the configured space."""
    extension = DTSERIES_SUFFIX if spec.den else ".nii.gz"
    desc = None if spec.den else "preproc"
    return bids_path(
        spec.fmriprep_dir,
        {
            **entities,
            "space": spec.space,
            "res": spec.res,
            "den": spec.den,
            "desc": desc,
        },
        "bold",
        extension,
    )


def confounds_path(spec: DatasetSpec, entities: dict) -> Path:
    """FMRIPrep's confounds table of a run."""
    return bids_path(
        spec.fmriprep_dir, {**entities, "desc": "confounds"}, "timeseries", ".tsv"
    )


def fmriprep_outputs(spec: DatasetSpec, entities: dict) -> dict:
    """The fMRIPrep outputs of a run that signal extraction reads.

    Returns
    -------
    dict
        ``bold`` (preprocessed, in the configured space), ``confounds`` and
        ``confounds_json`` (its sidecar), as paths.
    """
    confounds = confounds_path(spec, entities)
    return {
        "bold": preproc_bold_path(spec, entities),
        "confounds": confounds,
        "confounds_json": confounds.with_suffix(".json"),
    }


def ratings_path(spec: DatasetSpec, entities: dict) -> Path:
    """The rating recording of a run, beside its raw BOLD."""
    return bids_path(
        spec.bids_dir, {**entities, "recording": spec.recording}, "physio", ".tsv.gz"
    )


def inherited_metadata(bids_dir: Path, data_file: Path) -> dict:
    """Merge a file's JSON sidecars by the BIDS inheritance principle.

    Sidecars at the dataset root, subject and session folders and beside the
    file apply when their entities are a subset of the file's and their
    suffix is the same; deeper ones override shallower ones.
    """
    target = parse_entities(data_file)
    folders = [bids_dir]
    for part in data_file.relative_to(bids_dir).parent.parts:
        folders.append(folders[-1] / part)
    metadata: dict = {}
    for folder in folders:
        for sidecar in sorted(folder.glob("*.json")):
            try:
                entities = parse_entities(sidecar)
            except ValueError:  # not a BIDS data sidecar (dataset_description.json)
                continue
            if entities.pop("suffix") != target["suffix"]:
                continue
            entities.pop("extension")
            if all(target.get(key) == value for key, value in entities.items()):
                metadata.update(read_json(sidecar))
    return metadata


def repetition_time(bids_dir: Path, bold: Path) -> float:
    """RepetitionTime of a BOLD series; raises naming the file when absent."""
    metadata = inherited_metadata(bids_dir, bold)
    if "RepetitionTime" not in metadata:
        sidecar = bold.with_name(bold.name.split(".")[0] + ".json")
        raise ValueError(f"{sidecar}: no RepetitionTime for {bold}")
    tr = float(metadata["RepetitionTime"])
    if not tr > 0:
        raise ValueError(f"{bold}: RepetitionTime must be positive, got {tr}")
    return tr


def task_bold(bids_dir: Path, task: str) -> list[Path]:
    """Raw BOLD files of a task, without and then with sessions, each sorted."""
    pattern = f"*_task-{task}_*bold.nii*"
    found = sorted(bids_dir.glob(f"sub-*/func/{pattern}"))
    return found + sorted(bids_dir.glob(f"sub-*/ses-*/func/{pattern}"))


def find_bold(spec: DatasetSpec) -> list[Path]:
    """Raw BOLD files of the task (of the configured subjects), sorted."""
    if not spec.bids_dir.is_dir():
        raise FileNotFoundError(f"{spec.bids_dir}: the BIDS folder does not exist")
    found = task_bold(spec.bids_dir, spec.task)
    if spec.subjects:
        wanted = {f"sub-{label}" for label in spec.subjects}
        found = [path for path in found if path.name.split("_")[0] in wanted]
    if not found:
        raise FileNotFoundError(
            f"{spec.bids_dir}: no BOLD runs of task '{spec.task}'"
            + (f" for subjects {list(spec.subjects)}" if spec.subjects else "")
        )
    return found


def task_place(spec: DatasetSpec) -> str:
    """Where a task's runs were looked for, for the errors about them."""
    return f"task '{spec.task}' in {spec.bids_dir}"


def find_series(spec: DatasetSpec) -> list[dict]:
    """The BOLD series of the task that the config's ``bold_filters`` select.

    Returns
    -------
    list of dict
        :func:`painflow.inputs.series.group_echoes` of :func:`find_bold`.
    """
    series = group_echoes(find_bold(spec))
    return select_series(series, spec.bold_filters, task_place(spec))


def describe_series(spec: DatasetSpec, series: dict) -> dict:
    """A series' fMRIPrep outputs (checked when they must exist) and TR."""
    row = {**series, **fmriprep_outputs(spec, run_entities(series))}
    if spec.check_derivatives:
        check_derivatives(row)
    row["tr"] = repetition_time(spec.bids_dir, row["bold_raw"])
    return row


def describe_run(spec: DatasetSpec, series: dict) -> dict:
    """A rating run's inputs, checked to exist, and its repetition time."""
    ratings = ratings_path(spec, run_entities(series))
    if not ratings.exists():
        raise FileNotFoundError(
            f"{ratings}: no rating recording for {series['bold_raw']}"
        )
    read_recording_sidecar(sidecar_path(ratings))
    return {**describe_series(spec, series), "ratings": ratings}


def check_derivatives(row: dict) -> None:
    """Raise naming the first fMRIPrep output of a run that does not exist."""
    for path in (row["bold"], row["confounds"], row["confounds_json"]):
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: fMRIPrep output missing for {row['bold_raw']}"
                + old_confounds_hint(path)
            )


def old_confounds_hint(path: Path) -> str:
    """Why a confounds table is missing when fMRIPrep before 20.2 wrote it."""
    old = path.with_name(path.name.replace("_timeseries.", "_regressors."))
    if old == path or not old.exists():
        return ""
    return (
        f"; {old.name} is there, the name fMRIPrep used before 20.2: re-run a "
        "current fMRIPrep, whose confounds painflow reads"
    )


def first_t1w(bids_dir: Path, subject: str) -> Path:
    """The subject's first T1w image in lexicographic order (fMRIPrep's reference).

    Raises
    ------
    FileNotFoundError
        When the subject has no T1w image.
    """
    found = sorted(
        path
        for pattern in ("anat", "*/anat")
        for path in (Path(bids_dir) / f"sub-{subject}").glob(f"{pattern}/*_T1w.nii*")
    )
    if not found:
        raise FileNotFoundError(
            f"{Path(bids_dir) / f'sub-{subject}'}: no T1w image; fMRIPrep needs one "
            "to preprocess the subject"
        )
    return found[0]


def discover_runs(spec: DatasetSpec) -> pd.DataFrame:
    """Find and check every run of the dataset.

    Parameters
    ----------
    spec : DatasetSpec

    Returns
    -------
    pandas.DataFrame
        One row per run (a BOLD series: a file, or a multi-echo series'
        files): its entities ``subject, session, task, acquisition, ceagent,
        reconstruction, direction, run, part`` (None when absent; session
        None when the dataset has no sessions), ``scan`` (the entities from
        task on, as in file names), ``run_id`` (its label within the session
        in painflow's tables, :func:`painflow.inputs.series.run_id`),
        ``echoes`` and ``bold_raw`` (its raw files, and the first), ``ratings``,
        ``bold`` (preprocessed), ``confounds``, ``confounds_json`` and ``tr``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the problem: a missing recording, sidecar field
        or fMRIPrep output, an entity painflow cannot carry, a filter that
        matches nothing, two runs of a session with one label, a dataset
        mixing runs with and without sessions, or a subject with fewer than
        three sessions (or runs, without sessions).
    """
    rows = [describe_run(spec, series) for series in find_series(spec)]
    runs = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    runs["run_id"] = run_ids(rows, task_place(spec))
    with_session = runs["session"].notna()
    if with_session.any() and not with_session.all():
        raise ValueError(f"{spec.bids_dir}: some runs have sessions and some do not")
    unit = cv_unit_column(has_sessions=bool(with_session.all()))
    word = "session" if with_session.all() else "run"
    for subject, subject_runs in runs.groupby("subject"):
        n_units = subject_runs[unit].nunique()
        if n_units < MIN_SESSIONS:
            raise ValueError(
                f"{spec.bids_dir / f'sub-{subject}'}: {n_units} {word}(s) of task "
                f"'{spec.task}'; nested leave-one-{word}-out cross-validation needs "
                f"at least {MIN_SESSIONS}"
            )
    return sort_runs(runs)


def cv_unit_column(has_sessions: bool) -> str:
    """The column naming a run's cross-validation unit: its session, else the run.

    Without sessions the unit is the run, named by its ``run_id``.

    Parameters
    ----------
    has_sessions : bool
        Whether the dataset's runs have a session entity.

    Returns
    -------
    str
        ``"session"`` or ``"run_id"``.
    """
    return "session" if has_sessions else "run_id"


def sort_runs(runs: pd.DataFrame, label: str = "run_id") -> pd.DataFrame:
    """Runs by subject, session and ``label``, in natural order (2 before 10)."""
    keys = [
        tuple(natural_key("" if pd.isna(value) else value) for value in row)
        for row in runs[["subject", "session", label]].itertuples(index=False)
    ]
    order = sorted(range(len(runs)), key=keys.__getitem__)
    return runs.iloc[order].reset_index(drop=True)


def session_runs(spec: DatasetSpec, subject: str, session: str) -> pd.DataFrame:
    """The runs of one session, found in the fMRIPrep folder (to predict them).

    Ratings are looked for in the raw BIDS folder when ``spec.bids_dir`` is
    not the fMRIPrep folder; the repetition time is read beside the raw BOLD
    there, else from fMRIPrep's sidecar of the preprocessed BOLD.

    Parameters
    ----------
    spec : DatasetSpec
        ``bids_dir`` (the fMRIPrep folder when there is no raw dataset),
        ``fmriprep_dir``, task, space entities and recording.
    subject, session : str
        Labels.

    Returns
    -------
    pandas.DataFrame
        One row per run, in natural order of names: its entities, ``scan``,
        ``run_id`` (as :func:`discover_runs`), ``bold``, ``confounds``,
        ``ratings`` (None without a raw dataset) and ``tr``; the config's
        ``bold_filters`` applied.

    Raises
    ------
    FileNotFoundError
        Naming what is missing: the session's preprocessed BOLD in the space,
        a confounds table, or (with a raw dataset) a rating recording.
    """
    with_ratings = spec.bids_dir != spec.fmriprep_dir
    where = f"sub-{subject} ses-{session}"
    found = [
        {**series_entities(bold), "bold": bold}
        for bold in session_preproc_bold(spec, subject, session)
    ]
    rows = []
    for found_row in select_series(found, spec.bold_filters, where):
        bold, scan = found_row["bold"], scan_label(found_row)
        run = {"subject": subject, "session": session, "scan": scan}
        raw = bids_path(spec.bids_dir, run, "bold", ".nii.gz")
        row = {"bold_raw": raw if with_ratings else bold, **fmriprep_outputs(spec, run)}
        check_derivatives(row)
        ratings = ratings_path(spec, run) if with_ratings else None
        if ratings is not None and not ratings.exists():
            raise FileNotFoundError(f"{ratings}: no rating recording for {bold}")
        tr_source = (spec.bids_dir, raw) if with_ratings else (spec.fmriprep_dir, bold)
        rows.append(
            {
                **found_row,
                "scan": scan,
                "bold_raw": row["bold_raw"],
                "confounds": row["confounds"],
                "ratings": ratings,
                "tr": repetition_time(*tr_source),
            }
        )
    ids = run_ids(rows, where)
    labelled = [{**row, "run_id": label} for row, label in zip(rows, ids, strict=True)]
    return pd.DataFrame(labelled)


def session_preproc_bold(spec: DatasetSpec, subject: str, session: str) -> list:
    """FMRIPrep's preprocessed BOLD of a session's task runs, in natural order."""
    pattern = preproc_bold_path(
        spec, {"subject": subject, "session": session, "scan": f"task-{spec.task}*"}
    )
    found = [
        path
        for path in pattern.parent.glob(pattern.name)
        if parse_entities(path).get("task") == spec.task
    ]
    if not found:
        raise FileNotFoundError(
            f"{pattern.parent}: no preprocessed BOLD of task '{spec.task}' "
            f"named {pattern.name}"
        )
    return sorted(found, key=lambda path: natural_key(path.name))


def series_entities(path: Path) -> dict:
    """The series entities of a file named after its series (None: absent)."""
    parsed = parse_entities(path)
    return {name: parsed.get(name) for name in SERIES_ENTITIES}
