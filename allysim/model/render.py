"""A model's formulas as text, with or without its parameter values substituted.

:func:`render` writes an :class:`~allysim.model.expr.Expr` back as an expression with
the fewest parentheses that keep its meaning; given parameter values it substitutes
them and folds every sub-expression that no longer depends on a strategy into one
number, so ``2 * hawk_weight * abandonment_fear`` reads ``5`` at the defaults.
Strategy indicators are written ``[Player=STRATEGY]`` (1 when the player plays it).

>>> from allysim import load_model
>>> m = load_model("prisoners-dilemma")
>>> expr = m.payoff_exprs[0]
>>> render(expr, m) == render(expr, m, values=None)
True
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .expr import FUNCTIONS, OPERATORS, Expr

#: Binding strength of each operator (higher binds tighter).
_PREC = {"<": 1, "<=": 1, ">": 1, ">=": 1, "==": 1, "!=": 1, "+": 2, "-": 2, "*": 3, "/": 3,
         "neg": 4, "**": 5}
_ATOM = 9


def number(v: float, digits: int = 6) -> str:
    """A number to ``digits`` significant digits (17: exactly): ``0.75``, ``-3``, ``1e-05``.

    >>> number(0.1 + 0.2), number(2.0), number(-0.5), number(0.1 + 0.2, 17)
    ('0.3', '2', '-0.5', '0.30000000000000004')
    """
    v = float(v) + 0.0
    return repr(v) if digits >= 17 else f"{v:.{digits}g}"


def _wrap(text: str, prec: int, need: int) -> str:
    return f"({text})" if prec < need else text


def render(expr: Expr, model, values: Mapping[str, float] | None = None, *,
           digits: int = 6) -> str:
    """``expr`` as text; with ``values`` ({parameter: value}) substituted and folded.
    Numbers to ``digits`` significant digits (17: exactly, so the text evaluates to the
    same floats up to the order of folded operations)."""
    text, _, _ = _render(expr, model, values, digits)
    return text


def _render(e: Expr, model, values, digits: int = 6) -> tuple[str, int, float | None]:
    """(text, precedence, constant value or None)."""
    kind = e.kind
    if kind == "num":
        return number(e.value, digits), (_ATOM if e.value >= 0 else _PREC["neg"]), float(e.value)
    if kind == "param":
        if values is None:
            return e.value, _ATOM, None
        v = float(values[e.value])
        return number(v, digits), (_ATOM if v >= 0 else _PREC["neg"]), v
    if kind == "derived":
        return e.value, _ATOM, None
    if kind == "attr":
        i, name = e.value
        return f"{model.players[i]}.{name}", _ATOM, None
    if kind == "indicator":
        i, k = e.value
        return f"[{model.players[i]}={model.strategies[i][k]}]", _ATOM, None
    if kind == "neg":
        text, prec, v = _render(e.args[0], model, values, digits)
        if v is not None:
            return _const(-v, digits)
        return "-" + _wrap(text, prec, _PREC["neg"] + 1), _PREC["neg"], None
    if kind == "call":
        parts = [_render(a, model, values, digits) for a in e.args]
        if all(p[2] is not None for p in parts):
            with np.errstate(all="ignore"):
                return _const(float(FUNCTIONS[e.value][1](*(p[2] for p in parts))), digits)
        return f"{e.value}({', '.join(p[0] for p in parts)})", _ATOM, None
    op = e.value
    (lt, lp, lv), (rt, rp, rv) = (_render(a, model, values, digits) for a in e.args)
    if lv is not None and rv is not None:
        with np.errstate(all="ignore"):
            return _const(float(OPERATORS[op](lv, rv)), digits)
    p = _PREC[op]
    if values is not None:                      # fold identities: 0 + x, 1 * x, x * 0 ...
        if op == "*" and (lv == 0 or rv == 0):
            return "0", _ATOM, 0.0
        if op == "*" and lv == 1:
            return rt, rp, None
        if op in ("*", "/") and rv == 1:
            return lt, lp, None
        if op == "+" and lv == 0:
            return rt, rp, None
        if op in ("+", "-") and rv == 0:
            return lt, lp, None
    right_need = p + 1 if op in ("-", "/", "**") or p == 1 else p
    left_need = p + 1 if op == "**" else p
    return f"{_wrap(lt, lp, left_need)} {op} {_wrap(rt, rp, right_need)}", p, None


def _const(v: float, digits: int = 6) -> tuple[str, int, float]:
    if not math.isfinite(v):
        return str(v), _ATOM, v
    return number(v, digits), (_ATOM if v >= 0 else _PREC["neg"]), v


def formulas(model, point: np.ndarray) -> dict:
    """Every formula of ``model`` at ``point (P,)``: attributes evaluated per strategy,
    derived quantities and payoffs as written and with the values substituted.

    Returns ``{"attributes": {player: {attr: {strategy: value}}}, "derived": [{"name",
    "formula", "at"}], "payoffs": [{"player", "formula", "at"}]}``.
    """
    values = dict(zip(model.parameter_names, (float(v) for v in np.asarray(point).ravel())))
    attrs: dict = {}
    for i, player in enumerate(model.players):
        for name, exprs in model.attributes[i].items():
            attrs.setdefault(player, {})[name] = {
                s: _render(e, model, values)[2] for s, e in zip(model.strategies[i], exprs)}
    derived = [{"name": name, "formula": render(e, model), "at": render(e, model, values)}
               for name, e in model.derived]
    payoffs = [{"player": p, "formula": render(e, model), "at": render(e, model, values)}
               for p, e in zip(model.players, model.payoff_exprs)]
    return {"attributes": attrs, "derived": derived, "payoffs": payoffs}
