import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.circuit.expr import (
    ExprError,
    derivative,
    evaluate,
    parse_expr,
    parse_func_body,
    references,
    to_text,
)

X, Y = ("v", "x"), ("i", "vy")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ^ 3 ^ 2", 64.0),
        ("2 ^ -1", 0.5),
        ("-2 ^ 2", -4.0),
        ("2 ** 3", 8.0),
        ("-2 ^ 2", -4.0),
        ("8 / 4 / 2", 1.0),
        ("1 - 2 - 3", -4.0),
        ("{1k / 2}", 500.0),
        ("exp(0) + ln(1) + sqrt(4)", 3.0),
        ("max(1, 2) - min(1, 2)", 1.0),
        ("1 < 2 ? 3 : 4", 3.0),
        ("2 > 3 ? 3 : 4", 4.0),
        ("abs(-3) * sgn(-2)", -3.0),
        ("u(1) + u(-1)", 1.0),
        ("u(0)", 0.5),  # ngspice's step at 0 (tests/cli/test_cli.py checks it with ngspice)
        ("pow(2, 10)", 1024.0),
        ("tanh(0) + atan(0)", 0.0),
    ],
)
def test_constant_expressions(text, value):
    assert evaluate(parse_expr(text), {}) == pytest.approx(value)


def test_params_funcs_and_references():
    rho = parse_func_body("10 * tanh(x / 10)", ("x",), {}, {})
    tree = parse_expr("a * rho(v(n1, n2)) + i(Vsense)", {"a": 2.0}, {"rho": (("x",), rho)})
    assert references(tree) == ({"n1", "n2"}, {"vsense"})
    got = evaluate(tree, {("v", "n1"): 3.0, ("v", "n2"): 1.0, ("i", "vsense"): 0.5})
    assert got == pytest.approx(2 * 10 * math.tanh(0.2) + 0.5)


@pytest.mark.parametrize(
    "text",
    ["1 +", "foo(1)", "x + 1", "v(a", "1 2", "$", "exp(1, 2)", "v(a, b, c)", "i(a, b)", "(1"],
)
def test_errors_are_expr_errors(text):
    with pytest.raises(ExprError):
        parse_expr(text)


@pytest.mark.parametrize(
    "text",
    [
        "1 - (2 - 3)",
        "(1 - 2) - 3",
        "2 ^ (3 ^ 2)",
        "(2 ^ 3) ^ 2",
        "-(v(x) ^ 2)",
        "(-v(x)) ^ 2",
        "1 / (2 * v(x))",
        "v(x) < 1 ? i(vy) : -i(vy)",
        "(1 ? 2 : 3) + 4",
        "exp(-(v(x) / 0.1)) * (-1)",
        "-(-v(x))",
    ],
)
def test_printing_keeps_meaning(text):
    tree = parse_expr(text)
    assert parse_expr(to_text(tree)) == tree


_leaf = st.sampled_from([X, Y, ("num", 0.5), ("num", 2.0), ("num", -1.5)])


def _grow(children):
    binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
        lambda t: ("bin", t[0], t[1], t[2])
    )
    call = st.tuples(st.sampled_from(["tanh", "sin", "atan", "exp"]), children).map(
        lambda t: ("call", t[0], (t[1],))
    )
    return st.one_of(binary, call, children.map(lambda c: ("neg", c)))


trees = st.recursive(_leaf, _grow, max_leaves=8)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(trees, st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_print_parse_round_trip_and_derivative(tree, x, y):
    assert parse_expr(to_text(tree)) == parse_expr(to_text(parse_expr(to_text(tree))))
    at = {X: x, Y: y}
    value = evaluate(tree, at)
    assert evaluate(parse_expr(to_text(tree)), at) == pytest.approx(value, rel=1e-12, abs=1e-12)
    h = 1e-6
    for leaf in (X, Y):
        plus, minus = dict(at), dict(at)
        plus[leaf] += h
        minus[leaf] -= h
        numeric = (evaluate(tree, plus) - evaluate(tree, minus)) / (2 * h)
        exact = evaluate(derivative(tree, leaf), at)
        assert exact == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def test_long_sums_compile_without_nesting_limits():
    text = " + ".join(f"{k} * v(n{k})" for k in range(400)) + " - 2 ^ 3 ^ 0.5 * -v(n1)"
    tree = parse_expr(text)
    values = {("v", f"n{k}"): 0.5 for k in range(400)}
    expected = sum(k * 0.5 for k in range(400)) - (2**3) ** 0.5 * -0.5
    assert evaluate(tree, values) == pytest.approx(expected, rel=1e-14)
