"""The script that compares two output trees finds every kind of difference."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "compare_outputs.py"
spec = importlib.util.spec_from_file_location("compare_outputs", SCRIPT)
compare_outputs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_outputs)


def write_tree(root: Path, value: str, host: str) -> None:
    """An output tree: a table naming its own root, a figure, a sidecar, a log."""
    (root / "sub-01" / "logs").mkdir(parents=True)
    (root / "sub-01" / "x.tsv").write_text(f"{root.resolve()}/input\t{value}\n")
    (root / "sub-01" / "x.png").write_bytes(b"\x89PNG" + value.encode())
    record = {"host": host, "inputs": [{"path": f"{root.resolve()}/input"}]}
    (root / "sub-01" / "x.tsv.prov.json").write_text(json.dumps(record))
    (root / "sub-01" / "logs" / "job.txt").write_text(host)


def test_trees_that_differ_only_in_root_host_and_logs_are_the_same(tmp_path):
    write_tree(tmp_path / "a", "0.5", host="node1")
    write_tree(tmp_path / "b", "0.5", host="node2")
    assert compare_outputs.differences(tmp_path / "a", tmp_path / "b") == []
    assert compare_outputs.main(tmp_path / "a", tmp_path / "b") == 0


def test_a_changed_value_and_a_missing_file_are_found(tmp_path):
    write_tree(tmp_path / "a", "0.5", host="node1")
    write_tree(tmp_path / "b", "0.6", host="node1")
    (tmp_path / "b" / "sub-01" / "y.tsv").write_text("new\n")
    found = compare_outputs.differences(tmp_path / "a", tmp_path / "b")
    assert found == [
        "only after: sub-01/y.tsv",
        "differs: sub-01/x.png",
        "differs: sub-01/x.tsv",
    ]
    assert compare_outputs.main(tmp_path / "a", tmp_path / "b") == 1


def test_strict_comparison_sees_paths_and_records_but_not_host_or_time(tmp_path):
    write_tree(tmp_path / "a", "0.5", host="node1")
    write_tree(tmp_path / "b", "0.5", host="node2")
    strict = compare_outputs.differences(tmp_path / "a", tmp_path / "b", strict=True)
    # The table names each tree's own root, and so does the sidecar's input.
    assert strict == ["differs: sub-01/x.tsv", "differs: sub-01/x.tsv.prov.json"]
    (tmp_path / "c").mkdir()
    for name in ("a", "c"):
        (tmp_path / name / "y.tsv.prov.json").write_text(
            json.dumps({"host": name, "time": name, "step": "s"})
        )
    one = compare_outputs.result_record(tmp_path / "a" / "y.tsv.prov.json")
    assert one == compare_outputs.result_record(tmp_path / "c" / "y.tsv.prov.json")
    assert one == {"step": "s"}
