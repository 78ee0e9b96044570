"""Compare two output trees of painflow byte for byte.

Usage: ``python tools/compare_outputs.py [--strict] BEFORE AFTER``

Every file is compared except ``logs/``, ``benchmarks/``, ``.snakemake/``,
``report.html``, log files and the provenance sidecars (``*.prov.json``),
whose host, time, commit and step records differ by design; of a sidecar, the
list of recorded inputs is compared. Outputs recorded absolute input paths
before they were written relative to the output folder, so in text files each
tree's own root is replaced by a placeholder first. Prints every difference
and exits with status 1 when there is one.

With ``--strict`` (two runs of the same config and code, e.g. ``painflow run``
against ``snakemake``), files are compared as they are, and sidecars whole
but for the host and the time of the run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SKIPPED_FOLDERS = {"logs", "benchmarks", ".snakemake"}
SKIPPED_NAMES = {"report.html"}
SKIPPED_SUFFIXES = (".log",)
TEXT_SUFFIXES = (".json", ".tsv", ".yaml", ".txt", ".csv")
PROVENANCE_SUFFIX = ".prov.json"
# What a provenance record says of the run rather than of the result.
RUN_SPECIFIC = ("host", "time")


def compared_files(root: Path) -> set[str]:
    """Paths of the files under ``root`` that the comparison covers."""
    files = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or SKIPPED_FOLDERS & set(relative.parts):
            continue
        if relative.name in SKIPPED_NAMES or relative.name.endswith(SKIPPED_SUFFIXES):
            continue
        files.add(str(relative))
    return files


def normalized(path: Path, root: Path) -> bytes:
    """A file's bytes; in text files, the tree's own root path replaced."""
    data = path.read_bytes()
    if path.name.endswith(TEXT_SUFFIXES):
        data = data.replace(str(root.resolve()).encode(), b"<ROOT>")
    return data


def recorded_inputs(path: Path, root: Path) -> list[str]:
    """The inputs a provenance sidecar records, relative to the tree's root."""
    record = json.loads(normalized(path, root))
    return sorted(str(entry["path"]) for entry in record["inputs"])


def result_record(path: Path) -> dict:
    """A provenance record without what it says of the run (host, time)."""
    record = json.loads(path.read_bytes())
    return {key: value for key, value in record.items() if key not in RUN_SPECIFIC}


def same_file(before: Path, after: Path, name: str, strict: bool) -> bool:
    """Whether a file is the same in both trees (see the module's docstring)."""
    one, other = before / name, after / name
    if strict and name.endswith(PROVENANCE_SUFFIX):
        return result_record(one) == result_record(other)
    if strict:
        return one.read_bytes() == other.read_bytes()
    if name.endswith(PROVENANCE_SUFFIX):
        return recorded_inputs(one, before) == recorded_inputs(other, after)
    return normalized(one, before) == normalized(other, after)


def differences(before: Path, after: Path, strict: bool = False) -> list[str]:
    """Every file only in one tree, and every file whose content differs."""
    old, new = compared_files(before), compared_files(after)
    found = [f"only before: {name}" for name in sorted(old - new)]
    found += [f"only after: {name}" for name in sorted(new - old)]
    for name in sorted(old & new):
        if not same_file(before, after, name, strict):
            found.append(f"differs: {name}")
    return found


def main(before: Path, after: Path, strict: bool = False) -> int:
    """Print the differences of two trees; 1 if there is any, else 0."""
    found = differences(before, after, strict)
    for line in found:
        print(line)
    n_compared = len(compared_files(before) & compared_files(after))
    print(f"{n_compared} files compared, {len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    strict = "--strict" in arguments
    trees = [Path(argument) for argument in arguments if argument != "--strict"]
    sys.exit(main(*trees, strict=strict))
