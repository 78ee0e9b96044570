import os

import pandas as pd
import pytest

from painflow.core.fileio import atomic_path, write_tsv


def test_results_get_the_permissions_of_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        write_tsv(tmp_path / "table.tsv", pd.DataFrame({"a": [1]}))
    finally:
        os.umask(previous)
    assert (tmp_path / "table.tsv").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "result.txt"
    path.write_text("computed before")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("the step failed")
    assert path.read_text() == "computed before"
    assert list(tmp_path.iterdir()) == [path]
