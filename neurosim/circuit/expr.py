"""Behavioural-source and ``.param`` expressions: parse, print, evaluate, differentiate.

The grammar is the ngspice subset neurosim reads and writes::

    expr    := ternary
    ternary := compare ['?' expr ':' expr]
    compare := sum [('<' | '>' | '<=' | '>=' | '==' | '!=') sum]
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom (('^' | '**') ['-' | '+'] atom)*   (left associative, as ngspice)
    atom    := number | name | name '(' args ')' | '(' expr ')' | '{' expr '}'

``V(a)``, ``V(a, b)`` and ``I(vsource)`` are circuit quantities; other names are
parameters, resolved by :func:`parse_expr` from ``params`` (numbers) and ``funcs``
(``.func`` definitions, inlined). An expression is an immutable tree of tuples.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping

from neurosim.circuit.units import format_number, parse_number

# Tree nodes: ("num", value) | ("v", node) | ("i", source) | ("neg", a)
# | ("bin", op, a, b) | ("call", name, (args...)) | ("if", cond, a, b)
Expr = tuple


class ExprError(ValueError):
    """An expression that cannot be parsed or uses something unsupported."""


VARIADIC = -1  # pwl(x, x1, y1, x2, y2, ...): its arguments are passed as one tuple
# name -> (arity, python source template with {0}, {1}, ...)
FUNCTIONS: dict[str, tuple[int, str]] = {
    "exp": (1, "_m.exp({0})"),
    "ln": (1, "_m.log({0})"),
    "log": (1, "_m.log({0})"),
    "log10": (1, "_m.log10({0})"),
    "sqrt": (1, "_m.sqrt({0})"),
    "sin": (1, "_m.sin({0})"),
    "cos": (1, "_m.cos({0})"),
    "tan": (1, "_m.tan({0})"),
    "sinh": (1, "_m.sinh({0})"),
    "cosh": (1, "_m.cosh({0})"),
    "tanh": (1, "_m.tanh({0})"),
    "atan": (1, "_m.atan({0})"),
    "arctan": (1, "_m.atan({0})"),
    "sqr": (1, "({0}) * ({0})"),
    "abs": (1, "abs({0})"),
    "sgn": (1, "_sgn({0})"),
    "u": (1, "_step({0})"),
    "min": (2, "min({0}, {1})"),
    "max": (2, "max({0}, {1})"),
    "pow": (2, "({0}) ** ({1})"),
    "pwr": (2, "_pwr({0}, {1})"),
    "asin": (1, "_m.asin({0})"),
    "acos": (1, "_m.acos({0})"),
    "asinh": (1, "_m.asinh({0})"),
    "acosh": (1, "_m.acosh({0})"),
    "atanh": (1, "_m.atanh({0})"),
    "int": (1, "float(_m.trunc({0}))"),
    "nint": (1, "float(round({0}))"),  # half to even, as ngspice's nint(2.5) = 2
    "floor": (1, "float(_m.floor({0}))"),
    "ceil": (1, "float(_m.ceil({0}))"),
    "eq0": (1, "(1.0 if {0} == 0 else 0.0)"),
    "ne0": (1, "(1.0 if {0} != 0 else 0.0)"),
    "gt0": (1, "(1.0 if {0} > 0 else 0.0)"),
    "lt0": (1, "(1.0 if {0} < 0 else 0.0)"),
    "ge0": (1, "(1.0 if {0} >= 0 else 0.0)"),
    "le0": (1, "(1.0 if {0} <= 0 else 0.0)"),
    "u2": (1, "min(max({0}, 0.0), 1.0)"),
    "uramp": (1, "max({0}, 0.0)"),
    "pwl": (VARIADIC, "_pwl({0})"),
}
# Functions whose derivative is 0 wherever it exists (steps, rounding, comparisons).
_PIECEWISE_CONSTANT = frozenset("sgn u int nint floor ceil eq0 ne0 gt0 lt0 ge0 le0".split())
# Functions the derivatives use that a netlist cannot name: the slope of pwl().
_INTERNAL: dict[str, tuple[int, str]] = {"pwl_slope": (VARIADIC, "_pwl_slope({0})")}
_COMPARE = ("<", ">", "<=", ">=", "==", "!=")
_PRECEDENCE = {"?": 0, "<": 1, ">": 1, "<=": 1, ">=": 1, "==": 1, "!=": 1}
_PRECEDENCE.update({"+": 2, "-": 2, "*": 3, "/": 3, "neg": 4, "^": 5})
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?[a-z\u00b5\u03bc]*)"
    r"|(?P<name>[a-z_][a-z0-9_.#]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|&&|\|\||[-+*/^(){},?:<>!]))",
    re.IGNORECASE,
)


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExprError(f"unexpected character {text[pos:].strip()[:1]!r} in {text!r}")
        token = match.group(match.lastgroup)
        tokens.append("^" if token == "**" else token)
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, params: Mapping[str, float], funcs: Mapping[str, tuple]):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.params = params
        self.funcs = funcs

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"{expected!r}" if expected else "more input"
            raise ExprError(f"expected {want} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Expr:
        tree = self.ternary()
        if self.peek() is not None:
            raise ExprError(f"unexpected {self.peek()!r} in {self.text!r}")
        return tree

    def ternary(self) -> Expr:
        cond = self.either()
        if self.peek() != "?":
            return cond
        self.take("?")
        a = self.ternary()
        self.take(":")
        return ("if", cond, a, self.ternary())

    def either(self) -> Expr:
        """``a || b``: 1 if either is non-zero, else 0 (as ngspice)."""
        left = self.both()
        while self.peek() == "||":
            self.take()
            left = ("bin", "!=", ("bin", "+", _truth(left), _truth(self.both())), ("num", 0.0))
        return left

    def both(self) -> Expr:
        """``a && b``: 1 if both are non-zero, else 0 (as ngspice)."""
        left = self.compare()
        while self.peek() == "&&":
            self.take()
            left = ("bin", "*", _truth(left), _truth(self.compare()))
        return left

    def compare(self) -> Expr:
        left = self.sum()
        if self.peek() in _COMPARE:
            op = self.take()
            return ("bin", op, left, self.sum())
        return left

    def sum(self) -> Expr:
        left = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            left = ("bin", op, left, self.product())
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            left = ("bin", op, left, self.unary())
        return left

    def unary(self) -> Expr:
        if self.peek() == "!":  # logical not: 1 where the operand is 0
            self.take()
            return ("bin", "==", self.unary(), ("num", 0.0))
        if self.peek() == "-":
            self.take()
            operand = self.unary()
            return ("num", -operand[1]) if operand[0] == "num" else ("neg", operand)
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Expr:
        # Left associative, as in ngspice's B sources: 2^3^2 = (2^3)^2 = 64.
        base = self.atom()
        while self.peek() == "^":
            self.take()
            base = ("bin", "^", base, self.exponent())
        return base

    def exponent(self) -> Expr:
        """An atom, optionally signed (``2^-1``), as the right operand of ``^``."""
        if self.peek() in ("-", "+"):
            sign = self.take()
            operand = self.exponent()
            if sign == "+":
                return operand
            return ("num", -operand[1]) if operand[0] == "num" else ("neg", operand)
        return self.atom()

    def atom(self) -> Expr:
        token = self.take()
        if token in ("(", "{"):
            inner = self.ternary()
            self.take(")" if token == "(" else "}")
            return inner
        if token[0].isdigit() or token[0] == ".":
            try:
                return ("num", parse_number(token))
            except ValueError as exc:
                raise ExprError(str(exc)) from None
        if not (token[0].isalpha() or token[0] == "_"):
            raise ExprError(f"unexpected {token!r} in {self.text!r}")
        name = token.lower()
        if self.peek() != "(":
            if name in self.params:
                return ("num", float(self.params[name]))
            if name == "pi":
                return ("num", math.pi)
            raise ExprError(f"unknown parameter {token!r} in {self.text!r}")
        self.take("(")
        if name in ("v", "i"):
            return self.reference(name)
        args = [] if self.peek() == ")" else [self.ternary()]  # .func f() takes none
        while self.peek() == ",":
            self.take(",")
            args.append(self.ternary())
        self.take(")")
        return self.call(name, args)

    def reference(self, name: str) -> Expr:
        """``V(a)``, ``V(a, b)`` or ``I(source)``, after the opening parenthesis."""
        names = [self.take().lower()]
        while self.peek() == ",":
            self.take(",")
            names.append(self.take().lower())
        self.take(")")
        if any(not re.fullmatch(r"[a-z0-9_.#]+", n) for n in names):
            raise ExprError(f"bad node or source name in {self.text!r}")
        if name == "i":
            if len(names) != 1:
                raise ExprError(f"I() takes one voltage source in {self.text!r}")
            return ("i", names[0])
        if len(names) == 1:
            return ("v", names[0])
        if len(names) == 2:
            return ("bin", "-", ("v", names[0]), ("v", names[1]))
        raise ExprError(f"V() takes one or two nodes in {self.text!r}")

    def call(self, name: str, args: list[Expr]) -> Expr:
        if name in self.funcs:
            formals, body = self.funcs[name]
            if len(formals) != len(args):
                raise ExprError(f"{name}() takes {len(formals)} arguments in {self.text!r}")
            return substitute(body, dict(zip(formals, args, strict=True)))
        if name == "pwl":
            return _pwl_call(args, self.text)
        if name in FUNCTIONS:
            if FUNCTIONS[name][0] != len(args):
                raise ExprError(f"{name}() takes {FUNCTIONS[name][0]} arguments in {self.text!r}")
            return ("call", name, tuple(args))
        raise ExprError(f"unknown function {name!r} in {self.text!r}")


def _pwl_call(args: list[Expr], text: str) -> Expr:
    """``pwl(x, x1, y1, ..., xn, yn)``: ngspice's piecewise-linear function of x, linear
    beyond the end points along the first and last segments; the points are constants
    with ascending abscissae."""
    if len(args) < 5 or len(args) % 2 == 0:
        raise ExprError(f"pwl() takes x and at least two (x, y) points in {text!r}")
    if any(any(references(point)) or _has_names(point) for point in args[1:]):
        raise ExprError(f"pwl() points must be constants in {text!r}")
    args = [args[0], *(("num", float(evaluate(point, {}))) for point in args[1:])]
    xs = [point[1] for point in args[1::2]]
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ExprError(f"pwl() abscissae must be ascending in {text!r}")
    return ("call", "pwl", tuple(args))


def _has_names(tree: Expr) -> bool:
    """Whether ``tree`` holds a ``.func`` formal (a name bound only when called)."""
    return tree[0] == "name" or any(_has_names(child) for child in _children(tree))


class _NameParser(_Parser):
    """Parser in which bare names inside V()/I() stay names."""

    def atom(self) -> Expr:
        token = self.peek()
        if token is not None and (token[0].isalpha() or token[0] == "_"):
            nxt = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
            if nxt != "(" and token.lower() not in self.params and token.lower() != "pi":
                self.take()
                return ("name", token.lower())
        return super().atom()


def _truth(tree: Expr) -> Expr:
    """1 where ``tree`` is non-zero, else 0 (a comparison is already 0 or 1)."""
    if tree[0] == "bin" and tree[1] in _COMPARE:
        return tree
    return ("bin", "!=", tree, ("num", 0.0))


def _reject_bare_names(tree: Expr, text: str) -> None:
    if tree[0] == "name":
        raise ExprError(f"unknown parameter {tree[1]!r} in {text!r}")
    for child in _children(tree):
        _reject_bare_names(child, text)


def parse_expr(
    text: str,
    params: Mapping[str, float] | None = None,
    funcs: Mapping[str, tuple[tuple[str, ...], Expr]] | None = None,
) -> Expr:
    """Parse ``text`` into an expression tree; parameters are replaced by their values.

    ``params`` maps lower-case names to numbers; ``funcs`` maps ``.func`` names to
    ``(formal names, body tree)`` with formals appearing as ``("name", formal)`` leaves.
    """
    tree = _NameParser(text, params or {}, funcs or {}).parse()
    _reject_bare_names(tree, text)
    return tree


def parse_func_body(text: str, formals: tuple[str, ...], params, funcs) -> Expr:
    """Parse a ``.func`` body, keeping its formal arguments as ``("name", f)`` leaves."""
    shadowed = {k: v for k, v in (params or {}).items() if k not in formals}
    tree = _NameParser(text, shadowed, funcs or {}).parse()
    _check_formals(tree, set(formals), text)
    return tree


def _check_formals(tree: Expr, formals: set[str], text: str) -> None:
    if tree[0] == "name" and tree[1] not in formals:
        raise ExprError(f"unknown parameter {tree[1]!r} in {text!r}")
    for child in _children(tree):
        _check_formals(child, formals, text)


def _children(tree: Expr) -> tuple:
    kind = tree[0]
    if kind == "neg":
        return (tree[1],)
    if kind == "bin":
        return (tree[2], tree[3])
    if kind == "call":
        return tree[2]
    if kind == "if":
        return tree[1:]
    return ()


def substitute(tree: Expr, values: Mapping[str, Expr]) -> Expr:
    """Replace ``("name", n)`` leaves by ``values[n]``."""
    kind = tree[0]
    if kind == "name":
        return values.get(tree[1], tree)
    if kind == "neg":
        return ("neg", substitute(tree[1], values))
    if kind == "bin":
        return ("bin", tree[1], substitute(tree[2], values), substitute(tree[3], values))
    if kind == "call":
        return ("call", tree[1], tuple(substitute(a, values) for a in tree[2]))
    if kind == "if":
        return ("if", *(substitute(a, values) for a in tree[1:]))
    return tree


def rename(tree: Expr, node: Callable[[str], str], element: Callable[[str], str]) -> Expr:
    """``tree`` with each ``v(n)`` read as ``v(node(n))`` and ``i(e)`` as
    ``i(element(e))``."""
    kind = tree[0]
    if kind == "v":
        return ("v", node(tree[1]))
    if kind == "i":
        return ("i", element(tree[1]))
    if kind == "neg":
        return ("neg", rename(tree[1], node, element))
    if kind == "bin":
        return ("bin", tree[1], rename(tree[2], node, element), rename(tree[3], node, element))
    if kind == "call":
        return ("call", tree[1], tuple(rename(a, node, element) for a in tree[2]))
    if kind == "if":
        return ("if", *(rename(a, node, element) for a in tree[1:]))
    return tree


def to_text(tree: Expr, parent: int = -1) -> str:
    """Canonical ngspice text for ``tree`` (lower case, minimal parentheses)."""
    kind = tree[0]
    if kind == "num":
        text = format_number(tree[1])
        return f"({text})" if tree[1] < 0 and parent >= 0 else text
    if kind == "v":
        return f"v({tree[1]})"
    if kind == "i":
        return f"i({tree[1]})"
    if kind == "call" and tree[1] == "int":  # a .param function ngspice's B sources lack
        a = tree[2][0]
        return to_text(_mul(("call", "sgn", (a,)), ("call", "floor", (("call", "abs", (a,)),))))
    if kind == "call":
        return f"{tree[1]}({', '.join(to_text(a) for a in tree[2])})"
    if kind == "neg":
        own = _PRECEDENCE["neg"]
        text = f"-{to_text(tree[1], own)}"
    elif kind == "bin":
        op, own = tree[1], _PRECEDENCE[tree[1]]
        # Left-associative operators need parentheses on an equal-precedence right side.
        left_ctx, right_ctx = own, own + 1
        if op in _COMPARE:
            left_ctx = right_ctx = own + 1
        text = f"{to_text(tree[2], left_ctx)} {op} {to_text(tree[3], right_ctx)}"
    elif kind == "if":
        own = _PRECEDENCE["?"]
        text = f"{to_text(tree[1], 1)} ? {to_text(tree[2], 0)} : {to_text(tree[3], 0)}"
    else:
        raise ExprError(f"cannot print expression node {kind!r}")
    return f"({text})" if own < parent or (own == parent and kind == "if") else text


def references(tree: Expr) -> tuple[set[str], set[str]]:
    """The nodes ``V()`` reads and the sources ``I()`` reads, as two sets."""
    nodes: set[str] = set()
    sources: set[str] = set()
    stack = [tree]
    while stack:
        item = stack.pop()
        if item[0] == "v":
            nodes.add(item[1])
        elif item[0] == "i":
            sources.add(item[1])
        stack.extend(_children(item))
    return nodes, sources


def derivative(tree: Expr, wrt: Expr) -> Expr:
    """Symbolic derivative of ``tree`` with respect to the leaf ``wrt`` (a ``v`` or ``i``)."""
    kind = tree[0]
    if kind in ("v", "i"):
        return ("num", 1.0 if tree == wrt else 0.0)
    if kind == "num":
        return ("num", 0.0)
    if kind == "neg":
        return _neg(derivative(tree[1], wrt))
    if kind == "if":
        return ("if", tree[1], derivative(tree[2], wrt), derivative(tree[3], wrt))
    if kind == "bin":
        op, a, b = tree[1:]
        if op in _COMPARE:
            return ("num", 0.0)
        da, db = derivative(a, wrt), derivative(b, wrt)
        if op == "+":
            return _add(da, db)
        if op == "-":
            return _sub(da, db)
        if op == "*":
            return _add(_mul(da, b), _mul(a, db))
        if op == "/":
            return _sub(_div(da, b), _div(_mul(a, db), _mul(b, b)))
        if op == "^":
            return _pow_derivative(a, b, da, db)
    if kind == "call":
        return _call_derivative(tree[1], tree[2], wrt)
    raise ExprError(f"cannot differentiate expression node {kind!r}")


def _pow_derivative(a: Expr, b: Expr, da: Expr, db: Expr) -> Expr:
    if b[0] == "num":
        lowered = a if b[1] == 2.0 else ("bin", "^", a, ("num", b[1] - 1.0))
        return _mul(_mul(b, lowered), da)
    # d(a^b) = a^b * (db*ln(a) + b*da/a)
    power = ("bin", "^", a, b)
    return _mul(power, _add(_mul(db, ("call", "ln", (a,))), _div(_mul(b, da), a)))


def _call_derivative(name: str, args: tuple, wrt: Expr) -> Expr:
    a = args[0]
    da = derivative(a, wrt)
    if name == "pwl":  # the points are constants
        return _mul(("call", "pwl_slope", args), da)
    if name in _PIECEWISE_CONSTANT:
        return ("num", 0.0)
    if name in ("min", "max", "pow", "pwr"):
        b = args[1]
        db = derivative(b, wrt)
        if name == "pow":
            return _pow_derivative(a, b, da, db)
        if name == "pwr":  # sgn(a)·|a|^b: b·|a|^(b−1)·da + pwr(a, b)·ln|a|·db
            size = ("call", "abs", (a,))
            along_a = _mul(_mul(b, ("bin", "^", size, _sub(b, ("num", 1.0)))), da)
            if _is(db, 0.0):
                return along_a
            return _add(along_a, _mul(_mul(("call", "pwr", args), ("call", "ln", (size,))), db))
        pick_a = ("bin", "<=" if name == "min" else ">=", a, b)
        return ("if", pick_a, da, db)
    outer = {
        "exp": lambda: ("call", "exp", (a,)),
        "ln": lambda: _div(("num", 1.0), a),
        "log": lambda: _div(("num", 1.0), a),
        "log10": lambda: _div(("num", 1.0 / math.log(10.0)), a),
        "sqrt": lambda: _div(("num", 0.5), ("call", "sqrt", (a,))),
        "sin": lambda: ("call", "cos", (a,)),
        "cos": lambda: _neg(("call", "sin", (a,))),
        "tan": lambda: _add(("num", 1.0), ("bin", "^", ("call", "tan", (a,)), ("num", 2.0))),
        "sinh": lambda: ("call", "cosh", (a,)),
        "cosh": lambda: ("call", "sinh", (a,)),
        "tanh": lambda: _sub(("num", 1.0), ("bin", "^", ("call", "tanh", (a,)), ("num", 2.0))),
        "atan": lambda: _div(("num", 1.0), _add(("num", 1.0), _mul(a, a))),
        "arctan": lambda: _div(("num", 1.0), _add(("num", 1.0), _mul(a, a))),
        "sqr": lambda: _mul(("num", 2.0), a),
        "asin": lambda: _div(("num", 1.0), ("call", "sqrt", (_sub(("num", 1.0), _mul(a, a)),))),
        "acos": lambda: _div(("num", -1.0), ("call", "sqrt", (_sub(("num", 1.0), _mul(a, a)),))),
        "asinh": lambda: _div(("num", 1.0), ("call", "sqrt", (_add(_mul(a, a), ("num", 1.0)),))),
        "acosh": lambda: _div(("num", 1.0), ("call", "sqrt", (_sub(_mul(a, a), ("num", 1.0)),))),
        "atanh": lambda: _div(("num", 1.0), _sub(("num", 1.0), _mul(a, a))),
        "u2": lambda: _mul(("call", "gt0", (a,)), ("call", "lt0", (_sub(a, ("num", 1.0)),))),
        "uramp": lambda: ("call", "u", (a,)),
        "abs": lambda: ("call", "sgn", (a,)),
    }[name]()
    return _mul(outer, da)


def _is(tree: Expr, value: float) -> bool:
    return tree[0] == "num" and tree[1] == value


def _neg(a: Expr) -> Expr:
    return ("num", -a[1]) if a[0] == "num" else ("neg", a)


def _add(a: Expr, b: Expr) -> Expr:
    if _is(a, 0.0):
        return b
    if _is(b, 0.0):
        return a
    return ("bin", "+", a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    if _is(b, 0.0):
        return a
    if _is(a, 0.0):
        return _neg(b)
    return ("bin", "-", a, b)


def _mul(a: Expr, b: Expr) -> Expr:
    if _is(a, 0.0) or _is(b, 0.0):
        return ("num", 0.0)
    if _is(a, 1.0):
        return b
    if _is(b, 1.0):
        return a
    return ("bin", "*", a, b)


def _div(a: Expr, b: Expr) -> Expr:
    if _is(a, 0.0):
        return ("num", 0.0)
    if _is(b, 1.0):
        return a
    return ("bin", "/", a, b)


def _sgn(x: float) -> float:
    return float(x > 0) - float(x < 0)


def _pwr(x: float, y: float) -> float:
    """ngspice's pwr(x, y) = sgn(x)·|x|^y."""
    return _sgn(x) * abs(x) ** y


def _segment(args: tuple) -> tuple[float, float]:
    """pwl's segment at x = args[0]: (its value, its slope), linear beyond the ends."""
    x, xs, ys = args[0], args[1::2], args[2::2]
    k = 0
    while k < len(xs) - 2 and x > xs[k + 1]:
        k += 1
    slope = (ys[k + 1] - ys[k]) / (xs[k + 1] - xs[k])
    return ys[k] + (x - xs[k]) * slope, slope


def _pwl(*args: float) -> float:
    return _segment(args)[0]


def _pwl_slope(*args: float) -> float:
    return _segment(args)[1]


def _step(x: float) -> float:
    """ngspice's unit step u(x): 1 above 0, 0 below, and 0.5 at 0 (checked against it)."""
    return 1.0 if x > 0 else (0.5 if x == 0 else 0.0)


def _python(tree: Expr, leaf: Callable[[Expr], str], parent: int = -1) -> str:
    """Python source for ``tree`` with only the parentheses precedence needs.

    Python's precedence of + - * / unary- ** matches ours, so a long sum stays flat
    (no nesting limit); comparisons and conditionals become parenthesised atoms.
    """
    kind = tree[0]
    if kind == "num":
        value = float(tree[1])
        text = repr(value) if math.isfinite(value) else f"_m.{abs(value)!r}"  # inf, nan
        text = f"-{text}" if value == -math.inf else text
        return f"({text})" if value < 0 and parent >= 0 else text
    if kind in ("v", "i"):
        return leaf(tree)
    if kind == "call":
        arity, template = FUNCTIONS.get(tree[1]) or _INTERNAL[tree[1]]
        parts = [_python(a, leaf) for a in tree[2]]
        return template.format(", ".join(parts)) if arity == VARIADIC else template.format(*parts)
    if kind == "if":
        c, a, b = (_python(x, leaf) for x in tree[1:])
        return f"({a} if {c} != 0 else {b})"
    if kind == "neg":
        own = _PRECEDENCE["neg"]
        text = f"-{_python(tree[1], leaf, own)}"
    elif kind == "bin" and tree[1] in _COMPARE:
        a, b = _python(tree[2], leaf), _python(tree[3], leaf)
        return f"(1.0 if {a} {tree[1]} {b} else 0.0)"
    elif kind == "bin":
        op, own = tree[1], _PRECEDENCE[tree[1]]
        # Python's ** is right associative: a power on the left needs parentheses.
        left_ctx, right_ctx = (own + 1, own + 1) if op == "^" else (own, own + 1)
        a, b = _python(tree[2], leaf, left_ctx), _python(tree[3], leaf, right_ctx)
        text = f"{a} {'**' if op == '^' else op} {b}"
    else:
        raise ExprError(f"cannot evaluate expression node {kind!r}")
    return f"({text})" if own < parent else text


def compile_scalar(tree: Expr, leaf: Callable[[Expr], str]) -> Callable:
    """Compile ``tree`` to a Python function of one argument ``x``.

    ``leaf`` maps each ``v``/``i`` leaf to Python source reading it from ``x``
    (for example ``"x[12]"``).
    """
    source = f"lambda x: {_python(tree, leaf)}"
    return eval(
        source,
        {
            "_m": math, "_sgn": _sgn, "_step": _step, "_pwr": _pwr, "_pwl": _pwl,
            "_pwl_slope": _pwl_slope, "abs": abs, "min": min, "max": max, "round": round,
        },
    )  # fmt: skip


def evaluate(tree: Expr, values: Mapping[tuple, float]) -> float:
    """Evaluate ``tree`` with ``values[("v", node)]`` / ``values[("i", source)]`` given."""
    keys = list(values)
    index = {key: n for n, key in enumerate(keys)}
    function = compile_scalar(tree, lambda leaf: f"x[{index[leaf]}]")
    return function([values[k] for k in keys])
