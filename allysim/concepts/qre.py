"""Concepts ``qre`` (the logit QRE on the principal branch at each lambda) and
``qre-limit`` (the branch's limit: the Nash equilibrium the logit trace selects).

Both say where the principal branch is not unique: past a branch point (symmetric or
tied payoffs) the answer is on the generic branch (:mod:`allysim.solve.logit_qre`),
with status ``bifurcation`` and the number of branch points passed; reports carry
``branch_points``, text reports a note, ``qre-limit`` sweeps a ``branch_points``
column, and summaries the share of such points."""
from __future__ import annotations

import math

import numpy as np

from ..solve import STATUS, logit_qre, logit_trace
from ._base import Concept, register
from ._report import (base_report, outcome_probabilities, solution_record, status_name, table)
from ._sweep import (FAILED, Column, Field, LambdaLayout, SweepLayout, mean_probability_lines,
                     point_columns, probability_labels, profile_name)


def _player_table(report, game) -> str:
    rows = []
    for p in game.players:
        probs = report["probabilities"][p]
        rows.append([p, "  ".join(f"{s} {v:.4f}" for s, v in probs.items()),
                     f"{report['payoff'][p]:.4f}", f"{report['regret'][p]:.2e}"])
    return table(["player", "probabilities", "expected payoff", "regret"], rows)


def _outcome_table(report, game) -> str:
    rows = [[str(k)] + [o["profile"][p] for p in game.players] + [f"{o['probability']:.4f}"]
            for k, o in enumerate(report["outcome_probabilities"]["top_profiles"], 1)]
    return table(["#"] + list(game.players) + ["probability"], rows)


# ----------------------------------------------------------------------------- qre

def _qre_label(options, slot) -> str:
    return f"QRE(lambda={options['lambda'][slot]:g})"


def _solve_qre(payoffs, options, game):
    return logit_qre(payoffs, options["lambda"], residual_tol=options["residual_tol"],
                     backend=options["backend"])


def _qre_run(concept, result, game, options):
    reports = []
    for li, lam in enumerate(result.lambdas):
        rep = base_report(concept, _qre_label(options, li), result, options)
        rep.update(status=status_name(result.lambda_status[0, li]), count=1, **{"lambda": float(lam)},
                   branch="principal", branch_points=int(result.branch_points[0, li]))
        sigma = result.profiles[0, li]
        if np.isfinite(sigma).all():
            rec = solution_record(game, sigma, pure=False)
            rep.update(rec, residual=float(result.residual[0, li]),
                       outcome_probabilities=outcome_probabilities(game, sigma))
            rep["equilibria"] = [rec]
        else:
            rep.update(count=0, equilibria=[])
        reports.append(rep)
    return reports


def _format_qre(report, game) -> str:
    head = f"Logit QRE at lambda = {report['lambda']:g} (principal branch; status {report['status']}"
    if "probabilities" not in report:
        return head + ")\n  no certified QRE at this lambda (see the status)"
    lines = [head + f", residual {report['residual']:.1e}, max regret {report['max_regret']:.3g})",
             _player_table(report, game), "Most likely outcomes:", _outcome_table(report, game)]
    if report["status"] == "bifurcation":
        lines.append(BRANCH_NOTE.format(n=report["branch_points"], where="before this lambda",
                                        what="this QRE"))
    return "\n".join(lines)


#: The note under a report whose branch passed branch points.
BRANCH_NOTE = ("Note: the principal branch passed {n} branch point(s) {where} (symmetric or tied "
               "payoffs), so it is not unique: {what} is on the generic branch, the one every "
               "slightly perturbed game follows (the first player infinitesimally more precise, "
               "Gambit's convention); in a symmetric game its mirror image is equally valid.")


class QRELayout(LambdaLayout):
    """The logit QRE per point and lambda (:class:`~allysim.concepts.LambdaLayout`)."""

    def note(self) -> str:
        return (f"batched logit QRE, principal branch, lambda "
                f"{', '.join(f'{x:g}' for x in self.lams)} (backend {self.solve_options['backend']}, "
                f"residual <= {self.options['residual_tol']:g})")

    def summary(self, totals, n_points):
        return super().summary(totals, n_points) + _branch_lines(totals, n_points, "some lambda")


def _branch_lines(totals, n_points, where) -> list[str]:
    """A summary line on the points whose branch passed a branch point (status counts)."""
    count = int(totals["status_counts"][STATUS["bifurcation"]]) if "status_counts" in totals else 0
    if not count:
        return []
    return [f"  status bifurcation at {count} point(s) ({100 * count / n_points:.2f}%): the "
            f"principal branch passed a branch point before {where} (symmetric or tied payoffs); "
            "their answer is on the generic branch, one of several"]


QRE = register(Concept(
    name="qre", title="logit quantal response equilibrium",
    help="logit quantal response equilibrium at each --lambda (principal branch)",
    options=("lambda", "residual_tol", "backend"), solve=_solve_qre, label=_qre_label, pure=False,
    sweep=QRELayout, run=_qre_run, format=_format_qre))


# ----------------------------------------------------------------------------- qre-limit

def _solve_limit(payoffs, options, game):
    return logit_trace(payoffs, tol=options["tol"], backend=options["backend"])


def _limit_run(concept, result, game, options):
    rep = base_report(concept, "NE (logit QRE limit)", result, options)
    rec = solution_record(game, result.profiles[0, 0], pure=False)
    rep.update(lambda_reached=float(result.lambda_reached[0]), refined=bool(result.refined[0]),
               branch="principal", branch_points=int(result.branch_points[0]), equilibria=[rec])
    rep.update(rec, outcome_probabilities=outcome_probabilities(game, result.profiles[0, 0]))
    return [rep]


def _format_limit(report, game) -> str:
    how = "exact on its support" if report["refined"] else "last QRE of the trace"
    lines = [f"Logit QRE limit (Nash equilibrium selected by the principal branch; status "
             f"{report['status']}, max regret {report['max_regret']:.1e}, lambda reached "
             f"{report['lambda_reached']:.3g}, {how})",
             _player_table(report, game), "Most likely outcomes:", _outcome_table(report, game)]
    if report["status"] == "bifurcation":
        lines.append(BRANCH_NOTE.format(n=report["branch_points"], where="on its way",
                                        what="the selected equilibrium (certified)"))
    if report["status"] == "not_converged":
        lines.append(f"Note: the regret stayed above {report['parameters']['tol']:g} x payoff scale; "
                     "this is an approximate equilibrium.")
    return "\n".join(lines)


class LimitLayout(SweepLayout):
    """Per point: the selected equilibrium's probabilities, its regret, the lambda the
    trace reached, whether it came from the exact support step, the branch points the
    branch passed (where the selection is not unique: status ``bifurcation``) and the
    status; the outcome is the flat profile index where the selection is pure (-1
    otherwise)."""

    points_per_second = 7_500.0

    chunk_points = 1024

    def note(self) -> str:
        return f"logit trace to the limit, principal branch (backend {self.solve_options['backend']})"

    def point_fields(self):
        return [Field("prob", "float64", (self.size,), np.nan), Field("regret", "float64", (), np.nan),
                Field("lambda_reached", "float64", (), np.nan), Field("refined", "bool"),
                Field("branch_points", "int16"), Field("outcome", "int32", (), -1),
                Field("status", "int8", (), FAILED)]

    def total_fields(self):
        return [Field("prob_sum", "float64", (self.size,)), Field("solved", "int64"),
                Field("outcome_points", "int64", (math.prod(self.model.shape),))]

    def fill(self, out, res, idx, payoffs, start):
        prob = res.profiles[:, 0]
        out["prob"][idx], out["regret"][idx] = prob, res.regret[:, 0]
        out["lambda_reached"][idx], out["refined"][idx] = res.lambda_reached, res.refined
        out["branch_points"][idx] = res.branch_points
        out["status"][idx] = res.status
        pure = ((prob == 0) | (prob == 1)).all(axis=1)
        flat = np.full(len(idx), -1, np.int64)
        if pure.any():
            offsets = np.cumsum([0, *self.model.shape[:-1]])
            choice = np.stack([prob[pure, o:o + s].argmax(axis=1)
                               for o, s in zip(offsets, self.model.shape)], axis=1)
            flat[pure] = np.ravel_multi_index(tuple(choice.T), self.model.shape)
        out["outcome"][idx] = flat

    def totals(self, out):
        prob, outcome = out["prob"], out["outcome"]
        ok = np.isin(out["status"], [STATUS["ok"], STATUS["bifurcation"]])
        return {"prob_sum": prob[ok].sum(axis=0), "solved": np.int64(ok.sum()),
                "outcome_points": np.bincount(outcome[outcome >= 0],
                                              minlength=math.prod(self.model.shape)).astype(np.int64)}

    def csv_header(self, varied):
        return ["point", "solution_concept", "status", *varied, *probability_labels(self.model),
                "max_regret", "lambda_reached", "branch_points"]

    def columns(self, arrays, varied, start):
        prob = arrays["prob"]
        columns = [Column("", prob[:, c]) for c in range(self.size)]
        columns += [Column("", arrays["regret"]), Column("", arrays["lambda_reached"]),
                    Column("", arrays["branch_points"].astype(np.int64))]
        concept = Column("", np.zeros(len(prob), np.int8), (self.label,))
        return point_columns(start, concept, arrays["status"], varied, columns)

    def summary(self, totals, n_points):
        solved = int(totals["solved"])
        if not solved:
            return [f"{self.label}: no point solved"]
        lines = [f"{self.label}, tol {self.options['tol']:g}; mean probability over the {solved} "
                 f"points certified:"]
        lines += mean_probability_lines(self.model, totals["prob_sum"], solved)
        pure = totals["outcome_points"]
        lines.append(f"  the selection is pure at {100 * pure.sum() / n_points:.2f}% of the points"
                     + (":" if pure.sum() else ""))
        for flat in np.argsort(-pure, kind="stable")[:12]:
            if pure[flat]:
                lines.append(f"    {profile_name(self.model, flat):<28} {100 * pure[flat] / n_points:6.2f}%")
        return lines + _branch_lines(totals, n_points, "its limit")


QRE_LIMIT = register(Concept(
    name="qre-limit", title="logit QRE limit",
    help="the Nash equilibrium the principal logit QRE branch converges to (certified to --tol; "
         "status bifurcation where the branch splits, so the selection is not unique)",
    options=("tol", "backend"), solve=_solve_limit, label=lambda o, m: "NE (logit QRE limit)",
    pure=False, sweep=LimitLayout, run=_limit_run, format=_format_limit))
