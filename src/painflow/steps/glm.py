"""Steps ``glm_session`` and ``glm``: univariate maps of the ratings."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from painflow import __version__
from painflow.analyses.glm import (
    GlmSettings,
    design_of_run,
    network_summary,
    second_level,
)
from painflow.analyses.glmdata import (
    map_grid,
    map_image,
    map_values,
    session_effect,
    smooth_maps,
)
from painflow.atlas.configured import load_configured_atlas
from painflow.atlas.named import fslr_midthickness
from painflow.atlas.surface import GrayordinateAtlas, grayordinate_labels
from painflow.atlas.volume import check_same_grid
from painflow.core.fileio import read_json, write_json, write_tsv
from painflow.report.brainplots import plot_stat_volume
from painflow.report.surfaceplots import plot_stat_surface
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.extract import RunFiles


def glm_session(
    bold: list[str],
    confounds: list[str],
    ratings: list[str],
    runs: list[str],
    trs: list[float],
    denoise: dict,
    alignment: dict,
    rating_column: str,
    glm: dict,
    surfaces: dict | None,
    session: str,
    effect_out: str,
    sidecar_out: str,
) -> None:
    """Write a session's first-level effect map of the ratings and its sidecar.

    Runs censored beyond ``denoise.max_censored_fraction`` are left out; a
    session without any run left gets an empty map (NaN) and ``included``
    false in its sidecar.

    Parameters
    ----------
    bold, confounds, ratings : list of str
        Each rating run's preprocessed BOLD, confounds table and recording.
    runs : list of str
        The runs' labels.
    trs : list of float
        The runs' repetition times (s).
    denoise, alignment, glm : dict
        Config sections ``denoise``, ``alignment`` and ``glm``.
    rating_column : str
        The rating's column in the recordings.
    surfaces : dict or None
        ``left``/``right`` surfaces smoothing grayordinates (None: the fsLR 32k
        group midthickness).
    session : str
        The session's label (the cross-validation unit).
    effect_out, sidecar_out : str
        Destinations of the map and its JSON sidecar.
    """
    settings = GlmSettings(**glm)
    designs, left_out = run_designs(
        [
            RunFiles(*map(Path, files))
            for files in zip(bold, confounds, ratings, strict=True)
        ],
        dict(zip(runs, trs, strict=True)),
        DenoiseSettings(**denoise),
        alignment["drop_initial_seconds"],
        rating_column,
        settings,
    )
    used = list(designs)
    grid = map_grid(bold[0])
    if designs:
        paths = [bold[runs.index(run)] for run in used]
        effect = session_effect(
            list(designs.values()), paths, used, settings.chunk_volumes
        )
        effect = smooth_maps(
            effect[None],
            grid,
            settings.smoothing_fwhm_mm,
            mesh_surfaces(grid, surfaces),
        )[0]
    else:
        effect = np.full(grid.n_columns, np.nan)
    nib.save(map_image(effect, grid, ["effect"]), effect_out)
    write_json(
        sidecar_out,
        {
            "session": session,
            "included": bool(designs),
            "runs": used,
            "runs_left_out": left_out,
            "n_spike_regressors": sum(
                int(d.nuisance.columns.str.startswith("spike").sum())
                for d in designs.values()
            ),
            "Sources": [str(path) for path in bold],
            "Settings": glm,
            "painflow_version": __version__,
        },
    )


def run_designs(
    files: list[RunFiles],
    trs: dict[str, float],
    denoise: DenoiseSettings,
    drop_seconds: float,
    rating_column: str,
    settings: GlmSettings,
) -> tuple[dict, dict]:
    """The first-level design of each run not censored beyond the limit.

    Returns
    -------
    designs : dict
        Run label -> :class:`painflow.analyses.glm.RunDesign`, in input order.
    left_out : dict
        Run label -> why it is left out.
    """
    designs, left_out = {}, {}
    for run_files, (run, tr) in zip(files, trs.items(), strict=True):
        design, fraction = design_of_run(
            run_files, tr, denoise, drop_seconds, rating_column, settings
        )
        if fraction > denoise.max_censored_fraction:
            left_out[run] = f"{fraction:.0%} of volumes censored"
        else:
            designs[run] = design
    return designs, left_out


def mesh_surfaces(grid, surfaces: dict | None) -> dict | None:
    """Surfaces of grayordinates: configured, else the fsLR 32k group's.

    None for volumes, which need none.
    """
    if not grid.is_cifti:
        return None
    return surfaces if surfaces is not None else fslr_midthickness()


def column_labels(atlas, grid_source: str, values_shape: int) -> np.ndarray:
    """The atlas region of each column of a map (0: in no region)."""
    if isinstance(atlas, GrayordinateAtlas):
        grid = map_grid(grid_source)
        return grayordinate_labels(atlas, grid.models, grid_source)
    check_same_grid(atlas, nib.load(grid_source), grid_source)
    return atlas.labels.reshape(values_shape, order="F")


def glm(
    effects: list[str],
    sidecars: list[str],
    atlas_image: str,
    atlas_labels: str | None,
    atlas_subcortex: str,
    glm: dict,
    surfaces: dict | None,
    subject: str,
    outputs: dict,
    figure_out: str,
) -> None:
    """Write a subject's second-level t map, its FDR map, sidecars, table, figure.

    Parameters
    ----------
    effects, sidecars : list of str
        Each session's effect map and its sidecar.
    atlas_image, atlas_labels, atlas_subcortex : str
        The atlas (:func:`painflow.atlas.configured.load_configured_atlas`).
    glm : dict
        Config section ``glm``.
    surfaces : dict or None
        ``left``/``right`` surfaces to draw grayordinates on (None: fsLR 32k).
    subject : str
        Subject label.
    outputs : dict
        Destinations ``tmap``, ``tmap_json``, ``fdr``, ``fdr_json``, ``table``.
    figure_out : str
        Destination of the figure.

    Raises
    ------
    ValueError
        When fewer than 2 sessions have a map.
    """
    settings = GlmSettings(**glm)
    described = [read_json(path) for path in sidecars]
    used = [
        path
        for path, about in zip(effects, described, strict=True)
        if about["included"]
    ]
    sessions = [about["session"] for about in described if about["included"]]
    if len(used) < 2:
        raise ValueError(
            f"sub-{subject}: the second level needs 2 or more sessions with a map, "
            f"got {len(used)} of {effects}"
        )
    values = np.vstack([map_values(path) for path in used])
    result = second_level(values, settings.fdr_q)
    grid = map_grid(used[0])
    nib.save(map_image(result.t, grid, ["t"]), outputs["tmap"])
    nib.save(map_image(result.thresholded, grid, ["t"]), outputs["fdr"])
    sidecar = {
        "sessions": sessions,
        "n_sessions": len(used),
        "Settings": glm,
        **result.counts(),
        # File names: the maps sit beside this one, wherever the output is.
        "Sources": [Path(path).name for path in effects],
        "painflow_version": __version__,
    }
    write_json(outputs["tmap_json"], sidecar)
    write_json(
        outputs["fdr_json"], {**sidecar, "Threshold": f"BH FDR q<{settings.fdr_q}"}
    )
    atlas = load_configured_atlas(atlas_image, atlas_labels, atlas_subcortex)
    labels = column_labels(atlas, used[0], values.shape[1])
    write_tsv(outputs["table"], network_summary(result, labels, atlas.regions))
    title = f"sub-{subject}: t of the ratings, FDR q < {settings.fdr_q}"
    if grid.is_cifti:
        plot_stat_surface(
            result.thresholded,
            grid.models,
            mesh_surfaces(grid, surfaces),
            title,
            figure_out,
        )
    else:
        plot_stat_volume(outputs["fdr"], title, figure_out)
