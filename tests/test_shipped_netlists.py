"""netlists/ holds the export of every spec in circuits/, byte for byte."""

from pathlib import Path

import pytest

from neurosim.netlist.write import netlist_text
from neurosim.network.compile import compile_spec
from neurosim.network.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "circuits").glob("*.toml"))


def test_every_spec_has_a_netlist():
    assert SPECS, "no specs shipped"
    assert {p.stem for p in SPECS} == {p.stem for p in (ROOT / "netlists").glob("*.cir")}


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_shipped_netlist_is_current(spec_path):
    shipped = (ROOT / "netlists" / f"{spec_path.stem}.cir").read_text()
    assert shipped == netlist_text(compile_spec(load_spec(spec_path))), (
        f"netlists/{spec_path.stem}.cir is stale: run "
        f"`neurosim export circuits/{spec_path.stem}.toml -o netlists/{spec_path.stem}.cir`"
    )
