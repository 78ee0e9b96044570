"""Step ``region_importance``: hierarchical permutation importance and figures."""

from __future__ import annotations

import numpy as np

from painflow.brainplots import plot_importance_brain
from painflow.fileio import read_npz, write_tsv
from painflow.importance import rank_regions
from painflow.parcellate import load_atlas, region_centroids
from painflow.plots import plot_importance_bars


def region_importance(
    contributions: str,
    atlas_image: str,
    atlas_labels: str,
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
    atlas_image, atlas_labels : str
        The atlas the contributions were computed on.
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
    atlas = load_atlas(atlas_image, atlas_labels)
    if arrays["region_names"].tolist() != atlas.names:
        raise ValueError(
            f"{contributions} holds {arrays['region_names'].size} regions that "
            f"differ from the {len(atlas.names)} of {atlas_labels}"
        )
    table = rank_regions(
        arrays, atlas.regions, n_permutations, np.random.default_rng([seed, 1])
    )
    write_tsv(table_out, table)
    shown = table.head(n_shown)
    title = f"sub-{subject}: top {len(shown)} regions"
    plot_importance_bars(shown, title, bars_out)
    rows = atlas.regions.reset_index(drop=True).set_index("index").index
    centroids = region_centroids(atlas)[rows.get_indexer(shown["region"])]
    plot_importance_brain(shown["importance"].to_numpy(), centroids, title, brain_out)
