"""Neighbourhood rounds: parts of the week re-solved from the best schedule, and the
repair of a first fit that breaks a rule."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from iopsched.instance import Instance
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.grid import Limits
from iopsched.model.lns import Neighbourhood, Neighbourhoods, RoundModels
from iopsched.model.repair import Debt, RepairParts, debt
from iopsched.search.found import Found, with_schedule
from iopsched.search.run import Clock, Recorder, Run, configure
from iopsched.settings import SolverSettings
from iopsched.solution import Session, Status
from iopsched.validator import validate

log = logging.getLogger("iopsched")

MIN_ROUND_PEOPLE = 6  # a capped neighbourhood round frees at least this many participants
PROBE_SECONDS = 1.0  # before a repair: time for CP-SAT to refute a week outright


def next_size(
    settled: bool, gained: bool, size: int, cap: int | None, groups: int, people: int
) -> tuple[int, int | None]:
    """The next round's number of groups and most participants to free: more after a round
    CP-SAT settled (solved to optimality), fewer after one that ran out of time (people
    only when it also gained nothing: a part that still pays is not too large)."""
    if settled:
        return min(groups, size + 1), None if cap is None else min(people, cap + 1 + cap // 5)
    if cap is not None and not gained:
        cap = max(MIN_ROUND_PEOPLE, cap - 1 - cap // 5)
    return max(1, size - 1), cap


def improve(
    ctx: Ctx,
    best: Found,
    settings: SolverSettings,
    recorder: Recorder,
    clock: Clock,
    bound: float | None,
    stall: float,
    run: Run,
    hoods: Neighbourhoods,
    kept: Callable[[Found], None],
) -> tuple[Found, int]:
    """Neighbourhood rounds from ``best`` until the time is up or ``stall`` passes without gain.

    Returns the best schedule and the number of rounds.
    """
    size, rounds = 3, 0
    cap, people = settings.round_people, len(ctx.instance.participants)
    models = RoundModels(ctx)
    last_gain = clock.now()
    while (left := clock.left()) > 0.2 and clock.now() - last_gain < stall:
        if run.interrupted:
            break
        lacking: dict[str, set[str]] = defaultdict(set)
        for row in best.unmet:
            lacking[row.participant].add(row.requirement)
        part = hoods.pick(best.sessions, set(lacking), size, cap, lacking)
        model = models.model(best.sessions, part)
        solver = cp_model.CpSolver()
        configure(solver, settings, min(left, settings.round_seconds), log=False)
        began = clock.now()
        code = run.solve(solver, model)
        clock.charge(solver)
        rounds += 1
        before = best.objective
        if code == cp_model.INFEASIBLE:  # the schedule in hand solves every round
            log.warning("CP-SAT called a neighbourhood infeasible that has a schedule; skipped")
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = Found.read(ctx, solver.value)
            if found.objective < best.objective:
                kept(found)
                short = {row.participant for row in found.unmet}
                recorder.offer(found.objective, bound if bound is not None else 0.0, short)
                last_gain = clock.now()
            if found.objective <= best.objective:
                best = found
                models.keep(best.sessions, part, solver.value, list(solver.response_proto.solution))
        hoods.learn(part.kind, before - best.objective, clock.now() - began)
        settled, gained = code == cp_model.OPTIMAL, best.objective < before
        size, cap = next_size(settled, gained, size, cap, len(hoods.groups), people)
        log.debug(
            "lns round %d: %s (%d groups, %d people), %s, gain %d, size %d, cap %s",
            rounds,
            part.kind,
            len(part.groups),
            len(part.participants),
            solver.status_name(code),
            before - best.objective,
            size,
            cap,
        )
    return best, rounds


def refuted(ctx: Ctx, settings: SolverSettings, clock: Clock, run: Run) -> bool:
    """Whether CP-SAT proves within ``PROBE_SECONDS`` that the week has no schedule.

    Pins or groups that cannot all hold are mostly refuted at once by presolve; a
    repair would spend its stalled rounds on such a week first (26 s of a 60 s
    solve on the 80-person example with two clashing pins).
    """
    solver = cp_model.CpSolver()
    configure(solver, settings, min(clock.left(), PROBE_SECONDS), log=False)
    code = run.solve(solver, ctx.model)
    clock.charge(solver)
    return code == cp_model.INFEASIBLE


def repair_first_fit(
    instance: Instance,
    limits: Limits,
    sessions: list[Session],
    settings: SolverSettings,
    clock: Clock,
    run: Run,
) -> tuple[Found | None, int]:
    """Rounds on the repair model (``iopsched.model.repair``) from a first fit that breaks
    a daily minimum or a pin, until it breaks nothing; the repaired schedule, checked by
    the validator, and the number of rounds.  None when the rounds stall, the time is
    up, or the first fit breaks a rule the repair model may not break."""
    ctx = build_model(instance, limits=limits, repair=True)
    models = RoundModels(ctx)
    parts = RepairParts(ctx, settings.seed)
    part = Neighbourhood("repair", frozenset(), frozenset())  # first: what the first fit owes
    owed: Debt | None = None
    size, cap, rounds, idle = 2, settings.round_people or len(instance.participants), 0, 0
    while clock.left() > 0.2 and not run.interrupted and idle < settings.repair_stall_rounds:
        if owed is not None:
            part = parts.pick(sessions, owed, size, cap)
        solver = cp_model.CpSolver()
        configure(solver, settings, min(clock.left(), 2 * settings.round_seconds), log=False)
        code = run.solve(solver, models.model(sessions, part), StopWhenPaid(ctx))
        clock.charge(solver)
        rounds += 1
        solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if not solved and owed is None:  # the first fit breaks a rule the repair model keeps
            log.debug("repair: the first fit breaks a rule repair cannot mend")
            return None, rounds
        now = debt(ctx, solver.value) if solved else None
        log.debug(
            "repair round %d: %s owed, size %d",
            rounds,
            now.amount if now is not None else solver.status_name(code),
            size,
        )
        if now is None or (owed is not None and now.amount >= owed.amount):
            idle, size, cap = idle + 1, size + 1, cap + cap // 5  # no gain: a larger part
            continue
        idle, owed, sessions = 0, now, extract.schedule(ctx, solver.value)
        models.keep(sessions, part, solver.value)
        if owed.paid:
            found = Found.read(ctx, solver.value)
            report = validate(instance, with_schedule(instance, found, Status.FEASIBLE, 0, 0, {}))
            if not report.ok:  # a defect of the repair model: say so, and search on
                log.error("repaired schedule breaks rules: %s", report.render(5))
                return None, rounds
            return Found(found.sessions, report.unmet, report.cost_terms), rounds
    return None, rounds


class StopWhenPaid(cp_model.CpSolverSolutionCallback):
    """Stops a repair round at its first schedule that breaks nothing."""

    def __init__(self, ctx: Ctx):
        super().__init__()
        self.ctx = ctx

    def on_solution_callback(self) -> None:
        if debt(self.ctx, self.value).paid:
            self.stop_search()


def second_opinion(ctx: Ctx, settings: SolverSettings, run: Run) -> Found | None:
    """Before calling a week infeasible, search it again without presolve.

    CP-SAT's presolve has wrongly found feasible models infeasible (see
    :func:`iopsched.search.run.configure`); a schedule found here proves it did.
    """
    solver = cp_model.CpSolver()
    configure(solver, settings, settings.diagnose_seconds, log=False)
    solver.parameters.cp_model_presolve = False
    code = run.solve(solver, ctx.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    log.warning("CP-SAT's presolve called this week infeasible, but it has a schedule")
    return Found.read(ctx, solver.value)
