"""The README and docs/: short, linked, naming files that exist, free of timings."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 250
DOC_PAGES = {
    "architecture",
    "atlases",
    "cluster",
    "configuration",
    "fmriprep",
    "methods",
    "outputs",
    "performance",
    "provenance",
    "simulation",
}
STUDY_TITLE = (
    "Personalized brain decoding of spontaneous pain in individuals with chronic pain"
)
STUDY_DOI = "10.1038/s41593-026-02221-3"
STUDY_AUTHORS = ["Lee", "Jo", "Cho", "Woo"]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
BENCHMARK = re.compile(r"\bbenchmarks/[\w-]+\.py\b")
TEST = re.compile(r"\btests/(test_\w+\.py)(?:::(\w+))?")
# A measured value: a number with a unit of time or memory as programs print
# them ("4.4 s", "12 ms", "3.2 GB", "19 min", "2 h") or a speed ratio ("131x").
# Parameters read in other units or in words stay allowed: "0.1 Hz", "6 mm",
# "6 seconds", and scale names such as "1min" (no space before "min").
MEASURED = re.compile(
    r"\d(?:\s?(?:ms|s|sec|[KMGT]i?B)|\s(?:min|h|hr))(?![\w-])"
    r"|\d[x×](?![\w-])|\d\s[x×]\s(?:faster|slower)"
)


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def prose(path: Path) -> str:
    """A page's text without its fenced code blocks."""
    return FENCE.sub("", path.read_text())


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    slugs = set()
    for line in prose(path).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            slugs.add(slug)
    return slugs


def test_readme_is_short():
    n_lines = len(README.read_text().splitlines())
    assert n_lines < README_MAX_LINES, n_lines


def test_every_doc_page_exists_and_the_readme_links_it():
    assert {path.stem for path in DOCS} >= DOC_PAGES
    linked = set(LINK.findall(README.read_text()))
    missing = {page for page in DOC_PAGES if f"docs/{page}.md" not in linked}
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(target)
        elif anchor and anchor not in anchors(destination):
            broken.append(target)
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_named_benchmarks_and_tests_exist(page):
    text = page.read_text()
    missing = [name for name in BENCHMARK.findall(text) if not (REPO / name).exists()]
    for file_name, function in TEST.findall(text):
        path = REPO / "tests" / file_name
        if not path.exists():
            missing.append(file_name)
        elif function and not re.search(
            rf"^\s*def {function}\(", path.read_text(), re.MULTILINE
        ):
            missing.append(f"{file_name}::{function}")
    assert not missing, missing


def test_every_benchmark_script_is_documented():
    performance = (REPO / "docs" / "performance.md").read_text()
    scripts = [
        path.name
        for path in (REPO / "benchmarks").glob("*.py")
        if "__main__" in path.read_text()
    ]
    assert scripts
    assert [name for name in scripts if f"benchmarks/{name}" not in performance] == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_measured_timings_or_sizes(page):
    found = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if MEASURED.search(line)
    ]
    assert not found, found


@pytest.mark.parametrize(
    "text",
    [
        "total: 4.4 s",
        "12 ms per volume",
        "peak 3.2 GB",
        "0.24GB before reading",
        "19 min on this machine",
        "takes 2 h",
        "painflow is 131x faster",
        "1.35x the floor",
        "9 x faster than nilearn",
    ],
)
def test_the_timing_rule_finds_measured_values(text):
    assert MEASURED.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "high-pass 0.005 Hz",
        "a 50 mm sphere",
        "the first 30 seconds",
        "scales `1min, 2min, run, session`",
        "`1min: 60`",
        "1-min r above 0.4",
        "10 sessions x 3 runs x 600 volumes",
        "the 91 x 109 x 91 grid",
        "fsLR 32k, 91k grayordinates",
        "`mem_mb=16000` and `runtime=1440`",
        "res-2, run-1, size-N",
    ],
)
def test_the_timing_rule_allows_parameters(text):
    assert not MEASURED.search(text)


def test_license_is_mit_as_pyproject_says():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the painflow developers" in text
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}


def check_study(entry: dict) -> None:
    assert entry["type"] == "article"
    assert " ".join(entry["title"].split()) == STUDY_TITLE
    assert [author["family-names"] for author in entry["authors"]] == STUDY_AUTHORS
    assert entry["journal"] == "Nature Neuroscience"
    assert entry["year"] == 2026
    assert entry["doi"] == STUDY_DOI


def test_citation_names_the_software_and_the_study():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "software"
    assert citation["title"] == project["name"] == "painflow"
    assert str(citation["version"]) == project["version"]
    assert citation["license"] == "MIT"
    assert citation["authors"]
    check_study(citation["preferred-citation"])
    assert len(citation["references"]) == 1
    check_study(citation["references"][0])
