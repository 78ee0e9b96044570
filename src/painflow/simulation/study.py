"""Simulate a longitudinal pain-rating fMRI study whose ground truth is known.

The dataset has the layout painflow reads: a raw BIDS dataset with a continuous
pain rating beside every BOLD run, fMRIPrep-style derivatives (preprocessed
BOLD on an atlas grid and confounds tables) under ``derivatives/fmriprep``, the
AAL atlas resampled to that grid under ``atlas/`` and ``ground_truth.json``.
On request the runs and the atlas are also written as CIFTI-2 grayordinates
(:mod:`painflow.simulation.cifti`).

The generative model of every run is :mod:`painflow.simulation.generative`;
the files are written by :mod:`painflow.simulation.writers`, the confounds
tables built by :mod:`painflow.simulation.confounds`. On request the study
carries real data's mess: artefacts (:mod:`painflow.simulation.artifacts`) and
an untidy design (:mod:`painflow.simulation.design`); without it every file is
as it was.

Every random draw comes from a generator seeded by ``[seed, subject]``,
``[seed, subject, session]`` or ``[seed, subject, session, run]`` (1-based), so
adding subjects, sessions or runs leaves the files already simulated unchanged;
the mess draws from named streams of its own.
"""

from __future__ import annotations

import dataclasses
import datetime
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from nibabel.filebasedimages import SerializableImage

from painflow.core.bids import bids_path
from painflow.core.fileio import write_json, write_tsv
from painflow.core.streams import step_rng
from painflow.simulation import artifacts as simartifacts
from painflow.simulation.artifacts import ArtifactParameters
from painflow.simulation.cifti import Grayordinates, write_cifti_atlas
from painflow.simulation.confounds import N_COMPCOR
from painflow.simulation.design import Mess, StudyDesign
from painflow.simulation.generative import (
    AtlasGrid,
    SimulatedSubject,
    add_artifacts,
    draw_signal_regions,
    draw_subject,
    load_aal_atlas,
    seeded_rng,
    simulate_run,
)
from painflow.simulation.individual import (
    IndividualPerson,
    draw_person,
    enlarged_networks,
    rating_bold,
    write_person_files,
    write_template_files,
)
from painflow.simulation.parameters import IndividualParameters, SimulationParameters
from painflow.simulation.rest import (
    REST_RUN,
    REST_TASK,
    rest_truth,
    write_pain_rest_run,
    write_rest_run,
)
from painflow.simulation.topography import draw_template, load_fslr_cortex
from painflow.simulation.writers import (
    ATLAS_NAME,
    TASK,
    atlas_paths,
    write_anat,
    write_atlas,
    write_dataset_files,
    write_image,
    write_run,
)


class _ImageWriter:
    """Write images on worker threads (zlib compression releases the GIL).

    At most one run's images are in flight, which bounds memory; :meth:`wait`
    re-raises any error of a write.
    """

    def __init__(self, pool: ThreadPoolExecutor):
        self._pool = pool
        self._pending: list[Future] = []

    def submit(self, images: list[tuple[Path, SerializableImage]]) -> None:
        self.wait()
        self._pending = [self._pool.submit(write_image, *item) for item in images]

    def wait(self) -> None:
        for future in self._pending:
            future.result()
        self._pending = []


def session_signal_weights(
    params: SimulationParameters, seed: int, subject: int, session: int
) -> np.ndarray | None:
    """A session's weights of the subject's signal regions, or None (all 1).

    Drawn from a named stream of their own, so that other draws are unchanged;
    see ``SimulationParameters.session_pattern_sd``.
    """
    sd = params.session_pattern_of(subject)
    if not sd:
        return None
    rng = step_rng(seed, "simulate session pattern", subject, session)
    return 1.0 + sd * rng.standard_normal(params.n_signal_regions)


def _session_draws(
    rng: np.random.Generator, subject: SimulatedSubject, session: int, params
) -> tuple[float, str]:
    """A session's pain level and acquisition time (about weekly, in order)."""
    level = float(rng.uniform(*params.session_pain_range))
    day = (session - 1) * params.session_interval_days + int(rng.integers(-1, 2))
    minutes = int(rng.integers(0, 8 * 60))
    when = subject.first_scan + datetime.timedelta(days=day, minutes=minutes)
    return level, when.isoformat(timespec="seconds")


def _simulate_subject(
    design: StudyDesign,
    atlas: AtlasGrid,
    subject: SimulatedSubject,
    index: int,
    params: SimulationParameters,
    writer: _ImageWriter,
    grayordinates: Grayordinates | None = None,
    individual: tuple[IndividualPerson, IndividualParameters] | None = None,
    rest_volumes: int | None = None,
) -> tuple[dict, list[dict]]:
    """Simulate and write every session of a subject.

    With ``grayordinates``, every run is also written as a CIFTI dtseries;
    with ``individual`` (the person and the topography's parameters), on the
    person's grayordinates, and every session also gets a rest run. With
    ``rest_volumes``, every session gets a rest run of that many volumes whose
    hidden pain follows the session's level.
    Returns the sessions' pain levels and, for a messy design, a record of
    every run (:func:`_run_record`).
    """
    first = design.sessions[0]
    write_anat(design.out_dir, {"subject": subject.label, "session": first})
    levels, acq_times, records = {}, [], []
    for t, session in enumerate(design.sessions, start=1):
        rng = seeded_rng(design.seed, index, t)
        levels[session], acq_time = _session_draws(rng, subject, t, params)
        acq_times.append(acq_time)
        for r, n_volumes in design.runs(index, t):
            run = simulate_run(
                atlas,
                subject,
                levels[session],
                seeded_rng(design.seed, index, t, r),
                n_volumes,
                design.tr,
                params,
                session_signal_weights(params, design.seed, index, t),
            )
            run, events = add_artifacts(run, subject, design, params, (index, t, r))
            entities = {
                "subject": subject.label,
                "session": session,
                "task": TASK,
                "run": str(r),
            }
            images, confounds = write_run(design, entities, run, atlas, params)
            if design.mess.active:
                records.append(_run_record(entities, events, confounds, design, params))
            if individual is not None:
                person = individual[0]
                bold = rating_bold(
                    person, design, levels[session], (index, t, r), n_volumes, params
                )
                images += person.grayordinates.run_images(
                    design.out_dir, design.fmriprep_dir, entities, bold, design.tr
                )
            elif grayordinates is not None:
                images += grayordinates.run_images(
                    design.out_dir, design.fmriprep_dir, entities, run.bold, design.tr
                )
            writer.submit(images)
        if individual is not None:
            person, individual_params = individual
            writer.submit(
                write_rest_run(
                    design, person, atlas, (t, session), (params, individual_params)
                )
            )
        if rest_volumes is not None:
            writer.submit(
                write_pain_rest_run(
                    design,
                    (index, subject),
                    (t, session, levels[session]),
                    atlas,
                    grayordinates,
                    rest_volumes,
                    params,
                )
            )
    if not design.mess.unpadded_sessions:  # real unpadded datasets often have none
        _write_sessions_table(design, subject.label, acq_times)
    return levels, records


def _run_record(
    entities: dict,
    events: list[dict],
    confounds: pd.DataFrame,
    design: StudyDesign,
    params: SimulationParameters,
) -> dict:
    """A run's entry in the ground truth: identity, length, detected artefacts."""
    flags = simartifacts.censoring_flags(confounds, design.tr, params.head_radius)
    return {
        "subject": entities["subject"],
        "session": entities["session"],
        "run": entities["run"],
        "n_volumes": len(confounds),
        "artifacts": simartifacts.with_detection(events, flags),
    }


def _write_sessions_table(design: StudyDesign, subject: str, acq_times: list) -> None:
    """A subject's sessions.tsv: session labels and acquisition times."""
    write_tsv(
        bids_path(design.out_dir, {"subject": subject}, "sessions", ".tsv", None),
        pd.DataFrame(
            {
                "session_id": [f"ses-{t}" for t in design.sessions],
                "acq_time": acq_times,
            }
        ),
    )


def _ground_truth(
    design: StudyDesign,
    params: SimulationParameters,
    subjects: dict,
    cifti_atlas: dict | None = None,
    runs: list[dict] | None = None,
    individual: dict | None = None,
) -> dict:
    """The ground truth document: design, parameters and per-subject truth.

    A messy design adds ``mess`` (its options) and ``runs`` (per run, the
    volumes with artefacts); an individual topography adds ``individual``.
    """
    image_path, table_path = atlas_paths(design.out_dir, params.voxel_size)
    truth = {
        "atlas": {
            "name": ATLAS_NAME,
            "image": image_path.relative_to(design.out_dir).as_posix(),
            "labels": table_path.relative_to(design.out_dir).as_posix(),
        },
        "design": {
            "n_subjects": design.n_subjects,
            "n_sessions": design.n_sessions,
            "n_runs": design.n_runs,
            "n_volumes": design.n_volumes,
            "repetition_time": design.tr,
            "seed": design.seed,
            "task": TASK,
        },
        # tuples as lists, so that the returned dict equals the JSON written
        "parameters": {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(params).items()
        },
        "subjects": subjects,
    }
    if cifti_atlas is not None:
        truth["cifti_atlas"] = cifti_atlas
    if design.mess.active:
        truth["mess"] = design.mess.as_dict()
        truth["runs"] = runs
    if individual is not None:
        truth["individual"] = individual
    return truth


def _individual_parameters(
    individual: bool | IndividualParameters, cifti: bool
) -> IndividualParameters | None:
    """The individual topography's parameters, None without it; checked."""
    if individual is True:
        individual = IndividualParameters()
    if not individual:
        return None
    if not cifti:
        raise ValueError("individual=True (--individual) needs cifti=True (--cifti)")
    if individual.n_rest_volumes < 2 * N_COMPCOR:
        raise ValueError(
            f"n_rest_volumes must be at least {2 * N_COMPCOR}, "
            f"got {individual.n_rest_volumes}"
        )
    return individual


def _check_rest_volumes(
    rest_volumes: int | None, individual: IndividualParameters | None
) -> None:
    """Raise for rest runs that cannot be simulated."""
    if rest_volumes is None:
        return
    if individual is not None:
        raise ValueError(
            "rest_volumes (--rest) and individual (--individual) both write rest "
            "runs; the individual topography's have --rest-volumes of their own"
        )
    if rest_volumes < 2 * N_COMPCOR:
        raise ValueError(
            f"rest_volumes must be at least {2 * N_COMPCOR}, got {rest_volumes}"
        )


class _IndividualStudy:
    """The template, written once, and each person's draw and files."""

    def __init__(self, design, atlas, grayordinates, params, individual_params):
        self.design, self.atlas, self.grayordinates = design, atlas, grayordinates
        self.params = (params, individual_params)
        self.cortex = load_fslr_cortex()
        rng = step_rng(design.seed, "simulate parcel template")
        self.template = draw_template(self.cortex, rng, individual_params)
        self.truth = write_template_files(
            design.out_dir, self.cortex, self.template, individual_params
        )
        self.truth["rest"] = rest_truth(individual_params)
        self.enlarged = enlarged_networks(
            design.seed, sorted(self.cortex.network_names)
        )

    def person(self, label: str, index: int) -> tuple[IndividualPerson, dict]:
        """Draw a person; write their true parcels; return them and their truth."""
        enlarged = self.enlarged[(index - 1) % len(self.enlarged)]
        person = draw_person(
            self.cortex,
            self.template,
            self.grayordinates,
            self.atlas,
            (label, index, enlarged),
            self.design.seed,
            self.params,
        )
        truth = write_person_files(
            self.design.out_dir, self.cortex, self.template.topography, person
        )
        return person, truth


def simulate_study(
    out_dir: str | Path,
    n_subjects: int = 2,
    n_sessions: int = 12,
    n_runs: int = 3,
    n_volumes: int = 300,
    tr: float = 2.0,
    seed: int = 0,
    parameters: SimulationParameters | None = None,
    cifti: bool = False,
    artifacts: bool | ArtifactParameters = False,
    unpadded_sessions: bool = False,
    missing_run: bool = False,
    variable_run_length: bool = False,
    individual: bool | IndividualParameters = False,
    rest_volumes: int | None = None,
) -> dict:
    """Simulate a study: raw BIDS, fMRIPrep-style derivatives, atlas, truth.

    Parameters
    ----------
    out_dir : str or Path
        Root of the dataset to write (created if needed).
    n_subjects, n_sessions, n_runs : int
        Subjects ``01..``, sessions ``01..`` per subject, runs ``1..`` per
        session of ``task-rating``.
    n_volumes : int
        Volumes per run.
    tr : float
        Repetition time (s).
    seed : int
        Seed of every random stream, in [0, 2**32).
    parameters : SimulationParameters, optional
        Model parameters; the defaults when None.
    cifti : bool
        Also write fMRIPrep-style CIFTI-2 outputs (space fsLR, den 91k) of
        every run and the atlas as grayordinates (see :mod:`painflow.simulation.cifti`).
        Every other file is the same with or without them.
    artifacts : bool or ArtifactParameters
        Plant real data's artefacts (:mod:`painflow.simulation.artifacts`):
        non-steady-state volumes, head jerks (some at run ends) and integer
        ratings with plateaus; True takes the default
        :class:`~painflow.simulation.artifacts.ArtifactParameters`. The underlying
        pain, signal and noise stay those of the clean study.
    unpadded_sessions : bool
        Label sessions ``1..`` instead of ``01..`` and write no sessions.tsv.
    missing_run : bool
        Leave out one run of one session per subject (needs ``n_runs >= 2``).
    variable_run_length : bool
        Shorten about half of the runs by 10-20%.
    individual : bool or IndividualParameters
        Give each person an individual topography on the real fsLR 91k
        cortex, write their CIFTI BOLD on it and one rest run per session
        (:mod:`painflow.simulation.individual`, :mod:`painflow.simulation.rest`);
        needs ``cifti``. True takes the default
        :class:`~painflow.simulation.parameters.IndividualParameters`. The
        NIfTI files, ratings and confounds of the rating runs are unchanged.
    rest_volumes : int, optional
        Give every session a rest run of this many volumes (task ``rest``, run
        1, no rating recording) whose hidden pain follows the session's level
        (:func:`~painflow.simulation.rest.write_pain_rest_run`); not with
        ``individual``, which writes rest runs of its own. Every other file is
        the same with or without them.

    Returns
    -------
    dict
        The ground truth, as written to ``out_dir/ground_truth.json``: the
        atlas files, the design, the parameters and, per subject, the signal
        regions (``signal_region_indices`` and ``signal_region_names``),
        ``delay_seconds``, ``gain`` and ``session_pain_levels``; with
        ``cifti``, also ``cifti_atlas`` (the grayordinate atlas files). With
        any of the last four options, also ``mess`` (the options and the
        censoring rules' thresholds) and ``runs``: per run ``subject``,
        ``session``, ``run``, ``n_volumes`` and ``artifacts``, a list of
        events with ``kind`` (``non_steady_state``, ``jerk`` or ``spike``, the
        clean model's small random spikes), ``volumes`` (0-based), for jerks
        and spikes ``size_mm``, for jerks ``at_run_end``, and ``detected_by``:
        the rules that flag all its volumes (``non_steady_state_outlier``,
        ``filtered_fd``, ``std_dvars``). With ``individual``, also
        ``individual`` (:func:`~painflow.simulation.individual.write_template_files`
        and ``rest``, :func:`~painflow.simulation.rest.rest_truth`) and per
        subject ``individual``
        (:func:`~painflow.simulation.individual.write_person_files`). With
        ``rest_volumes``, also ``rest``: ``task``, ``run``, ``n_volumes`` and
        ``signal_scale``.

    Raises
    ------
    ValueError
        For an impossible design, e.g. more subjects than disjoint sets of
        signal regions.
    """
    params = parameters or SimulationParameters()
    if artifacts is True:
        artifacts = ArtifactParameters()
    design = StudyDesign(
        Path(out_dir),
        n_subjects,
        n_sessions,
        n_runs,
        n_volumes,
        tr,
        seed,
        Mess(artifacts or None, unpadded_sessions, missing_run, variable_run_length),
    )
    design.check()
    individual_params = _individual_parameters(individual, cifti)
    _check_rest_volumes(rest_volumes, individual_params)
    atlas = load_aal_atlas(params.voxel_size)
    signal_sets = draw_signal_regions(atlas, n_subjects, params, seed)
    write_atlas(design.out_dir, atlas)
    grayordinates, cifti_atlas = None, None
    if cifti:
        grayordinates = Grayordinates.from_atlas(atlas)
        cifti_atlas = write_cifti_atlas(design.out_dir, atlas, grayordinates)
    people = None
    if individual_params is not None:
        people = _IndividualStudy(
            design, atlas, grayordinates, params, individual_params
        )
    truth, runs = {}, []
    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = _ImageWriter(pool)
        for s, label in enumerate(design.subjects, start=1):
            subject = draw_subject(
                atlas, label, signal_sets[s - 1], seeded_rng(seed, s), params
            )
            person, person_truth = None, None
            if people is not None:
                person, person_truth = people.person(label, s)
            levels, records = _simulate_subject(
                design,
                atlas,
                subject,
                s,
                params,
                writer,
                grayordinates,
                None if person is None else (person, individual_params),
                rest_volumes,
            )
            runs += records
            rows = atlas.table.iloc[subject.signal_rows]
            truth[label] = {
                "signal_region_indices": [int(i) for i in rows["index"]],
                "signal_region_names": list(rows["name"]),
                "delay_seconds": params.delay,
                "gain": params.signal_gain,
                "session_pain_levels": {k: round(v, 6) for k, v in levels.items()},
            }
            if person_truth is not None:
                truth[label]["individual"] = person_truth
        writer.wait()
    write_dataset_files(design.out_dir, design.fmriprep_dir, design.subjects)
    ground_truth = _ground_truth(
        design,
        params,
        truth,
        cifti_atlas,
        runs,
        None if people is None else people.truth,
    )
    if rest_volumes is not None:
        ground_truth["rest"] = {
            "task": REST_TASK,
            "run": REST_RUN,
            "n_volumes": rest_volumes,
            "signal_scale": params.rest_signal_scale,
        }
    write_json(design.out_dir / "ground_truth.json", ground_truth)
    return ground_truth
