"""Lowering by structure: the netlist's structure line says which element is which part.

The lowering reads the templates from the netlist (or the compiler's, for a netlist
written before the line existed), so a netlist whose elements are renamed — and whose
structure line says so — lowers to the same arrays; a structure that does not describe
a crossbar is refused by name.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.ir import Circuit
from neurosim.circuit.structure import ArrayPart, default_structure
from neurosim.errors import CircuitError, NetlistError
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist, parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.network.compile import compile_network
from tests.networks import random_params, small_network

ROOT = Path(__file__).resolve().parents[2]
ARRAYS = ("m_eo", "m_oe", "bias", "leak", "spring", "inj_gain", "tau", "slope")


def compiled(seed=0) -> Circuit:
    meta = small_network("scellier_bengio", "rho", spring=1.5)
    return compile_network(meta, random_params(meta, np.random.default_rng(seed), 0.8))


def renamed(circuit: Circuit) -> Circuit:
    """``circuit`` with its forward array of w1, its leaks and the positive rail renamed,
    the structure line saying so."""
    s = circuit.structure
    units = {layer: dict(parts) for layer, parts in s.units.items()}
    old_units = {layer: dict(parts) for layer, parts in s.units.items()}
    for layer, parts in units.items():
        if "leak" in parts:
            parts["leak"] = f"rleak_{layer}_{{i}}"
    arrays = tuple(
        ArrayPart(a.coupling, a.direction, "rxbar{row}_{col}_{sign}")
        if (a.coupling, a.direction) == (1, "forward")
        else a
        for a in s.arrays
    )
    structure = replace(s, rails=("vrail_plus", s.rails[1]), units=units, arrays=arrays)
    mapping = {s.rails[0]: "vrail_plus"}
    meta = circuit.network
    for layer in meta.layers:
        if "leak" in units[layer.name]:
            for i in range(layer.size):
                mapping[old_units[layer.name]["leak"].format(i=i)] = units[layer.name][
                    "leak"
                ].format(i=i)
    old = s.arrays[[(a.coupling, a.direction) for a in s.arrays].index((1, "forward"))]
    a, b = meta.couplings[1]
    for r in range(meta.layer(a).size):
        for c in range(meta.layer(b).size):
            for sign in "pn":
                mapping[old.device.format(row=r, col=c, sign=sign)] = f"rxbar{r}_{c}_{sign}"
    elements = {}
    for name, element in circuit.elements.items():
        new = mapping.get(name, name)
        elements[new] = replace(element, name=new)
    trainable = (*circuit.trainable, "rxbar*")
    return replace(circuit, elements=elements, structure=structure, trainable=trainable)


def assert_same_arrays(one, two):
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)


def test_the_structure_round_trips_through_the_netlist():
    circuit = compiled()
    back = parse_netlist_text(netlist_text(circuit))
    assert back.structure == circuit.structure == default_structure(circuit.network)
    assert "*@neurosim schema neurosim-netlist/2" in netlist_text(circuit)


def test_a_renamed_netlist_lowers_to_the_same_arrays_and_trains_under_its_names():
    circuit = compiled()
    text = netlist_text(renamed(circuit))
    assert "rxbar0_1_p" in text and "rw1f_0_1p" not in text and "rleak_h_0" in text
    again = parse_netlist_text(text)
    assert_same_arrays(lower_crossbar(circuit), lower_crossbar(again))
    chip = Chip(again)
    chip.program({name: np.full(v.shape, 0.01) for name, v in chip.parameters().items()})
    trained = chip.circuit()
    assert trained.elements["rxbar0_1_p"].value != again.elements["rxbar0_1_p"].value
    np.testing.assert_allclose(
        Chip(circuit).parameters()["w1"] + 0.01, chip.parameters()["w1"], rtol=0, atol=1e-14
    )


def test_netlists_of_the_first_schema_still_load_with_the_same_arrays():
    old = parse_netlist(ROOT / "tests/netlist/fixtures/xor_schema1.cir")  # netlists/xor.cir before
    assert old.structure is None
    assert_same_arrays(
        lower_crossbar(old), lower_crossbar(parse_netlist(ROOT / "netlists/xor.cir"))
    )
    text = (ROOT / "netlists/digits_classify.cir").read_text()
    lines = [l for l in text.splitlines() if not l.startswith("*@neurosim structure")]
    first = "\n".join(lines).replace("neurosim-netlist/2", "neurosim-netlist/1") + "\n"
    assert_same_arrays(
        lower_crossbar(parse_netlist_text(first)), lower_crossbar(parse_netlist_text(text))
    )


def structure_line(circuit, change):
    data = circuit.structure.to_dict()
    change(data)
    text = netlist_text(circuit).splitlines()
    index = next(i for i, l in enumerate(text) if l.startswith("*@neurosim structure"))
    text[index] = "*@neurosim structure " + json.dumps(data)
    return "\n".join(text) + "\n"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["units"]["h"].update(leak="rl_{j}"), "may use only"),
        (lambda d: d["units"].pop("h"), "no unit templates for layer h"),
        (lambda d: d["units"].update(nope={"node": "n_{i}"}), "KeyError"),
        (
            lambda d: d["arrays"].append(
                {"coupling": 7, "direction": "forward", "device": "r{row}"}
            ),
            "no such coupling",
        ),
        (lambda d: d.update(rails=["vbias_p"]), "rails"),
    ],
)
def test_a_bad_structure_line_is_one_error_naming_its_line(change, message):
    with pytest.raises(NetlistError, match=f"bad structure metadata.*{message}"):
        parse_netlist_text(structure_line(compiled(), change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["units"]["h"].pop("leak"), "layer h: the structure's unit parts lack leak"),
        (lambda d: d["units"]["h"].update(leak="cu_h_{i}"), "one element as two parts"),
        (lambda d: d["units"]["h"].update(leak="vc_h_{i}"), "one element as two parts"),
        (lambda d: d["arrays"].pop(), "arrays are not the couplings'"),
    ],
)
def test_a_structure_that_is_not_a_crossbar_is_refused_by_the_lowering(change, message):
    circuit = parse_netlist_text(structure_line(compiled(), change))
    with pytest.raises(CircuitError, match=message):
        lower_crossbar(circuit)


def test_parts_are_checked_by_their_connections_and_kinds():
    circuit = compiled()
    circuit.set_value("vc_h_0", 0.01)
    with pytest.raises(CircuitError, match="virtual ground"):
        lower_crossbar(circuit)
    circuit = compiled()
    circuit.elements["vc_h_0"] = replace(circuit.elements["vc_h_0"], nodes=("h_0", "0"))
    with pytest.raises(CircuitError, match="must all differ"):
        lower_crossbar(circuit)
    swapped = compiled()
    units = {k: dict(v) for k, v in swapped.structure.units.items()}
    units["h"]["leak"], units["h"]["capacitor"] = units["h"]["capacitor"], units["h"]["leak"]
    swapped.structure = replace(swapped.structure, units=units)
    with pytest.raises(CircuitError, match="cannot be a unit's capacitor"):
        lower_crossbar(swapped)
