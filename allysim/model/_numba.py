"""A compiled (numba) payoff and pure-equilibrium kernel, generated from a model's Expr trees.

Models stay data: nothing here builds Python source text or calls ``eval``/``exec``.
The already validated :class:`~allysim.model.expr.Expr` trees of a model are
emitted node by node as LLVM instructions inside a numba ``@intrinsic``
(``fill(p, u)``: parameter vector in, flat payoff table out), which the generic
jitted loops below call once per point. Emission is memoised on
``(node, the strategies of the players the node depends on)``, so every
sub-expression is computed once per distinct combination of the strategies it
reads — a derived quantity such as ``kappa`` that depends on US and Japan is
computed 9 times per point, not 81 — and everything stays in registers.

For the best-response test each player's payoff is *reduced*: additive terms
that do not depend on the player's own strategy are dropped, since adding a
function of the others' strategies cannot change a best response. Full payoffs
(``payoffs``) keep every term and apply the same IEEE operations in the same
order as the NumPy reference (:meth:`allysim.model.Model.payoffs`), so they agree
bitwise for models built from ``+ - * /``, comparisons, ``min max clip where
abs``; ``**``, ``exp`` and ``log`` go through libm and can differ in the last bit
from NumPy's own loops.

numba is optional (the ``fast`` extra): callers check
:func:`allysim.solve._backend.numba_available` and fall back to the NumPy path.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

#: The status codes the kernel writes, in the order of allysim.solve.STATUS_NAMES
#: (checked there: ``tests/test_sweep_kernel.py``); the model layer does not import solvers.
STATUS_CODES = {"ok": 0, "no_pure": 1, "degenerate": 2, "failed": 6}
_OK, _NO_PURE, _DEGENERATE, _FAILED = (STATUS_CODES[k] for k in ("ok", "no_pure", "degenerate", "failed"))


# -- the model as a table of interned nodes ---------------------------------------------
class _Graph:
    """The model's expressions interned into nodes ``(kind, value, children, deps)``.

    ``deps`` is the sorted tuple of players whose strategies the node reads.
    Structurally equal sub-expressions share one node.
    """

    def __init__(self, model):
        self.model = model
        self.nodes: list[tuple[str, Any, tuple[int, ...], tuple[int, ...]]] = []
        self._ids: dict = {}
        self.derived: dict[str, int] = {}
        for name, expr in model.derived:
            self.derived[name] = self.intern(expr)
        self.attributes = [{attr: tuple(self.intern(e) for e in exprs) for attr, exprs in table.items()}
                           for table in model.attributes]
        self.payoffs = [self.intern(e) for e in model.payoff_exprs]

    def intern(self, expr) -> int:
        kids = tuple(self.intern(a) for a in expr.args)
        key = (expr.kind, expr.value, kids)
        if key in self._ids:
            return self._ids[key]
        deps: set[int] = set()
        for k in kids:
            deps.update(self.nodes[k][3])
        if expr.kind in ("indicator", "attr"):
            deps.add(expr.value[0])
        elif expr.kind == "derived":
            deps.update(self.nodes[self.derived[expr.value]][3])
        self.nodes.append((expr.kind, expr.value, kids, tuple(sorted(deps))))
        self._ids[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def chain(self, i: int) -> list[tuple[int, int, tuple[int, ...]]]:
        """Player i's additive payoff terms that depend on its own strategy, as
        ``(sign, node, deps of the partial sum up to this term)``, fewest players first."""
        kept = [(s, t) for s, t in self.terms(self.payoffs[i]) if i in self.nodes[t][3]]
        kept.sort(key=lambda st: len(self.nodes[st[1]][3]))
        out, seen = [], set()
        for s, t in kept:
            seen |= set(self.nodes[t][3])
            out.append((s, t, tuple(sorted(seen))))
        return out

    def terms(self, nid: int, sign: int = 1) -> list[tuple[int, int]]:
        """Top-level additive terms of a node as ``(sign, node)`` pairs, in order."""
        kind, value, kids, _ = self.nodes[nid]
        if kind == "op" and value in ("+", "-"):
            return self.terms(kids[0], sign) + self.terms(kids[1], sign if value == "+" else -sign)
        if kind == "neg":
            return self.terms(kids[0], -sign)
        return [(sign, nid)]


class _Emitter:
    """Emits LLVM IR for node values at pure profiles, memoised per dependency projection."""

    def __init__(self, graph: _Graph, context, builder, p_data):
        from llvmlite import ir

        self.ir, self.g, self.b, self.p_data = ir, graph, builder, p_data
        self.dbl, self.i64 = ir.DoubleType(), ir.IntType(64)
        self.memo: dict = {}
        self.params: dict[int, Any] = {}
        self.names = {name: j for j, name in enumerate(graph.model.parameter_names)}

    def const(self, x: float):
        return self.ir.Constant(self.dbl, float(x))

    def intrinsic(self, name: str, nargs: int):
        from numba.core import cgutils

        fnty = self.ir.FunctionType(self.dbl, [self.dbl] * nargs)
        return cgutils.get_or_insert_function(self.b.module, fnty, name)

    def param(self, j: int):
        if j not in self.params:
            ptr = self.b.gep(self.p_data, [self.ir.Constant(self.i64, j)])
            self.params[j] = self.b.load(ptr)
        return self.params[j]

    def minimum(self, x, y, op: str):
        b = self.b
        pick_y = b.fcmp_ordered("<" if op == "min" else ">", y, x)
        r = b.select(pick_y, y, x)
        return b.select(b.fcmp_unordered("uno", y, y), y, r)   # NaN in y propagates, as np.minimum

    def value(self, nid: int, prof: tuple[int, ...]):
        kind, value, kids, deps = self.g.nodes[nid]
        key = (nid, tuple(prof[j] for j in deps))
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        b = self.b
        if kind == "num":
            v = self.const(value)
        elif kind == "param":
            v = self.param(self.names[value])
        elif kind == "indicator":
            v = self.const(1.0 if prof[value[0]] == value[1] else 0.0)
        elif kind == "attr":
            i, attr = value
            v = self.value(self.g.attributes[i][attr][prof[i]], prof)
        elif kind == "derived":
            v = self.value(self.g.derived[value], prof)
        elif kind == "neg":
            v = b.fneg(self.value(kids[0], prof))
        elif kind == "op":
            x, y = self.value(kids[0], prof), self.value(kids[1], prof)
            if value == "+":
                v = b.fadd(x, y)
            elif value == "-":
                v = b.fsub(x, y)
            elif value == "*":
                v = b.fmul(x, y)
            elif value == "/":
                v = b.fdiv(x, y)
            elif value == "**":
                v = b.call(self.intrinsic("llvm.pow.f64", 2), [x, y])
            else:   # comparisons give 0/1; NaN compares false except for !=, as NumPy
                cmp = (b.fcmp_unordered("!=", x, y) if value == "!="
                       else b.fcmp_ordered(value, x, y))
                v = b.uitofp(cmp, self.dbl)
        elif kind == "call":
            args = [self.value(k, prof) for k in kids]
            if value in ("min", "max"):
                v = self.minimum(args[0], args[1], value)
            elif value == "clip":
                v = self.minimum(self.minimum(args[0], args[1], "max"), args[2], "min")
            elif value == "where":
                v = b.select(b.fcmp_unordered("!=", args[0], self.const(0.0)), args[1], args[2])
            elif value in ("exp", "log"):
                v = b.call(self.intrinsic(f"llvm.{value}.f64", 1), args)
            elif value == "abs":
                v = b.call(self.intrinsic("llvm.fabs.f64", 1), args)
            else:  # pragma: no cover - the expression whitelist has no other functions
                raise ValueError(f"kernel: function {value!r} has no compiled form")
        else:  # pragma: no cover
            raise ValueError(f"kernel: node kind {kind!r} has no compiled form")
        self.memo[key] = v
        return v

    def reduced(self, i: int, prof: tuple[int, ...]):
        """Player i's payoff without the additive terms that do not depend on its strategy.

        The kept terms are summed in order of how many players they depend on, and
        every partial sum is memoised on the strategies it reads, so the part of the
        sum shared by many profiles is computed once.
        """
        chain = self.g.chain(i)
        if not chain:
            return self.const(0.0)
        v = None
        for j, (sign, t, deps) in enumerate(chain):
            key = ("chain", i, j, tuple(prof[d] for d in deps))
            hit = self.memo.get(key)
            if hit is None:
                x = self.value(t, prof)
                if v is None:
                    hit = self.b.fneg(x) if sign < 0 else x
                else:
                    hit = (self.b.fadd if sign > 0 else self.b.fsub)(v, x)
                self.memo[key] = hit
            v = hit
        return v


def _make_fill(graph: _Graph, reduced: bool):
    """A numba intrinsic ``fill(p, u)`` writing ``u[i * S + c]`` for every player i and
    flat profile c (C order): full payoffs, or reduced ones when ``reduced``."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    model = graph.model
    profiles = list(np.ndindex(*model.shape))
    size = len(profiles)

    @intrinsic
    def fill(typingctx, p, u):
        for arg in (p, u):
            if not (isinstance(arg, types.Array) and arg.ndim == 1 and arg.layout == "C"
                    and arg.dtype == types.float64):
                return None
        sig = types.void(p, u)

        def codegen(context, builder, signature, args):
            pa = context.make_array(signature.args[0])(context, builder, args[0])
            ua = context.make_array(signature.args[1])(context, builder, args[1])
            em = _Emitter(graph, context, builder, pa.data)
            i64 = ir.IntType(64)
            for i in range(model.n_players):
                for c, prof in enumerate(profiles):
                    v = em.reduced(i, prof) if reduced else em.value(graph.payoffs[i], prof)
                    builder.store(v, builder.gep(ua.data, [ir.Constant(i64, i * size + c)]))
            return context.get_dummy_value()

        return sig, codegen

    return fill


class Kernel:
    """Compiled payoffs and pure-equilibrium counts for one model.

    Build it with :func:`build_kernel`; ``compile_seconds`` is the time spent
    compiling (both entry points, on a one-point warm-up).
    """

    def __init__(self, model):
        from numba import njit

        self.model = model
        graph = _Graph(model)
        n, shape = model.n_players, model.shape
        size = math.prod(shape)
        strides = [math.prod(shape[i + 1:]) for i in range(n)]
        shape_arr = np.array(shape, dtype=np.int64)
        # own[i, c]: player i's strategy in flat profile c
        own = np.array(list(np.ndindex(*shape)), dtype=np.int64).T.copy().reshape(n, size)
        stride_arr = np.array(strides, dtype=np.int64)
        fill_reduced = _make_fill(graph, reduced=True)
        fill_full = _make_fill(graph, reduced=False)
        ok, no_pure, degenerate, failed = _OK, _NO_PURE, _DEGENERATE, _FAILED

        @njit(nogil=True)
        def counts(P, tol, count, status, outcome, hist):
            u = np.empty(n * size)
            cand = np.empty(size, dtype=np.int64)
            wk = np.empty(size, dtype=np.bool_)
            for b in range(P.shape[0]):
                fill_reduced(P[b], u)
                bad = 0.0
                for k in range(n * size):
                    bad += u[k] - u[k]          # NaN if any entry is inf or NaN
                if bad != 0.0:
                    count[b] = 0
                    status[b] = failed
                    outcome[b] = -1
                    continue
                # The payoff scale (solve.payoff_scale): the largest own-strategy spread of
                # any player against any profile of the others. Dropped terms depend only on
                # the others' strategies, so the reduced payoffs have the same spreads.
                scale = 0.0
                for i in range(n):
                    st = stride_arr[i]
                    si = shape_arr[i]
                    for o in range(size // (si * st)):
                        base = i * size + o * si * st
                        for q in range(st):
                            top = u[base + q]
                            low = top
                            for k in range(1, si):
                                v = u[base + k * st + q]
                                top = v if v > top else top
                                low = v if v < low else low
                            scale = top - low if top - low > scale else scale
                # With no spread at all every comparison is between equal numbers.
                slack = tol * scale
                # Candidates: profiles where player 0 plays a best reply (u >= max - slack, as
                # pure_nash), collected branch-free; then each further player keeps the
                # candidates where it best-replies too. ``wk`` flags a tie for some player's
                # best reply along the way (a weak equilibrium).
                ncand = 0
                st = stride_arr[0]
                si = shape_arr[0]
                for o in range(size // (si * st)):
                    base = o * si * st
                    for q in range(st):
                        top = u[base + q]
                        for k in range(1, si):
                            v = u[base + k * st + q]
                            top = v if v > top else top
                        thr = top - slack
                        ties = 0
                        for k in range(si):
                            ties += u[base + k * st + q] >= thr
                        for k in range(si):
                            c = base + k * st + q
                            cand[ncand] = c
                            wk[ncand] = ties > 1
                            ncand += u[c] >= thr
                for i in range(1, n):
                    st = stride_arr[i]
                    si = shape_arr[i]
                    off = i * size
                    kept = 0
                    for j in range(ncand):
                        c = cand[j]
                        base = off + c - own[i, c] * st
                        top = u[base]
                        for k in range(1, si):
                            v = u[base + k * st]
                            top = v if v > top else top
                        thr = top - slack
                        ties = 0
                        for k in range(si):
                            ties += u[base + k * st] >= thr
                        cand[kept] = c
                        wk[kept] = wk[j] | (ties > 1)
                        kept += u[off + c] >= thr
                    ncand = kept
                anyweak = False
                for j in range(ncand):
                    hist[cand[j]] += 1
                    anyweak |= wk[j]
                count[b] = ncand
                if ncand == 0:
                    status[b] = no_pure
                    outcome[b] = -1
                else:
                    status[b] = degenerate if anyweak else ok
                    outcome[b] = cand[0] if ncand == 1 else -2

        @njit(nogil=True)
        def payoffs(P, out):
            for b in range(P.shape[0]):
                fill_full(P[b], out[b])

        self._counts, self._payoffs, self.size = counts, payoffs, size
        start = time.perf_counter()
        one = np.ascontiguousarray(model.defaults[None, :])
        self.counts(one, 1e-9)
        self.payoffs(one)
        self.compile_seconds = time.perf_counter() - start

    def counts(self, params: np.ndarray, tol: float):
        """Pure-equilibrium counts of a block of points.

        Parameters
        ----------
        params : ndarray of float64, shape (B, P)
        tol : best-response tolerance, relative to each point's payoff scale

        Returns
        -------
        count : ndarray of int32, shape (B,)
        status : ndarray of int8, shape (B,) (``ok``, ``no_pure``, ``degenerate``, ``failed``
            for non-finite payoffs)
        outcome : ndarray of int32, shape (B,): flat profile index of the unique
            equilibrium, -1 when there is none, -2 when there are several
        hist : ndarray of int64, shape (S,): per profile, how many points have it as an equilibrium
        """
        params = np.ascontiguousarray(params, dtype=np.float64)
        batch = params.shape[0]
        count = np.empty(batch, np.int32)
        status = np.empty(batch, np.int8)
        outcome = np.empty(batch, np.int32)
        hist = np.zeros(self.size, np.int64)
        self._counts(params, float(tol), count, status, outcome, hist)
        return count, status, outcome, hist

    def payoffs(self, params: np.ndarray) -> np.ndarray:
        """Full payoffs, shape (B, n, s1, ..., sn), as :meth:`Model.payoffs` (unchecked)."""
        params = np.ascontiguousarray(params, dtype=np.float64)
        out = np.empty((params.shape[0], self.model.n_players * self.size))
        self._payoffs(params, out)
        return out.reshape((params.shape[0], self.model.n_players, *self.model.shape))


_KERNELS: dict[str, Kernel] = {}


def build_kernel(model) -> Kernel:
    """The compiled kernel of ``model``, cached per process by the model's sha256."""
    key = model.sha256
    if key not in _KERNELS:
        _KERNELS[key] = Kernel(model)
    return _KERNELS[key]
