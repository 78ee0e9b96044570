"""Step ``region_importance``: hierarchical permutation importance and figures."""

from __future__ import annotations

from painflow.analyses.importance import rank_regions
from painflow.atlas.configured import atlas_centroids, load_configured_atlas
from painflow.core.fileio import read_npz, write_tsv
from painflow.report.brainplots import plot_importance_brain
from painflow.report.plots import plot_importance_bars


def region_importance(
    contributions: str,
    atlas_image: str,
    atlas_labels: str | None,
    atlas_subcortex: str,
    reference: str,
    surfaces: dict | None,
    subject: str,
    n_permutations: int,
    n_shown: int,
    seed: int,
    table_out: str,
    bars_out: str,
    brain_out: str,
) -> None:
    """Rank a subject's regions by permutation importance and draw the top ones.

    Parameters
    ----------
    contributions : str
        Per-region contributions written by ``fit_decoder``.
    atlas_image, atlas_labels, atlas_subcortex : str
        The atlas the contributions were computed on
        (:func:`painflow.atlas.configured.load_configured_atlas`).
    reference : str
        A preprocessed BOLD of the subject; a dense CIFTI's grayordinates
        place a dlabel's regions.
    surfaces : dict or None
        ``left`` and ``right`` surfaces for a dlabel's regions; None: the
        fsLR 32k group midthickness.
    subject : str
        Subject label (figure titles).
    n_permutations, n_shown, seed : int
        Permutations, regions in the figures, seed.
    table_out, bars_out, brain_out : str
        Destinations of the table and the two figures.

    Raises
    ------
    ValueError
        When the contributions were computed on other regions than the atlas.
    """
    arrays = read_npz(contributions)
    atlas = load_configured_atlas(atlas_image, atlas_labels, atlas_subcortex)
    if arrays["region_names"].tolist() != atlas.names:
        raise ValueError(
            f"{contributions} holds {arrays['region_names'].size} regions that "
            f"differ from the {len(atlas.names)} of {atlas_labels or atlas_image}"
        )
    table = rank_regions(arrays, atlas.regions, n_permutations, seed)
    write_tsv(table_out, table)
    shown = table.head(n_shown)
    title = f"sub-{subject}: top {len(shown)} regions"
    plot_importance_bars(shown, title, bars_out)
    rows = atlas.regions.reset_index(drop=True).set_index("index").index
    centroids = atlas_centroids(atlas, reference, surfaces)
    centroids = centroids[rows.get_indexer(shown["region"])]
    plot_importance_brain(shown["importance"].to_numpy(), centroids, title, brain_out)
