"""`painflow atlas fetch`: real downloads from a local server into the cache.

Small stand-ins for the Schaefer files (a label volume on a small grid, a
dlabel on the fsLR cortex) are served from 127.0.0.1 with checksums computed
here, so the download code, the checksum check and the cache run for real.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import shlex
import threading

import nibabel as nib
import numpy as np
import pytest
from grayordinate_data import standard_91k_axis, write_dlabel, write_dtseries
from hypothesis import given, settings
from hypothesis import strategies as st
from workflow_runner import run_workflow, study_config

from painflow.atlas.configured import check_atlas_config
from painflow.atlas.fetch import (
    FSLR,
    MNI,
    MNI_PARCELS,
    PINNED,
    SCHAEFER_NETWORKS,
    atlas_cache_dir,
    download,
    fetch_schaefer,
    file_checksum,
    schaefer_version,
)
from painflow.atlas.named import prepare_named_atlas
from painflow.atlas.surface import load_grayordinate_atlas
from painflow.cli import main
from painflow.core.fileio import read_tsv

NAME = "Schaefer2018_500Parcels7Networks"
VOLUME = schaefer_version(500, 7, MNI)
DLABEL = schaefer_version(500, 7, FSLR)
# Stand-in regions: index -> (name, the network its name maps to).
REGIONS = {
    1: ("7Networks_LH_Vis_1", "Visual"),
    2: ("7Networks_LH_SomMot_1", "Somatomotor"),
    3: ("7Networks_LH_Default_PFC_1", "Default"),
    4: ("7Networks_RH_SalVentAttn_Med_1", "SalienceVentralAttention"),
    5: ("7Networks_RH_Cont_Par_1", "Control"),
    6: ("7Networks_RH_Limbic_OFC_1", "Limbic"),
}
GRID = np.diag([2.0, 2.0, 2.0, 1.0])
GRID[:3, 3] = [-10.0, -12.0, -8.0]
SHAPE = (10, 12, 8)


def planted_labels() -> np.ndarray:
    """A label volume: slabs of the six regions, background at the edges."""
    labels = np.zeros(SHAPE, dtype=np.int16)
    for index in REGIONS:
        labels[1:-1, 1:-1, index] = index
    return labels


def volume_bytes(tmp_path) -> bytes:
    path = tmp_path / "standin.nii.gz"
    nib.Nifti1Image(planted_labels(), GRID).to_filename(path)
    return path.read_bytes()


def table_bytes() -> bytes:
    """A region table in TemplateFlow's layout (header index, name, color)."""
    lines = ["index\tname\tcolor"]
    lines += [f"{index}\t{name}\t#781084" for index, (name, _) in REGIONS.items()]
    return ("\n".join(lines) + "\n").encode()


def dlabel_bytes(tmp_path, axis) -> bytes:
    """A cortex-only fsLR 32k dlabel (as the Glasser one), three regions a side."""
    cortex = axis[: int(np.sum(axis.surface_mask))]  # the cortex comes first
    left = np.asarray(cortex.name) == "CIFTI_STRUCTURE_CORTEX_LEFT"
    labels = np.where(left, 1, 4) + cortex.vertex % 3
    table = {0: ("???", (0.0, 0.0, 0.0, 0.0))}
    table |= {
        index: (name, (0.5, 0.1, 0.5, 1.0)) for index, (name, _) in REGIONS.items()
    }
    path = write_dlabel(tmp_path / "standin.dlabel.nii", labels, cortex, table)
    return path.read_bytes()


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def git_blob(data: bytes) -> str:
    """git's blob id, as ``git hash-object`` computes it."""
    return "gitblob:" + hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Server(http.server.ThreadingHTTPServer):
    """Serves ``files`` (name -> bytes); a name in ``cut`` breaks off mid-file."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files, self.cut, self.requests = {}, set(), []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/atlases/"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        name = self.path.rsplit("/", 1)[-1]
        self.server.requests.append(name)
        data = self.server.files.get(name)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if name in self.server.cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def axis():
    """The brain models of fMRIPrep's 91k grayordinates."""
    return standard_91k_axis()


@pytest.fixture(scope="module")
def standins(tmp_path_factory, axis) -> dict:
    folder = tmp_path_factory.mktemp("standins")
    return {
        VOLUME.files["image"]: volume_bytes(folder),
        VOLUME.files["labels"]: table_bytes(),
        DLABEL.files["image"]: dlabel_bytes(folder, axis),
    }


@pytest.fixture
def server(standins):
    server = Server()
    server.files.update(standins)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pinned(standins) -> dict:
    """Checksums of the stand-ins, of the kinds the real table pins."""
    image, labels = VOLUME.files["image"], VOLUME.files["labels"]
    return {image: md5(standins[image]), labels: git_blob(standins[labels])}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_listing(cache) -> list[str]:
    """Every file under the cache, hidden temporary files included."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_fetch_stores_the_verified_files_in_the_cache(
    server, pinned, standins, tmp_path
):
    files = fetch_schaefer(VOLUME, tmp_path, server.url, pinned)
    for role in ("image", "labels"):
        assert files[role] == tmp_path / "Schaefer2018" / VOLUME.files[role]
        assert files[role].read_bytes() == standins[VOLUME.files[role]]
    assert cache_listing(tmp_path) == sorted(
        f"Schaefer2018/{name}" for name in VOLUME.files.values()
    )


def test_a_second_fetch_downloads_nothing(server, pinned, tmp_path):
    fetch_schaefer(VOLUME, tmp_path, server.url, pinned)
    assert len(server.requests) == 2
    before = cache_listing(tmp_path)
    fetch_schaefer(VOLUME, tmp_path, server.url, pinned)
    assert len(server.requests) == 2 and cache_listing(tmp_path) == before


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(server, standins, tmp_path):
    name = VOLUME.files["image"]
    wrong = "md5:" + "0" * 32
    with pytest.raises(ValueError) as error:
        download(server.url + name, tmp_path / name, wrong)
    message = str(error.value)
    assert name in message and wrong in message and md5(standins[name]) in message
    assert cache_listing(tmp_path) == []


def test_a_connection_dropped_mid_file_leaves_nothing(server, pinned, tmp_path):
    server.cut.add(VOLUME.files["image"])
    with pytest.raises(OSError, match=VOLUME.files["image"]):
        fetch_schaefer(VOLUME, tmp_path, server.url, pinned)
    assert VOLUME.files["image"] in server.requests
    assert cache_listing(tmp_path) == []


def test_a_missing_file_on_the_server_leaves_nothing(server, tmp_path):
    with pytest.raises(OSError):
        download(server.url + "absent.nii.gz", tmp_path / "absent.nii.gz", "md5:0")
    assert cache_listing(tmp_path) == []


def test_the_command_fetches_an_unpinned_dlabel_with_its_sha256(
    server, standins, tmp_path, capsys
):
    name = DLABEL.files["image"]
    base = ["atlas", "fetch", "Schaefer2018", "--space", "fsLR"]
    base += ["--cache-dir", str(tmp_path), "--base-url", server.url]
    assert main(base) == 1
    assert "no checksum is pinned" in capsys.readouterr().err
    assert main([*base, "--sha256", "f" * 64]) == 1
    assert "f" * 64 in capsys.readouterr().err and cache_listing(tmp_path) == []
    assert main([*base, "--sha256", "f" * 63]) == 1
    assert "64 hexadecimal digits" in capsys.readouterr().err
    assert main([*base, "--sha256", sha256(standins[name]).upper()]) == 0
    assert (tmp_path / "Schaefer2018" / name).read_bytes() == standins[name]


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=3000))
def test_checksums_match_hashlib_and_git(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("checksum") / "file"
    path.write_bytes(data)
    assert file_checksum(path, "md5") == md5(data)
    assert file_checksum(path, "sha256") == "sha256:" + sha256(data)
    assert file_checksum(path, "gitblob") == git_blob(data)


def test_the_cache_folder_is_the_option_then_the_variable_then_home(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("PAINFLOW_ATLAS_CACHE", str(tmp_path / "variable"))
    assert atlas_cache_dir(tmp_path / "option") == tmp_path / "option"
    assert atlas_cache_dir(None) == tmp_path / "variable"
    monkeypatch.delenv("PAINFLOW_ATLAS_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert atlas_cache_dir(None) == tmp_path / ".cache/painflow/atlases"


def test_the_pinned_table_covers_every_published_version():
    for parcels in MNI_PARCELS:
        for networks in SCHAEFER_NETWORKS:
            files = schaefer_version(parcels, networks, MNI).files
            assert re.fullmatch("md5:[0-9a-f]{32}", PINNED[files["image"]])
            assert re.fullmatch("gitblob:[0-9a-f]{40}", PINNED[files["labels"]])
    assert len(PINNED) == 2 * len(MNI_PARCELS) * len(SCHAEFER_NETWORKS)
    with pytest.raises(ValueError, match="not 700"):
        schaefer_version(700, 7, MNI)
    assert schaefer_version(700, 17, FSLR).files["image"] == (
        "Schaefer2018_700Parcels_17Networks_order.dlabel.nii"
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory, standins) -> dict:
    """A cache holding the stand-ins, as a fetch leaves it."""
    root = tmp_path_factory.mktemp("cache")
    for name, data in standins.items():
        (root / "Schaefer2018").mkdir(exist_ok=True)
        (root / "Schaefer2018" / name).write_bytes(data)
    return root


def test_the_config_name_resolves_to_the_cached_volume(cache, tmp_path):
    reference = tmp_path / "bold.nii.gz"
    bold = np.ones(SHAPE + (2,), dtype=np.float32)
    nib.Nifti1Image(bold, GRID).to_filename(reference)
    check_atlas_config({"name": NAME, "image": None, "cache_dir": str(cache)}, None)
    image, labels = tmp_path / "atlas.nii.gz", tmp_path / "atlas.tsv"
    info = prepare_named_atlas(NAME, reference, image, labels, cache)
    assert np.array_equal(np.asarray(nib.load(image).dataobj), planted_labels())
    table = read_tsv(labels)
    assert table["index"].tolist() == list(REGIONS)
    assert table["name"].tolist() == [name for name, _ in REGIONS.values()]
    assert table["network"].tolist() == [network for _, network in REGIONS.values()]
    assert info["source"] == VOLUME.source_url + VOLUME.files["image"]
    assert info["checksum"] == "sha256:" + sha256(
        (cache / "Schaefer2018" / VOLUME.files["image"]).read_bytes()
    )


def test_the_config_name_resolves_to_the_cached_dlabel(cache, axis, tmp_path):
    data = np.zeros((2, len(axis)), dtype=np.float32)
    reference = write_dtseries(tmp_path / "bold.dtseries.nii", data, axis)
    check_atlas_config({"name": NAME, "image": None, "cache_dir": str(cache)}, "91k")
    image, labels = tmp_path / "atlas.dlabel.nii", tmp_path / "atlas.tsv"
    prepare_named_atlas(NAME, reference, image, labels, cache)
    assert (
        image.read_bytes()
        == (cache / "Schaefer2018" / DLABEL.files["image"]).read_bytes()
    )
    assert read_tsv(labels)["network"].tolist() == [n for _, n in REGIONS.values()]
    atlas = load_grayordinate_atlas(image, labels, "none")
    assert atlas.names == [name for name, _ in REGIONS.values()]


def test_a_volume_of_another_template_is_refused(cache):
    atlas = {"name": NAME, "image": None, "cache_dir": str(cache)}
    with pytest.raises(ValueError, match="set 'space' MNI152NLin6Asym"):
        check_atlas_config(atlas, None, "MNI152NLin2009cAsym")


def test_an_empty_cache_stops_the_workflow_naming_the_fetch_command(
    tiny_study, standins, tmp_path
):
    empty = tmp_path / "empty cache"
    config = study_config(tiny_study, tmp_path / "out")
    config["atlas"] = {"name": NAME, "image": None, "labels": None}
    config["atlas"]["cache_dir"] = str(empty)
    result = run_workflow(config, tmp_path / "run", "-n")
    assert result.returncode != 0
    command = "painflow atlas fetch Schaefer2018 --parcels 500 --networks 7 "
    cache_option = f"--cache-dir {shlex.quote(str(empty))}"
    assert f"{command}--space MNI152NLin6Asym {cache_option}" in result.stdout
    for name in VOLUME.files.values():
        assert str(empty / "Schaefer2018" / name) in result.stdout
    assert not (tmp_path / "out").exists()
    # Once fetched, the same config plans the named atlas's job.
    (empty / "Schaefer2018").mkdir(parents=True)
    for name in VOLUME.files.values():
        (empty / "Schaefer2018" / name).write_bytes(standins[name])
    result = run_workflow(config, tmp_path / "run", "-n")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "rule named_atlas" in result.stdout
    assert "atlas-Schaefer2018500Parcels7Networks_dseg.tsv" in result.stdout
