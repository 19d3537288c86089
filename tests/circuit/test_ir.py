import pytest

from neurosim.circuit.expr import parse_expr
from neurosim.circuit.ir import Circuit, Element, Model, Role
from neurosim.errors import CircuitError


def divider() -> Circuit:
    circuit = Circuit(title="divider")
    circuit.add(Element("v1", ("a", "0"), 1.0))
    circuit.add(Element("r1", ("a", "b"), 1e3))
    circuit.add(Element("r2", ("b", "0"), 1e3))
    return circuit


def test_valid_circuit_passes_and_lists_nodes():
    circuit = divider()
    circuit.validate()
    assert circuit.nodes() == ["0", "a", "b"]
    assert circuit.count() == {"v": 1, "r": 2}


def test_duplicate_names_are_rejected():
    circuit = divider()
    with pytest.raises(CircuitError, match="duplicate element name 'r1'"):
        circuit.add(Element("r1", ("a", "0"), 1.0))


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (Element("r3", ("b", "0"), -5.0), "resistor value must be > 0"),
        (Element("r3", ("b", "0"), 0.0), "resistor value must be > 0"),
        (Element("c3", ("b", "0"), float("nan")), "not finite"),
        (Element("d3", ("b", "0"), 1.0, model="nomodel"), "unknown diode model"),
        (Element("f3", ("b", "0"), 1.0, control="r1"), "must name a voltage source"),
        (Element("b3", ("b", "0"), expr=parse_expr("v(zz)"), output="i"), "unknown node"),
        (Element("e3", ("b", "0", "q", "0"), 1.0), "control node 'q'"),
        (Element("r3", ("b", "dangle"), 1.0), "node 'dangle' is dangling"),
        (Element("r3", ("b",), 1.0), "has 2 nodes"),
    ],
)
def test_invalid_elements_are_named(element, message):
    circuit = divider()
    circuit.add(element)
    with pytest.raises(CircuitError, match=message):
        circuit.validate()


def test_missing_ground_and_unknown_role_node():
    circuit = Circuit()
    circuit.add(Element("r1", ("a", "b"), 1.0))
    circuit.add(Element("r2", ("a", "b"), 1.0))
    with pytest.raises(CircuitError, match="no ground"):
        circuit.validate()
    circuit = divider()
    circuit.roles["nowhere"] = Role.HIDDEN
    with pytest.raises(CircuitError, match="unknown node 'nowhere'"):
        circuit.validate()


def test_trainable_patterns_and_models():
    circuit = divider()
    circuit.trainable = ("r*",)
    assert circuit.is_trainable("r1") and not circuit.is_trainable("v1")
    model = circuit.add_model(Model("dm", "d", (("is", 1e-15),)))
    assert model.get("is") == 1e-15 and model.get("n") == 1.0
    with pytest.raises(CircuitError, match="duplicate model"):
        circuit.add_model(Model("dm", "d"))
    circuit.set_value("r1", 2e3)
    assert circuit.elements["r1"].value == 2e3
