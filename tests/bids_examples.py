"""Small studies on the layouts of the BIDS community's example datasets.

pybids' source distribution ships example datasets whose images are empty
stubs; ``tools/fetch_bids_examples.py`` (run by ``make test``) puts them in
``tests/data/bids-examples``. :func:`build_example` copies one task's BOLD
runs of an example into a folder of its own, under the same names, and writes
what painflow reads: small 4-D images, the runs' JSON sidecars at every level
(with a RepetitionTime beside a run that inherits none), a rating recording
beside each BOLD, fMRIPrep's preprocessed BOLD and confounds, each subject's
T1w images and an atlas on the images' grid.

The names expected of painflow are built here from the example's own names,
not by painflow's name builder, so that tests compare against them.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from painflow.core.fileio import write_json, write_tsv
from painflow.simulation.confounds import compcor_metadata, confounds_table
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.writers import nifti_image, write_nifti

_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "fetch_bids_examples.py"
_spec = importlib.util.spec_from_file_location("fetch_bids_examples", _SCRIPT)
fetch_bids_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch_bids_examples)
EXAMPLES = fetch_bids_examples.DEFAULT_DEST

GRID = (4, 4, 4)
N_VOLUMES = 40
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])
# Where a run inherits no RepetitionTime, a sidecar beside it gets this one.
DEFAULT_TR = 2.0
RECORDING = "rating"
COLUMN = "pain"
ATLAS_NAME = "blocks"
N_COMPCOR = 15  # fMRIPrep's aCompCor columns: CSF, WM, combined


def example_dir(name: str) -> Path:
    """An example dataset's folder; skips the test when none was fetched."""
    if not EXAMPLES.is_dir():
        pytest.skip(
            f"{EXAMPLES} is absent: `make test` fetches the BIDS example "
            "datasets (or run `python tools/fetch_bids_examples.py`)"
        )
    return EXAMPLES / name


def example_bold(root: Path, task: str) -> list[Path]:
    """Every BOLD image of a task in a raw dataset (compressed NIfTI), sorted.

    ``synthetic`` has each of its runs as ``.nii`` and as ``.nii.gz`` (the
    BIDS validator rejects such a pair); its ``.nii.gz`` files are its runs.
    """
    return sorted(root.glob(f"sub-*/**/func/*_task-{task}_*bold.nii.gz"))


def name_pairs(path: Path) -> dict:
    """The key-value pairs of a BIDS name (``sub``, ``ses``, ...) and its suffix."""
    stem = path.name.split(".")[0]
    *pairs, suffix = stem.split("_")
    return {**dict(pair.split("-", 1) for pair in pairs), "suffix": suffix}


def inherited_tr(bids_dir: Path, bold: Path) -> float | None:
    """RepetitionTime by BIDS inheritance: the deepest applicable sidecar wins."""
    target = name_pairs(bold).items()
    parts = bold.parent.relative_to(bids_dir).parts
    tr = None
    for depth in range(len(parts) + 1):
        for path in sorted(bids_dir.joinpath(*parts[:depth]).glob("*bold.json")):
            if name_pairs(path).items() <= target:
                tr = json.loads(path.read_text()).get("RepetitionTime", tr)
    return tr


def with_session(relative: Path, source: str, target: str) -> Path:
    """A path below the dataset root, moved from one session label to another."""
    parts = [
        part.replace(f"ses-{source}", f"ses-{target}")
        if part == f"ses-{source}" or f"_ses-{source}_" in part
        else part
        for part in relative.parts
    ]
    return Path(*parts)


def run_files(bids_dir: Path, bold: Path, space: str, res: str | None) -> dict:
    """A run's recording (beside its BOLD) and fMRIPrep outputs, by its BOLD name."""
    stem = bold.name.removesuffix("_bold.nii.gz")
    grid = f"space-{space}" + (f"_res-{res}" if res else "")
    derived = bids_dir / "derivatives" / "fmriprep" / bold.parent.relative_to(bids_dir)
    return {
        "ratings": bold.with_name(f"{stem}_recording-{RECORDING}_physio.tsv.gz"),
        "bold": derived / f"{stem}_{grid}_desc-preproc_bold.nii.gz",
        "confounds": derived / f"{stem}_desc-confounds_timeseries.tsv",
        "confounds_json": derived / f"{stem}_desc-confounds_timeseries.json",
    }


def sidecar(path: Path) -> Path:
    """The JSON sidecar of a data file."""
    return path.with_name(path.name.split(".")[0] + ".json")


@dataclass(frozen=True)
class ExampleStudy:
    """A study built on an example's layout.

    Attributes
    ----------
    name : str
        The example's name.
    bids_dir, fmriprep_dir : Path
    atlas_image, atlas_labels : Path
    task, space : str
    res : str or None
    tr : dict
        Each raw BOLD written to its repetition time.
    """

    name: str
    bids_dir: Path
    fmriprep_dir: Path
    atlas_image: Path
    atlas_labels: Path
    task: str
    space: str
    res: str | None
    tr: dict

    def files(self, bold_raw: Path) -> dict[str, Path]:
        """A run's recording and fMRIPrep outputs, where the builder wrote them."""
        return run_files(self.bids_dir, bold_raw, self.space, self.res)

    def config(self, output: Path, **overrides) -> dict:
        """A config of the study whose whole workflow plans quickly."""
        config = {
            "bids_dir": str(self.bids_dir),
            "fmriprep_dir": str(self.fmriprep_dir),
            "output_dir": str(output),
            "task": self.task,
            "space": self.space,
            "res": self.res,
            "atlas": {
                "name": ATLAS_NAME,
                "image": str(self.atlas_image),
                "labels": str(self.atlas_labels),
            },
            "evaluation": {"n_bootstrap": 100},
            "learning_curve": {"n_repeats": 2},
            "importance": {"n_permutations": 100, "n_shown": 5},
            "prospective": {"train_sessions": 2},
        }
        config.update(overrides)
        return config


def build_example(
    name: str,
    task: str,
    out: Path,
    *,
    space: str = "MNI152NLin6Asym",
    res: str | None = "2",
    copy_session: tuple[str, str] | None = None,
    seed: int = 0,
) -> ExampleStudy:
    """Build a study on an example dataset's runs of one task.

    Parameters
    ----------
    name : str
        ``7t_trt``, ``ds005`` or ``synthetic``.
    task : str
    out : Path
        The study goes in ``out/<name>`` (its fMRIPrep outputs in
        ``derivatives/fmriprep`` there) and its atlas in ``out/atlas``.
    space, res : str
        The fMRIPrep space entities of the preprocessed BOLD.
    copy_session : (str, str), optional
        ``(source, new)``: session ``new`` gets the runs of session
        ``source`` under the same names but the session label.
    seed : int
        Seed of the images, ratings and confounds.
    """
    source = example_dir(name)
    bids_dir = out / name
    fmriprep_dir = bids_dir / "derivatives" / "fmriprep"
    copy_description(source, bids_dir, fmriprep_dir)
    runs = [path.relative_to(source) for path in example_bold(source, task)]
    copies = [(path, path) for path in companions(source, task, runs) + runs]
    if copy_session:
        copies += [
            (origin, with_session(origin, *copy_session))
            for origin, _ in copies
            if f"ses-{copy_session[0]}" in origin.parts
        ]
    for origin, target in copies:
        if origin not in runs:
            (bids_dir / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / origin, bids_dir / target)
    rng = np.random.default_rng(seed)
    tr = {}
    for origin, target in copies:
        if origin in runs:
            bold = bids_dir / target
            tr[bold] = repetition_time(bids_dir, bold)
            write_run(bids_dir, bold, tr[bold], rng, space, res)
    write_t1w(source, bids_dir, {bold.parts[len(bids_dir.parts)] for bold in tr})
    image, labels = write_atlas(out / "atlas")
    return ExampleStudy(
        name, bids_dir, fmriprep_dir, image, labels, task, space, res, tr
    )


def companions(source: Path, task: str, runs: list[Path]) -> list[Path]:
    """What an example has of a task's runs besides their images, below its root.

    The task's BOLD sidecars at every level (BIDS inheritance), and each run's
    other files beside it (events, physiological recordings: stubs, copied as
    they are, so that discovery must tell the rating recording apart).
    """
    sidecars = {
        path
        for path in source.rglob("*bold.json")
        if "derivatives" not in path.relative_to(source).parts
        and name_pairs(path).get("task", task) == task
    }
    beside = {
        path
        for run in runs
        for path in (source / run).parent.glob(run.name.replace("_bold.nii.gz", "_*"))
        if name_pairs(path)["suffix"] != "bold"
    }
    return sorted(path.relative_to(source) for path in sidecars | beside)


def copy_description(source: Path, bids_dir: Path, fmriprep_dir: Path) -> None:
    """The example's dataset descriptions (fMRIPrep's when it has one)."""
    bids_dir.mkdir(parents=True)
    shutil.copyfile(
        source / "dataset_description.json", bids_dir / "dataset_description.json"
    )
    derived = source / "derivatives" / "fmriprep" / "dataset_description.json"
    if derived.exists():
        fmriprep_dir.mkdir(parents=True)
        shutil.copyfile(derived, fmriprep_dir / derived.name)
    else:
        write_json(
            fmriprep_dir / derived.name,
            {
                "Name": f"fMRIPrep outputs of {source.name}, stand-ins",
                "BIDSVersion": "1.10.0",
                "DatasetType": "derivative",
                "GeneratedBy": [{"Name": "fMRIPrep"}],
            },
        )


def repetition_time(bids_dir: Path, bold: Path) -> float:
    """The run's inherited RepetitionTime; one written beside it when it has none."""
    tr = inherited_tr(bids_dir, bold)
    if tr is None:
        beside = sidecar(bold)
        metadata = json.loads(beside.read_text()) if beside.exists() else {}
        write_json(beside, {**metadata, "RepetitionTime": DEFAULT_TR})
        tr = DEFAULT_TR
    return float(tr)


def write_run(
    bids_dir: Path,
    bold: Path,
    tr: float,
    rng: np.random.Generator,
    space: str,
    res: str | None,
) -> None:
    """A run's raw image, rating recording and fMRIPrep outputs, random but seeded."""
    files = run_files(bids_dir, bold, space, res)
    data = rng.normal(1000.0, 10.0, (*GRID, N_VOLUMES)).astype(np.float32)
    write_nifti(bold, nifti_image(data, AFFINE, xform_code=1, tr=tr))
    ratings = pd.DataFrame({COLUMN: rng.uniform(0, 100, N_VOLUMES)})
    write_tsv(files["ratings"], ratings, header=False)
    write_json(
        sidecar(files["ratings"]),
        {"SamplingFrequency": 1.0 / tr, "StartTime": tr / 2, "Columns": [COLUMN]},
    )
    write_nifti(files["bold"], nifti_image(data, AFFINE, xform_code=4, tr=tr))
    write_json(sidecar(files["bold"]), {"RepetitionTime": tr})
    amplitudes = np.ones(N_COMPCOR)
    table = confounds_table(
        data.reshape(-1, N_VOLUMES).T,
        rng.normal(0.0, 0.05, (N_VOLUMES, 6)),
        np.linalg.qr(rng.normal(size=(N_VOLUMES, N_COMPCOR)))[0],
        amplitudes,
        tr,
        SimulationParameters(),
    )
    write_tsv(files["confounds"], table)
    write_json(files["confounds_json"], compcor_metadata(amplitudes, N_VOLUMES))


def write_t1w(source: Path, bids_dir: Path, subjects: set[str]) -> None:
    """A small image under each T1w name the subjects have in the example."""
    data = np.full(GRID, 1000, dtype=np.int16)
    for subject in sorted(subjects):
        for path in sorted((source / subject).rglob("*_T1w.nii.gz")):
            target = bids_dir / path.relative_to(source)
            write_nifti(target, nifti_image(data, AFFINE, xform_code=1))


def write_atlas(folder: Path) -> tuple[Path, Path]:
    """Eight regions of 2 x 2 x 2 voxels filling the grid; image and table."""
    blocks = np.indices(GRID) // 2
    labels = (1 + blocks[0] * 4 + blocks[1] * 2 + blocks[2]).astype(np.int16)
    image = folder / f"atlas-{ATLAS_NAME}_dseg.nii.gz"
    table = folder / f"atlas-{ATLAS_NAME}_dseg.tsv"
    write_nifti(image, nifti_image(labels, AFFINE, xform_code=4))
    indices = np.arange(1, labels.max() + 1)
    names = [f"block{index}" for index in indices]
    write_tsv(table, pd.DataFrame({"index": indices, "name": names}))
    return image, table
