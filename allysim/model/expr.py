"""Model expressions: a whitelisted subset of Python, compiled to NumPy.

An expression such as ``"clip(us_credibility * US.commitment, 0, 1)"`` is
parsed with :mod:`ast`, checked node by node against a whitelist, and turned
into a small tree of :class:`Expr` nodes. Nothing is ever passed to ``eval`` or
``exec``: the tree is evaluated by :func:`evaluate`, which maps each node to a
vectorised NumPy operation, so one call computes a whole batch of points.

Allowed: numbers, ``+ - * / **``, unary ``-``/``+``, comparisons (giving 0/1),
the functions ``min max clip where exp log abs``, parameter names, derived
names, ``Player.attribute`` and ``Player == "STRATEGY"`` (a 0/1 indicator).

Limits
------
Hostile or broken input is refused with a one-line :class:`~allysim.errors.ModelError`
before it can exhaust the parser, the recursion limit or memory. No real model
comes near these (the shipped ones peak at 483 characters, 13 levels and 58 nodes):

- :data:`MAX_LENGTH` = 10,000 characters per expression;
- :data:`MAX_DEPTH` = 200 levels of nesting (each operator, call, comparison and
  unary sign is a level; a chain ``a + b + c`` of k terms is k levels), counted
  both in one expression and through the derived quantities and attributes it
  uses (:func:`inlined_depth`), because every consumer of the tree (the NumPy
  evaluator, the numba kernel generator) walks it recursively;
- :data:`MAX_NODES` = 2,000 nodes per expression;
- number literals must be finite float64 values (``1e400`` and an integer of 400
  digits are refused, not read as ``inf``), and a nonzero literal that rounds to
  0 (``1e-400``) is refused too.

Other refusals: a name written with non-ASCII letters (Python's parser would
NFKC-normalise a fullwidth ``ａ`` into ``a``), and text whose brackets close
before its end (``"1) + (2"``), which the parentheses that let an expression
span lines would otherwise accept. Offending text is quoted cut to 80 characters.
"""
from __future__ import annotations

import ast
import io
import math
import re
import tokenize
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError, cut, quote, suggest

#: Longest expression text, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of one expression, also counted through derived quantities and attributes.
MAX_DEPTH = 200
#: Most nodes in one expression.
MAX_NODES = 2_000

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
    #: whether ``Player == "STRATEGY"`` may be used (not in attributes, which are
    #: one value per strategy of their own player and may use parameters only)
    indicators: bool = True


def _shown(n: ast.AST) -> str:
    """The source of an AST node in single quotes, cut for an error message."""
    return f"'{cut(ast.unparse(n))}'"


class _Compiler:
    def __init__(self, ns: Namespace, where: str, source: str = ""):
        self.ns = ns
        self.where = where
        self.source = source

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.where}: {what}")

    def node(self, n: ast.AST) -> Expr:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
                raise self.fail(f"constant {quote(n.value)} is not allowed; expected a number")
            return Expr("num", self.number(n))
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
        raise self.fail(f"{type(n).__name__} ({_shown(n)}) is not allowed in an expression; "
                        "expected numbers, names, Player.attribute, arithmetic, comparisons or "
                        + ", ".join(FUNCTIONS))

    def number(self, n: ast.Constant) -> float:
        text = ast.get_source_segment(self.source, n) or repr(n.value)
        try:
            value = float(n.value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise self.fail(f"number {quote(text, 40)} is not a finite float64 (the largest is "
                            "about 1.8e308); expected a finite number")
        if value == 0 and re.search(r"[1-9]", re.split(r"[eE]", text)[0]):
            raise self.fail(f"number {quote(text, 40)} rounds to 0 in float64 (the smallest is "
                            "about 4.9e-324); write 0 or a larger number")
        return value

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
            raise self.fail(f"attribute access {_shown(n)} is not allowed; "
                            "expected Player.attribute")
        i = self.player(n.value.id)
        attrs = self.ns.attributes[i]
        if n.attr not in attrs:
            raise self.fail(f"unknown attribute '{n.value.id}.{n.attr}'{suggest(n.attr, attrs)}; "
                            f"expected one of {', '.join(attrs) or '(none declared)'}")
        return Expr("attr", (i, n.attr))

    def compare(self, n: ast.Compare) -> Expr:
        if len(n.ops) != 1:
            raise self.fail(f"chained comparison {_shown(n)} is not allowed; "
                            "expected one comparison")
        left, op, right = n.left, n.ops[0], n.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, str):
            if not isinstance(left, ast.Name) or not isinstance(op, ast.Eq):
                raise self.fail(f"{_shown(n)}: a strategy name can only be compared "
                                "as Player == \"STRATEGY\"")
            if not self.ns.indicators:
                raise self.fail(f"{_shown(n)}: a strategy indicator is not allowed here; an "
                                "attribute is one value per strategy of its own player, a number "
                                "or an expression of parameters")
            i = self.player(left.id)
            strategies = self.ns.strategies[i]
            if right.value not in strategies:
                shown = cut(right.value, 40)
                raise self.fail(f"unknown strategy {left.id} == \"{shown}\""
                                f"{suggest(right.value, strategies)}; expected one of "
                                f"{', '.join(strategies)}")
            return Expr("indicator", (i, strategies.index(right.value)))
        if type(op) not in _CMPOPS:
            raise self.fail(f"comparison {type(op).__name__} is not allowed")
        return Expr("op", _CMPOPS[type(op)][0], (self.node(left), self.node(right)))

    def call(self, n: ast.Call) -> Expr:
        if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS:
            hint = suggest(n.func.id, FUNCTIONS) if isinstance(n.func, ast.Name) else ""
            raise self.fail(f"call of {_shown(n.func)} is not allowed{hint}; expected one of "
                            + ", ".join(FUNCTIONS))
        arity = FUNCTIONS[n.func.id][0]
        if n.keywords or len(n.args) != arity or any(isinstance(a, ast.Starred) for a in n.args):
            raise self.fail(f"{n.func.id}() takes exactly {arity} positional argument(s)")
        return Expr("call", n.func.id, tuple(self.node(a) for a in n.args))


def parse(text: Any, ns: Namespace, where: str) -> Expr:
    """Parse and validate one expression (a string or a number).

    where: the file and key to name in errors, e.g. ``"four-power.toml: payoffs.US"``.
    Every refusal is a one-line :class:`ModelError`; see the module's limits.

    >>> ns = Namespace(("A",), (("X", "Y"),), (("cost",),), ("c",))
    >>> parse("2 * c * (A == 'Y')", ns, "doc").kind
    'op'
    >>> parse("1) + (2", ns, "doc")
    Traceback (most recent call last):
    allysim.errors.ModelError: doc: cannot parse '1) + (2': ')' at line 1, column 2 closes a bracket that was never opened
    """
    if isinstance(text, bool):
        raise ModelError(f"{where}: {quote(text)} is not an expression; expected a number or a string")
    if isinstance(text, (int, float)):
        try:
            value = float(text)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ModelError(f"{where}: {quote(text, 40)} is not a finite float64 number; "
                             "expected a finite number")
        return Expr("num", value)
    if not isinstance(text, str):
        raise ModelError(f"{where}: {quote(text)} is not an expression; expected a number or a string")
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise ModelError(f"{where}: expression {quote(text)} is {len(text):,} characters long; "
                         f"expected at most {MAX_LENGTH:,}")
    # Parenthesised so that an expression may span lines in a TOML multi-line string
    # (_scan then checks that the text's own brackets do not close that parenthesis).
    source = "(" + text + "\n)"
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ModelError(f"{where}: cannot parse {quote(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        # CPython's parser gives up on very deep nesting (e.g. 3,000 unary minuses).
        raise ModelError(f"{where}: cannot parse {quote(text)}: nested too deeply; expected "
                         f"at most {MAX_DEPTH} levels") from None
    except ValueError as exc:       # e.g. a NUL character on some Python versions
        raise ModelError(f"{where}: cannot parse {quote(text)}: {exc}") from None
    _scan(source, text, where)
    _check_size(tree.body, text, where)
    return _Compiler(ns, where, source).node(tree.body)


def _scan(source: str, text: str, where: str) -> None:
    """Refuse non-ASCII names and brackets that close the wrapping parenthesis early.

    ``source`` is ``"(" + text + "\\n)"``, already parsed without error. Columns in
    messages count from 1 in ``text``.
    """
    depth = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, ValueError) as exc:   # not expected after ast.parse
        raise ModelError(f"{where}: cannot parse {quote(text)}: {exc}") from None
    last = max((k for k, t in enumerate(tokens) if t.type == tokenize.OP), default=-1)
    for k, tok in enumerate(tokens):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            continue
        bad = next((c for c in tok.string if ord(c) > 127), None)
        if bad is not None:
            normal = unicodedata.normalize("NFKC", tok.string)
            reads = f" (Python would read it as {quote(normal, 40)})" if normal.isascii() else ""
            raise ModelError(f"{where}: non-ASCII character {bad!r} "
                             f"(U+{ord(bad):04X} {unicodedata.name(bad, 'unnamed')}) in "
                             f"{quote(tok.string, 40)}{reads}; names must be ASCII letters, "
                             "digits and _")
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
            if depth == 0 and k != last:
                line, col = tok.start
                raise ModelError(f"{where}: cannot parse {quote(text)}: {tok.string!r} at line "
                                 f"{line}, column {col + 1 if line > 1 else col} closes a "
                                 "bracket that was never opened")


def _check_size(root: ast.AST, text: str, where: str) -> None:
    """Refuse a tree deeper than MAX_DEPTH or larger than MAX_NODES (walked without recursion)."""
    nodes, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise ModelError(f"{where}: expression {quote(text)} is nested more than {MAX_DEPTH} "
                             "levels deep (each operator, call, comparison or sign is a level); "
                             f"expected at most {MAX_DEPTH}")
        if nodes > MAX_NODES:
            raise ModelError(f"{where}: expression {quote(text)} has more than {MAX_NODES:,} "
                             f"nodes; expected at most {MAX_NODES:,}")
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop)):
                stack.append((child, depth + 1))


def inlined_depth(expr: Expr, refs: Mapping[tuple[str, Any], int]) -> int:
    """Depth of ``expr`` with every ``derived`` and ``attr`` leaf counted as the depth
    of what it refers to (``refs[(kind, value)]``; missing leaves count 1).

    >>> inlined_depth(Expr("op", "+", (Expr("num", 1.0), Expr("derived", "d"))), {("derived", "d"): 5})
    6
    """
    own = refs.get((expr.kind, expr.value), 1) if expr.kind in ("derived", "attr") else 1
    return max([own] + [1 + inlined_depth(a, refs) for a in expr.args])


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
