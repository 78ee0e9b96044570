"""Build hook: a wheel carries the workflow's files and the commit it was built from.

The Snakefile, ``workflow/``, ``scripts/``, ``profiles/`` and ``config/`` stay
at the repository's root (``snakemake --configfile`` from a checkout); the
wheel gets a copy under ``painflow/workflow_files/``, where
:func:`painflow.workflow.packaged.workflow_root` finds them. Provenance
records name the workflow's git commit: a checkout answers with ``git
rev-parse``, an installed wheel has no repository, so the commit is written
beside the workflow's files (``COMMIT``), where
:func:`painflow.report.provenance.git_commit` reads it. Editable installs run
the checkout's files and get neither.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGED = "painflow/workflow_files"
WORKFLOW_FILES = ("Snakefile", "workflow", "scripts", "profiles", "config")


class WorkflowFilesHook(BuildHookInterface):
    """Add the workflow's files and the checkout's commit to a wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        """Map the workflow's files into the wheel, with a file of the commit."""
        if self.target_name != "wheel" or version == "editable":
            return
        for name in WORKFLOW_FILES:
            build_data["force_include"][str(Path(self.root, name))] = (
                f"{PACKAGED}/{name}"
            )
        completed = subprocess.run(
            ["git", "-C", self.root, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            return
        self._folder = tempfile.TemporaryDirectory()
        commit = Path(self._folder.name) / "COMMIT"
        commit.write_text(completed.stdout.strip() + "\n")
        build_data["force_include"][str(commit)] = f"{PACKAGED}/COMMIT"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        """Remove the temporary file once the wheel is written."""
        folder = getattr(self, "_folder", None)
        if folder is not None:
            folder.cleanup()
