"""Input discovery: the runs of a BIDS dataset and their fMRIPrep derivatives.

Discovery happens once, when the workflow is parsed, so the set of jobs is
known in advance and every missing or malformed input is reported before any
job starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from painflow.atlas.surface import DTSERIES_SUFFIX
from painflow.core.bids import bids_path, natural_key, parse_entities
from painflow.core.fileio import read_json
from painflow.signals.ratings import read_recording_sidecar, sidecar_path

MIN_SESSIONS = 3
RUN_ENTITIES = ("subject", "session", "task", "run")
UNSUPPORTED_ENTITIES = ("acquisition", "direction", "echo")
SCAN_ORDER_COLUMNS = ("subject", "session", "position", "acq_time", "order_source")
# Where a subject's scan order comes from: sessions.tsv, or the labels alone.
ORDER_FROM_ACQ_TIME = "acq_time"
ORDER_ASSUMED = "assumed"

log = logging.getLogger(__name__)


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
        )


def run_entities(row) -> dict:
    """The subject/session/task/run entities of a run (session may be None)."""
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
    """Raw BOLD files of the task, sorted."""
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


def describe_run(spec: DatasetSpec, bold: Path) -> dict:
    """Every input path of a run, checked to exist, and its repetition time."""
    entities = parse_entities(bold)
    for name in UNSUPPORTED_ENTITIES:
        if name in entities:
            raise ValueError(f"{bold}: the '{name}' entity is not supported")
    run_ids = {name: entities.get(name) for name in RUN_ENTITIES}
    if run_ids["run"] is None:
        raise ValueError(f"{bold}: painflow needs a run entity on every BOLD file")
    row = {
        **run_ids,
        "bold_raw": bold,
        "ratings": ratings_path(spec, run_ids),
        **fmriprep_outputs(spec, run_ids),
    }
    if not row["ratings"].exists():
        raise FileNotFoundError(f"{row['ratings']}: no rating recording for {bold}")
    read_recording_sidecar(sidecar_path(row["ratings"]))
    if spec.check_derivatives:
        check_derivatives(row)
    row["tr"] = repetition_time(spec.bids_dir, bold)
    return row


def check_derivatives(row: dict) -> None:
    """Raise naming the first fMRIPrep output of a run that does not exist."""
    for path in (row["bold"], row["confounds"], row["confounds_json"]):
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: fMRIPrep output missing for {row['bold_raw']}"
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
        One row per run: ``subject, session, task, run`` (session None when
        the dataset has no sessions), ``bold_raw``, ``ratings``, ``bold``
        (preprocessed), ``confounds``, ``confounds_json`` and ``tr``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the problem: a missing recording, sidecar field
        or fMRIPrep output, a dataset mixing runs with and without sessions,
        or a subject with fewer than three sessions (or runs, without
        sessions).
    """
    runs = pd.DataFrame([describe_run(spec, bold) for bold in find_bold(spec)])
    with_session = runs["session"].notna()
    if with_session.any() and not with_session.all():
        raise ValueError(f"{spec.bids_dir}: some runs have sessions and some do not")
    unit = cv_unit_column(has_sessions=bool(with_session.all()))
    for subject, rows in runs.groupby("subject"):
        n_units = rows[unit].nunique()
        if n_units < MIN_SESSIONS:
            raise ValueError(
                f"{spec.bids_dir / f'sub-{subject}'}: {n_units} {unit}(s) of task "
                f"'{spec.task}'; nested leave-one-{unit}-out cross-validation needs "
                f"at least {MIN_SESSIONS}"
            )
    return sort_runs(runs)


def cv_unit_column(has_sessions: bool) -> str:
    """The column naming a run's cross-validation unit: its session, else the run.

    Parameters
    ----------
    has_sessions : bool
        Whether the dataset's runs have a session entity.

    Returns
    -------
    str
        ``"session"`` or ``"run"``.
    """
    return "session" if has_sessions else "run"


def sort_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs by subject, session and run, labels in natural order (2 before 10)."""
    keys = [
        tuple(natural_key("" if pd.isna(value) else value) for value in row)
        for row in runs[["subject", "session", "run"]].itertuples(index=False)
    ]
    order = sorted(range(len(runs)), key=keys.__getitem__)
    return runs.iloc[order].reset_index(drop=True)


def sessions_table_path(bids_dir: Path, subject: str) -> Path:
    """The subject's ``sub-<label>_sessions.tsv`` (``acq_time`` of each session)."""
    return bids_path(bids_dir, {"subject": subject}, "sessions", ".tsv", None)


def parse_acq_time(table_path: Path, session_id: str, value: str) -> pd.Timestamp:
    """One ``acq_time`` as a timestamp; raise naming the file, session and value."""
    try:
        parsed = pd.to_datetime(value, format="ISO8601")
    except (ValueError, OverflowError):
        parsed = pd.NaT
    if pd.isna(parsed):
        raise ValueError(
            f"{table_path}: acq_time {value!r} of {session_id} is not an ISO 8601 "
            "date-time (e.g. 2024-01-09T10:30:00)"
        )
    return parsed


def acquisition_times(table_path: Path, sessions: list[str]) -> dict:
    """Acquisition time of each session, from a ``sessions.tsv``.

    Times with a time zone are compared in UTC.

    Parameters
    ----------
    table_path : Path
        The subject's sessions file.
    sessions : list of str
        Session labels (without ``ses-``).

    Returns
    -------
    dict
        Session label to :class:`pandas.Timestamp`.

    Raises
    ------
    ValueError
        Naming the file: a missing column or session, a session listed
        twice, a value that is not a date-time, or times with and without a
        time zone side by side.
    """
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    if "acq_time" not in table or "session_id" not in table:
        raise ValueError(f"{table_path}: needs columns session_id and acq_time")
    repeated = table.loc[table["session_id"].duplicated(), "session_id"].tolist()
    if repeated:
        raise ValueError(f"{table_path}: sessions listed more than once: {repeated}")
    values = dict(zip(table["session_id"], table["acq_time"], strict=True))
    missing = [label for label in sessions if f"ses-{label}" not in values]
    if missing:
        raise ValueError(f"{table_path}: no acq_time for sessions {missing}")
    times = {
        label: parse_acq_time(table_path, f"ses-{label}", values[f"ses-{label}"])
        for label in sessions
    }
    zoned = {label for label, time in times.items() if time.tzinfo is not None}
    if zoned and len(zoned) < len(times):
        naive = sorted(set(times) - zoned, key=natural_key)
        raise ValueError(
            f"{table_path}: acq_time of ses-{sorted(zoned, key=natural_key)[0]} has "
            f"a time zone and that of ses-{naive[0]} has none; they cannot be "
            "ordered"
        )
    return {
        label: time.tz_convert("UTC") if zoned else time
        for label, time in times.items()
    }


def assumed_order_warning(subject: str, table_path: Path) -> str:
    """The warning that a subject's scan order was assumed from its labels."""
    return (
        f"sub-{subject}: no {table_path}; scan order assumed to be the natural "
        "order of the session labels (2 before 10). Add acq_time in that file "
        "for the prospective test to follow the real order"
    )


def scan_order(bids_dir: Path, subject: str, sessions: list[str]) -> pd.DataFrame:
    """A subject's sessions in the order they were scanned.

    Parameters
    ----------
    bids_dir : Path
        The raw BIDS dataset.
    subject : str
        Subject label.
    sessions : list of str
        The subject's session labels.

    Returns
    -------
    pandas.DataFrame
        ``SCAN_ORDER_COLUMNS``, one row per session in scan order: by
        ``acq_time`` in ``sub-<label>_sessions.tsv`` (``order_source``
        ``acq_time``), ties by label; without that file, in the natural order
        of the labels (``order_source`` ``assumed``, ``acq_time`` ``n/a``),
        with a warning in the log.

    Raises
    ------
    ValueError
        As :func:`acquisition_times`.
    """
    table_path = sessions_table_path(bids_dir, subject)
    labels = sorted(set(sessions), key=natural_key)
    if table_path.exists():
        times = acquisition_times(table_path, labels)
        labels = sorted(labels, key=lambda label: (times[label], natural_key(label)))
        stamps = [times[label].isoformat() for label in labels]
        source = ORDER_FROM_ACQ_TIME
    else:
        log.warning(assumed_order_warning(subject, table_path))
        stamps = ["n/a"] * len(labels)
        source = ORDER_ASSUMED
    return pd.DataFrame(
        {
            "subject": subject,
            "session": labels,
            "position": range(1, len(labels) + 1),
            "acq_time": stamps,
            "order_source": source,
        },
        columns=list(SCAN_ORDER_COLUMNS),
    )


def session_order(bids_dir: Path, subject: str, sessions: list[str]) -> list[str]:
    """A subject's session labels in scan order (see :func:`scan_order`)."""
    return scan_order(bids_dir, subject, sessions)["session"].tolist()


def scan_order_table(bids_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The scan order of every subject's sessions (no rows without sessions).

    Parameters
    ----------
    bids_dir : Path
        The raw BIDS dataset.
    runs : pandas.DataFrame
        From :func:`discover_runs`.

    Returns
    -------
    pandas.DataFrame
        :func:`scan_order` of each subject, one after another.
    """
    with_session = runs[runs["session"].notna()]
    tables = [
        scan_order(bids_dir, subject, rows["session"].tolist())
        for subject, rows in with_session.groupby("subject", sort=False)
    ]
    if not tables:
        return pd.DataFrame(columns=list(SCAN_ORDER_COLUMNS))
    return pd.concat(tables, ignore_index=True)


def orders_by_subject(table: pd.DataFrame) -> dict[str, list[str]]:
    """Subject to its sessions in scan order, from :func:`scan_order_table`."""
    return {
        subject: rows["session"].tolist()
        for subject, rows in table.groupby("subject", sort=False)
    }


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
        One row per run, in run order: ``run``, ``bold``, ``confounds``,
        ``ratings`` (None without a raw dataset) and ``tr``.

    Raises
    ------
    FileNotFoundError
        Naming what is missing: the session's preprocessed BOLD in the space,
        a confounds table, or (with a raw dataset) a rating recording.
    """
    with_ratings = spec.bids_dir != spec.fmriprep_dir
    entities = {"subject": subject, "session": session, "task": spec.task}
    pattern = preproc_bold_path(spec, {**entities, "run": "*"})
    found = sorted(pattern.parent.glob(pattern.name), key=lambda p: natural_key(p.name))
    if not found:
        raise FileNotFoundError(
            f"{pattern.parent}: no preprocessed BOLD of task '{spec.task}' "
            f"named {pattern.name}"
        )
    rows = []
    for bold in found:
        run = {**entities, "run": parse_entities(bold)["run"]}
        raw = bids_path(spec.bids_dir, run, "bold", ".nii.gz")
        row = {"bold_raw": raw if with_ratings else bold, **fmriprep_outputs(spec, run)}
        check_derivatives(row)
        ratings = ratings_path(spec, run) if with_ratings else None
        if ratings is not None and not ratings.exists():
            raise FileNotFoundError(f"{ratings}: no rating recording for {bold}")
        tr_source = (spec.bids_dir, raw) if with_ratings else (spec.fmriprep_dir, bold)
        rows.append(
            {
                "run": run["run"],
                "bold": bold,
                "confounds": row["confounds"],
                "ratings": ratings,
                "tr": repetition_time(*tr_source),
            }
        )
    return pd.DataFrame(rows)
