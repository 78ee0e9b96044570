"""Rest runs of simulated people: with pain, or with an individual topography.

One rest run per session (task ``rest``, run 1), without a rating recording.

A pain rest run (:func:`write_pain_rest_run`) is a rating run's generative
model without the ratings: its hidden pain follows the session's level, and
its signal regions carry the pain signal scaled by
``SimulationParameters.rest_signal_scale`` (0: none), so that a decoder
trained on the rating runs can be tested on it.

In a person with an individual topography, the rest run's cortex carries a
network and parcel latent model on the person's own parcels
(:mod:`painflow.simulation.individual`): every region's series is

    ``rest_network_amplitude * N[network] + rest_parcel_amplitude * Q[region]``

with ``N`` one smooth series per network (none for the subcortical regions)
and ``Q`` one per region, both unit-variance AR(1). Each grayordinate adds
the generative model's voxel noise, physiological, motion and drift nuisance
(:func:`painflow.simulation.generative.voxel_bold`), so vertices of a parcel
correlate more than vertices of two parcels of a network, which correlate
more than vertices of two networks: the parcel boundaries and networks are
recoverable. The run draws from a stream of its own, keyed by subject and
session, and carries the clean model's motion spikes but no planted artefact.

Files of a rest run: the raw BOLD (a stub on the coarse grid, at the baseline
intensity, with the run's length and repetition time) and its sidecar, the
fMRIPrep-style ``space-fsLR_den-91k_bold.dtseries.nii`` with its sidecar and
the confounds table with the rating runs' columns.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from nibabel.filebasedimages import SerializableImage

from painflow.core.bids import bids_path
from painflow.core.fileio import write_json
from painflow.core.streams import step_rng
from painflow.simulation.cifti import Grayordinates
from painflow.simulation.design import StudyDesign
from painflow.simulation.generative import (
    AtlasGrid,
    SimulatedRun,
    SimulatedSubject,
    ar1_series,
    compcor_amplitudes,
    compcor_series,
    simulate_motion,
    simulate_run,
    voxel_bold,
)
from painflow.simulation.individual import IndividualPerson
from painflow.simulation.parameters import IndividualParameters, SimulationParameters
from painflow.simulation.writers import bold_image, write_bold_files, write_confounds

REST_TASK = "rest"
REST_RUN = "1"


def rest_region_series(
    rng: np.random.Generator,
    region_networks: np.ndarray,
    n_volumes: int,
    tr: float,
    params: IndividualParameters,
) -> np.ndarray:
    """Region series of a rest run: a network series plus a region series.

    Parameters
    ----------
    rng : numpy.random.Generator
    region_networks : numpy.ndarray
        Network number of every region; 0 for a region in no network.
    n_volumes : int
    tr : float
    params : IndividualParameters

    Returns
    -------
    numpy.ndarray
        ``(volumes, regions)``.
    """
    phi = np.exp(-tr / params.rest_time_constant)
    networks = ar1_series(rng, (n_volumes, int(region_networks.max()) + 1), phi)
    networks[:, 0] = 0.0  # regions in no network share nothing
    regions = ar1_series(rng, (n_volumes, region_networks.size), phi)
    return (
        params.rest_network_amplitude * networks[:, region_networks]
        + params.rest_parcel_amplitude * regions
    )


def simulate_rest_run(
    person: IndividualPerson,
    rng: np.random.Generator,
    tr: float,
    params: SimulationParameters,
    individual: IndividualParameters,
) -> SimulatedRun:
    """Simulate a rest run on the person's grayordinates.

    Parameters
    ----------
    person : IndividualPerson
    rng : numpy.random.Generator
        The run's stream.
    tr : float
    params : SimulationParameters
    individual : IndividualParameters
        Its ``n_rest_volumes`` and the latent model's numbers.

    Returns
    -------
    SimulatedRun
        ``(volumes, grayordinates)`` float32 BOLD, motion, physiological
        components and spikes; no ratings.
    """
    n_volumes = individual.n_rest_volumes
    motion, spike_volumes, spike_sizes = simulate_motion(rng, n_volumes, params)
    run = SimulatedRun(
        bold=np.empty((n_volumes, 0), dtype=np.float32),
        ratings=np.empty(0),
        motion=motion,
        compcor=compcor_series(rng, n_volumes, tr, params),
        compcor_amplitudes=compcor_amplitudes(params),
        spike_volumes=spike_volumes,
        spike_sizes=spike_sizes,
    )
    region_networks = person.grid.table["network"].to_numpy()
    regions = rest_region_series(rng, region_networks, n_volumes, tr, individual)
    voxels = regions[:, person.grid.voxel_regions]
    bold = voxel_bold(rng, voxels, person.subject, run, tr, params)
    return dataclasses.replace(run, bold=bold)


def rest_entities(subject: str, session: str) -> dict:
    """The BIDS entities of a session's rest run."""
    return {"subject": subject, "session": session, "task": REST_TASK, "run": REST_RUN}


def write_rest_run(
    design: StudyDesign,
    person: IndividualPerson,
    atlas: AtlasGrid,
    session: tuple[int, str],
    params: tuple[SimulationParameters, IndividualParameters],
) -> list[tuple[Path, SerializableImage]]:
    """Simulate a session's rest run; write its tables and sidecars.

    Parameters
    ----------
    design : StudyDesign
    person : IndividualPerson
    atlas : AtlasGrid
        The coarse grid of the raw BOLD stub.
    session : tuple
        1-based session index and session label.
    params : tuple
        The simulation's and the individual topography's parameters.

    Returns
    -------
    list of (Path, image)
        The raw stub and the dtseries, for the caller to write.
    """
    model, individual = params
    index, label = session
    rng = step_rng(design.seed, "simulate rest run", person.index, index)
    run = simulate_rest_run(person, rng, design.tr, model, individual)
    entities = rest_entities(person.label, label)
    write_confounds(design.fmriprep_dir, entities, run, design.tr, model)
    write_json(
        bids_path(design.out_dir, entities, "bold", ".json"),
        {"RepetitionTime": design.tr, "TaskName": REST_TASK},
    )
    stub = np.full((len(run.bold), int(atlas.mask.sum())), model.baseline_intensity)
    images = [
        (
            bids_path(design.out_dir, entities, "bold", ".nii.gz"),
            bold_image(stub, atlas, design.tr, np.int16, xform_code=1),
        )
    ]
    images += person.grayordinates.run_images(
        design.out_dir, design.fmriprep_dir, entities, run.bold, design.tr
    )
    return images


def write_pain_rest_run(
    design: StudyDesign,
    subject: tuple[int, SimulatedSubject],
    session: tuple[int, str, float],
    atlas: AtlasGrid,
    grayordinates: Grayordinates | None,
    n_volumes: int,
    params: SimulationParameters,
) -> list[tuple[Path, SerializableImage]]:
    """Simulate a session's rest run with a hidden pain level; write its files.

    Parameters
    ----------
    design : StudyDesign
    subject : tuple
        1-based subject index and the subject's draws.
    session : tuple
        1-based session index, session label and the session's pain level.
    atlas : AtlasGrid
    grayordinates : Grayordinates or None
        Also write the run as a dense CIFTI series when given.
    n_volumes : int
        Volumes of the rest run.
    params : SimulationParameters
        The rating runs' parameters; the pain signal is scaled by
        ``rest_signal_scale``.

    Returns
    -------
    list of (Path, image)
        The raw and preprocessed BOLD (and dtseries), for the caller to write.
    """
    (subject_index, person), (session_index, label, level) = subject, session
    scale = params.rest_signal_scale
    rest_params = dataclasses.replace(
        params,
        signal_gain=params.signal_gain * scale,
        activation_gain=params.activation_gain * scale,
    )
    rng = step_rng(design.seed, "simulate pain rest run", subject_index, session_index)
    run = simulate_run(atlas, person, level, rng, n_volumes, design.tr, rest_params)
    entities = rest_entities(person.label, label)
    images, _ = write_bold_files(design, entities, run, atlas, params)
    if grayordinates is not None:
        images += grayordinates.run_images(
            design.out_dir, design.fmriprep_dir, entities, run.bold, design.tr
        )
    return images


def rest_truth(params: IndividualParameters) -> dict:
    """The rest runs' ground truth entry: ``task``, ``run`` and ``n_volumes``."""
    return {"task": REST_TASK, "run": REST_RUN, "n_volumes": params.n_rest_volumes}
