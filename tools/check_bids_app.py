"""Check that ``painflow run`` from an installed wheel reproduces the demo.

Usage (from the repository, after ``make demo`` at the same commit, since
the provenance records name it)::

    .venv/bin/python tools/check_bids_app.py [WORK_DIR]

Builds a wheel of the repository, installs it into a fresh virtual
environment (its dependencies are this Python's packages, reached through a
``.pth`` file: nothing is downloaded, and neither the checkout nor its
editable install is on that environment's path), then runs ``painflow run
... participant`` and ``group`` on the demo's data with each demo config,
into ``demo/output-app`` and ``demo/output-fsLR-app``, from the repository's
root as ``make demo`` runs Snakemake (the configs' paths are relative to it).
Each tree is compared with ``make demo``'s, file by file with
``tools/compare_outputs.py --strict``: every output byte for byte, provenance
sidecars but for the host and time. Prints the differences and exits with
status 1 when there is one. ``tests/test_bids_app.py`` does the same on a
tiny study with the functions below.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# (config, make demo's output, the app's output)
DEMOS = (
    ("config/demo.yaml", "demo/output", "demo/output-app"),
    ("config/demo_fslr.yaml", "demo/output-fsLR", "demo/output-fsLR-app"),
)


def build_wheel(folder: Path) -> Path:
    """Build the repository's wheel into ``folder`` and return its path.

    Without build isolation when the build backend is importable here, else
    pip fetches it into an isolated build environment.
    """
    backend_here = importlib.util.find_spec("hatchling") is not None
    isolation = ["--no-build-isolation"] if backend_here else []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation]
        + ["--wheel-dir", str(folder), str(REPO)],
        check=True,
    )
    return next(folder.glob("painflow-*.whl"))


def fresh_environment(folder: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed; its ``bin`` folder.

    Its dependencies are those of the Python running this (a ``.pth`` line
    adds that site-packages folder to its path; the ``.pth`` files there, such
    as an editable install's, are not read).
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [
            str(python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    Path(purelib, "dependencies.pth").write_text(dependencies + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    return folder / "bin"


def app_environment() -> dict:
    """The environment without PYTHONPATH, which could point at a checkout."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def run_app(bin_dir: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """``painflow ARGUMENTS`` of the environment, its messages in ``stdout``."""
    return subprocess.run(
        [str(bin_dir / "painflow"), *arguments],
        cwd=cwd,
        env=app_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def compare_outputs():
    """The module ``tools/compare_outputs.py``."""
    spec = importlib.util.spec_from_file_location(
        "compare_outputs", REPO / "tools" / "compare_outputs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_demo(bin_dir: Path, config: str, expected: str, output: str) -> list[str]:
    """Run both levels of one demo config; the differences from ``expected``."""
    for level in ("participant", "group"):
        arguments = ("run", "demo/data", output, level, "--config", config)
        result = run_app(bin_dir, *arguments, cwd=REPO)
        print(result.stdout[-2000:])
        if result.returncode != 0:
            return [f"painflow {' '.join(arguments)}: exit {result.returncode}"]
    return compare_outputs().differences(REPO / expected, REPO / output, strict=True)


def main(work: Path) -> int:
    """Check every demo config; 1 if any output differs."""
    bin_dir = fresh_environment(work / "venv", build_wheel(work / "wheel"))
    found = []
    for config, expected, output in DEMOS:
        differences = check_demo(bin_dir, config, expected, output)
        print(f"{config}: {len(differences)} differences from {expected}")
        found += differences
    print("\n".join(found))
    return 1 if found else 0


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    sys.exit(main(work))
