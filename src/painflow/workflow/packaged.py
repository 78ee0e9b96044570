"""Where the workflow's files are: inside the installed package, or the checkout.

A wheel carries the Snakefile, ``workflow/``, ``scripts/``, ``profiles/`` and
``config/`` under ``painflow/workflow_files/`` (pyproject.toml maps them there);
a checkout, or an editable install of it, keeps them at the repository's root.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
PACKAGED = PACKAGE / "workflow_files"
# src/painflow/workflow/packaged.py -> the repository's root.
CHECKOUT = PACKAGE.parents[1]
# The Snakemake profiles under profiles/.
PROFILES = ("local", "slurm")


def workflow_root() -> Path:
    """The folder holding the Snakefile and the workflow's other files.

    Returns
    -------
    Path
        The installed package's copy when there is one, else the checkout's
        root.

    Raises
    ------
    FileNotFoundError
        When neither holds a Snakefile (a broken install).
    """
    for root in (PACKAGED, CHECKOUT):
        if (root / "Snakefile").is_file():
            return root
    raise FileNotFoundError(
        f"no Snakefile in {PACKAGED} or {CHECKOUT}: reinstall painflow from its "
        "repository (pip install PATH)"
    )
