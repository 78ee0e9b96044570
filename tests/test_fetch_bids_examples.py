"""The script that fetches the BIDS example datasets, on a stand-in sdist."""

import hashlib
import io
import json
import tarfile

import pytest
from bids_examples import fetch_bids_examples as fetch

ROOT = f"pybids-{fetch.PYBIDS_VERSION}"


@pytest.fixture
def sdist(tmp_path, monkeypatch):
    """A tarball laid out as pybids' sdist, pinned in place of the real one."""
    path = tmp_path / f"{ROOT}.tar.gz"
    files = {
        **{
            f"tests/data/{name}/dataset_description.json": name
            for name in fetch.DATASETS
        },
        "tests/data/ds005/sub-01/func/sub-01_task-x_run-01_bold.nii.gz": "",
        "tests/data/ds000117/dataset_description.json": "not wanted",
        "src/bids/__init__.py": "",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            member = tarfile.TarInfo(f"{ROOT}/{name}")
            member.size = len(text.encode())
            archive.addfile(member, io.BytesIO(text.encode()))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(fetch, "PYBIDS_SDIST_SHA256", digest)
    return path


def test_only_the_three_examples_are_extracted_with_their_source(sdist, tmp_path):
    dest = tmp_path / "data" / "bids-examples"
    assert fetch.fetch(dest, sdist)
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        [*fetch.DATASETS, fetch.RECORD]
    )
    assert (dest / "ds005/sub-01/func/sub-01_task-x_run-01_bold.nii.gz").exists()
    assert json.loads((dest / fetch.RECORD).read_text()) == {
        "pybids": fetch.PYBIDS_VERSION,
        "sha256": fetch.PYBIDS_SDIST_SHA256,
    }
    # Nothing else is left beside the folder.
    assert [path.name for path in dest.parent.iterdir()] == [dest.name]


def test_a_second_fetch_does_nothing(sdist, tmp_path):
    dest = tmp_path / "bids-examples"
    fetch.fetch(dest, sdist)
    assert not fetch.fetch(dest, tmp_path / "absent.tar.gz")


def test_a_tarball_with_another_hash_is_refused_and_nothing_is_written(
    sdist, tmp_path, monkeypatch
):
    monkeypatch.setattr(fetch, "PYBIDS_SDIST_SHA256", "0" * 64)
    dest = tmp_path / "data" / "bids-examples"
    with pytest.raises(ValueError, match=f"{sdist.name}: SHA-256 .*expected 0000"):
        fetch.fetch(dest, sdist)
    assert not dest.parent.exists()


def test_examples_from_another_pin_are_replaced_whole(sdist, tmp_path):
    dest = tmp_path / "bids-examples"
    (dest / "old").mkdir(parents=True)
    (dest / fetch.RECORD).write_text(json.dumps({"pybids": "0.1", "sha256": "x"}))
    assert fetch.fetch(dest, sdist)
    assert not (dest / "old").exists()
    assert fetch.is_current(dest)
