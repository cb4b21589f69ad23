"""``allysim run FILE.nfg`` (and ``--nfg FILE``, ``FILE.efg``) on every game of
``pygambit.catalog``: what pygambit writes, allysim reads and solves, labels kept, and the
mixed equilibria agree with Gambit's (two players: ``enummixed_solve``'s extreme
equilibria; more: each certified by the shared regret check)."""
from __future__ import annotations

import json

import numpy as np
import pygambit as gbt
import pytest
from click.testing import CliRunner

from allysim.cli import main
from allysim.io import load_game
from allysim.solve import MIXED_TOL, verify

SLUGS = list(gbt.catalog.games()["Game"])


def run_json(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, (res.exit_code, res.stderr)
    return json.loads(res.stdout)


def flat(game, profile):
    return np.array([float(profile[s]) for p in game.players for s in p.strategies])


def as_set(rows, digits=7):
    return {tuple(np.round(np.asarray(r, dtype=float), digits) + 0.0) for r in rows}


@pytest.mark.parametrize("slug", SLUGS)
def test_run_nfg_mixed_json_answers_for_every_catalog_game(slug, tmp_path):
    game = gbt.catalog.load(slug)
    path = tmp_path / "game.nfg"
    path.write_text(game.to_nfg(), encoding="utf-8")
    doc = run_json("run", path, "--solver", "mixed", "--json")
    rep = doc["results"][0]
    assert doc["source"]["origin"] == "file" and doc["game"]["format"].startswith("nfg")
    players = [p.label for p in game.players]
    ours = [np.concatenate([list(eq["probabilities"][p].values()) for p in players])
            for eq in rep["equilibria"]]
    assert rep["count"] == len(ours) >= 1
    u = load_game(path).payoffs
    assert verify(np.repeat(u, len(ours), axis=0), np.array(ours), MIXED_TOL).all()
    if len(players) == 2:
        # pygambit solves imperfect-recall trees only through their strategic form.
        ref = gbt.Game.from_arrays(*game.to_arrays())
        theirs = [flat(ref, e) for e in gbt.nash.enummixed_solve(ref, rational=True).equilibria]
        assert as_set(ours) == as_set(theirs), slug


def test_nfg_flag_and_efg_files(tmp_path):
    slug = next(s for s in SLUGS if len(gbt.catalog.load(s).players) == 3)
    game = gbt.catalog.load(slug)
    nfg, efg = tmp_path / "g.nfg", tmp_path / "g.efg"
    nfg.write_text(game.to_nfg(), encoding="utf-8")
    a = run_json("run", "--nfg", nfg, "--json")["results"][0]
    assert a["solution_concept"] == "NE (pure)"
    if game.is_tree:
        efg.write_text(game.to_efg(), encoding="utf-8")
        b = run_json("run", efg, "--json")["results"][0]
        assert b["equilibria"] == a["equilibria"]


@pytest.mark.parametrize("args, message", [
    (["run", "missing.nfg"], r"missing\.nfg"),
    (["run", "x.nfg", "--set", "a=1"], r"--set: a Gambit game file \(x\.nfg\) has no parameters"),
    (["run", "baseline-2018", "--nfg", "x.nfg"], r"give a scenario NAME or --nfg FILE, not both"),
    (["run"], r"expected a scenario NAME, a model or scenario file, or a Gambit game file"),
])
def test_bad_game_file_input_is_one_line(args, message, tmp_path):
    import re
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and len(res.stderr.splitlines()) == 1, res.stderr
    assert re.search(message, res.stderr), res.stderr
