"""``allysim verify DIR``: recheck a sample of a finished sweep's stored solutions from its
manifest alone.

Everything is rebuilt from the manifest — the model from its text, each sampled point
from the design (:meth:`Design.points`), the solver options — and nothing from the
code path that wrote the folder: the payoffs of each sampled point are computed again,
and each stored solution (read back with the concept's
:meth:`~allysim.concepts.SweepLayout.solutions`) gets its expected payoffs and regret
(the most a player gains by deviating) recomputed from them. A *mismatch* is

- a stored number that is not what the payoffs give: parameters (``--store full``),
  expected payoffs, regret (to 1e-9 of the game's payoff scale);
- a solution that fails its concept's certificate (the layout's ``certificate``):
  ``nash`` — max regret <= ``tol`` x payoff scale (points whose status is not
  ``not_converged``); ``qre`` — the logit residual max |p - logit(lambda v(p))| <=
  ``residual_tol`` (at lambdas whose status is not ``not_converged``); ``rest`` — a rest
  point of the replicator, max |x (v - mean v)| <= ``tol`` x payoff scale; ``resolve``
  (staged games, whose certificate needs the whole tree) — the sampled points solved
  again give the stored rows bit for bit (a game's answer does not depend on its batch);
- a stored solution that is not a mixed profile, or a folder that cannot be read.

The worst regret is reported relative to the payoff scale (for a QRE it says how far
from Nash the quantal response is). ``export_nfg`` writes sampled points as Gambit
``.nfg`` files, with the stored solutions in a comment, for a check outside allysim.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..concepts import get_concept
from ..errors import AllysimError
from ..io.atomic import atomic_write
from ..io.nfg import to_nfg
from ..model import compile_model
from ..solve import STATUS
from ..solve._profile import logit_residual, split_profile, strategy_values
from ..solve.regret import payoff_scale
from . import integrity
from . import store as st

#: Stored payoffs and regrets must agree with the recomputed ones to this many payoff scales.
MATCH_TOL = 1e-9
#: Statuses whose solutions are not claimed to meet the certificate.
UNCERTIFIED = {int(STATUS[s]) for s in ("not_converged", "failed", "timeout")}


@dataclass
class VerifyReport:
    """What :func:`verify_folder` checked and found."""

    folder: str
    label: str
    rows: int = 0                 # stored solutions
    checked: int = 0              # of them, rechecked
    points: int = 0               # distinct points among the rechecked
    worst: float = 0.0            # worst regret / payoff scale
    worst_point: int = -1
    certificate: str = "nash"
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _layout(spec):
    model = compile_model(spec.model_source, where=spec.model_where)
    concept = get_concept(spec.solver)
    options = concept.resolve(spec.options, model.players)
    return model, concept.sweep(concept, model, options, spec.store)


def _load(folder: Path) -> dict[str, np.ndarray]:
    with np.load(Path(folder) / st.RESULTS, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _stored_values(layout, data, sol) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Stored expected payoffs (E, n), regret (E,) and the status (E,) that applies to each
    solution of ``sol``, aligned with its rows (None where the store keeps none)."""
    point = sol["point"]
    if "eq_point" in data:
        return data.get("eq_payoff"), data.get("eq_regret"), data["status"][point]
    if "prob" in data:      # one solution per point (and lambda): flat index point * L + slot
        n, lanes = len(data["prob"]), (data["prob"].shape[1] if data["prob"].ndim == 3 else 1)
        flat = point * lanes + sol["slot"]
        payoff = data["payoff"].reshape(n * lanes, -1)[flat] if "payoff" in data else None
        regret = data["regret"].reshape(-1)[flat] if "regret" in data else None
        status = data["lambda_status"] if "lambda_status" in data else data["status"]
        return payoff, regret, status.reshape(-1)[flat]
    return None, None, data["status"][point]


def _expected_and_regret(payoffs: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    values = strategy_values(payoffs, sigma)
    mixes = split_profile(sigma, payoffs.shape[2:])
    expected = np.stack([(v * m).sum(axis=1) for v, m in zip(values, mixes)], axis=1)
    best = np.stack([v.max(axis=1) for v in values], axis=1)
    return expected, best - expected, values


def verify_folder(folder: str | Path, *, sample: int = 1000, seed: int = 0) -> VerifyReport:
    """Recheck ``sample`` stored solutions of the results folder ``folder``, drawn with
    ``seed`` (module docstring). Raises :class:`~allysim.errors.AllysimError` only for a
    folder that is not a finished sweep; everything else is in the report."""
    folder = Path(folder)
    manifest, spec = integrity.read_manifest(folder)
    model, layout = _layout(spec)
    rep = VerifyReport(str(folder), layout.label, certificate=getattr(layout, "certificate", "nash"))
    rep.mismatches += integrity.seal_differences(folder)[0]
    try:
        data = _load(folder)
        sol = layout.solutions(data)
        n_points = len(data["status"])
    except Exception as exc:     # missing, truncated, tampered or inconsistent arrays
        rep.mismatches.append(f"{st.RESULTS}: cannot be read ({type(exc).__name__}: {exc})")
        return rep
    if n_points != spec.design.n:
        rep.mismatches.append(f"{st.RESULTS}: {n_points:,} points, the design has {spec.design.n:,}")
        return rep
    rep.rows = len(sol["point"])
    if not rep.rows:
        rep.notes.append("no stored solutions to check (no point has one)")
        return rep
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(rep.rows, size=min(sample, rep.rows), replace=False))
    point = sol["point"][pick]
    if point.min() < 0 or point.max() >= n_points:
        rep.mismatches.append(f"{st.RESULTS}: solutions of points outside [0, {n_points})")
        return rep
    uniq, inv = np.unique(point, return_inverse=True)
    rep.checked, rep.points = len(pick), len(uniq)
    params = points_at(spec.design, uniq)
    if "params" in data:
        design = spec.design
        stored = data["params"][uniq]
        bad = np.flatnonzero((stored != params[:, list(design.columns)]).any(axis=1))
        for u in bad[:5]:
            rep.mismatches.append(f"point {uniq[u]}: stored parameters {stored[u].tolist()} are not "
                                  f"the design's {params[u, list(design.columns)].tolist()}")
    payoffs = model.payoffs(params, check=False)
    finite = np.isfinite(payoffs.reshape(len(uniq), -1)).all(axis=1)
    for u in np.flatnonzero(~finite)[:5]:
        rep.mismatches.append(f"point {uniq[u]}: has stored solutions, but its payoffs are not finite")
    rows = finite[inv]
    sigma = sol["prob"][pick]
    payoff, regret, status = (x[pick] if x is not None else None
                              for x in _stored_values(layout, data, sol))
    _check_rows(rep, layout, model, payoffs[inv], sigma, sol["slot"][pick], point, rows,
                payoff, regret, status)
    if rep.certificate == "resolve":
        _check_by_solving(rep, layout, data, params, uniq, finite)
    return rep


def points_at(design, index: np.ndarray) -> np.ndarray:
    """Full parameter points of the design at the ascending indices ``index``: (len, P)."""
    if not len(index):
        return np.zeros((0, len(design.base)))
    return np.concatenate([design.points(int(i), int(i) + 1) for i in index])


def _check_rows(rep, layout, model, payoffs, sigma, slot, point, rows, payoff, regret, status):
    """Recompute each sampled solution's payoffs and regret; apply the certificate."""
    shape = model.shape
    blocks = split_profile(sigma, shape)
    valid = np.isfinite(sigma).all(axis=1) & (sigma >= -1e-9).all(axis=1)
    for b in blocks:
        valid &= np.abs(b.sum(axis=1) - 1.0) <= 1e-9
    for r in np.flatnonzero(rows & ~valid)[:5]:
        rep.mismatches.append(f"point {point[r]}: a stored solution is not a mixed profile: "
                              f"{np.round(sigma[r], 6).tolist()}")
    ok = rows & valid
    if not ok.any():
        return
    P, s = payoffs[ok], np.where(np.isfinite(sigma[ok]), sigma[ok], 0.0)
    pt, st_, sl = point[ok], status[ok], slot[ok]
    scale = payoff_scale(P)
    expected, gain, values = _expected_and_regret(P, s)
    max_gain = gain.max(axis=1)
    rel = max_gain / scale
    worst = int(np.argmax(rel))
    rep.worst, rep.worst_point = float(rel[worst]), int(pt[worst])
    kind = rep.certificate
    # an agent QRE's payoffs are those of its behaviour strategies, not of the marginals
    if payoff is not None and (kind != "resolve" or "eq_path" in layout_fields(layout)):
        got = payoff[ok]
        off = np.abs(got - expected).max(axis=1) > MATCH_TOL * scale
        _report(rep, pt, off, lambda i: f"stored expected payoffs {np.round(got[i], 9).tolist()}, "
                f"recomputed {np.round(expected[i], 9).tolist()}")
    if regret is not None and kind in ("nash", "qre", "rest"):
        got = regret[ok]
        off = ~(np.abs(got - max_gain) <= MATCH_TOL * scale)
        _report(rep, pt, off, lambda i: f"stored regret {got[i]:.6g}, recomputed {max_gain[i]:.6g}")
    if kind == "resolve" and regret is not None:     # the stored (tree) certificate
        rep.worst = float(np.max(regret[ok] / scale))
        rep.worst_point = int(pt[int(np.argmax(regret[ok] / scale))])
    claimed = ~np.isin(st_.astype(int), list(UNCERTIFIED))
    options = layout.options
    if kind == "nash":
        tol = options["tol"]
        off = claimed & (rel > tol * (1 + 1e-6) + 1e-15)
        _report(rep, pt, off, lambda i: f"not an equilibrium within tol {tol:g}: max regret "
                f"{rel[i]:.3g} x payoff scale")
    elif kind == "rest":
        tol = options["tol"]
        flow = np.concatenate([m * (v - (m * v).sum(axis=1, keepdims=True))
                               for m, v in zip(split_profile(s, P.shape[2:]), values)], axis=1)
        size = np.abs(flow).max(axis=1) / scale
        off = claimed & (size > max(tol, 1e-8))
        _report(rep, pt, off, lambda i: f"not a rest point of the replicator: max |flow| "
                f"{size[i]:.3g} x payoff scale")
    elif kind == "qre":
        lams = np.asarray(options["lambda"], dtype=float)[sl]
        res = logit_residual(P, s, lams)
        tol = options["residual_tol"]
        off = claimed & (res > tol * (1 + 1e-6) + 1e-15)
        _report(rep, pt, off, lambda i: f"not a logit QRE at lambda {lams[i]:g}: residual "
                f"{res[i]:.3g} > {tol:g}")


def layout_fields(layout) -> set[str]:
    return {f.name for f in (*layout.point_fields(), *layout.row_fields())}


def _report(rep, point, off, describe) -> None:
    for i in np.flatnonzero(off)[:5]:
        rep.mismatches.append(f"point {point[i]}: {describe(i)}")
    if off.sum() > 5:
        rep.mismatches.append(f"... and {int(off.sum()) - 5} more such solution(s)")


def _check_by_solving(rep, layout, data, params, uniq, finite) -> None:
    """Solve the sampled points again (one batch) and compare their stored arrays bitwise."""
    idx = np.flatnonzero(finite)
    if not len(idx):
        return
    fresh = layout.reduce(params[idx], 0)
    here = uniq[idx]
    for f in layout.point_fields():
        if f.name in data and data[f.name][here].tobytes() != \
                np.asarray(fresh[f.name], dtype=f.dtype).tobytes():
            rep.mismatches.append(f"'{f.name}' of the sampled points differs from solving them "
                                  "again")
    rows = layout.row_fields()
    if rows and "eq_point" in data:
        stored_sel = np.isin(data["eq_point"], here)
        new_point = here[np.asarray(fresh["eq_point"], dtype=np.int64)]
        if not np.array_equal(data["eq_point"][stored_sel], new_point):
            rep.mismatches.append("the sampled points' solutions differ from solving them again "
                                  "(their number)")
            return
        for f in rows:
            if f.name == "eq_point":
                continue
            if data[f.name][stored_sel].tobytes() != np.asarray(fresh[f.name], dtype=f.dtype).tobytes():
                rep.mismatches.append(f"'{f.name}' of the sampled points' solutions differs from "
                                      "solving them again")


def sampled_points(n: int, k: int, *, seed: int = 0) -> np.ndarray:
    """``k`` distinct point indices of ``range(n)`` drawn with ``seed`` (ascending)."""
    rng = np.random.default_rng(seed)
    if k >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=k, replace=False))


def export_nfg(folder: str | Path, k: int, out: str | Path, *, seed: int = 0) -> list[Path]:
    """Write ``k`` sampled points of the folder's sweep as Gambit ``.nfg`` files into the new
    folder ``out`` (``point-<index>.nfg``), each with its parameters and the stored solutions
    in the comment; all files or none."""
    folder, out = Path(folder), Path(out)
    manifest, spec = integrity.read_manifest(folder)
    model, layout = _layout(spec)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AllysimError(f"-o {out}: exists and is not an empty folder")
    if not out.parent.is_dir():
        raise AllysimError(f"-o {out}: folder {out.parent} does not exist")
    try:
        data = _load(folder)
        sol = layout.solutions(data)
    except Exception as exc:
        raise st.ResultsError(f"verify {folder}/{st.RESULTS}: unreadable ({type(exc).__name__}: "
                              f"{exc})") from None
    index = sampled_points(spec.design.n, k, seed=seed)
    params = points_at(spec.design, index)
    payoffs = model.payoffs(params, check=False)
    design = spec.design
    written = []
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise AllysimError(f"-o {out}: cannot write: {exc.strerror or exc}") from None
    try:
        for j, p in enumerate(index.tolist()):
            mine = sol["point"] == p
            stored = [np.round(x, 12).tolist() for x in sol["prob"][mine]]
            values = dict(zip(design.names, params[j, list(design.columns)].tolist()))
            comment = (f"allysim verify {folder}: point {p} of {manifest.get('solver', {}).get('name')}"
                       f" sweep; parameters {json.dumps(values)}; stored solutions "
                       f"(P(Player=STRATEGY) in player order) {json.dumps(stored)}")
            text = to_nfg(payoffs[j], model.players, model.strategies,
                          title=f"{model.name}: point {p}", comment=comment)
            name = tmp / f"point-{p:0{len(str(design.n - 1))}d}.nfg"
            atomic_write(name, lambda fh, t=text: fh.write(t.encode("utf-8")), sync=False)
            written.append(out / name.name)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AllysimError(f"-o {out}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


__all__ = ["VerifyReport", "verify_folder", "export_nfg", "points_at"]
