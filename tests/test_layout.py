"""The package's layout: layers, no import cycle, modules of a readable size."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import painflow

PACKAGE = Path(painflow.__file__).parent
MAX_LINES = 600
# Layers from the bottom: a module imports its own subpackage or lower layers.
LAYERS = [
    {"painflow", "core"},
    {"signals", "atlas"},
    {"inputs"},
    {"model", "parcellation"},
    {"analyses"},
    {"report"},
    {"simulation", "workflow"},
    {"steps"},
    {"cli_plan"},  # a subcommand of its own, below the parser
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# Same-layer imports allowed in one direction: signals read BOLD through atlases.
ALSO_ALLOWED = {("signals", "atlas")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The subpackage (or top-level module) a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported_modules(module: str) -> set[str]:
    """The painflow modules a module imports, anywhere in its code."""
    tree = ast.parse(MODULES[module].read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            base = node.module
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


GRAPH = {module: imported_modules(module) for module in MODULES}


def test_the_import_graph_reads_real_imports():
    assert "painflow.core.stats" in GRAPH["painflow.model.crossval"]
    assert "painflow.simulation.writers" in GRAPH["painflow.simulation.study"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_its_own_or_lower_layers(module):
    here = layer(module)
    for other in GRAPH[module]:
        there = layer(other)
        allowed = (
            there == here or RANK[there] < RANK[here] or (here, there) in ALSO_ALLOWED
        )
        assert allowed, f"{module} (layer {here}) imports {other} (layer {there})"


def test_no_import_cycle():
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = path[path.index(module) :] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for other in sorted(GRAPH[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_under_the_line_limit(module):
    n_lines = len(MODULES[module].read_text().splitlines())
    assert n_lines <= MAX_LINES, f"{module}: {n_lines} lines"


# Imports each module first, with no painflow module loaded before it (third-party
# ones stay loaded, which keeps it cheap): an order-dependent cycle fails here.
IMPORT_EACH_FIRST = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] == "painflow"]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failed.append(f"{name}: {error!r}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_first_in_a_fresh_interpreter():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *sorted(MODULES)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_chooses_a_plotting_backend_or_uses_pyplot():
    for module, path in MODULES.items():
        text = path.read_text()
        assert "matplotlib.use(" not in text, module
        assert "import matplotlib.pyplot" not in text, module
        assert "from matplotlib import pyplot" not in text, module
