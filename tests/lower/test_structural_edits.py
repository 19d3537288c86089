"""A hardware team's added elements at unit nodes are folded exactly, not refused."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.engine.batch import prepare_inputs
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.verify.crosscheck import cross_check, settings_for_inputs

ROOT = Path(__file__).resolve().parents[2]
EDITS = {  # the table: one line added (contact: one changed, one added)
    "bleed": "rextra h_0 0 50k",
    "trim": "rtrim h_2 bias_p 1meg",
    "parasitic": "cpar h_1 0 1p",
    "contact": "rcontact in_0_p mid 100k",
    "all": "rextra h_0 0 50k\nrtrim h_2 bias_p 1meg\nrtrim2 h_2 bias_n 2meg\ncpar h_1 0 1p\n"
    "rcontact in_0_p mid 100k\nrvia mid2 h_1_c 20k",
    # networks with nodes of their own, reduced to their Norton equivalents: a chain to
    # ground, a divider between a rail and ground, a reference source behind a resistor,
    # a VCCS as a conductance
    "networks": "rchain1 h_0 n1 30k\nrchain2 n1 0 20k\nrd1 h_2 nd 1meg\nrd2 nd bias_p 1meg\n"
    "rd3 nd 0 1meg\nvref nref 0 0.3\nrpull h_1 nref 500k\ngx h_1 0 h_1 0 5u",
}
MOVED = {"contact": ["rw0f_0_0p"], "all": ["rw0f_0_0p", "rw0f_0_1n"]}  # onto mid, mid2


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def edited(tmp_path, netlist: str, lines: str, moved: tuple[str, ...] = ()) -> Path:
    """``netlist`` with ``lines`` added; devices ``moved`` onto ``mid`` (row side) or
    ``mid2`` (column side), in series with the contact the lines add there."""
    text = (ROOT / "netlists" / netlist).read_text()
    for k, device in enumerate(moved):
        line = next(x for x in text.splitlines() if x.startswith(device + " "))
        name, row, column, value = line.split()
        new = f"{name} mid {column} {value}" if k == 0 else f"{name} {row} mid2 {value}"
        text = text.replace(line, new)
    path = tmp_path / f"edited_{netlist}"
    path.write_text(text.replace("\n.end", f"\n{lines}\n.end", 1))
    return path


def inputs(circuit, count: int, seed: int = 0) -> np.ndarray:
    from neurosim.circuit.inputs import input_width

    width = input_width(circuit.network)
    return np.random.default_rng(seed).uniform(-1, 1, (count, width))


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("netlist", ["xor.cir", "digits_classify.cir"])
def test_each_edit_settles_on_the_engine_and_agrees_with_ngspice(tmp_path, netlist, edit):
    circuit = parse_netlist(edited(tmp_path, netlist, EDITS[edit], MOVED.get(edit, ())))
    settings = settings_for_inputs(circuit.network, inputs(circuit, 3))
    report = cross_check(circuit, settings)
    assert report.solver.startswith("crossbar engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report


def test_the_folds_change_the_equilibria_as_the_elements_do(tmp_path):
    """Each edit moves the equilibrium (the fold is not a no-op), a capacitor only τ."""
    plain = parse_netlist(ROOT / "netlists/xor.cir")
    x = inputs(plain, 8)
    base = prepare_inputs(plain, x).settle(tolerance=1e-12).equilibrium.state
    edits = [("bleed", True), ("trim", True), ("parasitic", False), ("contact", True)]
    for edit, moved in [*edits, ("networks", True)]:
        circuit = parse_netlist(edited(tmp_path, "xor.cir", EDITS[edit], MOVED.get(edit, ())))
        state = prepare_inputs(circuit, x).settle(tolerance=1e-12).equilibrium.state
        assert (np.max(np.abs(state - base)) > 1e-4) == moved, edit
    cap = lower_crossbar(parse_netlist(edited(tmp_path, "xor.cir", EDITS["parasitic"])))
    reference = lower_crossbar(plain)
    h_1 = cap.layout.units.index("h_1")
    assert cap.tau[h_1] == pytest.approx(reference.tau[h_1] + 1e-12 / plain.network.scaling.g_unit)


def test_a_batch_of_256_settles_in_about_the_passes_of_the_unedited_circuit(tmp_path):
    plain = parse_netlist(ROOT / "netlists/digits_classify.cir")
    x = inputs(plain, 256, seed=1)
    base = prepare_inputs(plain, x).settle().equilibrium
    circuit = parse_netlist(edited(tmp_path, "digits_classify.cir", EDITS["all"], MOVED["all"]))
    ours = prepare_inputs(circuit, x).settle().equilibrium
    assert base.ok and ours.ok
    assert ours.total_passes <= 1.5 * base.total_passes, (ours.total_passes, base.total_passes)


def test_info_lists_what_was_folded(tmp_path):
    path = edited(tmp_path, "xor.cir", EDITS["all"], MOVED["all"])
    result = run("info", path, "--json")
    assert result.exit_code == 0, result.output
    engine = json.loads(result.output)["engine"]
    assert engine.startswith("crossbar engine; folded: rextra (bleed at h_0)"), engine
    assert "rtrim (trim at h_2)" in engine and "cpar (capacitor at h_1)" in engine
    assert "rcontact (contact of rw0f_0_0p), rvia (contact of rw0f_0_1n)" in engine
    path = edited(tmp_path, "xor.cir", EDITS["networks"])
    engine = json.loads(run("info", path, "--json").output)["engine"]
    assert "rchain1+rchain2 (bleed at h_0), rd1+rd2+rd3 (trim at h_2)" in engine, engine
    assert "vref+rpull (trim at h_1), gx (bleed at h_1)" in engine, engine


def test_a_network_folds_to_its_norton_equivalent():
    """The reduction against the closed forms: series resistors, a divider, a source."""
    from neurosim.circuit.ir import Element
    from neurosim.lower.mna import norton

    def r(name, a, b, ohms):
        return Element(name, (a, b), ohms)

    assert norton([r("r1", "u", "m", 30e3), r("r2", "m", "0", 20e3)], "u") == pytest.approx(
        (1 / 50e3, 0.0), abs=1e-18
    )
    rail = Element("vp", ("p", "0"), 0.6)
    divider = [r("r1", "u", "m", 1e6), r("r2", "m", "p", 1e6), r("r3", "m", "0", 1e6), rail]
    g, current = norton(divider, "u")  # Thevenin at m: 0.3 V behind 0.5 MΩ, then 1 MΩ
    assert g == pytest.approx(1 / 1.5e6, rel=1e-12)
    assert current / g == pytest.approx(0.3, rel=1e-12)
    with pytest.raises(CircuitError, match="no unique DC solution"):
        norton([Element("v1", ("u", "0"), 1.0)], "u")  # the probe and v1: a loop


@pytest.mark.parametrize(
    "line, message",
    [
        ("rbridge h_0 h_1 1meg", "element rbridge is not part of the crossbar's structure"),
        ("rx h_0 in_0 1meg", "it joins unit node h_0 to in_0"),
        ("ltrim h_0 0 1u", "element ltrim is not part of the crossbar's structure"),
        ("rtv out_0 bias_p 1meg", None),  # a unit with a nudge but no spring: folded
        ("ra h_0 n1 1meg\nrb n1 h_1 1meg", "with rb it joins unit nodes h_0 and h_1"),
        ("ra h_0 n1 1meg\ncb n1 0 1p", "element cb is not folded: a capacitor in an added"),
        ("iset 0 h_0 1u", "has a DC conductance of 0 S"),
        ("rload bias_p 0 1k", "it joins ground and the rails but no unit node"),
    ],
)
def test_what_cannot_be_folded_is_named(tmp_path, line, message):
    circuit = parse_netlist(edited(tmp_path, "xor.cir", line))
    if message is None:
        lower_crossbar(circuit)
        return
    with pytest.raises(CircuitError, match=message):
        lower_crossbar(circuit)


def test_what_the_engine_cannot_fold_relax_settles_on_the_general_solver(tmp_path):
    """A trim at a unit with a spring (refused by the lowering, by name) and an added
    diode: relax says so in one line and solves the circuit as written, as check does."""
    import h5py

    path = edited(tmp_path, "digits_flow.cir", "rtrim x_0 bias_p 1meg")
    with pytest.raises(CircuitError, match="rtrim: a trim at x_0, which has a spring"):
        lower_crossbar(parse_netlist(path))
    result = run("relax", path, "--count", "2", "--out", tmp_path / "o.h5")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("neurosim: note:")]
    assert len(notes) == 1 and "general MNA Newton" in notes[0] and "rtrim" in notes[0]
    with h5py.File(tmp_path / "o.h5") as handle:
        assert handle.attrs["method"] == "general MNA Newton"
        assert handle["state/x"].shape == (2, 64) and handle["converged"][()].all()

    diode = edited(tmp_path, "xor.cir", ".model dd d is=1e-14\ndextra h_0 0 dd")
    circuit = parse_netlist(diode)
    x = inputs(circuit, 3)
    settled = prepare_inputs(circuit, x).settle()
    assert settled.equilibrium.ok and settled.equilibrium.method == "general MNA Newton"
    report = cross_check(circuit, settings_for_inputs(circuit.network, x))
    assert report.solver == "general MNA Newton" and report.ok, report
    vs = circuit.network.scaling.volts_per_unit
    h_0 = settled.equilibrium.state[:, 0]  # the free layers in the network's order: h, out
    assert np.allclose(h_0, [v["h_0"] / vs for v in settled.voltages], atol=0)


def test_training_keeps_every_added_element(tmp_path):
    path = edited(tmp_path, "digits_classify.cir", EDITS["all"], MOVED["all"])
    out = tmp_path / "run"
    result = run(
        "train", "--netlist", path, "--objective", "classify", "--epochs", "1", "--out", out
    )
    assert result.exit_code == 0, result.output
    before, after = parse_netlist(path), parse_netlist(out / "trained.cir")
    for line in EDITS["all"].splitlines():
        name = line.split()[0]
        assert after.elements[name] == before.elements[name], name
    assert after.elements.keys() == before.elements.keys()
    for device in MOVED["all"]:  # programmed, and still in series with its contact
        assert after.elements[device].nodes == before.elements[device].nodes
        assert after.elements[device].value != before.elements[device].value
