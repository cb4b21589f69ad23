"""A compiled (numba) payoff and pure-equilibrium kernel, generated from a model's Expr trees.

Models stay data: nothing here builds Python source text or calls ``eval``/``exec``.
The kernel has one C-callable entry point (:func:`_make_entry`: counts, equilibrium
rows, full payoffs) over raw pointers. Its machine code is compiled once per model and
kept on disk (:func:`cache_dir`, ``~/.cache/allysim`` by default), keyed by the model's
content, the versions of allysim, numba and llvmlite, this module's source and the
host CPU (:func:`cache_key`); a later process maps it back with llvmlite's MCJIT and
calls it through ctypes without importing numba (about 0.1 s instead of a 2 to 20 s
compile), and a compile says so in one line (``notify``).
The already validated :class:`~allysim.model.expr.Expr` trees of a model are
emitted node by node as LLVM instructions inside a numba ``@intrinsic``
(``fill(p, u)``: parameter vector in, flat payoff table out), which the generic
jitted loops below call once per point. Emission is memoised on
``(node, the strategies of the players the node depends on)``, so every
sub-expression is computed once per distinct combination of the strategies it
reads — a derived quantity such as ``kappa`` that depends on US and Japan is
computed 9 times per point, not 81 — and everything stays in registers.

Payoffs keep every term and apply the same IEEE operations in the same order as
the NumPy reference (:meth:`allysim.model.Model.payoffs`), so they agree bitwise
for models built from ``+ - * /``, comparisons, ``min max clip where abs``;
``**``, ``exp`` and ``log`` go through libm and can differ in the last bit from
NumPy's own loops. The best-response test and the finiteness check read these
full payoffs, as :func:`allysim.solve.pure_nash` does. (An earlier version tested
best replies on payoffs without the terms that do not depend on the player's own
strategy: about 17% faster, but a NaN in a dropped term went unnoticed, and the
rounding of the dropped terms could decide a tolerance tie differently from every
other path; ``tests/test_store_consistency.py``.)

The equilibrium rows (``rows``: each equilibrium's profile, every player's full payoff
and the regret) come from a second generated intrinsic, ``deviations``: for a player and
the others' strategies in the equilibrium (a ``switch`` over both) the player's full
payoffs for each of its strategies, computed as the NumPy reference computes them, so rows agree with
:func:`allysim.solve.pure_nash` on :meth:`allysim.model.Model.payoffs` bit for bit for
``+ - * /`` models.

numba is optional (the ``fast`` extra): callers check
:func:`allysim.solve._backend.numba_available` and fall back to the NumPy path.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import time
from pathlib import Path
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

def _make_fill(graph: _Graph):
    """A numba intrinsic ``fill(p, u)`` writing ``u[i * S + c]``, player i's payoff at flat
    profile c (C order), for every player and profile."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    model = graph.model
    profiles = list(np.ndindex(*model.shape))
    size = len(profiles)

    @intrinsic
    def fill(typingctx, p, u):
        for arg in (p, u):
            if not (isinstance(arg, types.Array) and arg.ndim == 1 and arg.layout in "CA"
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
                    v = em.value(graph.payoffs[i], prof)
                    builder.store(v, builder.gep(ua.data, [ir.Constant(i64, i * size + c)]))
            return context.get_dummy_value()

        return sig, codegen

    return fill


def _make_deviations(graph: _Graph):
    """A numba intrinsic ``deviations(p, key, d)``: player i's full payoffs ``d[a]`` for
    each of its strategies ``a`` against the others' strategies in a profile, where
    ``key = i * S + c`` and c is the flat profile (C order) with i's own strategy set to
    0. One branch per (player, others' profile) — a ``switch`` on ``key`` — each computing
    only those ``s_i`` payoffs, with the sub-expressions they share computed once."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    model = graph.model
    profiles = list(np.ndindex(*model.shape))
    size = len(profiles)

    @intrinsic
    def deviations(typingctx, p, key, d):
        if not (isinstance(key, types.Integer) and all(
                isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64
                for a in (p, d))):
            return None
        sig = types.void(p, types.int64, d)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            pa = context.make_array(signature.args[0])(context, builder, args[0])
            da = context.make_array(signature.args[2])(context, builder, args[2])
            fn = builder.function
            done = fn.append_basic_block("deviations.done")
            switch = builder.switch(args[1], done)
            for i, si in enumerate(model.shape):
                for c, prof in enumerate(profiles):
                    if prof[i] != 0:
                        continue
                    block = fn.append_basic_block(f"deviations.{i}.{c}")
                    switch.add_case(ir.Constant(i64, i * size + c), block)
                    builder.position_at_end(block)
                    em = _Emitter(graph, context, builder, pa.data)   # this branch's values
                    for a in range(si):
                        v = em.value(graph.payoffs[i], prof[:i] + (a,) + prof[i + 1:])
                        builder.store(v, builder.gep(da.data, [ir.Constant(i64, a)]))
                    builder.branch(done)
            builder.position_at_end(done)
            return context.get_dummy_value()

        return sig, codegen

    return deviations


def _make_entry(model):
    """Compile the kernel of ``model`` with numba: one C-callable entry point
    ``kernel(mode, ...)`` (mode 0: counts, 1: equilibrium rows, 2: full payoffs) over raw
    pointers, so its machine code can be cached and called without numba
    (:func:`_load_entry`). Returns the numba ``cfunc``."""
    from numba import carray, cfunc, njit, types

    graph = _Graph(model)
    n, shape = model.n_players, model.shape
    size = math.prod(shape)
    smax = max(shape)
    strides = [math.prod(shape[i + 1:]) for i in range(n)]
    shape_arr = np.array(shape, dtype=np.int64)
    # own[i, c]: player i's strategy in flat profile c
    own = np.array(list(np.ndindex(*shape)), dtype=np.int64).T.copy().reshape(n, size)
    stride_arr = np.array(strides, dtype=np.int64)
    fill = _make_fill(graph)
    deviations = _make_deviations(graph)
    ok, no_pure, degenerate, failed = _OK, _NO_PURE, _DEGENERATE, _FAILED
    jit = njit(nogil=True, error_model="numpy")

    inline = njit(nogil=True, error_model="numpy", inline="always")

    @inline
    def find(u, tol, cand, wk):
        """Pure equilibria of one point's payoffs ``u``: their flat indices in
        ``cand[:k]`` (ascending) and whether any is weak; k = -1 if a payoff is not finite."""
        bad = 0.0
        for k in range(n * size):
            bad += u[k] - u[k]          # NaN if any entry is inf or NaN
        if bad != 0.0:
            return -1, False
        # The payoff scale (solve.payoff_scale): the largest own-strategy spread of
        # any player against any profile of the others.
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
                wk[kept] = wk[j] | (ties > 1)          # branch-free, as the candidates
                kept += u[off + c] >= thr
            ncand = kept
        anyweak = False
        for j in range(ncand):            # canonical (ascending) order; few candidates
            anyweak |= wk[j] != 0
            c = cand[j]
            k = j
            while k > 0 and cand[k - 1] > c:
                cand[k] = cand[k - 1]
                k -= 1
            cand[k] = c
        return ncand, anyweak

    @inline
    def point(b, ncand, anyweak, cand, count, status, outcome, hist):
        if ncand < 0:
            count[b] = 0
            status[b] = failed
            outcome[b] = -1
            return
        for j in range(ncand):
            hist[cand[j]] += 1
        count[b] = ncand
        if ncand == 0:
            status[b] = no_pure
            outcome[b] = -1
        else:
            status[b] = degenerate if anyweak else ok
            outcome[b] = cand[0] if ncand == 1 else -2

    @jit
    def counts(P, tol, count, status, outcome, hist, u, cand, wk):
        for b in range(P.shape[0]):
            fill(P[b], u)
            ncand, anyweak = find(u, tol, cand, wk)
            point(b, ncand, anyweak, cand, count, status, outcome, hist)

    @jit
    def rows(P, tol, start, count, status, outcome, hist, eq_point, eq_profile, eq_payoff,
             eq_regret, u, cand, wk, d):
        cap = eq_point.shape[0]
        r = 0
        for b in range(P.shape[0]):
            fill(P[b], u)
            ncand, anyweak = find(u, tol, cand, wk)
            r0 = r
            bad = 0.0
            for j in range(ncand):
                e = cand[j]
                regret = 0.0
                for i in range(n):
                    deviations(P[b], i * size + e - own[i, e] * stride_arr[i], d)
                    pay = d[own[i, e]]
                    top = d[0]
                    bad += top - top
                    for k in range(1, shape_arr[i]):
                        v = d[k]
                        bad += v - v
                        top = v if v > top else top
                    gain = top - pay
                    regret = gain if (i == 0 or gain > regret) else regret
                    if r < cap:
                        eq_profile[r, i] = own[i, e]
                        eq_payoff[r, i] = pay
                if r < cap:
                    eq_point[r] = start + b
                    eq_regret[r] = regret
                r += 1
            if bad != 0.0:      # a full payoff at an equilibrium is not finite: failed
                r = r0
                ncand = -1
            point(b, ncand, anyweak, cand, count, status, outcome, hist)
        return r

    @jit
    def payoffs(P, out):
        for b in range(P.shape[0]):
            fill(P[b], out[b])

    f8p, i8 = types.CPointer(types.float64), types.int64
    sig = i8(i8, f8p, i8, i8, types.float64, i8, i8, types.CPointer(types.int32),
             types.CPointer(types.int8), types.CPointer(types.int32), types.CPointer(types.int64),
             types.CPointer(types.int64), types.CPointer(types.int16), f8p, f8p, f8p,
             types.CPointer(types.int64), types.CPointer(types.uint8), f8p, f8p)

    @cfunc(sig, nopython=True, error_model="numpy")
    def kernel(mode, pp, B, npar, tol, start, cap, cp, sp, op, hp, ep, prp, pap, rgp, up, candp,
               wkp, dp, fp):
        P = carray(pp, (B, npar))
        if mode == 2:
            payoffs(P, carray(fp, (B, n * size)))
            return 0
        count, status, outcome = carray(cp, (B,)), carray(sp, (B,)), carray(op, (B,))
        hist, u = carray(hp, (size,)), carray(up, (n * size,))
        cand, wk = carray(candp, (size,)), carray(wkp, (size,))
        if mode == 0:
            counts(P, tol, count, status, outcome, hist, u, cand, wk)
            return 0
        return rows(P, tol, start, count, status, outcome, hist, carray(ep, (cap,)),
                    carray(prp, (cap, n)), carray(pap, (cap, n)), carray(rgp, (cap,)), u, cand,
                    wk, carray(dp, (smax,)))

    return kernel


# -- the on-disk cache of compiled kernels ---------------------------------------------------
#: Bump when the layout of a cache file or the entry point's signature changes.
CACHE_FORMAT = 1


def cache_dir() -> Path | None:
    """Where compiled kernels are kept: ``$ALLYSIM_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/allysim``, else ``~/.cache/allysim``; None when
    ``ALLYSIM_CACHE_DIR`` is set to an empty string (caching off)."""
    env = os.environ.get("ALLYSIM_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "allysim"


def _generator_digest() -> str:
    """sha256 of this module's source: a change to the code generator invalidates the cache."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def cache_key(model) -> str:
    """The cache key of a model's kernel: the model's content (sha256 of its text), the
    versions of allysim, numba and llvmlite, this generator's source and the host CPU
    (the machine code is compiled for it)."""
    import llvmlite
    import llvmlite.binding as llvm

    from .. import __version__
    try:
        numba_version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        numba_version = "none"
    doc = {"format": CACHE_FORMAT, "model": model.sha256, "allysim": __version__,
           "numba": numba_version, "llvmlite": llvmlite.__version__,
           "generator": _generator_digest(), "cpu": llvm.get_host_cpu_name(),
           "features": llvm.get_host_cpu_features().flatten()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def _save_entry(path: Path, kernel) -> None:
    """Write the entry point's machine code (and the module's bitcode, which the loader
    needs to know its symbols) to ``path``, atomically."""
    from ..io.atomic import atomic_write

    lib = kernel._library
    module = lib._final_module
    blob = {"object": np.frombuffer(lib._codegen._tm.emit_object(module), np.uint8),
            "bitcode": np.frombuffer(module.as_bitcode(), np.uint8),
            "name": np.array(kernel.native_name)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda fh: np.savez(fh, **blob), sync=False)


_ENGINES: list = []      # loaded machine code stays mapped for the life of the process
_STUBS: list = []


def _stub(name: str):
    import ctypes
    fn = ctypes.CFUNCTYPE(None)(lambda: None)
    _STUBS.append(fn)
    return ctypes.cast(fn, ctypes.c_void_p).value


def _load_entry(path: Path):
    """The entry point cached at ``path`` as a ctypes function, without importing numba;
    None if the file cannot be used (then the kernel is compiled again)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            obj, bitcode, name = z["object"].tobytes(), z["bitcode"].tobytes(), str(z["name"])
    except (OSError, ValueError, KeyError):
        return None
    try:
        return _map_entry(obj, bitcode, name)
    except Exception:      # e.g. a platform whose process symbols ctypes cannot look up
        return None


def _map_entry(obj: bytes, bitcode: bytes, name: str):
    """Map cached machine code into this process with llvmlite's MCJIT (every symbol it
    needs resolved first: an unresolved one would abort the process) and return its
    entry point as a ctypes function; None if a symbol cannot be resolved."""
    import ctypes

    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_bitcode(bitcode)
    process = ctypes.CDLL(None)
    for sym in [f.name for f in module.functions if f.is_declaration] + \
               [g.name for g in module.global_variables if g.is_declaration]:
        if sym.startswith("llvm.") or llvm.address_of_symbol(sym) is not None:
            continue
        try:
            address = ctypes.cast(getattr(process, sym), ctypes.c_void_p).value
        except AttributeError:
            # numba's runtime helpers are only reached on error paths the kernel has not
            # got (no allocation, no exception); anything else: recompile.
            if not sym.startswith(("NRT_", "numba_")):
                return None
            address = _stub(sym)
        llvm.add_symbol(sym, address)
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                           features=llvm.get_host_cpu_features().flatten(),
                                           jit=True)
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
    engine.set_object_cache(lambda mod, buf: None, lambda mod: obj)
    engine.add_module(module)
    engine.finalize_object()
    address = engine.get_function_address(name)
    if not address:
        return None
    _ENGINES.append(engine)
    return ctypes.CFUNCTYPE(*_argtypes())(address)


def _argtypes():
    import ctypes
    i8, p = ctypes.c_int64, ctypes.c_void_p
    return [i8, i8, p, i8, i8, ctypes.c_double, i8, i8] + [p] * 13


class Kernel:
    """Compiled payoffs, pure-equilibrium counts and equilibrium rows for one model.

    Build it with :func:`build_kernel`. ``compiled`` says whether this process compiled
    it (else its machine code came from the cache) and ``compile_seconds`` how long
    compiling or loading took.
    """

    def __init__(self, model, entry, *, compiled: bool, seconds: float, path: Path | None):
        self.model = model
        self.size = math.prod(model.shape)
        self.smax = max(model.shape)
        self._entry = entry
        self.compiled, self.compile_seconds, self.path = compiled, seconds, path

    def _call(self, mode, params, tol=0.0, start=0, cap=0, arrays=(), full=None):
        n, size = self.model.n_players, self.size
        ptr = [a.ctypes.data if a is not None else None for a in arrays]
        u = np.empty(n * size)
        cand = np.empty(size, np.int64)
        wk = np.empty(size, np.uint8)
        d = np.empty(self.smax)
        return self._entry(mode, params.ctypes.data, params.shape[0], params.shape[1], float(tol),
                           int(start), int(cap), *ptr, u.ctypes.data, cand.ctypes.data,
                           wk.ctypes.data, d.ctypes.data,
                           full.ctypes.data if full is not None else None)

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
        self._call(0, params, tol, arrays=(count, status, outcome, hist) + (None,) * 4)
        return count, status, outcome, hist

    def rows(self, params: np.ndarray, tol: float, start: int) -> dict[str, np.ndarray]:
        """:meth:`counts` and one row per equilibrium, in canonical order per point.

        Parameters
        ----------
        params : ndarray of float64, shape (B, P)
        tol : as :meth:`counts`
        start : global index of the first point (for ``eq_point``)

        Returns
        -------
        dict with ``count``, ``status``, ``outcome``, ``hist`` as :meth:`counts` and, with
        E the number of equilibria, ``eq_point`` (E,) int64, ``eq_profile`` (E, n) int16
        strategy indices, ``eq_payoff`` (E, n) float64 full payoffs and ``eq_regret`` (E,)
        float64 (each player's best deviation gain, the largest over players), the same
        numbers as :func:`allysim.solve.pure_nash` on :meth:`payoffs`. A point whose full
        payoff at an equilibrium or a deviation from it is not finite is ``failed``.
        """
        params = np.ascontiguousarray(params, dtype=np.float64)
        batch, n = params.shape[0], self.model.n_players
        cap = 2 * batch + 16
        while True:
            count = np.empty(batch, np.int32)
            status = np.empty(batch, np.int8)
            outcome = np.empty(batch, np.int32)
            hist = np.zeros(self.size, np.int64)
            eq = (np.empty(cap, np.int64), np.empty((cap, n), np.int16), np.empty((cap, n)),
                  np.empty(cap))
            need = self._call(1, params, tol, start, cap, (count, status, outcome, hist, *eq))
            if need <= cap:
                break
            cap = need
        return {"count": count, "status": status, "outcome": outcome, "hist": hist,
                "eq_point": eq[0][:need], "eq_profile": eq[1][:need], "eq_payoff": eq[2][:need],
                "eq_regret": eq[3][:need]}

    def payoffs(self, params: np.ndarray) -> np.ndarray:
        """Full payoffs, shape (B, n, s1, ..., sn), as :meth:`Model.payoffs` (unchecked)."""
        params = np.ascontiguousarray(params, dtype=np.float64)
        out = np.empty((params.shape[0], self.model.n_players * self.size))
        self._call(2, params, arrays=(None,) * 8, full=out)
        return out.reshape((params.shape[0], self.model.n_players, *self.model.shape))


_KERNELS: dict[str, Kernel] = {}


def build_kernel(model, notify=None) -> Kernel:
    """The compiled kernel of ``model``: from this process's memory, else from the disk
    cache (:func:`cache_dir`, keyed by :func:`cache_key`), else compiled with numba and
    written to the cache. ``notify(line)`` is called with one line when it compiles."""
    key = model.sha256
    if key in _KERNELS:
        return _KERNELS[key]
    start = time.perf_counter()
    folder = cache_dir()
    path = folder / f"kernel-{cache_key(model)}.npz" if folder is not None else None
    entry = _load_entry(path) if path is not None and path.exists() else None
    if entry is not None:
        kern = Kernel(model, entry, compiled=False, seconds=time.perf_counter() - start, path=path)
    else:
        cf = _make_entry(model)
        where = "not cached: ALLYSIM_CACHE_DIR is empty"
        if path is not None:
            try:
                _save_entry(path, cf)
                where = f"cached in {folder}"
            except OSError as exc:
                where = f"not cached: {folder}: {exc.strerror or exc}"
        import ctypes
        entry = ctypes.CFUNCTYPE(*_argtypes())(cf.address)
        kern = Kernel(model, entry, compiled=True, seconds=time.perf_counter() - start, path=path)
        kern._cfunc = cf        # keeps the compiled code alive
        if notify is not None:
            notify(f"compiled the sweep kernel of model {model.name} in {kern.compile_seconds:.1f} s "
                   f"(once: {where})")
    _KERNELS[key] = kern
    return kern
