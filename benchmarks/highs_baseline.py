"""The MIP baseline: the week's model, row for row, solved by HiGHS.

    python benchmarks/highs_baseline.py instances/evening-weekend-80.json --time-limit 60

The issue asks how iopsched compares with a general MIP solver on *the same
objective and hard rules*.  Rather than a second hand-written formulation that
could drift from the contract, this translates the CP-SAT model that
``iopsched.model.build_model`` makes into a mixed-integer program:

* every CP-SAT variable is an integer column with the same bounds; a domain
  with holes gets one binary per interval of it;
* clauses, conjunctions, at-most-one and exactly-one become linear rows;
* a linear constraint with enforcement literals is relaxed by big-M from the
  variables' bounds (one binary per interval when its domain has holes);
* ``max`` (shortfalls, attendance days, busiest therapist) is a max with one
  selector binary per argument;
* no-overlap is pairwise: one order binary for every two optional intervals
  whose start windows let them meet (pairs that cannot meet are skipped).

By default HiGHS starts from nothing: the plain MIP approach.  With
``--warm`` (``warm=True``) it is given iopsched's first-fit schedule as its
starting solution (every CP-SAT variable's value; HiGHS completes the
auxiliary columns), the same start iopsched's own search has.
Its schedule is read back through CP-SAT (every variable fixed to HiGHS's
value, which also checks the translation) and through iopsched's own
extraction, so it is validated and costed exactly like iopsched's.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
from ortools.sat.python import cp_model

from iopsched import Instance, Solution, Status, load_instance, validate
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.lns import Neighbourhood, restricted_model
from iopsched.search.found import Found, with_schedule
from iopsched.search.start import first_fit_found
from iopsched.solution import Stats

Terms = dict[int, float]  # column -> coefficient
UNSUPPORTED = (
    "all_diff",
    "bool_xor",
    "cumulative",
    "element",
    "int_div",
    "int_mod",
    "int_prod",
    "table",
    "automaton",
    "circuit",
    "routes",
    "inverse",
    "reservoir",
    "no_overlap_2d",
)


@dataclass
class Mip:
    """Columns and rows being built (row-wise)."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def column(self, lo: float, hi: float, cost: float = 0.0) -> int:
        self.lb.append(lo)
        self.ub.append(hi)
        self.cost.append(cost)
        return len(self.lb) - 1

    def row(self, terms: Terms, lo: float, hi: float) -> None:
        """lo <= sum(terms) <= hi."""
        self.starts.append(len(self.index))
        for col, coef in terms.items():
            if coef:
                self.index.append(col)
                self.value.append(coef)
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def bounds(self, terms: Terms, const: float = 0.0) -> tuple[float, float]:
        lo = hi = const
        for col, coef in terms.items():
            a, b = coef * self.lb[col], coef * self.ub[col]
            lo += min(a, b)
            hi += max(a, b)
        return lo, hi


def _add(a: Terms, b: Terms, scale: float = 1.0) -> Terms:
    out = dict(a)
    for col, coef in b.items():
        out[col] = out.get(col, 0.0) + scale * coef
    return out


def _intervals(flat: list[int]) -> list[tuple[int, int]]:
    return list(zip(flat[::2], flat[1::2], strict=True))


class Translator:
    """CP-SAT proto -> HiGHS model."""

    def __init__(self, proto) -> None:  # the CpModelProto of cp_model.CpModel.proto
        self.proto = proto
        self.mip = Mip()
        self.pairs = 0
        for var in proto.variables:
            dom = _intervals(list(var.domain))
            self.mip.column(dom[0][0], dom[-1][1])
        self.n = len(proto.variables)
        for i, var in enumerate(proto.variables):
            dom = _intervals(list(var.domain))
            if len(dom) > 1:
                self._in_domain({i: 1.0}, 0.0, dom, [])
        for c in proto.constraints:
            self._constraint(c)
        obj = proto.objective
        for col, coef in zip(obj.vars, obj.coeffs, strict=True):
            self.mip.cost[col] += coef
        self.offset = obj.offset

    # literals: a literal l >= 0 is column l, a negative one is 1 - column (-l - 1)
    def _lit(self, lit: int) -> tuple[Terms, float]:
        return ({lit: 1.0}, 0.0) if lit >= 0 else ({-lit - 1: -1.0}, 1.0)

    def _slack(self, enforcement: list[int]) -> tuple[Terms, float]:
        """sum(1 - e): 0 exactly when every enforcement literal holds."""
        terms: Terms = {}
        const = 0.0
        for e in enforcement:
            t, c = self._lit(e)
            terms = _add(terms, t, -1.0)
            const += 1.0 - c
        return terms, const

    def _at_least(self, terms: Terms, const: float, lo: float, enforcement: list[int]) -> None:
        """terms + const >= lo whenever the enforcement literals hold."""
        low, _ = self.mip.bounds(terms, const)
        if low >= lo:
            return
        s_terms, s_const = self._slack(enforcement)
        if enforcement:  # terms + const + (lo - low) * slack >= lo
            terms = _add(terms, s_terms, lo - low)
            const += (lo - low) * s_const
        self.mip.row(terms, lo - const, np.inf)

    def _at_most(self, terms: Terms, const: float, hi: float, enforcement: list[int]) -> None:
        neg = {k: -v for k, v in terms.items()}
        self._at_least(neg, -const, -hi, enforcement)

    def _in_domain(
        self, terms: Terms, const: float, dom: list[tuple[int, int]], enforcement: list[int]
    ) -> None:
        low, high = self.mip.bounds(terms, const)
        dom = [(max(a, low), min(b, high)) for a, b in dom if b >= low and a <= high]
        if not dom:  # impossible: the enforcement must fail
            s_terms, s_const = self._slack(enforcement)
            self.mip.row(s_terms, 1 - s_const, np.inf)
            return
        if len(dom) == 1:
            self._at_least(terms, const, dom[0][0], enforcement)
            self._at_most(terms, const, dom[0][1], enforcement)
            return
        picks = [self.mip.column(0, 1) for _ in dom]
        s_terms, s_const = self._slack(enforcement)  # sum(picks) >= 1 - slack
        self.mip.row(_add({p: 1.0 for p in picks}, s_terms), 1 - s_const, np.inf)
        for pick, (a, b) in zip(picks, dom, strict=True):
            self._at_least(terms, const, a, [pick])
            self._at_most(terms, const, b, [pick])

    def _expr(self, e) -> tuple[Terms, float]:
        terms: Terms = {}
        for v, c in zip(e.vars, e.coeffs, strict=True):
            terms[v] = terms.get(v, 0.0) + c
        return terms, float(e.offset)

    def _constraint(self, c) -> None:
        enf = list(c.enforcement_literal)
        if c.has_bool_or():
            terms, const = self._slack(enf)
            for lit in c.bool_or.literals:
                t, k = self._lit(lit)
                terms, const = _add(terms, t), const + k
            self.mip.row(terms, 1 - const, np.inf)
        elif c.has_bool_and():
            for lit in c.bool_and.literals:
                t, k = self._lit(lit)
                self._at_least(t, k, 1, enf)
        elif c.has_at_most_one() or c.has_exactly_one():
            lits = c.at_most_one.literals if c.has_at_most_one() else c.exactly_one.literals
            terms, const = {}, 0.0
            for lit in lits:
                t, k = self._lit(lit)
                terms, const = _add(terms, t), const + k
            self._at_most(terms, const, 1, enf)
            if c.has_exactly_one():
                self._at_least(terms, const, 1, enf)
        elif c.has_linear():
            lin = c.linear
            terms = {}
            for v, k in zip(lin.vars, lin.coeffs, strict=True):
                terms[v] = terms.get(v, 0.0) + k
            self._in_domain(terms, 0.0, _intervals(list(lin.domain)), enf)
        elif c.has_lin_max():
            if enf:
                raise NotImplementedError("enforced lin_max")
            target, t_const = self._expr(c.lin_max.target)
            exprs = [self._expr(e) for e in c.lin_max.exprs]
            picks = [self.mip.column(0, 1) for _ in exprs]
            self.mip.row({p: 1.0 for p in picks}, 1, 1)
            for pick, (terms, const) in zip(picks, exprs, strict=True):
                diff = _add(target, terms, -1.0)  # target - expr
                self._at_least(diff, t_const - const, 0, [])
                self._at_most(diff, t_const - const, 0, [pick])
        elif c.has_int_div():  # target = expr // k for a constant k > 0 and expr >= 0
            num, n_const = self._expr(c.int_div.exprs[0])
            target, t_const = self._expr(c.int_div.target)
            den = c.int_div.exprs[1]
            if list(den.vars) or den.offset <= 0 or self.mip.bounds(num, n_const)[0] < 0:
                raise NotImplementedError("int_div by a variable or of a negative expression")
            k = float(den.offset)
            diff = _add(num, target, -k)  # num - k * target in [0, k - 1]
            self._at_least(diff, n_const - k * t_const, 0, enf)
            self._at_most(diff, n_const - k * t_const, k - 1, enf)
        elif c.has_interval():
            pass  # read by the no-overlap constraints that name it
        elif c.has_no_overlap():
            self._no_overlap([self.proto.constraints[i] for i in c.no_overlap.intervals])
        elif c.has_cumulative():
            self._cumulative(c.cumulative)
        elif any(getattr(c, f"has_{kind}")() for kind in UNSUPPORTED):
            raise NotImplementedError(f"constraint not translated: {c}")

    def _cumulative(self, cum) -> None:
        """Time-indexed: one binary per interval and start, one row per moment a start may take."""
        if list(cum.capacity.vars) or any(list(d.vars) for d in cum.demands):
            raise NotImplementedError("cumulative with variable capacity or demands")
        capacity = float(cum.capacity.offset)
        covering: dict[int, Terms] = defaultdict(dict)  # moment -> starts that cover it
        for index, demand in zip(cum.intervals, cum.demands, strict=True):
            iv = self.proto.constraints[index]
            start, s_const = self._expr(iv.interval.start)
            (col,) = start
            size = int(iv.interval.size.offset)
            values = [
                v + int(s_const)
                for a, b in _intervals(list(self.proto.variables[col].domain))
                for v in range(a, b + 1)
            ]
            picks = {v: self.mip.column(0, 1) for v in values}
            present = list(iv.enforcement_literal)
            p_terms, p_const = ({}, 1.0) if not present else self._lit(present[0])
            # one start is picked exactly when the interval is present ...
            self.mip.row(_add({x: 1.0 for x in picks.values()}, p_terms, -1.0), p_const, p_const)
            # ... and it is the start: start - sum(v * pick) = 0 when present
            diff = _add(start, {x: -float(v) for v, x in picks.items()})
            self._at_least(diff, s_const, 0, present)
            self._at_most(diff, s_const, 0, present)
            for v, x in picks.items():
                for moment in range(v, v + size):
                    covering[moment][x] = float(demand.offset)
        for moment in sorted(covering):
            if len(covering[moment]) > capacity:
                self.mip.row(covering[moment], -np.inf, capacity)

    def _no_overlap(self, intervals: list) -> None:
        items = []
        for iv in intervals:
            start, s_const = self._expr(iv.interval.start)
            size = float(iv.interval.size.offset)
            if list(iv.interval.size.vars):
                raise NotImplementedError("variable-size interval")
            (col,) = start  # starts are single variables
            dom = _intervals(list(self.proto.variables[col].domain))
            windows = [(a + s_const, b + s_const) for a, b in dom]
            items.append((start, s_const, size, list(iv.enforcement_literal), windows))
        for i, (s1, c1, l1, e1, w1) in enumerate(items):
            for s2, c2, l2, e2, w2 in items[i + 1 :]:
                if not any(a1 < b2 + l2 and a2 < b1 + l1 for a1, b1 in w1 for a2, b2 in w2):
                    continue  # their start windows never let them meet
                self.pairs += 1
                first = self.mip.column(0, 1)  # 1: the first ends before the second starts
                both = [*e1, *e2]
                self._at_most(_add(s1, s2, -1.0), c1 - c2 + l1, 0, [*both, first])
                self._at_most(_add(s2, s1, -1.0), c2 - c1 + l2, 0, [*both, -first - 1])


def _highs(mip: Mip, time_limit: float, threads: int, seed: int) -> highspy.Highs:
    # HiGHS keeps one thread pool per process, sized by the first solve's ``threads``;
    # a later solve asking for another size fails unless the pool is reset.
    highspy.Highs.resetGlobalScheduler(True)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    n = len(mip.lb)
    h.addCols(
        n,
        np.array(mip.cost, dtype=np.float64),
        np.array(mip.lb, dtype=np.float64),
        np.array(mip.ub, dtype=np.float64),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=np.float64),
    )
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger, dtype=np.uint8)
    )
    h.addRows(
        len(mip.row_lo),
        np.array(mip.row_lo, dtype=np.float64),
        np.array(mip.row_hi, dtype=np.float64),
        len(mip.index),
        np.array(mip.starts, dtype=np.int32),
        np.array(mip.index, dtype=np.int32),
        np.array(mip.value, dtype=np.float64),
    )
    return h


def lp_bound(model: cp_model.CpModel, time_limit: float = 10.0) -> float:
    """The optimum of the translated model's LP relaxation (how much the model tells an LP)."""
    tr = Translator(model.proto)
    h = _highs(tr.mip, time_limit, threads=1, seed=0)
    h.setOptionValue("solve_relaxation", True)
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS failed: {h.getModelStatus()}")
    return h.getInfo().objective_function_value + tr.offset


@dataclass
class MipResult:
    """What HiGHS found, read back as an iopsched solution."""

    solution: Solution
    columns: int
    rows: int
    pairs: int
    build_s: float
    progress: list[tuple[float, float]]  # (elapsed, objective) per improving schedule


def first_fit_values(ctx: Ctx, instance: Instance) -> list[int] | None:
    """Every model variable's value in the first-fit schedule (None if it breaks a rule)."""
    sessions, valid = first_fit_found(instance)  # the solver's own start
    if valid is None:
        return None
    nothing = Neighbourhood("first fit", frozenset(), frozenset())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    if solver.solve(restricted_model(ctx, sessions, nothing)) != cp_model.OPTIMAL:
        return None
    return list(solver.response_proto.solution)


def solve_with_highs(
    instance: Instance,
    time_limit: float = 60.0,
    threads: int = 2,
    seed: int = 0,
    warm: bool = False,
) -> MipResult:
    """Translate the week's model, solve it with HiGHS, return the schedule it found.

    ``warm``: start HiGHS from the first-fit schedule (its time counts against the limit).
    """
    t0 = time.monotonic()
    # the twins' symmetry broken in the model, as this baseline was measured before the
    # solver left it out: it only helps a branch-and-bound solver's bound
    ctx = build_model(instance, twin_order=True)
    tr = Translator(ctx.model.proto)
    start = first_fit_values(ctx, instance) if warm else None
    h = _highs(tr.mip, max(0.1, time_limit - (time.monotonic() - t0)), threads, seed)
    if start is not None:
        index = np.arange(len(start), dtype=np.int32)
        h.setSolution(len(start), index, np.array(start, dtype=np.float64))
    build_s = time.monotonic() - t0
    progress: list[tuple[float, float]] = []

    def improving(event) -> None:
        progress.append(
            (time.monotonic() - t0, event.data_out.objective_function_value + tr.offset)
        )

    h.cbMipImprovingSolution.subscribe(improving)
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS failed: {h.getModelStatus()}")
    wall = time.monotonic() - t0
    info = h.getInfo()
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    bound = max(0.0, info.mip_dual_bound + tr.offset) if np.isfinite(info.mip_dual_bound) else 0.0
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    stats = {
        "variables": len(tr.mip.lb),
        "constraints": len(tr.mip.row_lo),
        "time_to_first": round(progress[0][0], 3) if progress else None,
        "time_to_best": _time_to_best(progress),
        "build_seconds": round(build_s, 3),
    }
    if not has:
        sol = Solution(
            instance=instance.name,
            status=Status.UNKNOWN,
            solve_seconds=round(wall, 3),
            sessions=[],
            unmet=[],
            bound=bound,
            stats=Stats(**stats),
        )
        return MipResult(sol, len(tr.mip.lb), len(tr.mip.row_lo), tr.pairs, build_s, progress)
    values = np.rint(np.array(h.getSolution().col_value[: tr.n])).astype(int)
    sol = _read_back(ctx, instance, values, bound, optimal, wall, stats)
    return MipResult(sol, len(tr.mip.lb), len(tr.mip.row_lo), tr.pairs, build_s, progress)


def _time_to_best(progress: list[tuple[float, float]]) -> float | None:
    """When HiGHS first had its final objective (it may report the same one again later)."""
    if not progress:
        return None
    final = min(objective for _, objective in progress)
    return round(next(t for t, objective in progress if objective <= final + 1e-6), 3)


def _read_back(
    ctx: Ctx,
    instance: Instance,
    values: np.ndarray,
    bound: float,
    optimal: bool,
    wall: float,
    stats: dict,
) -> Solution:
    """HiGHS's values through CP-SAT (all fixed) and iopsched's extraction."""
    model = ctx.model.clone()
    model.clear_hints()
    for i, v in enumerate(values):
        dom = model.proto.variables[i].domain
        dom.clear()
        dom.extend([int(v), int(v)])
    check = cp_model.CpSolver()
    check.parameters.num_workers = 1
    code = check.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"HiGHS's schedule breaks the CP-SAT model ({check.status_name(code)})")
    found = Found.read(ctx, check.value)  # the same read-out and costing as the solver's
    status = Status.OPTIMAL if optimal else Status.FEASIBLE
    return with_schedule(instance, found, status, bound, wall, stats)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warm", action="store_true", help="start from the first-fit schedule")
    args = parser.parse_args(argv)
    inst = load_instance(args.instance)
    res = solve_with_highs(inst, args.time_limit, args.threads, warm=args.warm)
    sol = res.solution
    report = validate(inst, sol) if sol.status.has_schedule else None
    print(
        f"HiGHS: {res.columns} columns, {res.rows} rows ({res.pairs} no-overlap pairs), "
        f"built in {res.build_s:.2f} s"
    )
    print(
        f"status {sol.status.value}, objective {sol.objective}, bound {sol.bound}, "
        f"first {sol.stats.time_to_first} s, best {sol.stats.time_to_best} s, "
        f"valid {report.ok if report else None}"
    )


if __name__ == "__main__":
    main()
