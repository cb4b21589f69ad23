"""Model expressions: a whitelisted subset of Python, compiled to NumPy.

An expression such as ``"clip(us_credibility * US.commitment, 0, 1)"`` is
parsed with :mod:`ast`, checked node by node against a whitelist, and turned
into a small tree of :class:`Expr` nodes. Nothing is ever passed to ``eval`` or
``exec``: the tree is evaluated by :func:`evaluate`, which maps each node to a
vectorised NumPy operation, so one call computes a whole batch of points.

Allowed: numbers, ``+ - * / **``, unary ``-``/``+``, comparisons (giving 0/1),
the functions ``min max clip where exp log abs``, parameter names, derived
names, ``Player.attribute`` and ``Player == "STRATEGY"`` (a 0/1 indicator).
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError, suggest

#: Functions an expression may call, with their number of arguments.
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "min": (2, np.minimum),
    "max": (2, np.maximum),
    "clip": (3, lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)),
    "where": (3, lambda c, a, b: np.where(np.asarray(c) != 0, a, b)),
    "exp": (1, np.exp),
    "log": (1, np.log),
    "abs": (1, np.abs),
}

_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
    ast.Pow: ("**", np.power),
}
_CMPOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Lt: ("<", np.less),
    ast.LtE: ("<=", np.less_equal),
    ast.Gt: (">", np.greater),
    ast.GtE: (">=", np.greater_equal),
    ast.Eq: ("==", np.equal),
    ast.NotEq: ("!=", np.not_equal),
}
COMPARISONS = frozenset(sym for sym, _ in _CMPOPS.values())
OPERATORS: dict[str, Callable[..., Any]] = {
    **{sym: fn for sym, fn in _BINOPS.values()},
    **{sym: fn for sym, fn in _CMPOPS.values()},
}


@dataclass(frozen=True)
class Expr:
    """A validated expression node.

    ``kind`` is one of ``num`` (``value``: float), ``param`` (``value``:
    name), ``derived`` (``value``: name), ``attr`` (``value``: (player
    index, attribute name)), ``indicator`` (``value``: (player index,
    strategy index)), ``op`` (``value``: operator symbol, two ``args``),
    ``neg`` (one arg) and ``call`` (``value``: function name).
    """

    kind: str
    value: Any = None
    args: tuple[Expr, ...] = ()

    def names(self, kind: str) -> set:
        """The values of every node of ``kind`` in this tree."""
        found = {self.value} if self.kind == kind else set()
        for arg in self.args:
            found |= arg.names(kind)
        return found


@dataclass(frozen=True)
class Namespace:
    """What names an expression may refer to.

    players: player names in order; strategies[i]: player i's strategy
    names; attributes[i]: player i's attribute names; parameters and derived:
    names of parameters and of derived quantities defined so far.
    """

    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    attributes: tuple[tuple[str, ...], ...]
    parameters: tuple[str, ...]
    derived: tuple[str, ...] = ()


class _Compiler:
    def __init__(self, ns: Namespace, where: str):
        self.ns = ns
        self.where = where

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.where}: {what}")

    def node(self, n: ast.AST) -> Expr:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
                raise self.fail(f"constant {n.value!r} is not allowed; expected a number")
            return Expr("num", float(n.value))
        if isinstance(n, ast.Name):
            return self.name(n.id)
        if isinstance(n, ast.Attribute):
            return self.attribute(n)
        if isinstance(n, ast.BinOp):
            if type(n.op) not in _BINOPS:
                raise self.fail(f"operator {type(n.op).__name__} is not allowed; expected one of + - * / **")
            return Expr("op", _BINOPS[type(n.op)][0], (self.node(n.left), self.node(n.right)))
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.USub):
                return Expr("neg", None, (self.node(n.operand),))
            if isinstance(n.op, ast.UAdd):
                return self.node(n.operand)
            raise self.fail(f"unary operator {type(n.op).__name__} is not allowed; expected - or +")
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.Call):
            return self.call(n)
        raise self.fail(f"{type(n).__name__} ({ast.unparse(n)!r}) is not allowed in an expression; "
                        "expected numbers, names, Player.attribute, arithmetic, comparisons or "
                        + ", ".join(FUNCTIONS))

    def name(self, ident: str) -> Expr:
        if ident.startswith("__"):
            raise self.fail(f"name '{ident}' is not allowed")
        if ident in self.ns.derived:
            return Expr("derived", ident)
        if ident in self.ns.parameters:
            return Expr("param", ident)
        if ident in self.ns.players:
            raise self.fail(f"player '{ident}' used as a number; expected {ident}.attribute "
                            f"or {ident} == \"STRATEGY\"")
        if ident in FUNCTIONS:
            raise self.fail(f"function '{ident}' used without calling it")
        valid = self.ns.parameters + self.ns.derived
        raise self.fail(f"unknown name '{ident}'{suggest(ident, valid)}; "
                        "expected a parameter or a derived quantity defined above")

    def player(self, ident: str) -> int:
        if ident not in self.ns.players:
            raise self.fail(f"unknown player '{ident}'{suggest(ident, self.ns.players)}; "
                            f"expected one of {', '.join(self.ns.players)}")
        return self.ns.players.index(ident)

    def attribute(self, n: ast.Attribute) -> Expr:
        if not isinstance(n.value, ast.Name) or n.attr.startswith("_"):
            raise self.fail(f"attribute access {ast.unparse(n)!r} is not allowed; "
                            "expected Player.attribute")
        i = self.player(n.value.id)
        attrs = self.ns.attributes[i]
        if n.attr not in attrs:
            raise self.fail(f"unknown attribute '{n.value.id}.{n.attr}'{suggest(n.attr, attrs)}; "
                            f"expected one of {', '.join(attrs) or '(none declared)'}")
        return Expr("attr", (i, n.attr))

    def compare(self, n: ast.Compare) -> Expr:
        if len(n.ops) != 1:
            raise self.fail(f"chained comparison {ast.unparse(n)!r} is not allowed; "
                            "expected one comparison")
        left, op, right = n.left, n.ops[0], n.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, str):
            if not isinstance(left, ast.Name) or not isinstance(op, ast.Eq):
                raise self.fail(f"{ast.unparse(n)!r}: a strategy name can only be compared "
                                "as Player == \"STRATEGY\"")
            i = self.player(left.id)
            strategies = self.ns.strategies[i]
            if right.value not in strategies:
                raise self.fail(f"unknown strategy {left.id} == \"{right.value}\""
                                f"{suggest(right.value, strategies)}; expected one of "
                                f"{', '.join(strategies)}")
            return Expr("indicator", (i, strategies.index(right.value)))
        if type(op) not in _CMPOPS:
            raise self.fail(f"comparison {type(op).__name__} is not allowed")
        return Expr("op", _CMPOPS[type(op)][0], (self.node(left), self.node(right)))

    def call(self, n: ast.Call) -> Expr:
        if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS:
            shown = ast.unparse(n.func)
            hint = suggest(n.func.id, FUNCTIONS) if isinstance(n.func, ast.Name) else ""
            raise self.fail(f"call of '{shown}' is not allowed{hint}; expected one of "
                            + ", ".join(FUNCTIONS))
        arity = FUNCTIONS[n.func.id][0]
        if n.keywords or len(n.args) != arity or any(isinstance(a, ast.Starred) for a in n.args):
            raise self.fail(f"{n.func.id}() takes exactly {arity} positional argument(s)")
        return Expr("call", n.func.id, tuple(self.node(a) for a in n.args))


def parse(text: Any, ns: Namespace, where: str) -> Expr:
    """Parse and validate one expression (a string or a number).

    where: the file and key to name in errors, e.g. ``"four-power.toml: payoffs.US"``.

    >>> ns = Namespace(("A",), (("X", "Y"),), (("cost",),), ("c",))
    >>> parse("2 * c * (A == 'Y')", ns, "doc").kind
    'op'
    """
    if isinstance(text, bool):
        raise ModelError(f"{where}: {text!r} is not an expression; expected a number or a string")
    if isinstance(text, (int, float)):
        return Expr("num", float(text))
    if not isinstance(text, str):
        raise ModelError(f"{where}: {text!r} is not an expression; expected a number or a string")
    try:
        # Parenthesised so that an expression may span lines in a TOML multi-line string.
        tree = ast.parse("(" + text.strip() + "\n)", mode="eval")
    except SyntaxError as exc:
        raise ModelError(f"{where}: cannot parse {text.strip()!r}: {exc.msg}") from None
    return _Compiler(ns, where).node(tree.body)


def evaluate(expr: Expr, env: Mapping[tuple[str, Any], Any]) -> Any:
    """Evaluate ``expr`` with NumPy broadcasting.

    env maps ``(kind, value)`` of the leaf nodes ``param``, ``derived``,
    ``attr`` and ``indicator`` to arrays; every array shares one broadcasting
    layout (for models: ``(B, s1, ..., sn)`` with size-1 axes where a value
    does not depend on them).
    """
    kind = expr.kind
    if kind == "num":
        return expr.value
    if kind == "op":
        out = OPERATORS[expr.value](evaluate(expr.args[0], env), evaluate(expr.args[1], env))
        return np.asarray(out, dtype=float) if expr.value in COMPARISONS else out
    if kind == "neg":
        return np.negative(evaluate(expr.args[0], env))
    if kind == "call":
        return FUNCTIONS[expr.value][1](*(evaluate(a, env) for a in expr.args))
    return env[(kind, expr.value)]
