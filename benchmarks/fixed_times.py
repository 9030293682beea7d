"""What is a schedule's timetable worth?  Keep its group times, re-solve the rest.

    python benchmarks/fixed_times.py instances/evening-weekend-80.json \
        solutions/evening-weekend-80.json --seconds 60

A diagnosis of the search, not of the week.  Every group keeps the days and
start times the given schedule gives it (and runs or not as there); everything
else is free again: who joins which group, who facilitates, which room, and
every individual and family session.  CP-SAT then searches that part alone,
from the given schedule, and reports the best schedule it finds and the bound
it proves *for these group times*.  A bound above what another schedule of
the same week costs says the timetable itself is what keeps this schedule
from it: no assignment of people and staff to these times can do better.

On the 80-person example, the shipped 60-second schedule (objective 122,010)
gave 117,796 in 60 s with a proven bound of 114,379 for its group times, while
ten-minute solves of the same week reached 72,646 to 88,556: most of the gap
between one and ten minutes lies in where groups meet, not in who is put in
them.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from iopsched import Instance, SolverSettings, load_instance, validate
from iopsched.io import load_solution
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.hints import fixed_except
from iopsched.search.run import configure
from iopsched.solution import Session, Solution, Status
from iopsched.validator import assess


@dataclass(frozen=True)
class Result:
    """The best schedule with the given group times, and what CP-SAT proved about them."""

    given: int  # the given schedule's objective
    objective: int  # the best found with the same group times
    bound: float  # no schedule with these group times costs less
    status: str
    sessions: list[Session]
    seconds: float


def timing_variables(ctx: Ctx) -> set[int]:
    """Indices of the variables that say when groups meet (run, days, starts)."""
    out: set[int] = set()
    for gv in ctx.vars.groups.values():
        out.add(gv.run.index)
        for meeting in gv.meetings:
            out |= {meeting.present.index, meeting.start.index}
            out |= {lit.index for lit in meeting.at.values()}
    return out


def with_fixed_times(
    instance: Instance, sessions: list[Session], seconds: float, seed: int = 0
) -> Result:
    """Re-solve ``sessions`` with every group's meeting times kept as they are."""
    ctx = build_model(instance)
    fixed = timing_variables(ctx)
    model = fixed_except(ctx, sessions, lambda v: v.var.index not in fixed)
    solver = cp_model.CpSolver()
    configure(solver, SolverSettings(workers=2, seed=seed), seconds, log=False)
    t0 = time.perf_counter()
    code = solver.solve(model)
    wall = time.perf_counter() - t0
    given = sum(t.cost for t in assess(instance, sessions)[1])
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SystemExit(f"no schedule with these group times ({solver.status_name(code)})")
    value = solver.value
    found = sum(t.cost for t in extract.cost_terms(ctx, value))
    return Result(
        given=given,
        objective=found,
        bound=round(solver.best_objective_bound, 6),  # as solve() reports it
        status=solver.status_name(code),
        sessions=extract.schedule(ctx, value),
        seconds=wall,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("solution")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    instance = load_instance(args.instance)
    result = with_fixed_times(
        instance, load_solution(args.solution).sessions, args.seconds, args.seed
    )
    unmet, _ = assess(instance, result.sessions)
    check = Solution(
        instance=instance.name,
        status=Status.FEASIBLE,
        sessions=result.sessions,
        unmet=unmet,
    )
    report = validate(instance, check)
    if not report.ok:
        raise SystemExit(f"re-solved schedule fails validation:\n{report.render()}")
    served = len(instance.participants) - len({row.participant for row in unmet})
    print(f"given schedule:          objective {result.given}")
    print(
        f"same group times, {result.seconds:.0f} s: objective {result.objective}, "
        f"{served} fully served, bound {result.bound:.0f} ({result.status.lower()})"
    )


if __name__ == "__main__":
    main()
