"""Fetch the BIDS example datasets that pybids' source distribution ships.

Usage: ``python tools/fetch_bids_examples.py [--sdist TARBALL] [DEST]``

pybids' sdist carries, under ``tests/data/``, datasets of the BIDS community's
examples (``7t_trt``, ``ds005``, ``synthetic``): real layouts whose images are
empty stubs. The discovery tests build small studies from them
(``tests/bids_examples.py``). This downloads the pinned sdist with pip (or
takes ``--sdist``, an already downloaded copy), checks its SHA-256 and
extracts those three folders into DEST (default
``tests/data/bids-examples``), atomically: into a temporary folder beside
DEST, renamed into place when complete. DEST records the version and hash it
came from; when they are the pinned ones, nothing is done.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PYBIDS_VERSION = "0.18.1"
PYBIDS_SDIST_SHA256 = "9bacea58d191dc4d34fa6360b904714b4966116cc0425a79263755bf7253dac6"
DATASETS = ("7t_trt", "ds005", "synthetic")
DEFAULT_DEST = Path(__file__).resolve().parents[1] / "tests" / "data" / "bids-examples"
# Written last into the extracted folder: what it was extracted from.
RECORD = "pybids-sdist.json"


def pinned_record() -> dict:
    """The version and hash a complete DEST records."""
    return {"pybids": PYBIDS_VERSION, "sha256": PYBIDS_SDIST_SHA256}


def is_current(dest: Path) -> bool:
    """Whether DEST holds the datasets of the pinned sdist."""
    record = dest / RECORD
    return record.is_file() and json.loads(record.read_text()) == pinned_record()


def download_sdist(folder: Path) -> Path:
    """Download the pinned pybids sdist into ``folder`` with pip; its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"pybids=={PYBIDS_VERSION}",
            "--dest",
            str(folder),
        ],
        check=True,
    )
    return folder / f"pybids-{PYBIDS_VERSION}.tar.gz"


def check_sha256(tarball: Path) -> None:
    """Raise naming the file when its SHA-256 is not the pinned one."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != PYBIDS_SDIST_SHA256:
        raise ValueError(
            f"{tarball}: SHA-256 {digest}, expected {PYBIDS_SDIST_SHA256} "
            f"(pybids {PYBIDS_VERSION})"
        )


def example_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members under the example folders, renamed to start there."""
    prefix = f"pybids-{PYBIDS_VERSION}/tests/data/"
    members = []
    for member in archive.getmembers():
        name = member.name.removeprefix(prefix)
        if name != member.name and name.split("/")[0] in DATASETS:
            members.append(member.replace(name=name, deep=False))
    return members


def extract_examples(tarball: Path, dest: Path) -> None:
    """Extract the example folders into ``dest`` through a temporary folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp's folder is private
    try:
        with tarfile.open(tarball) as archive:
            members = example_members(archive)
            found = {member.name.split("/")[0] for member in members}
            missing = sorted(set(DATASETS) - found)
            if missing:
                raise ValueError(f"{tarball}: no tests/data/ folders {missing}")
            archive.extractall(staging, members=members, filter="data")
        (staging / RECORD).write_text(json.dumps(pinned_record(), indent=2) + "\n")
        if dest.exists():  # from another pin: replaced whole
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(dest: Path, sdist: Path | None = None) -> bool:
    """Put the example datasets in ``dest``; False when they were there already.

    Parameters
    ----------
    dest : Path
        The folder to hold ``7t_trt``, ``ds005`` and ``synthetic``.
    sdist : Path, optional
        A downloaded copy of the pinned sdist; downloaded with pip when absent.
    """
    if is_current(dest):
        return False
    with tempfile.TemporaryDirectory() as download:
        tarball = sdist or download_sdist(Path(download))
        check_sha256(tarball)
        extract_examples(tarball, dest)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--sdist", type=Path, help="an already downloaded sdist")
    args = parser.parse_args(argv)
    if fetch(args.dest, args.sdist):
        print(f"{args.dest}: {', '.join(DATASETS)} from pybids {PYBIDS_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
