"""The layering of DESIGN.md §2, checked on the imports of every module.

learn and sample talk to the hardware host, never to the lowering (``ideal_crossbar``
is a test oracle); sample takes nothing from learn; the engine writes no files; and no
layer imports one above it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neurosim"

# layer -> packages it may not import (anything above it, and the named seams)
FORBIDDEN = {
    "circuit": {"netlist", "lower", "engine", "host", "learn", "sample", "metrics", "cli"},
    "netlist": {"lower", "engine", "host", "learn", "sample", "metrics", "cli"},
    "lower": {"engine", "host", "learn", "sample", "metrics", "cli"},
    "engine": {"host", "learn", "sample", "metrics", "cli", "io"},
    "host": {"learn", "sample", "metrics", "cli"},
    "learn": {"lower", "sample", "metrics", "cli"},
    "sample": {"lower", "learn", "cli"},
}


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
