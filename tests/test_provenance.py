import hashlib
import os

from painflow.report.provenance import (
    describe_input,
    provenance_record,
    write_provenance,
)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_output(path, tmp_path):
    record = provenance_record("step", {}, [], {}, 0, tmp_path)
    write_provenance([path], record)


def test_an_output_is_described_by_its_checksum(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("a\n1\n")
    record_output(path, tmp_path)
    entry = describe_input(path)
    assert entry == {"path": str(path), "size": 4, "sha256": digest(path)}


def test_a_recorded_checksum_is_reused_while_the_record_is_current(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("a\n1\n")
    record_output(path, tmp_path)
    sidecar = tmp_path / "table.tsv.prov.json"
    sidecar.write_text(sidecar.read_text().replace(digest(path), "0" * 64))
    assert describe_input(path)["sha256"] == "0" * 64


def test_a_file_changed_after_its_record_is_hashed_again(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("a\n1\n")
    record_output(path, tmp_path)
    path.write_text("a\n2\n")
    later = (tmp_path / "table.tsv.prov.json").stat().st_mtime_ns + 10**9
    os.utime(path, ns=(later, later))
    assert describe_input(path)["sha256"] == digest(path)
