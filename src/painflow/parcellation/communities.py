"""Communities of a weighted undirected graph, found by the ``infomap`` program.

Infomap is GPL, so painflow runs the program that PyPI's ``infomap`` package
installs, as a command on files in a temporary folder, and never imports it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INFOMAP = "infomap"
# painflow's seeds are unsigned 32-bit; Infomap refuses 0, so it gets them
# folded into 1..MAX_SEED.
MAX_SEED = 2**32 - 1


def infomap_seed(seed: int) -> int:
    """Infomap's seed (1..MAX_SEED) for a painflow seed (0..MAX_SEED)."""
    return seed % MAX_SEED + 1


@dataclass(frozen=True)
class Edges:
    """Undirected edges ``first[i] < second[i]`` (0-based), strongest first."""

    first: np.ndarray
    second: np.ndarray
    weights: np.ndarray


def infomap_program() -> str:
    """The path of the ``infomap`` program.

    Looked up on PATH, then beside the running Python (a virtual
    environment's ``bin`` folder, where PyPI's ``infomap`` installs it, is not
    on PATH unless the environment is activated).

    Raises
    ------
    FileNotFoundError
        When neither place has it.
    """
    found = shutil.which(INFOMAP)
    if found is None:
        found = shutil.which(INFOMAP, path=str(Path(sys.executable).parent))
    if found is None:
        raise FileNotFoundError(
            f"the {INFOMAP!r} program is neither on PATH nor beside "
            f"{sys.executable}; install it with: pip install infomap"
        )
    return found


def run_infomap(
    program: str, n_nodes: int, edges: Edges, seed: int, trials: int
) -> np.ndarray:
    """Two-level Infomap communities of an undirected weighted graph.

    Parameters
    ----------
    program : str
        The ``infomap`` program (:func:`infomap_program`).
    n_nodes : int
        Nodes 0..n_nodes-1; a node without edges is a community of its own.
    edges : Edges
    seed : int
    trials : int

    Returns
    -------
    numpy.ndarray
        (n_nodes,) community of each node, 1..K numbered by lowest node.

    Raises
    ------
    RuntimeError
        When Infomap fails, with its command and output.
    """
    if len(edges.weights) == 0:
        return np.arange(1, n_nodes + 1)
    with tempfile.TemporaryDirectory(prefix="painflow-infomap-") as folder:
        network = Path(folder) / "network.net"
        network.write_text(pajek_text(n_nodes, edges))
        command = [
            program, str(network), folder,
            "--two-level", "--flow-model", "undirected", "--clu",
            "--seed", str(infomap_seed(seed)), "--num-trials", str(trials),
            "--num-threads", "1", "--out-name", "network", "--silent",
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        clu = Path(folder) / "network.clu"
        if completed.returncode != 0 or not clu.is_file():
            raise RuntimeError(
                f"{' '.join(command)} failed (exit code {completed.returncode}): "
                f"{(completed.stderr + completed.stdout).strip()}"
            )
        modules = read_clu(clu.read_text(), n_nodes)
    return renumber_by_first_member(isolate_unlinked(modules, edges))


def isolate_unlinked(modules: np.ndarray, edges: Edges) -> np.ndarray:
    """Each node without an edge in a community of its own.

    Such a node carries no flow, so Infomap may leave it in any module at no
    cost to the code length; it belongs with none.
    """
    linked = np.zeros(len(modules), dtype=bool)
    linked[edges.first] = linked[edges.second] = True
    isolated = modules.copy()
    isolated[~linked] = modules.max() + 1 + np.arange(np.count_nonzero(~linked))
    return isolated


def pajek_text(n_nodes: int, edges: Edges) -> str:
    """A Pajek network: every node listed (1-based), then the weighted edges."""
    lines = [f"*Vertices {n_nodes}"]
    lines += [f'{node} "{node}"' for node in range(1, n_nodes + 1)]
    lines.append(f"*Edges {len(edges.weights)}")
    lines += [
        f"{i + 1} {j + 1} {weight!r}"
        for i, j, weight in zip(
            edges.first.tolist(),
            edges.second.tolist(),
            edges.weights.tolist(),
            strict=True,
        )
    ]
    return "\n".join(lines) + "\n"


def read_clu(text: str, n_nodes: int) -> np.ndarray:
    """Infomap's module of each node, from its ``.clu`` text.

    The text has one ``node_id module flow`` row per node (ids from 1).

    Raises
    ------
    RuntimeError
        When the file does not give every node one module.
    """
    rows = [line.split() for line in text.splitlines() if line and line[0] != "#"]
    modules = np.zeros(n_nodes, dtype=int)
    for row in rows:
        modules[int(row[0]) - 1] = int(row[1])
    if len(rows) != n_nodes or (modules == 0).any():
        raise RuntimeError(
            f"Infomap's .clu output assigns {len(rows)} rows to {n_nodes} nodes"
        )
    return modules


def renumber_by_first_member(communities: np.ndarray) -> np.ndarray:
    """Communities renumbered 1..K in order of their lowest member; 0 stays 0."""
    renumbered = np.zeros_like(communities)
    order = [c for c in dict.fromkeys(communities.tolist()) if c != 0]
    for number, community in enumerate(order, start=1):
        renumbered[communities == community] = number
    return renumbered
