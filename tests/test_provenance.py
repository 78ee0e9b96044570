import hashlib
import os
import shutil
import subprocess

from painflow.core.fileio import read_json
from painflow.report.provenance import (
    describe_input,
    git_commit,
    provenance_chain,
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


def write_chain(root, source):
    """An output made from a source outside ``root``, and a result made from it."""
    table, result = root / "sub-01" / "table.tsv", root / "group" / "result.tsv"
    for path, made_from in ((table, source), (result, table)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{path.name}\n")
        record = provenance_record("step", {}, [made_from], {}, 0, root, root=root)
        write_provenance([path], record, root)
    return result


def test_records_are_the_same_wherever_the_outputs_are_written(tmp_path):
    source = tmp_path / "raw.tsv"
    source.write_text("raw\n")
    one = write_chain(tmp_path / "one" / "out", source)
    other = write_chain(tmp_path / "other", source)
    sidecar = "group/result.tsv.prov.json"
    records = [
        read_json(root / sidecar) for root in (tmp_path / "one/out", tmp_path / "other")
    ]
    for record in records:
        del record["time"]
    assert records[0] == records[1]
    assert records[0]["inputs"][0]["path"] == "sub-01/table.tsv"
    assert records[0]["output"]["path"] == "group/result.tsv"
    # The chain still reaches the source, from each tree, through the relative path.
    for result in (one, other):
        paths = [path for _, path, _ in provenance_chain(result)]
        table = result.parents[1] / "sub-01" / "table.tsv"
        assert paths == [str(result), str(table), str(source)]
    # A moved tree keeps a chain that works.
    shutil.move(tmp_path / "other", tmp_path / "moved")
    moved = tmp_path / "moved" / "group" / "result.tsv"
    assert provenance_chain(moved)[1][1] == str(tmp_path / "moved/sub-01/table.tsv")


def test_the_commit_a_wheel_was_built_from_is_read_without_git(tmp_path):
    assert git_commit(tmp_path) is None
    (tmp_path / "COMMIT").write_text("0123abc\n")
    assert git_commit(tmp_path) == "0123abc"
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    assert git_commit(tmp_path / "repo") is None  # no commit yet
