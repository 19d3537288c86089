"""The layering of DESIGN.md §2, checked on the imports of every module.

learn and sample talk to the hardware host, never to the lowering or the engine;
sample takes nothing from learn; the engine writes no files; and no
layer imports one above it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neurosim"

# layer -> packages it may not import (anything above it, and the named seams)
FORBIDDEN = {
    "circuit": {"netlist", "lower", "engine", "host", "learn", "samplers", "scores", "api", "cli"},
    "netlist": {"lower", "engine", "host", "learn", "samplers", "scores", "api", "cli"},
    "lower": {"engine", "host", "learn", "samplers", "scores", "api", "cli"},
    "engine": {"host", "learn", "samplers", "scores", "api", "cli", "io"},
    "host": {"learn", "samplers", "scores", "api", "cli"},
    "learn": {"lower", "engine", "samplers", "scores", "api", "cli"},
    "samplers": {"lower", "engine", "learn", "api", "cli"},
    "scores": {"lower", "engine", "host", "learn", "api", "cli"},
    "io": {"engine", "host", "learn", "samplers", "scores", "api", "cli"},
    "sweeps": {"api", "cli"},
}
# the network compiler builds circuits from specs: it needs only the circuit IR
FORBIDDEN["network"] = {"netlist", "lower", "engine", "host", "learn", "samplers", "scores"}
FORBIDDEN["network"] |= {"io", "api", "cli", "sweeps"}
FORBIDDEN["verify"] = {"host", "learn", "samplers", "scores", "network", "sweeps", "api", "cli"}
for _lower in (
    "circuit",
    "netlist",
    "lower",
    "engine",
    "host",
    "learn",
    "samplers",
    "scores",
    "io",
):
    # the network compiler (spec -> circuit) sits above everything a circuit runs on
    FORBIDDEN[_lower] = FORBIDDEN[_lower] | {"sweeps", "network"}
# the CLI parses flags, calls the API and prints: it holds no training, sampling or
# engine logic of its own (settings classes and file formats it may use)
CLI_FORBIDDEN = {"engine", "host", "lower", "learn", "samplers"}
CLI_ALLOWED = {
    "neurosim.engine.solvers",  # the --method registry
    "neurosim.learn.settings",
    "neurosim.samplers.settings",
    "neurosim.samplers.grid",  # pictures of samples: output, not sampling
    "neurosim.samplers.scatter",
}


def imported_modules(path: Path) -> set[str]:
    """Every ``neurosim.*`` module ``path`` imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("neurosim.")}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "neurosim" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_may_not(layer):
    offending = {
        str(path.relative_to(PACKAGE)): sorted(imported_packages(path) & FORBIDDEN[layer])
        for path in (PACKAGE / layer).rglob("*.py")
    }
    offending = {k: v for k, v in offending.items() if v}
    assert not offending, offending


def test_the_checker_sees_imports():
    assert "host" in imported_packages(PACKAGE / "learn/flow_objective.py")
    assert "lower" in imported_packages(PACKAGE / "host/chip.py")


def test_the_cli_only_parses_calls_the_api_and_prints():
    offending = {}
    for path in (PACKAGE / "cli").rglob("*.py"):
        bad = {
            module
            for module in imported_modules(path) - CLI_ALLOWED
            if module.split(".")[1] in CLI_FORBIDDEN
        }
        if bad:
            offending[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert not offending, offending


def test_nothing_below_the_cli_imports_it_and_only_the_cli_imports_the_api():
    for path in PACKAGE.rglob("*.py"):
        top = path.relative_to(PACKAGE).parts[0]
        packages = imported_packages(path)
        if top not in ("cli", "__main__.py"):
            assert "cli" not in packages, path
        if top not in ("cli", "__init__.py"):
            assert "api" not in packages, path
