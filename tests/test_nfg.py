"""Gambit games in: allysim's .nfg reader against Gambit's format and pygambit.

* The format: the two sample files of Gambit's documentation (payoff and outcome
  version of the same game), numbers in every documented notation, labels, and
  malformed files, each of which must give one line naming the file, line and
  column -- never a traceback (also under random corruption, with hypothesis).
* Round trips with pygambit on every game of ``pygambit.catalog`` (its strategic
  games; its extensive games through their reduced strategic form) and on random
  games: the file as shipped, what pygambit writes (``Game.to_nfg``) and what
  allysim writes (``to_nfg``) all read to pygambit's own payoff tables
  (``Game.to_arrays``, exact rationals rounded once), with its labels.
* Equilibria of the games read: ``pure_nash`` against ``enumpure_solve``,
  ``support_enumeration`` (two players) against ``enummixed_solve`` (exact), and
  ``logit_qre`` against ``logit_solve_lambda`` (strategic form) within 1e-6. Where
  allysim reports a ``bifurcation`` (a symmetric game whose principal branch
  splits) the two may follow different legs: both must then be logit QREs.

pygambit 16.7 cannot solve extensive games with imperfect recall (5 catalog
games); for those its solvers run on the strategic game built from its own
``to_arrays`` (exact rationals).
"""
from __future__ import annotations

import io
import re
import string
import sys
import warnings
from fractions import Fraction
from importlib.resources import files
from pathlib import Path

import numpy as np
import pygambit as gbt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from allysim.errors import AllysimError, GameFileError
from allysim.io import GameFile, load_game, read_nfg, to_nfg
from allysim.io.nfg import unique_labels
from allysim.solve import STATUS, logit_qre, pure_nash, support_enumeration
from tests.strategies import game_shapes

CATALOG = files("pygambit") / "catalog_data"
SLUGS = list(gbt.catalog.games()["Game"])
SEED = 1979  # Gambit's ancestor: McKelvey's first game-solving programs, late 1970s
QRE_AGREE = 1e-6
LAMBDAS = (0.5, 1.0, 3.0)


def catalog_path(slug: str) -> Path:
    for suffix in (".nfg", ".efg"):
        path = Path(str(CATALOG / f"{slug}{suffix}"))
        if path.is_file():
            return path
    raise FileNotFoundError(slug)


def gambit_payoffs(game: gbt.Game) -> np.ndarray:
    """pygambit's payoff tables ``(n, s1, ..., sn)``, each exact number rounded once."""
    return np.stack([np.vectorize(lambda x: float(Fraction(str(x))), otypes=[float])(a)
                     for a in game.to_arrays()])


def gambit_labels(game: gbt.Game):
    players = list(game.players)
    return tuple(p.label for p in players), tuple(tuple(s.label for s in p.strategies) for p in players)


def strategic(game: gbt.Game) -> gbt.Game:
    """A game pygambit's solvers accept: itself, or for an extensive game with
    imperfect recall the strategic game of its exact payoff tables."""
    if game.is_tree and not game.is_perfect_recall:
        return gbt.Game.from_arrays(*game.to_arrays())
    return game


def profile_vector(game: gbt.Game, profile) -> np.ndarray:
    return np.array([float(profile[s]) for p in game.players for s in p.strategies])


# ----------------------------------------------------------------------------- the documented format

# Gambit's documentation, "The strategic game (.nfg) file format", both versions of e02.nfg.
DOC_PAYOFF = '''NFG 1 R "Selten (IJGT, 75), Figure 2, normal form"
{ "Player 1" "Player 2" } { 3 2 }

1 1 0 2 0 2 1 1 0 3 2 0
'''
DOC_OUTCOME = '''NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" }

{
{ "1" "2" "3" }
{ "1" "2" }
}

{
{ "" 1, 1 }
{ "" 0, 2 }
{ "" 0, 2 }
{ "" 1, 1 }
{ "" 0, 3 }
{ "" 2, 0 }
}
1 2 3 4 5 6
'''
# The same table written out by hand from the documented order (player 1 fastest):
# profiles (1,1) (2,1) (3,1) (1,2) (2,2) (3,2) -> (1,1) (0,2) (0,2) (1,1) (0,3) (2,0).
DOC_TABLE = {(0, 0): (1, 1), (1, 0): (0, 2), (2, 0): (0, 2), (0, 1): (1, 1), (1, 1): (0, 3), (2, 1): (2, 0)}


@pytest.mark.parametrize("text,fmt", [(DOC_PAYOFF, "nfg-payoff"), (DOC_OUTCOME, "nfg-outcome")])
def test_the_documentation_samples(text, fmt):
    g = read_nfg(text)
    assert isinstance(g, GameFile) and g.format == fmt
    assert g.title == "Selten (IJGT, 75), Figure 2, normal form" and g.comment == ""
    assert g.players == ("Player 1", "Player 2") and g.strategies == (("1", "2", "3"), ("1", "2"))
    assert g.payoffs.shape == (1, 2, 3, 2) and g.payoffs.dtype == np.float64
    assert g.payoffs.flags.c_contiguous
    for (a, b), pay in DOC_TABLE.items():
        assert tuple(g.payoffs[0, :, a, b]) == pay
    # pygambit reads the same files to the same table
    np.testing.assert_array_equal(gambit_payoffs(gbt.read_nfg(io.StringIO(text))), g.payoffs[0])


def test_numbers_in_every_notation_are_exact():
    tokens = ["3/2", "-1/3", ".5", "5.", "-.25", "+2", "1E-20", "1.5e+3", "2e3", "0.1", "007",
              "123456789012345678901234567890", "1/3"]
    text = f'NFG 1 R "" {{ "A" }} {{ {len(tokens)} }} ' + " ".join(tokens)
    got = read_nfg(text).payoffs[0, 0]
    assert got.tolist() == [float(Fraction(t)) for t in tokens]
    assert got[-1] == 1 / 3 and got[9] == 0.1     # rounded once, like Python's own float


def test_labels_quotes_whitespace_and_optional_parts():
    text = ('NFG\n1\tD "a \\"quoted\\" title"{"Row \\\\ 1""Col"}{{"U""D"}{"L"}}'
            '"a comment\nover two lines"{{"x"1 2}{"y" 3,4,}}1\n2')
    g = read_nfg(text)
    assert g.title == 'a "quoted" title' and g.comment == "a comment\nover two lines"
    assert g.players == ("Row \\ 1", "Col") and g.strategies == (("U", "D"), ("L",))
    assert g.payoffs[0].tolist() == [[[1.0], [3.0]], [[2.0], [4.0]]]
    assert read_nfg('NFG 1 R "é" { "Ünïcode" "東京" } { 1 1 } 0 0').players == ("Ünïcode", "東京")


def test_null_outcome_and_repeated_outcomes():
    g = read_nfg('NFG 1 R "" { "A" "B" } { 2 2 } { { "w" 5 -5 } } 0 1 1 0')
    assert g.payoffs[0, 0].tolist() == [[0, 5], [5, 0]] and g.payoffs[0, 1].tolist() == [[0, -5], [-5, 0]]


def test_empty_and_repeated_labels_get_usable_names():
    g = read_nfg('NFG 1 R "" { "" "" "x" } { { "a" "a" "" } { "" } { "1" "" } } ' + "0 " * 18)
    assert g.players == ("1", "2", "x")
    assert g.strategies == (("a", "a_2", "3"), ("1",), ("1", "2"))
    assert unique_labels(["", "1", "1_2", "1"]) == ("1", "1_2", "1_2_3", "1_4")


def test_n_players_follow_the_documented_order():
    # 3 players, 2 x 3 x 2: payoff of player i at profile k (player 1 fastest) is 100 k + i.
    shape = (2, 3, 2)
    body = " ".join(f"{100 * k + i}" for k in range(12) for i in range(3))
    g = read_nfg(f'NFG 1 R "" {{ "a" "b" "c" }} {{ 2 3 2 }} {body}')
    for a in range(2):
        for b in range(3):
            for c in range(2):
                k = a + 2 * b + 6 * c
                assert g.payoffs[0, :, a, b, c].tolist() == [100 * k, 100 * k + 1, 100 * k + 2]
    assert g.shape == shape


# (id, text, where the error is: the last occurrence of this text, or None for the end of
# the file, and the message after "FILE:LINE:COLUMN: ")
MALFORMED = [
    ("empty", "", None, r"expected 'NFG' \(a Gambit strategic-form game file\), found end of file"),
    ("efg", 'EFG 2 R "" { "1" }', "EFG", r"expected 'NFG' \(a strategic-form game; an extensive \.efg game "
                                        r"is read by load_game\), found 'EFG'"),
    ("version", 'NFG 2 R "" { "A" } { 1 } 0', "2", r"expected version '1' after 'NFG', found '2'"),
    ("type", 'NFG 1 X "" { "A" } { 1 } 0', "X", r"expected 'R' \(or 'D'\) after 'NFG 1', found 'X'"),
    ("no-title", 'NFG 1 R { "A" } { 1 } 0', '{ "A"', r"expected the game's title in double quotes, found '\{'"),
    ("no-players", 'NFG 1 R "" { } { 1 } 0', "} {", r"expected at least one player's label in double quotes, "
                                                   r"found '\}'"),
    ("unquoted-player", 'NFG 1 R "" { A } { 1 } 0', "A",
     r"expected at least one player's label in double quotes, found 'A'"),
    ("unquoted-second", 'NFG 1 R "" { "A" B } { 1 1 } 0 0', "B",
     r"expected a player's label in double quotes or '\}' closing the players, found 'B'"),
    ("zero-strategies", 'NFG 1 R "" { "A" } { 0 } ', "0", r"expected the number of strategies of player 1 of 1 "
                                                          r"\(a positive integer up to 10,000\), found '0'"),
    ("fraction-count", 'NFG 1 R "" { "A" } { 2.5 } 0 0', "2.5", r"expected the number of strategies .*found '2\.5'"),
    ("missing-count", 'NFG 1 R "" { "A" "B" } { 2 } 0 0', "} 0", r"expected the number of strategies of player 2 "
                                                                 r"of 2 \(a positive integer up to 10,000\), found '\}'"),
    ("missing-list", 'NFG 1 R "" { "A" "B" } { { "x" } } 0', "} 0",
     r"expected '\{' opening the strategies of player 2 of 2, found '\}'"),
    ("extra-list", 'NFG 1 R "" { "A" } { { "x" } { "y" } } 0', '{ "y"',
     r"expected '\}' closing the strategies of the 1 players, found '\{'"),
    ("empty-list", 'NFG 1 R "" { "A" } { { } } 0', "} }", r"expected at least one strategy label for player 1, "
                                                          r"found '\}'"),
    ("too-few", 'NFG 1 R "" { "A" "B" } { 2 1 }\n1 2 3', None,
     r"expected payoff 4 of 4 \(2 players x 2 profiles\), found end of file"),
    ("too-many", 'NFG 1 R "" { "A" } { 2 } 1 2 3', "3", r"expected end of file after the 2 profiles, found '3'"),
    ("word", 'NFG 1 R "" { "A" } { 2 }\n 1 x', "x", r"expected payoff 2 of 2 \(1 player x 2 profiles\), found 'x'"),
    ("two-dots", 'NFG 1 R "" { "A" } { 2 } 0 1.2.3', "1.2.3", r"expected payoff 2 of 2 .*found '1\.2\.3'"),
    ("not-a-body", 'NFG 1 R "" { "A" } { 1 } x', "x", r"expected the payoffs \(numbers\) or the outcomes "
                                                      r"\('\{'\) after the prologue, found 'x'"),
    ("comma-in-payoffs", 'NFG 1 R "" { "A" } { 2 } 1, 2', ",", r"expected payoff 2 of 2 .*found ','"),
    ("zero-denominator", 'NFG 1 R "" { "A" } { 1 } 1/0', "1/0", r"expected payoff 1 of 1 \(1 player x 1 profile\) "
                                                                r"\(a rational with a nonzero denominator\), "
                                                                r"found '1/0'"),
    ("overflow", 'NFG 1 R "" { "A" } { 1 } 1e400', "1e400", r"expected payoff 1 of 1 .* that fits a float64 "
                                                            r"\(\|x\| < 1\.8e308\), found '1e400'"),
    ("unterminated", 'NFG 1 R "" { "A } { 1 } 0', '"A', r"expected a closing '\"' for the label that starts "
                                                        r"here, found end of file"),
    ("no-body", 'NFG 1 R "" { "A" } { 1 } "c"', None, r"expected the payoffs \(numbers\) or the outcomes "
                                                      r"\('\{'\) after the prologue, found end of file"),
    ("outcome-label", 'NFG 1 R "" { "A" } { 1 } { { 1 } } 1', "1 } }",
     r"expected outcome 1's label in double quotes, found '1'"),
    ("outcome-short", 'NFG 1 R "" { "A" "B" } { 1 1 } { { "" 1 } } 1', "} } 1",
     r"expected outcome 1's payoff to player 2 of 2, found '\}'"),
    ("outcome-long", 'NFG 1 R "" { "A" } { 1 } { { "" 1 2 } } 1', "2 }",
     r"expected '\}' closing outcome 1 after its 1 payoffs, found '2'"),
    ("outcome-index", 'NFG 1 R "" { "A" } { 2 } { { "" 1 } } 1 2', "2",
     r"expected outcome number 2 of 2 \(an integer from 0 to 1\), found '2'"),
    ("outcome-negative", 'NFG 1 R "" { "A" } { 1 } { { "" 1 } } -1', "-1",
     r"expected outcome number 1 of 1 .*found '-1'"),
    ("outcome-unclosed", 'NFG 1 R "" { "A" } { 1 } { { "" 1 } 1', "1",
     r"expected '\{' opening an outcome or '\}' closing the outcomes, found '1'"),
    ("outcome-missing", 'NFG 1 R "" { "A" } { 2 } { { "" 1 } } 1', None,
     r"expected outcome number 2 of 2 \(an integer from 0 to 1\), found end of file"),
]


def line_column(text: str, at: str | None) -> str:
    """``LINE:COLUMN`` (1-based) of the last occurrence of ``at``, or of the end of the file."""
    offset = len(text) if at is None else text.rindex(at)
    before = text[:offset]
    return f"{before.count(chr(10)) + 1}:{offset - before.rfind(chr(10))}"


@pytest.mark.parametrize("text,at,expected", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_files_give_one_line_naming_file_line_and_column(text, at, expected):
    with pytest.raises(GameFileError) as info:
        read_nfg(text, where="bad.nfg")
    message = str(info.value)
    assert "\n" not in message, message
    assert re.fullmatch(f"bad\\.nfg:{line_column(text, at)}: {expected}", message), message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_files_never_raise_anything_but_one_line(data):
    text = data.draw(st.sampled_from([DOC_PAYOFF, DOC_OUTCOME, to_nfg(np.arange(12.).reshape(2, 3, 2) / 7,
                                                                       ["a", "b"], [["x", "y", "z"], ["p", "q"]])]))
    for _ in range(data.draw(st.integers(1, 3))):
        cut = data.draw(st.integers(0, len(text)))
        edit = data.draw(st.sampled_from(["delete", "insert", "truncate"]))
        if edit == "delete":
            text = text[:cut] + text[cut + data.draw(st.integers(1, 5)):]
        elif edit == "insert":
            text = text[:cut] + data.draw(st.sampled_from(list('{}",./-+e1 0\\\nx'))) + text[cut:]
        else:
            text = text[:cut]
    try:
        g = read_nfg(text, where="fuzz.nfg")
    except GameFileError as exc:
        assert str(exc).startswith("fuzz.nfg:") and "\n" not in str(exc)
    else:
        assert g.payoffs.shape[1] == len(g.players) and np.isfinite(g.payoffs).all()


# ----------------------------------------------------------------------------- load_game

def test_load_game_reads_nfg_and_records_the_path(tmp_path):
    path = tmp_path / "e02.NFG"
    path.write_text(DOC_OUTCOME, encoding="utf-8")
    g = load_game(path)
    assert g.path == str(path) and g.format == "nfg-outcome"
    np.testing.assert_array_equal(g.payoffs, read_nfg(DOC_PAYOFF).payoffs)


def test_load_game_errors_name_the_file(tmp_path):
    (tmp_path / "latin1.nfg").write_bytes('NFG 1 R "caf\xe9" { "A" } { 1 } 0'.encode("latin-1"))
    (tmp_path / "bad.efg").write_text('EFG 2 R "x" { "1" }\np "" 1 1 "" { "a" } 0\n', encoding="utf-8")
    (tmp_path / "bad.nfg").write_text('NFG 1 R "" { "A" } { 2 } 1', encoding="utf-8")
    cases = [
        (tmp_path / "game.txt", r"game\.txt: expected a Gambit game file ending in \.nfg or \.efg$"),
        (tmp_path / "nope.nfg", r"nope\.nfg: no such game file$"),
        (tmp_path / "nope.efg", r"nope\.efg: no such game file$"),
        (tmp_path / "latin1.nfg", r"latin1\.nfg: expected UTF-8 text \(Gambit files are UTF-8\), found byte 0xe9 "
                                  r"at offset 12$"),
        (tmp_path / "bad.nfg", r"bad\.nfg:1:27: expected payoff 2 of 2 \(1 player x 2 profiles\), found end of file$"),
        (tmp_path / "bad.efg", r"bad\.efg: expected a Gambit extensive-form game: .+"),
    ]
    for path, pattern in cases:
        with pytest.raises(GameFileError) as info:
            load_game(path)
        assert "\n" not in str(info.value)
        assert re.search(f"^{re.escape(str(path.parent))}/{pattern}", str(info.value)), \
            str(info.value)
        assert isinstance(info.value, AllysimError) and isinstance(info.value, ValueError)


def test_efg_without_pygambit_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygambit", None)      # import pygambit -> ImportError
    path = catalog_path("books/myerson1991/fig2_1")
    with pytest.raises(GameFileError) as info:
        load_game(path)
    assert str(info.value) == (f"{path}: an extensive-form (.efg) game is read through pygambit, which is not "
                               f"installed; install it with: pip install 'allysim[gambit]'")
    assert load_game(catalog_path("journals/ijgt/nau2004/sec3")).players == ("Player 1", "Player 2")


# ----------------------------------------------------------------------------- round trips: the catalog

@pytest.mark.parametrize("slug", SLUGS)
def test_catalog_game_reads_as_pygambit_reads_it(slug):
    path = catalog_path(slug)
    ref = gbt.catalog.load(slug)
    g = load_game(path)
    assert g.format == ("efg" if path.suffix == ".efg" else "nfg-outcome")
    np.testing.assert_array_equal(g.payoffs[0], gambit_payoffs(ref))
    assert (g.players, g.strategies) == gambit_labels(ref)
    assert g.title == ref.title


@pytest.mark.parametrize("slug", SLUGS)
def test_what_pygambit_writes_allysim_reads(slug):
    ref = gbt.catalog.load(slug)
    g = read_nfg(ref.to_nfg(), where=slug)
    np.testing.assert_array_equal(g.payoffs[0], gambit_payoffs(ref))
    assert (g.players, g.strategies) == gambit_labels(ref)


@pytest.mark.parametrize("slug", SLUGS)
def test_what_allysim_writes_reads_back_in_allysim_and_pygambit(slug):
    g = load_game(catalog_path(slug))
    text = to_nfg(g.payoffs[0], g.players, g.strategies, title=g.title, comment="written by allysim")
    again = read_nfg(text)
    assert again.payoffs.tobytes() == g.payoffs.tobytes()
    assert (again.players, again.strategies, again.title) == (g.players, g.strategies, g.title)
    theirs = gbt.read_nfg(io.StringIO(text))
    np.testing.assert_array_equal(gambit_payoffs(theirs), g.payoffs[0])
    assert gambit_labels(theirs) == (g.players, g.strategies)


# ----------------------------------------------------------------------------- round trips: random games

# pygambit 16.7 labels: printable ASCII, no space at either end, no two spaces in a row.
LABEL = st.text(alphabet=string.ascii_letters + string.digits + ' "\\{},.-', min_size=1, max_size=8).filter(
    lambda x: x == x.strip() and "  " not in x)


@st.composite
def gambit_games(draw):
    """A pygambit strategic game with integer, decimal or rational payoffs and odd labels."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4).filter(lambda s: np.prod(s) <= 48))
    kind = draw(st.sampled_from(["int", "float", "rational"]))
    n, size = len(shape), int(np.prod(shape)) * len(shape)
    if kind == "int":
        values = draw(st.lists(st.integers(-10**6, 10**6), min_size=size, max_size=size))
    elif kind == "float":   # pygambit refuses floats whose repr has an "e+" exponent (>= 1e16)
        values = draw(st.lists(st.floats(-1e15, 1e15, allow_nan=False), min_size=size, max_size=size))
    else:
        values = [gbt.Rational(a, b) for a, b in draw(st.lists(
            st.tuples(st.integers(-1000, 1000), st.integers(1, 999)), min_size=size, max_size=size))]
    arrays = [np.array(values[i::n], dtype=object).reshape(shape) for i in range(n)]
    game = gbt.Game.from_arrays(*arrays, title=draw(LABEL))
    for player in game.players:
        player.label = draw(LABEL.filter(lambda x: x not in [p.label for p in game.players]))
        labels = draw(st.lists(LABEL, min_size=len(player.strategies), max_size=len(player.strategies),
                               unique=True))
        for k, strategy in enumerate(player.strategies):   # labels must stay unique meanwhile
            strategy.label = f"tmp-{k}"
        for strategy, label in zip(list(player.strategies), labels):
            strategy.label = label
    return game


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gambit_games())
def test_random_games_written_by_pygambit_read_exactly(game):
    g = read_nfg(game.to_nfg())
    np.testing.assert_array_equal(g.payoffs[0], gambit_payoffs(game))
    assert (g.players, g.strategies) == gambit_labels(game)
    assert g.title == game.title


@settings(max_examples=100, deadline=None)
@given(game_shapes(min_players=1, max_players=4, min_strategies=1).flatmap(
           lambda shape: hnp.arrays(np.float64, (len(shape), *shape),
                                    elements=st.floats(allow_nan=False, allow_infinity=False))),
       st.lists(LABEL, min_size=4, max_size=4, unique=True))
def test_random_games_written_by_allysim_read_back_bit_for_bit(u, names):
    """Any finite float64 (subnormals, -0.0, 1e308 included) survives to_nfg -> read_nfg."""
    n = u.shape[0]
    strategies = [[f"{names[i]}{k}" for k in range(s)] for i, s in enumerate(u.shape[1:])]
    g = read_nfg(to_nfg(u, names[:n], strategies))
    assert g.payoffs[0].tobytes() == np.ascontiguousarray(u).tobytes()
    assert g.players == tuple(names[:n]) and g.strategies == tuple(map(tuple, strategies))


# ----------------------------------------------------------------------------- equilibria agree with Gambit

def logit_residual(u: np.ndarray, sigma: np.ndarray, lam: float) -> float:
    """max |sigma - logit(lam * strategy values)| of a profile ``(sum s_i,)`` of one game ``(n, ...)``."""
    shape = u.shape[1:]
    blocks = np.split(sigma, np.cumsum(shape)[:-1])
    worst = 0.0
    for i, block in enumerate(blocks):
        values = u[i]
        for j in reversed(range(len(shape))):       # contract the others' mixed strategies
            if j != i:
                values = np.tensordot(values, blocks[j], axes=([j], [0]))
        z = np.exp(lam * (values - values.max()))
        worst = max(worst, float(np.abs(block - z / z.sum()).max()))
    return worst


@pytest.mark.parametrize("slug", SLUGS)
def test_pure_equilibria_agree_with_enumpure(slug):
    ref = strategic(gbt.catalog.load(slug))
    g = load_game(catalog_path(slug))
    theirs = set()
    for eq in gbt.nash.enumpure_solve(ref).equilibria:
        theirs.add(tuple(int(np.argmax([float(eq[s]) for s in p.strategies])) for p in ref.players))
    ours = {tuple(int(a) for a in p) for p in pure_nash(g.payoffs).pure_profiles(0)}
    assert ours == theirs


TWO_PLAYER = [s for s in SLUGS if len(gbt.catalog.load(s).players) == 2]


@pytest.mark.parametrize("slug", TWO_PLAYER)
def test_mixed_equilibria_agree_with_enummixed(slug):
    ref = strategic(gbt.catalog.load(slug))
    g = load_game(catalog_path(slug))
    theirs = {tuple(np.round(profile_vector(ref, eq), 8) + 0.0)
              for eq in gbt.nash.enummixed_solve(ref, rational=True).equilibria}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = support_enumeration(g.payoffs)
    ours = {tuple(np.round(e, 8) + 0.0) for e in res.equilibria(0)}
    assert ours == theirs


# pygambit takes 7 s for the 8 x 8 game at lambda 3 (allysim: milliseconds).
QRE_CASES = [pytest.param(slug, lam, marks=[pytest.mark.slow] if (slug, lam) == (
    "books/shohamleytonbrown2008/fig6_2", 3.0) else []) for slug in SLUGS for lam in LAMBDAS]


@pytest.mark.parametrize("slug,lam", QRE_CASES)
def test_logit_qre_agrees_with_logit_solve_lambda(slug, lam):
    ref = strategic(gbt.catalog.load(slug))
    g = load_game(catalog_path(slug))
    res = logit_qre(g.payoffs, [lam])
    q = gbt.qre.logit_solve_lambda(ref, lam=[lam], use_strategic=True)[0]
    theirs = profile_vector(ref, q.profile)
    if res.lambda_status[0, 0] == STATUS["ok"]:
        assert np.abs(res.profiles[0, 0] - theirs).max() <= QRE_AGREE, (res.profiles[0, 0], theirs)
    else:
        # A branch point before lam (a symmetric game): allysim says so and stays on the
        # branch it can certify; Gambit took one leg. Both must be logit QREs.
        assert res.lambda_status[0, 0] == STATUS["bifurcation"], res.lambda_status
        assert logit_residual(g.payoffs[0], res.profiles[0, 0], lam) <= 1e-9
        assert logit_residual(g.payoffs[0], theirs, lam) <= 1e-6


def _random_written_by_gambit(rng, shape, integer):
    u = rng.integers(-5, 6, size=(len(shape), *shape)) if integer else rng.uniform(-10, 10, (len(shape), *shape))
    game = gbt.Game.from_arrays(*[u[i] for i in range(len(shape))])
    return game, read_nfg(game.to_nfg())


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (2, 4), (2, 2, 2), (3, 2, 2)])
def test_random_games_read_from_pygambit_solve_like_pygambit(shape):
    rng = np.random.default_rng([SEED, *shape])
    for trial in range(6):
        game, g = _random_written_by_gambit(rng, shape, integer=trial % 2 == 0)
        theirs = {tuple(int(np.argmax([float(eq[s]) for s in p.strategies])) for p in game.players)
                  for eq in gbt.nash.enumpure_solve(game).equilibria}
        assert {tuple(int(a) for a in p) for p in pure_nash(g.payoffs).pure_profiles(0)} == theirs
        if len(shape) == 2:
            ref = {tuple(np.round(profile_vector(game, e), 8) + 0.0)
                   for e in gbt.nash.enummixed_solve(game, rational=False).equilibria}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = support_enumeration(g.payoffs)
            assert {tuple(np.round(e, 8) + 0.0) for e in res.equilibria(0)} == ref
        res = logit_qre(g.payoffs, [1.0])
        if res.lambda_status[0, 0] == STATUS["ok"]:
            q = gbt.qre.logit_solve_lambda(game, lam=[1.0])[0]
            assert np.abs(res.profiles[0, 0] - profile_vector(game, q.profile)).max() <= QRE_AGREE


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 3, 3), (2, 2, 2, 2), (3, 3, 2, 2)])
def test_many_random_games_read_from_pygambit_solve_like_pygambit(shape):
    rng = np.random.default_rng([SEED, 1, *shape])
    for trial in range(20):
        game, g = _random_written_by_gambit(rng, shape, integer=trial % 2 == 0)
        theirs = {tuple(int(np.argmax([float(eq[s]) for s in p.strategies])) for p in game.players)
                  for eq in gbt.nash.enumpure_solve(game).equilibria}
        assert {tuple(int(a) for a in p) for p in pure_nash(g.payoffs).pure_profiles(0)} == theirs
        res = logit_qre(g.payoffs, [0.5, 2.0])
        for k, lam in enumerate((0.5, 2.0)):
            if res.lambda_status[0, k] == STATUS["ok"]:
                q = gbt.qre.logit_solve_lambda(game, lam=[lam])[0]
                assert np.abs(res.profiles[0, k] - profile_vector(game, q.profile)).max() <= QRE_AGREE


@pytest.mark.parametrize("text, pattern", [
    # A fuzzed file once declared ~10^12 strategies: reading it must not try to build them.
    ('NFG 1 R "" { "A" "B" } { 3111111111111 2 } 1 2', r"number of strategies of player 1 of 2 "
                                                      r"\(a positive integer up to 10,000\)"),
    ('NFG 1 R "" { "A" "B" "C" } { 9000 9000 9000 } 1', r"a game of 9000 x 9000 x 9000 strategies: "
                                                       r"needs about .*, more than the limit"),
])
def test_declared_sizes_are_bounded_before_anything_is_allocated(text, pattern):
    with pytest.raises(GameFileError, match=pattern):
        read_nfg(text, where="huge.nfg")
