"""The relaxation's bound: the week without staff and room limits, solved track by track."""

from __future__ import annotations

import logging
import math

from ortools.sat.python import cp_model

from iopsched.bounds import participant_floor
from iopsched.greedy import first_fit_solution
from iopsched.instance import Instance
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.hints import hint_schedule
from iopsched.relaxation import track_week
from iopsched.search.run import Clock, Run, StopAt, configure
from iopsched.settings import SolverSettings
from iopsched.weights import Weights

log = logging.getLogger("iopsched")


def least_cost(
    ctx: Ctx, settings: SolverSettings, seconds: float, target: float, clock: Clock, run: Run
) -> float:
    """What CP-SAT proves within ``seconds`` that every schedule of the model costs at least
    (0 when it proves nothing); it stops early at a schedule costing ``target`` or less,
    since no bound above that can be proven."""
    solver = cp_model.CpSolver()
    configure(solver, settings, seconds, log=False)
    code = run.solve(solver, ctx.model, StopAt(target))
    clock.charge(solver)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0.0
    bound = solver.best_objective_bound
    return round(bound, 6) if math.isfinite(bound) else 0.0


def relaxation_bound(
    instance: Instance, settings: SolverSettings, clock: Clock, run: Run, parts: list[list[str]]
) -> float:
    """A bound from the week without staff and room limits (iopsched.relaxation), whose
    tracks are ``parts``: each track of at most ``relaxation_track_size`` people is searched
    for its least cost within ``relaxation_share`` of the limit, and every track counts at
    least its people's cost floor.

    The smallest models go first, each with the time left shared among the tracks still to
    search, so that the time a track proven quickly leaves goes to the harder ones.
    """
    w = Weights.resolve(instance.weights)
    people = instance.participant_by_id
    end = clock.now() + settings.relaxation_share * settings.time_limit
    floors = [sum(participant_floor(instance, people[pid], w) for pid in ids) for ids in parts]
    models = []
    try:
        for ids, floor in zip(parts, floors, strict=True):
            if len(ids) <= settings.relaxation_track_size:
                ctx = build_model(track_week(instance, ids))
                hint_schedule(ctx, first_fit_solution(ctx.instance).sessions)  # prunes search
                models.append((len(ctx.model.Proto().variables), floor, ctx))
    except KeyboardInterrupt:  # Ctrl-C ends the solve, with the best schedule found so far
        run.interrupted = True
        models = []
    total = float(sum(floors) - sum(floor for _, floor, _ in models))
    models.sort(key=lambda m: m[0])
    for k, (_, floor, ctx) in enumerate(models):
        seconds = (end - clock.now()) / (len(models) - k)
        proven = 0.0
        if seconds >= 0.1 and not run.interrupted:
            proven = least_cost(ctx, settings, seconds, floor, clock, run)
        total += max(floor, proven)
    log.debug("bound from the week without staff and room limits: %.0f", total)
    return total
