"""A game's payoffs and formulas on screen (``allysim show --payoffs / --expressions``).

Two players with a choice (a two-player model, or any model with the others fixed by
``--fix``): one bimatrix, rows the first player's strategies, columns the second's.
More: one such table per profile of the remaining players. Each cell lists the
payoffs of every player, in player order. ``long=True``: one row per profile.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..concepts._report import table
from ..game import Game


def _num(v: float) -> str:
    return f"{round(float(v), 3) + 0.0:.3f}"


def long_rows(game: Game) -> list[tuple[dict, dict]]:
    """``(profile {player: strategy}, payoff {player: value})`` for every profile of game 0,
    in C order (the last player's strategy fastest)."""
    out = []
    for idx in itertools.product(*(range(len(s)) for s in game.strategies)):
        profile = {p: game.strategies[i][a] for i, (p, a) in enumerate(zip(game.players, idx))}
        pay = game.payoffs[(0, slice(None)) + idx]
        out.append((profile, {p: float(v) for p, v in zip(game.players, pay)}))
    return out


def payoff_text(game: Game, *, long: bool = False) -> str:
    """The payoff tables of game 0 as text (module docstring).

    >>> from allysim import load_model
    >>> bos = load_model("battle-of-sexes")
    >>> print(payoff_text(Game.from_model(bos, bos.defaults)))
    cells: u(Row), u(Column)
    Row \\ Column  OPERA         FIGHT
    ------------  ------------  ------------
    OPERA         2.000, 1.000  0.000, 0.000
    FIGHT         0.000, 0.000  1.000, 2.000
    """
    players = game.players
    if long or sum(len(s) > 1 for s in game.strategies) < 2:
        rows = [list(prof.values()) + [_num(v) for v in pay.values()]
                for prof, pay in long_rows(game)]
        return table(list(players) + [f"u({p})" for p in players], rows)
    free = [i for i, s in enumerate(game.strategies) if len(s) > 1]
    r, c, rest = free[0], free[1], free[2:]
    fixed = [i for i in range(len(players)) if i not in free]
    out = [f"cells: {', '.join(f'u({p})' for p in players)}"]
    if fixed:
        out[0] += "; fixed: " + ", ".join(f"{players[i]}={game.strategies[i][0]}" for i in fixed)
    for others in itertools.product(*(range(len(game.strategies[i])) for i in rest)):
        if rest:
            out.append("")
            out.append(", ".join(f"{players[i]}={game.strategies[i][a]}"
                                 for i, a in zip(rest, others)))
        rows = []
        for a in range(len(game.strategies[r])):
            cells = [game.strategies[r][a]]
            for b in range(len(game.strategies[c])):
                idx = [0] * len(players)
                idx[r], idx[c] = a, b
                for i, k in zip(rest, others):
                    idx[i] = k
                pay = game.payoffs[(0, slice(None)) + tuple(idx)]
                cells.append(", ".join(_num(v) for v in pay))
            rows.append(cells)
        out.append(table([f"{players[r]} \\ {players[c]}"] + list(game.strategies[c]), rows))
    return "\n".join(out)


def formulas_text(model, point) -> str:
    """The model's attributes (evaluated), derived quantities and payoffs, each as written
    and with the parameter values substituted (``=`` line)."""
    from ..model.render import formulas, number
    f = formulas(model, point)
    lines = []
    if f["attributes"]:
        lines.append("Strategy attributes at these values:")
        for player, attrs in f["attributes"].items():
            for name, vals in attrs.items():
                lines.append(f"  {player}.{name}: " + ", ".join(f"{s} {number(v)}"
                                                               for s, v in vals.items()))
    for title, key, name in (("Derived quantities (in order):", "derived", "name"),
                             ("Payoffs ([P=S] is 1 when player P plays S):", "payoffs", "player")):
        if f[key]:
            lines += ["", title]
            for d in f[key]:
                lines.append(f"  {d[name]} = {d['formula']}")
                if d["at"] != d["formula"]:
                    lines.append(f"  {' ' * len(d[name])} = {d['at']}")
    return "\n".join(lines)


def show_payoffs_and_formulas(s, fixed: dict, *, payoffs: bool, long: bool, expressions: bool,
                              as_json: bool) -> str:
    """What ``allysim show NAME --payoffs/--expressions`` prints for scenario ``s``."""
    from ..model.render import formulas
    game = Game.from_model(s.model, s.point).restrict(fixed, where="--fix")
    values = ", ".join(f"{k}={v:g}" for k, v in s.overrides.items())
    if as_json:
        doc = {"scenario": s.name, "model": s.model.name, "overrides": s.overrides, "fix": fixed}
        if payoffs:
            doc["payoffs"] = [{"profile": p, "payoff": u} for p, u in long_rows(game)]
        if expressions:
            doc["expressions"] = formulas(s.model, s.point)
        from ..cli._common import json_document
        return json_document("show", doc)
    out = [f"{s.name}  (model {s.model.name}" + (f", {values}" if values else "") + ")"]
    if payoffs:
        out += ["", payoff_text(game, long=long)]
    if expressions:
        out += ["", formulas_text(s.model, np.asarray(s.point))]
    return "\n".join(out)
