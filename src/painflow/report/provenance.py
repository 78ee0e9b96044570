"""Provenance records: what produced a result, from which inputs, with what.

Every output of a workflow job gets a JSON sidecar beside it, named after the
whole file name plus ``.prov.json`` (``..._metrics.tsv.prov.json``). It holds
the step and its wildcards, painflow's version and the workflow's git commit,
the configuration values the step read and their hash, every input (path,
size, and a SHA-256 for files under 100 MB), the random seed, the versions of
the Python packages that computed it, the host and the time. Following the
inputs' own sidecars gives the chain from raw inputs to a result
(:func:`provenance_chain`).

Files inside the output folder are recorded by their path relative to it, the
others (the raw data, fMRIPrep's outputs) by their absolute path; the chain
finds the output folder from the record's own output. The commit is that of
the checkout, or the one an installed wheel was built from. So the same
inputs give the same records wherever the outputs are written and wherever
painflow is installed: the host and the time are all that differs between two
runs, and every other output is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from painflow import __version__
from painflow.core.fileio import read_json, write_json

SIDECAR_SUFFIX = ".prov.json"
# Written into a wheel by tools/hatch_build.py, beside the workflow's files.
COMMIT_FILE = "COMMIT"
CHECKSUM_LIMIT_BYTES = 100 * 1024**2
PACKAGES = (
    "painflow",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "nilearn",
    "nibabel",
    "matplotlib",
    "snakemake",
)


def sidecar_path(result: str | Path) -> Path:
    """The provenance sidecar of a result file or folder."""
    return Path(str(result) + SIDECAR_SUFFIX)


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def recorded_path(path: Path, root: str | Path | None) -> str:
    """A resolved path as a record holds it: relative to ``root`` when inside it."""
    if root is not None and path.is_relative_to(Path(root).resolve()):
        return path.relative_to(Path(root).resolve()).as_posix()
    return str(path)


def describe_input(path: str | Path, root: str | Path | None = None) -> dict:
    """Path, size and (under 100 MB) checksum of an input file; folders by path.

    Parameters
    ----------
    path : str or Path
        The file or folder.
    root : str or Path, optional
        The output folder: a path inside it is recorded relative to it.

    Returns
    -------
    dict
    """
    path = Path(path).resolve()
    if path.is_dir():
        return {"path": recorded_path(path, root), "kind": "folder"}
    size = path.stat().st_size
    entry = {"path": recorded_path(path, root), "size": size}
    if size < CHECKSUM_LIMIT_BYTES:
        entry["sha256"] = recorded_sha256(path, size) or sha256(path)
    return entry


def recorded_sha256(path: Path, size: int) -> str | None:
    """The checksum a painflow output's own record holds, if it is still current.

    Outputs are read by many later jobs (a run's features by every prospective
    job after it); their checksum was taken when they were written. It is
    reused only when the record is at least as new as the file and gives the
    same size.
    """
    record = sidecar_path(path)
    if not record.exists() or record.stat().st_mtime_ns < path.stat().st_mtime_ns:
        return None
    output = read_json(record).get("output", {})
    return output.get("sha256") if output.get("size") == size else None


def config_hash(values: dict) -> str:
    """SHA-256 of configuration values in a canonical JSON form."""
    canonical = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def git_commit(folder: str | Path) -> str | None:
    """The workflow's commit: the one a wheel was built from, or the checkout's.

    Parameters
    ----------
    folder : str or Path
        The workflow's folder: an installed package's copy, with the commit
        in its ``COMMIT`` file, or a git checkout.

    Returns
    -------
    str or None
        None outside a git checkout and for a wheel built outside one.
    """
    built_from = Path(folder) / COMMIT_FILE
    if built_from.is_file():
        return built_from.read_text().strip()
    try:
        completed = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def package_versions() -> dict:
    """Versions of the Python packages that compute painflow's results."""
    return {name: metadata.version(name) for name in PACKAGES}


def provenance_record(
    step: str,
    wildcards: dict,
    inputs: list,
    config: dict,
    seed: int | None,
    workflow_dir: str | Path,
    root: str | Path | None = None,
) -> dict:
    """Everything a job's outputs share in their provenance.

    Parameters
    ----------
    step : str
        The workflow rule.
    wildcards : dict
        The job's wildcards (subject, session, run, ...).
    inputs : list of str
        The job's input files and folders.
    config : dict
        The configuration values the step read.
    seed : int or None
        The workflow's random seed.
    workflow_dir : str or Path
        The workflow's folder (for its git commit).
    root : str or Path, optional
        The output folder, relative to which the inputs inside it are recorded.

    Returns
    -------
    dict
    """
    return {
        "step": step,
        "wildcards": dict(wildcards),
        "painflow_version": __version__,
        "workflow_commit": git_commit(workflow_dir),
        "config": config,
        "config_sha256": config_hash(config),
        "seed": seed,
        "inputs": [describe_input(path, root) for path in inputs],
        "packages": package_versions(),
        "host": platform.node(),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_provenance(
    outputs: list, record: dict, root: str | Path | None = None
) -> None:
    """Write ``record`` beside every output, with the output's own description.

    ``root``, the output folder, makes the recorded path of an output inside
    it relative, as in :func:`provenance_record`.
    """
    for output in outputs:
        description = describe_input(output, root)
        write_json(sidecar_path(output), {**record, "output": description})


def recorded_root(result: Path, record: dict) -> Path:
    """The folder a record's relative paths start from, found from its output."""
    recorded = Path(record["output"]["path"])
    if recorded.is_absolute():
        return Path("/")
    return result.parents[len(recorded.parts) - 1]


def provenance_chain(result: str | Path) -> list[tuple[int, str, dict | None]]:
    """The results and raw inputs that led to ``result``, depth first.

    Parameters
    ----------
    result : str or Path
        A file with a provenance sidecar.

    Returns
    -------
    list of (depth, path, record)
        ``record`` is the file's provenance, or None for a source (a file
        painflow did not produce). A file reached again is listed again
        without its inputs.

    Raises
    ------
    FileNotFoundError
        When ``result`` has no provenance sidecar.
    """
    top = sidecar_path(Path(result).resolve())
    if not top.exists():
        raise FileNotFoundError(f"{result}: no provenance record ({top.name})")
    chain, seen = [], set()
    stack = [(0, str(Path(result).resolve()))]
    while stack:
        depth, path = stack.pop()
        sidecar = sidecar_path(path)
        record = read_json(sidecar) if sidecar.exists() else None
        chain.append((depth, path, record))
        if record is None or path in seen:
            continue
        seen.add(path)
        root = recorded_root(Path(path), record)
        inputs = [str(root / entry["path"]) for entry in record["inputs"]]
        stack.extend((depth + 1, item) for item in reversed(inputs))
    return chain


def format_chain(chain: list[tuple[int, str, dict | None]]) -> str:
    """Text of :func:`provenance_chain`: one indented line per file."""
    lines = []
    for depth, path, record in chain:
        indent = "  " * depth
        if record is None:
            lines.append(f"{indent}{path}  [source]")
            continue
        wildcards = ", ".join(f"{k}={v}" for k, v in record["wildcards"].items())
        commit = (record["workflow_commit"] or "no git")[:12]
        lines.append(
            f"{indent}{path}  <- {record['step']}({wildcards}) painflow "
            f"{record['painflow_version']} ({commit}), {record['time']} on "
            f"{record['host']}"
        )
    return "\n".join(lines)
