"""Gambit strategic-form game files (.nfg) in and out; extensive (.efg) files in via pygambit.

Format: Gambit's documentation, "Game representation formats": "The strategic
game (.nfg) file format, payoff version" and "..., outcome version". Both start
with a prologue::

    NFG 1 R "title" { "Player 1" "Player 2" }
    { { "U" "D" } { "L" "M" "R" } }        strategy labels, one list per player,
    "optional comment"                     or counts instead: { 2 3 }

and then either the *payoff* body, a flat list of numbers::

    1 1  0 2  0 2  1 1  0 3  2 0

or the *outcome* body, a list of outcomes ``{ "label" payoff, payoff }`` (commas
optional) followed by one outcome number per profile (0: the null outcome, all
payoffs zero)::

    { { "" 1, 1 } { "" 0, 2 } ... }
    1 2 2 1 3 0

Profiles are listed with the first player's strategy changing fastest, like the
digits of a counter (Fortran order over ``(s1, ..., sn)``); the payoff body gives
every player's payoff of a profile in player order. Whitespace is not
significant except inside double quotes, where ``\\"`` is a quote and ``\\\\`` a
backslash. Numbers are integers, decimals (``.5``, ``1.5e-3``) or rationals
(``3/2``); each is read exactly and rounded once to the nearest float64.

The reader follows that documentation and Gambit's own parser (``src/games/file.cc``,
read for the details the documentation leaves open: ``D`` is accepted like ``R``, the
comment is optional, commas only separate outcome payoffs). No pygambit is needed
for .nfg files; .efg files go through pygambit's reduced strategic form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import AllysimError, GameFileError
from ..limits import check_bytes, payoff_bytes
from ..model.compiler import MAX_PLAYERS, MAX_STRATEGIES
from ..game import Game

__all__ = ["GameFile", "read_nfg", "load_game", "to_nfg"]


# ----------------------------------------------------------------------------- writing

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_nfg(payoffs: np.ndarray, players, strategies, title: str = "", comment: str = "") -> str:
    """Write one game as .nfg text (payoff version, strategies labelled).

    Parameters
    ----------
    payoffs : ndarray of float, shape (n, s1, ..., sn) — one game, no batch axis
    players : n names; strategies : per player, its strategy names

    >>> text = to_nfg(np.array([[[1., 0.]], [[2., 3.]]]), ["A", "B"], [["a"], ["x", "y"]])
    >>> print(text.splitlines()[0])
    NFG 1 R "" { "A" "B" }
    >>> read_nfg(text).payoffs.tolist()
    [[[[1.0, 0.0]], [[2.0, 3.0]]]]
    """
    payoffs = np.asarray(payoffs, dtype=float)
    n = payoffs.shape[0]
    if payoffs.ndim != n + 1 or len(players) != n:
        raise ValueError(f"to_nfg(): payoffs must have shape (n, s1, ..., sn), got {payoffs.shape}")
    head = f"NFG 1 R {_quote(title)} {{ {' '.join(_quote(p) for p in players)} }}"
    strat = "{ " + " ".join("{ " + " ".join(_quote(s) for s in ss) + " }" for ss in strategies) + " }"
    # Gambit orders profiles with player 1 fastest: Fortran order over (s1, ..., sn).
    flat = payoffs.reshape(n, -1, order="F").T
    body = "\n".join(" ".join(repr(float(v)) for v in row) for row in flat)
    return f"{head}\n\n{strat}\n{_quote(comment)}\n\n{body}\n"


# ----------------------------------------------------------------------------- the game read

@dataclass(frozen=True, eq=False)
class GameFile(Game):
    """A :class:`~allysim.game.Game` (B = 1) read from a Gambit file, with what the
    file says about itself.

    Attributes
    ----------
    payoffs : ndarray of float64, shape (1, n, s1, ..., sn)
    players, strategies : labels from the file (see :func:`read_nfg` for empty
        or repeated labels)
    title, comment : the file's title and comment ("" if none)
    format : ``"nfg-payoff"``, ``"nfg-outcome"`` or ``"efg"`` (reduced strategic form)
    path : the file read, or None for text
    """

    title: str = ""
    comment: str = ""
    format: str = ""
    path: str | None = None


def unique_labels(labels) -> tuple[str, ...]:
    """Labels made non-empty and distinct, keeping every usable one as it is.

    An empty label becomes its 1-based position (``"2"``); a label already used
    by an earlier entry gets ``"_k"`` appended, ``k`` its position (again until
    it is new).

    >>> unique_labels(["", "a", "a", "1"])
    ('1', 'a', 'a_3', '1_4')
    """
    out: list[str] = []
    used: set[str] = set()
    for k, label in enumerate(labels, 1):
        label = label or str(k)
        while label in used:
            label = f"{label}_{k}"
        used.add(label)
        out.append(label)
    return tuple(out)


# ----------------------------------------------------------------------------- lexer

_NUMBER = r"[+-]?(?:\d+/\d+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)(?=[\s{},\"]|\Z)"
_TOKENS = re.compile(
    r'(?P<space>\s+)|(?P<lbrace>\{)|(?P<rbrace>\})|(?P<comma>,)'
    r'|(?P<text>"(?:[^"\\]|\\.)*")|(?P<badtext>")'
    rf'|(?P<number>{_NUMBER})|(?P<symbol>[^\s{{}},"]+)', re.DOTALL)
_UNESCAPE = re.compile(r'\\(["\\])')
_WHAT = {"lbrace": "'{'", "rbrace": "'}'", "comma": "','"}


class _Tokens:
    """The tokens of a file and a cursor; every error names the file, line and column."""

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.kinds: list[str] = []
        self.values: list[str] = []
        self.starts: list[int] = []
        for m in _TOKENS.finditer(text):
            kind = m.lastgroup
            if kind == "space":
                continue
            if kind == "badtext":
                self.pos = len(self.kinds)
                self.fail_at(m.start(), "a closing '\"' for the label that starts here, found end of file")
            self.kinds.append(kind)
            self.values.append(m.group())
            self.starts.append(m.start())
        self.pos = 0

    def location(self, offset: int) -> str:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"{self.where}:{line}:{column}"

    def fail_at(self, offset: int, message: str):
        raise GameFileError(f"{self.location(offset)}: expected {message}")

    def describe(self) -> str:
        if self.pos >= len(self.kinds):
            return "end of file"
        kind, value = self.kinds[self.pos], self.values[self.pos]
        if kind in _WHAT:
            return _WHAT[kind]
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown.replace("\n", " "))

    def fail(self, expected: str):
        offset = self.starts[self.pos] if self.pos < len(self.kinds) else len(self.text)
        self.fail_at(offset, f"{expected}, found {self.describe()}")

    def peek(self) -> str | None:
        return self.kinds[self.pos] if self.pos < len(self.kinds) else None

    def take(self, kind: str, expected: str) -> str:
        if self.peek() != kind:
            self.fail(expected)
        value = self.values[self.pos]
        self.pos += 1
        return value

    def label(self, expected: str) -> str:
        return _UNESCAPE.sub(r"\1", self.take("text", expected)[1:-1])

    def number(self, expected: str) -> float:
        if self.peek() != "number":
            self.fail(expected)
        text = self.values[self.pos]
        try:
            value = float(Fraction(text))
        except ZeroDivisionError:
            self.fail(f"{expected} (a rational with a nonzero denominator)")
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value):
            self.fail(f"{expected} that fits a float64 (|x| < 1.8e308)")
        self.pos += 1
        return value

    def count(self, expected: str, low: int, high: int | None = None) -> int:
        if self.peek() != "number" or not self.values[self.pos].isdigit() \
                or int(self.values[self.pos]) < low or (high is not None and int(self.values[self.pos]) > high):
            self.fail(expected)
        value = int(self.values[self.pos])
        self.pos += 1
        return value


# ----------------------------------------------------------------------------- parser

def _prologue(tok: _Tokens):
    """Header, players, strategies and comment."""
    if tok.peek() == "symbol" and tok.values[tok.pos] == "EFG":
        tok.fail("'NFG' (a strategic-form game; an extensive .efg game is read by load_game)")
    if tok.peek() != "symbol" or tok.values[tok.pos] != "NFG":
        tok.fail("'NFG' (a Gambit strategic-form game file)")
    tok.pos += 1
    if tok.peek() != "number" or tok.values[tok.pos] != "1":
        tok.fail("version '1' after 'NFG'")
    tok.pos += 1
    if tok.peek() != "symbol" or tok.values[tok.pos] not in ("R", "D"):
        tok.fail("'R' (or 'D') after 'NFG 1'")
    tok.pos += 1
    title = tok.label("the game's title in double quotes")
    tok.take("lbrace", "'{' opening the list of players")
    players = []
    while tok.peek() == "text":
        players.append(tok.label("a player's label"))
    if not players:
        tok.fail("at least one player's label in double quotes")
    tok.take("rbrace", "a player's label in double quotes or '}' closing the players")
    n = len(players)
    tok.take("lbrace", "'{' opening the strategies")
    strategies: list[list[str]] = []
    if tok.peek() == "lbrace":                      # labelled: one list per player
        for i in range(n):
            tok.take("lbrace", f"'{{' opening the strategies of player {i + 1} of {n}")
            labels = []
            while tok.peek() == "text":
                labels.append(tok.label("a strategy label"))
            if not labels:
                tok.fail(f"at least one strategy label for player {i + 1}")
            tok.take("rbrace", f"a strategy label or '}}' closing the strategies of player {i + 1}")
            strategies.append(labels)
    else:                                           # counts: { 3 2 }
        for i in range(n):
            k = tok.count(f"the number of strategies of player {i + 1} of {n} (a positive integer "
                          f"up to {MAX_STRATEGIES:,})", 1, MAX_STRATEGIES)
            strategies.append([str(j) for j in range(1, k + 1)])
    tok.take("rbrace", f"'}}' closing the strategies of the {n} players")
    # The sizes model files may have (allysim.model), checked before anything is allocated.
    if n > MAX_PLAYERS:
        raise GameFileError(f"{tok.where}: {n} players; expected at most {MAX_PLAYERS}")
    shape = [len(s) for s in strategies]
    if any(s > MAX_STRATEGIES for s in shape):
        raise GameFileError(f"{tok.where}: a player has {max(shape):,} strategies; expected at most "
                            f"{MAX_STRATEGIES:,}")
    try:
        check_bytes(payoff_bytes(shape), f"{tok.where}: a game of {' x '.join(map(str, shape))} "
                                         "strategies")
    except AllysimError as exc:
        raise GameFileError(str(exc)) from None
    comment = tok.label("") if tok.peek() == "text" else ""
    return title, players, strategies, comment


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _exact(text: str) -> float:
    """A number token as the nearest float64 (Python's float() rounds decimals correctly)."""
    return float(Fraction(text)) if "/" in text else float(text)


def _payoff_body(tok: _Tokens, n: int, profiles: int) -> np.ndarray:
    total = n * profiles
    block = slice(tok.pos, tok.pos + total)
    if len(tok.kinds[block]) == total and all(k == "number" for k in tok.kinds[block]):
        try:   # fast path: every payoff a number token
            values = np.array([_exact(v) for v in tok.values[block]], dtype=np.float64)
        except (ZeroDivisionError, OverflowError):
            values = None
        if values is not None and np.isfinite(values).all():
            tok.pos += total
            return values.reshape(profiles, n)
    values = np.empty(total)   # slow path, which finds and names the bad token
    for k in range(total):
        values[k] = tok.number(f"payoff {k + 1} of {total} ({_plural(n, 'player')} x "
                               f"{_plural(profiles, 'profile')})")
    return values.reshape(profiles, n)


def _outcome_body(tok: _Tokens, n: int, profiles: int) -> np.ndarray:
    tok.take("lbrace", "'{' opening the outcomes")
    outcomes = [np.zeros(n)]                      # outcome 0: the null outcome
    while tok.peek() == "lbrace":
        tok.pos += 1
        m = len(outcomes)
        tok.label(f"outcome {m}'s label in double quotes")
        payoff = np.empty(n)
        for i in range(n):
            payoff[i] = tok.number(f"outcome {m}'s payoff to player {i + 1} of {n}")
            if tok.peek() == "comma":
                tok.pos += 1
        tok.take("rbrace", f"'}}' closing outcome {m} after its {n} payoffs")
        outcomes.append(payoff)
    tok.take("rbrace", "'{' opening an outcome or '}' closing the outcomes")
    table = np.stack(outcomes)
    last = len(outcomes) - 1
    block = slice(tok.pos, tok.pos + profiles)
    values = tok.values[block]
    if len(values) == profiles and all(k == "number" for k in tok.kinds[block]) \
            and all(v.isdigit() for v in values):    # fast path: every index a plain integer
        index = np.array([int(v) for v in values], dtype=np.int64)
        if profiles == 0 or index.max() <= last:
            tok.pos += profiles
            return table[index]
    index = np.empty(profiles, dtype=np.int64)  # slow path, which finds and names the bad token
    for k in range(profiles):
        index[k] = tok.count(f"outcome number {k + 1} of {profiles} (an integer from 0 to {last})",
                             0, last)
    return table[index]


def read_nfg(text: str, where: str = "<nfg>") -> GameFile:
    """Read a Gambit strategic-form game (.nfg text), payoff or outcome version.

    Parameters
    ----------
    text : str
        The file's contents.
    where : str, default "<nfg>"
        The name used in error messages (the file's path).

    Returns
    -------
    GameFile
        A :class:`~allysim.game.Game` with ``payoffs`` of shape ``(1, n, s1, ..., sn)``
        (float64), the players' and strategies' labels from the file, and its title,
        comment and format (``"nfg-payoff"`` or ``"nfg-outcome"``). Strategies
        given as counts (``{ 3 2 }``) are labelled ``"1"``, ``"2"``, ... as Gambit
        does. Labels are made usable as names: an empty label becomes its 1-based
        position and a repeated one gets ``"_k"`` appended (:func:`unique_labels`);
        players and each player's strategies separately.

    Raises
    ------
    GameFileError
        A one-line message naming ``where``, the line and column, what was
        expected and what was found.

    Examples
    --------
    The sample file of Gambit's documentation (payoff version):

    >>> g = read_nfg('NFG 1 R "Selten (IJGT, 75), Figure 2" { "Player 1" "Player 2" } { 3 2 }'
    ...              ' 1 1 0 2 0 2 1 1 0 3 2 0')
    >>> g.players, g.strategies, g.payoffs.shape
    (('Player 1', 'Player 2'), (('1', '2', '3'), ('1', '2')), (1, 2, 3, 2))
    >>> g.payoffs[0, :, 1, 0].tolist()   # player 1's 2nd strategy against player 2's 1st
    [0.0, 2.0]

    Outcome version, with exact rationals:

    >>> g = read_nfg('NFG 1 R "" { "A" "B" } { { "x" "y" } { "l" } } '
    ...              '{ { "win" 3/2, -1/2 } } 1 0')
    >>> g.format, g.payoffs[0].tolist()
    ('nfg-outcome', [[[1.5], [0.0]], [[-0.5], [0.0]]])
    >>> read_nfg('NFG 1 R "" { "A" } { 2 } 1', where="tiny.nfg")
    Traceback (most recent call last):
    ...
    allysim.errors.GameFileError: tiny.nfg:1:27: expected payoff 2 of 2 (1 player x 2 profiles), found end of file
    """
    tok = _Tokens(text, where)
    title, players, strategies, comment = _prologue(tok)
    n = len(players)
    shape = tuple(len(s) for s in strategies)
    profiles = int(np.prod(shape))
    if tok.peek() == "number":
        flat, fmt = _payoff_body(tok, n, profiles), "nfg-payoff"
    elif tok.peek() == "lbrace":
        flat, fmt = _outcome_body(tok, n, profiles), "nfg-outcome"
    else:
        tok.fail("the payoffs (numbers) or the outcomes ('{') after the prologue")
    if tok.peek() is not None:
        tok.fail(f"end of file after the {profiles} profiles")
    # flat[k, i]: player i's payoff at profile k, player 1's strategy fastest.
    payoffs = flat.T.reshape((n, *shape), order="F")[None]
    return GameFile(np.ascontiguousarray(payoffs, dtype=np.float64), unique_labels(players),
                    tuple(unique_labels(s) for s in strategies), title=title, comment=comment,
                    format=fmt)


def _read_efg(path: Path) -> GameFile:
    """The reduced strategic form of an extensive game, through pygambit."""
    try:
        import pygambit
    except ImportError:
        raise GameFileError(f"{path}: an extensive-form (.efg) game is read through pygambit, which "
                            f"is not installed; install it with: pip install 'allysim[gambit]'") from None
    try:
        game = pygambit.read_efg(str(path))
    except Exception as exc:   # pygambit raises ValueError/IOError/RuntimeError with its own text
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise GameFileError(f"{path}: expected a Gambit extensive-form game: {detail}") from None
    players = list(game.players)
    if not players:
        raise GameFileError(f"{path}: expected at least one player, found none")
    arrays = game.to_arrays()          # the reduced strategic form, one array per player
    payoffs = np.stack([np.asarray(a, dtype=np.float64) for a in arrays])[None]
    return GameFile(np.ascontiguousarray(payoffs), unique_labels([p.label for p in players]),
                    tuple(unique_labels([s.label for s in p.strategies]) for p in players),
                    title=game.title, comment=game.description, format="efg", path=str(path))


def load_game(path: str | Path) -> GameFile:
    """Read a Gambit game file: ``.nfg`` by allysim's own parser, ``.efg`` by pygambit.

    Parameters
    ----------
    path : str or Path
        A ``.nfg`` file (strategic form, payoff or outcome version; see
        :func:`read_nfg`) or a ``.efg`` file (extensive form, read with
        ``pygambit.read_efg`` and turned into its reduced strategic form with
        ``Game.to_arrays``; needs the ``gambit`` extra: ``pip install 'allysim[gambit]'``).

    Returns
    -------
    GameFile
        ``payoffs`` of shape ``(1, n, s1, ..., sn)`` with the file's labels; ``path`` set.

    Raises
    ------
    GameFileError
        One line naming the file: unreadable, not UTF-8, another extension,
        malformed (with line and column for .nfg), or pygambit missing for .efg.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".nfg", ".efg"):
        raise GameFileError(f"{path}: expected a Gambit game file ending in .nfg or .efg")
    if suffix == ".efg":
        if not path.is_file():
            raise GameFileError(f"{path}: no such game file")
        return _read_efg(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GameFileError(f"{path}: no such game file") from None
    except UnicodeDecodeError as exc:
        raise GameFileError(f"{path}: expected UTF-8 text (Gambit files are UTF-8), "
                            f"found byte {exc.object[exc.start]:#04x} at offset {exc.start}") from None
    except OSError as exc:
        raise GameFileError(f"{path}: cannot read game file: {exc.strerror}") from None
    game = read_nfg(text, where=str(path))
    return GameFile(game.payoffs, game.players, game.strategies, title=game.title,
                    comment=game.comment, format=game.format, path=str(path))
