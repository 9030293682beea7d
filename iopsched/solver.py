"""``solve()``: parameters, progress callback, hints and status mapping around the model."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

from iopsched.instance import Instance
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.diagnose import explain_infeasible
from iopsched.solution import Solution, Stats, Status, relative_gap
from iopsched.timegrid import DAYS, MINUTES_PER_DAY, parse_hhmm

log = logging.getLogger("iopsched")


class SolverSettings(BaseModel):
    """How to solve (never part of the instance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit: float = Field(default=60.0, gt=0, description="seconds")
    workers: int = Field(default=0, ge=0, description="search workers; 0 = one per core, up to 8")
    seed: int = Field(default=0, ge=0)
    relative_gap_limit: float = Field(default=0.0, ge=0)
    log_search: bool = False
    diagnose_seconds: float = Field(default=20.0, gt=0, description="budget to explain infeasible")


@dataclass(frozen=True)
class Progress:
    """One improved schedule found during the search."""

    elapsed: float
    objective: float
    bound: float

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound)


class _Recorder(cp_model.CpSolverSolutionCallback):
    def __init__(self, t0: float, on_progress: Callable[[Progress], None] | None):
        super().__init__()
        self.t0 = t0
        self.events: list[Progress] = []
        self.on_progress = on_progress

    def on_solution_callback(self) -> None:
        event = Progress(
            elapsed=time.monotonic() - self.t0,
            objective=self.objective_value,
            bound=self.best_objective_bound,
        )
        self.events.append(event)
        if self.on_progress is not None:
            self.on_progress(event)


def _add_hints(ctx: Ctx) -> None:
    """Start from last week's schedule where still possible, else from an empty week."""
    prev = ctx.instance.previous
    if prev is None:
        # An empty week is always feasible: hinting it gives a first schedule at once.
        for gv in ctx.vars.groups.values():
            ctx.model.add_hint(gv.run, 0)
        for sessions in ctx.vars.one_to_one.values():
            for s in sessions:
                ctx.model.add_hint(s.present, 0)
        return
    slot = ctx.grid.slot_minutes
    members: dict[str, set[str]] = {}
    times: dict[str, set[int]] = {}
    for s in prev.sessions:
        if s.group in ctx.vars.groups:
            minute = DAYS.index(s.day) * MINUTES_PER_DAY + parse_hhmm(s.start)
            times.setdefault(s.group, set()).add(minute // slot)
            members.setdefault(s.group, set()).update(s.participants)
    for gid, starts in times.items():
        gv = ctx.vars.groups[gid]
        ctx.model.add_hint(gv.run, 1)
        for pid, lit in gv.members.items():
            ctx.model.add_hint(lit, int(pid in members[gid]))
        for meeting in gv.meetings:
            for t, lit in meeting.at.items():
                ctx.model.add_hint(lit, int(t in starts))
            ctx.model.add_hint(meeting.present, int(bool(starts & meeting.candidate_set)))


def solve(
    instance: Instance,
    settings: SolverSettings | None = None,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Solution:
    """Best schedule for the week within the time limit, with what is left unmet.

    Returns a :class:`Solution` whose ``status`` says whether it is proven
    optimal, feasible (stopped early; best found so far), infeasible (with the
    conflicting rules in ``stats.infeasible_because``) or unknown (no schedule).
    """
    settings = settings or SolverSettings()
    overrides = {"time_limit": time_limit, "workers": workers, "seed": seed}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    t0 = time.monotonic()
    ctx = build_model(instance)
    _add_hints(ctx)
    build_seconds = time.monotonic() - t0
    proto = ctx.model.Proto()
    log.info(
        "model: %d variables, %d constraints, built in %.2fs",
        len(proto.variables),
        len(proto.constraints),
        build_seconds,
    )

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = settings.time_limit
    p.num_workers = settings.workers or min(8, os.cpu_count() or 1)
    p.random_seed = settings.seed
    p.relative_gap_limit = settings.relative_gap_limit
    p.log_search_progress = settings.log_search
    # Probing in presolve costs seconds on 80-person weeks and delays the first schedule.
    p.cp_model_probing_level = 0
    recorder = _Recorder(t0, on_progress)
    code = solver.solve(ctx.model, recorder)
    wall = time.monotonic() - t0

    stats = {
        "build_seconds": round(build_seconds, 3),
        "variables": len(proto.variables),
        "constraints": len(proto.constraints),
        "participants": len(instance.participants),
        "time_to_first": round(recorder.events[0].elapsed, 3) if recorder.events else None,
        "time_to_best": round(recorder.events[-1].elapsed, 3) if recorder.events else None,
        "progress": [
            {"elapsed": round(e.elapsed, 3), "objective": e.objective, "bound": e.bound}
            for e in recorder.events
        ],
    }
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
        value = solver.value
        unmet = extract.unmet(ctx, value)
        terms = extract.cost_terms(ctx, value)
        by_rule: dict[str, int] = {}
        for term in terms:
            by_rule[term.rule] = by_rule.get(term.rule, 0) + term.cost
        # The schedule's cost, term by term.  CP-SAT's own objective_value can differ
        # from it after postsolve when stopped early; the terms are what the schedule gives.
        objective = sum(term.cost for term in terms)
        if objective != round(solver.objective_value):
            log.debug("objective %s, CP-SAT reported %s", objective, solver.objective_value)
        bound = round(solver.best_objective_bound, 6)
        stats |= {
            "gap": relative_gap(objective, bound),
            "participants_fully_served": len(instance.participants)
            - len({row.participant for row in unmet}),
            "cost_by_rule": by_rule,
            "cost_terms": terms,
        }
        return Solution(
            instance=instance.name,
            status=status,
            objective=objective,
            bound=bound,
            solve_seconds=round(wall, 3),
            sessions=extract.schedule(ctx, value),
            unmet=unmet,
            stats=Stats(**stats),
        )
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"internal error, invalid model: {ctx.model.validate()}")
    status = Status.INFEASIBLE if code == cp_model.INFEASIBLE else Status.UNKNOWN
    if status is Status.INFEASIBLE:
        stats["infeasible_because"] = explain_infeasible(instance, settings.diagnose_seconds)
    return Solution(
        instance=instance.name,
        status=status,
        solve_seconds=round(time.monotonic() - t0, 3),
        sessions=[],
        unmet=extract.unmet_of_empty_schedule(ctx),
        stats=Stats(**stats),
    )
