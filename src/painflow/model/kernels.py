"""Inner products of edge vectors computed from region series alone.

The edge vector of a volume ``t`` holds ``z_ti * z_tj`` for every region pair
``i < j``; at 566 regions it has 159,895 entries. These identities give its
inner products and per-region parts at a cost of O(regions) per pair of
volumes, so that no (volumes x edges) matrix is ever built:

- a bin's mean edge vector is the upper triangle of ``Z_b' Z_b / |b|``
  (:func:`painflow.signals.edges.bin_mean_edges`);
- ``<e_t, e_s> = ((z_t . z_s)^2 - sum_i z_ti^2 z_si^2) / 2``
  (:func:`volume_kernel`);
- the part of it carried by the edges touching region ``r`` is
  ``z_tr z_sr (z_t . z_s - z_tr z_sr)`` (:func:`region_kernel`);
- with symmetric weights ``W`` (zero diagonal), the edges touching ``r``
  contribute ``z_tr (W z_t)_r`` to a volume's prediction
  (:func:`region_contributions` for bin means).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def volume_kernel(za: np.ndarray, zb: np.ndarray) -> np.ndarray:
    """Inner products of the edge vectors of two sets of volumes.

    Parameters
    ----------
    za : numpy.ndarray
        (n_a, regions) z-scored volumes.
    zb : numpy.ndarray
        (n_b, regions) z-scored volumes.

    Returns
    -------
    numpy.ndarray
        (n_a, n_b) ``<e_t, e_s>`` over the edges ``i < j``.
    """
    dots = za @ zb.T
    return 0.5 * (dots**2 - (za**2) @ (zb**2).T)


def region_kernel(za: np.ndarray, zb: np.ndarray, region: int) -> np.ndarray:
    """The part of :func:`volume_kernel` carried by the edges touching a region.

    Parameters
    ----------
    za, zb : numpy.ndarray
        (n_a, regions) and (n_b, regions) z-scored volumes.
    region : int
        Column of the region.

    Returns
    -------
    numpy.ndarray
        (n_a, n_b) ``sum_{j != r} z_tr z_tj z_sr z_sj``.
    """
    own = np.outer(za[:, region], zb[:, region])
    return own * (za @ zb.T - own)


def region_contributions(edges: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Split linear predictions from edge features among regions.

    The contribution of region ``r`` is the sum of weight x feature over the
    edges that touch ``r``. Every edge touches two regions, so the
    contributions of a sample add up to twice its prediction minus intercept.

    Parameters
    ----------
    edges : numpy.ndarray
        (samples, edges) edge features in ``numpy.triu_indices`` order.
    coef : numpy.ndarray
        (edges,) weights.

    Returns
    -------
    numpy.ndarray
        (samples, regions) contributions.
    """
    incidence = edge_incidence(regions_of_edges(edges.shape[1]))
    return np.asarray(incidence.T @ (edges * coef).T).T


def edge_incidence(n_regions: int) -> sparse.csr_array:
    """Sparse (edges, regions) matrix with a 1 where an edge touches a region."""
    rows, cols = np.triu_indices(n_regions, k=1)
    edge = np.arange(rows.size)
    return sparse.csr_array(
        (np.ones(2 * rows.size), (np.tile(edge, 2), np.concatenate([rows, cols]))),
        shape=(rows.size, n_regions),
    )


def regions_of_edges(n_edges: int) -> int:
    """Number of regions whose pairs ``i < j`` number ``n_edges``."""
    n_regions = int(round((1 + np.sqrt(1 + 8 * n_edges)) / 2))
    if n_regions * (n_regions - 1) // 2 != n_edges:
        raise ValueError(f"{n_edges} is not a number of region pairs")
    return n_regions
