"""Build hook: a wheel carries the git commit it was built from.

Provenance records name the workflow's git commit. A checkout answers with
``git rev-parse``; an installed wheel has no repository, so the commit is
written into the wheel beside the workflow files
(``painflow/workflow_files/COMMIT``), where
:func:`painflow.report.provenance.git_commit` reads it. Editable installs run
the checkout's files and need nothing.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMMIT_FILE = "painflow/workflow_files/COMMIT"


class CommitHook(BuildHookInterface):
    """Add the checkout's commit to a wheel (nothing outside a git checkout)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        """Write the commit to a temporary file the wheel includes."""
        if self.target_name != "wheel" or version == "editable":
            return
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
        build_data["force_include"][str(commit)] = COMMIT_FILE

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        """Remove the temporary file once the wheel is written."""
        folder = getattr(self, "_folder", None)
        if folder is not None:
            folder.cleanup()
