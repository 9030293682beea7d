"""``solve()``: parameters, progress callback, hints and status mapping around the model.

The steps it runs live in :mod:`iopsched.search`: the first schedule (``start``), the
most-served window (``window``), neighbourhood rounds and repair (``rounds``), the
relaxation's bound (``bound``), all on the CP-SAT runner and clock of ``run``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from iopsched.bounds import cost_floor
from iopsched.instance import Instance
from iopsched.isolate import solve_isolated
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.diagnose import explain_infeasible
from iopsched.model.hints import hint_every_variable
from iopsched.model.lns import Neighbourhoods
from iopsched.relaxation import track_ids
from iopsched.search.bound import relaxation_bound
from iopsched.search.found import Found, checked, with_schedule
from iopsched.search.rounds import improve, refuted, repair_first_fit, second_opinion
from iopsched.search.run import Clock, Progress, Recorder, Run, configure, stall_watch
from iopsched.search.start import (
    add_hints,
    candidate_limits,
    expressible,
    first_fit_found,
    first_fit_variants,
    from_start,
    probing_for,
    rounds_first,
    twins_ordered,
)
from iopsched.search.window import serve_most, turn_parts, turns_fit
from iopsched.settings import SolverSettings
from iopsched.solution import Solution, Stats, Status

__all__ = ["Progress", "SolverSettings", "solve"]

log = logging.getLogger("iopsched")


def solve(
    instance: Instance,
    settings: SolverSettings | None = None,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_schedule: Callable[[Solution], None] | None = None,
    start: Solution | None = None,
) -> Solution:
    """Best schedule for the week within the time limit, with what is left unmet.

    Returns a :class:`Solution` whose ``status`` says whether it is proven
    optimal, feasible (stopped early; best found so far), infeasible (with the
    conflicting rules in ``stats.infeasible_because``) or unknown (no schedule).
    The first-fit schedule (when it breaks no hard rule) is the first schedule
    reported and the search starts from it.  ``on_schedule`` receives each better
    schedule the search keeps, as a solution with status feasible (the CLI saves
    it, so that a crash loses no more than the latest search), before the
    ``on_progress`` line that reports it, except in a whole-week search, whose lines
    come from CP-SAT while it searches.

    ``start`` is a schedule of this week to begin from, such as an earlier solve's (to
    search on from it) or one a coordinator edited: when it breaks no hard rule and costs
    less than the first fit, the search starts from it, and the schedule returned never
    costs more.  A start that breaks a rule is left out, with a warning naming what it breaks.
    """
    settings = settings or SolverSettings()
    overrides = {"time_limit": time_limit, "workers": workers, "seed": seed}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if settings.isolated:
        inner = settings.model_copy(update={"isolated": False})
        return solve_isolated(instance, inner, on_progress, on_schedule, start=start)
    t0 = time.monotonic()
    recorder = Recorder(t0, on_progress, len(instance.participants))
    floor = float(cost_floor(instance))
    recorder.floor = floor  # raised below by the relaxation's bound

    def kept(found: Found) -> None:
        """Hand a better schedule to ``on_schedule`` as it is kept."""
        if on_schedule is not None:
            stats = {"participants": len(instance.participants), "cost_floor": floor}
            wall = time.monotonic() - t0
            on_schedule(
                with_schedule(instance, found, Status.FEASIBLE, recorder.floor, wall, stats)
            )

    # Each better schedule goes to on_schedule before its progress line goes to
    # on_progress: a caller that stops at a line (Ctrl-C in a callback, an isolated
    # search stopped by its parent) already holds the schedule the line reports.
    hint, best = None, None
    try:
        if settings.warm_start:
            hint, first = first_fit_found(instance)
            if first is not None:
                recorder.first_fit, best = first.objective, first
                kept(best)
                recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        before_start, hint_before_start = best, hint
        given = from_start(instance, start) if start is not None else None
        if given is not None and (best is None or given.objective < best.objective):
            hint, best = given.sessions, given
            kept(best)
            recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        started = best is not None and best is given
        # variants of the first fit, unless the search starts from the caller's schedule
        share = 0.0 if settings.deterministic or started else settings.first_fit_share
        until = t0 + share * settings.time_limit
        for found in first_fit_variants(instance, settings, best, until) if best and share else ():
            hint, best = found.sessions, found
            kept(best)
            recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        t_build = time.monotonic()
        limits = candidate_limits(instance, settings, [best, before_start if started else None])
        ctx = build_model(instance, limits=limits, twin_order=None)
    except KeyboardInterrupt:
        if best is None:
            raise
        log.warning("interrupted before the search; keeping the best schedule so far")
        wall = time.monotonic() - t0
        stats = {
            "time_to_first": round(recorder.events[0].elapsed if recorder.events else wall, 3),
            "lns_rounds": 0,
            "cost_floor": floor,
            "first_fit_objective": recorder.first_fit,
        }
        return with_schedule(instance, best, Status.FEASIBLE, floor, wall, stats)
    first_fit = best  # validated: the schedule to fall back on should a later one not be
    recorder.ctx = ctx
    recorder.bound_holds = not limits
    if limits:
        log.info(
            "large week: %d groups open to fewer people, %d sessions to fewer therapists; "
            "the search bound is not a bound for the whole week",
            len(limits.members),
            len(limits.leads),
        )
    proto = ctx.model.Proto()
    # a start's interchangeable groups need not run in order of their ids
    ctx.order_twins(not started and twins_ordered(settings, len(proto.variables)))
    settings = probing_for(settings, len(proto.variables))
    add_hints(ctx, hint)  # replaced by the best schedule once there is one
    build_seconds = time.monotonic() - t_build
    log.info(
        "model: %d variables, %d constraints, built in %.2fs",
        len(proto.variables),
        len(proto.constraints),
        build_seconds,
    )

    clock = Clock(settings, t0)
    run = Run()  # Ctrl-C ends the whole solve and keeps the best schedule
    held: Found | None = None  # a start the model cannot take, returned if nothing beats it
    if started and not expressible(ctx, best.sessions, settings, clock, run):
        log.warning(
            "the start schedule is valid but outside this week's model; the search starts "
            "from the first fit, and the start is returned if it finds nothing better"
        )
        held, best, hint = best, before_start, hint_before_start
        first_fit = best
        ctx.model.clear_hints()
        add_hints(ctx, hint)
    repair_rounds = 0
    if best is None and hint is not None and settings.repair and settings.neighbourhood_search:
        if refuted(ctx, settings, clock, run):
            log.debug("repair skipped: CP-SAT's presolve proves the week has no schedule")
        else:
            best, repair_rounds = repair_first_fit(instance, limits, hint, settings, clock, run)
        if best is not None:
            log.info("first fit repaired in %d rounds", repair_rounds)
            first_fit = best
            kept(best)
            recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
    # With a schedule in hand, alternate: the whole-week search until it stalls, then
    # neighbourhood rounds until they stall, then the whole week again from the best.
    alternate = settings.neighbourhood_search and best is not None
    stall = max(3.0, settings.stall_share * settings.time_limit)
    bound: float | None = None
    code, rounds, status = cp_model.UNKNOWN, 0, Status.FEASIBLE
    hopeless = False  # the whole-week search once returned nothing: never again
    # one chooser for the whole solve: what it learns about the kinds of part outlives a
    # whole-week window
    kinds = tuple(k for k in Neighbourhoods.KINDS if settings.staffing_rounds or k != "staffing")
    hoods = Neighbourhoods(ctx, settings.seed, settings.adaptive_neighbourhoods, kinds)
    whole_week = not (alternate and rounds_first(settings, len(proto.variables)))
    if not whole_week:
        log.debug("large model: neighbourhood rounds first, the whole week once they stall")
    # The relaxation's bound: before the search when first fit gave a schedule, else after
    # it (its time held back), so that it never delays the first schedule.
    parts = track_ids(instance) if settings.relaxation_share > 0 else []
    relax = any(len(ids) <= settings.relaxation_track_size for ids in parts)
    relaxed: float | None = None
    if relax and best is not None:
        relaxed = relaxation_bound(instance, settings, clock, run, parts)
        recorder.floor = max(floor, relaxed)
    elif relax:
        clock.reserved = settings.relaxation_share * settings.time_limit

    # A week too large for the whole-week search first, yet not too large to search whole
    # at all, first looks for the most people fully served (iopsched.model.served).
    window = (
        settings.served_first_share > 0
        and not whole_week
        and best is not None
        and not run.interrupted
        and (
            settings.served_first_up_to is None
            or len(proto.variables) <= settings.served_first_up_to
        )
    )
    turns = turn_parts(ctx, settings) if window else []
    if window and (not limits or turns_fit(settings, turns, len(instance.participants))):

        def better(found: Found) -> None:
            kept(found)
            recorder.offer(found.objective, 0.0, {row.participant for row in found.unmet})

        best = serve_most(ctx, best, settings, clock, run, better, turns)

    def open_question() -> bool:
        """Time is left, and the best schedule is not yet proven optimal by the floor."""
        proven = best is not None and best.objective <= recorder.floor
        return not proven and not run.interrupted and clock.left() > 0.2

    while open_question():
        left = clock.left()
        if whole_week:
            whole = left
            if alternate:
                whole = min(left, max(3.0, settings.whole_week_share * settings.time_limit))
            if best is not None:  # complete: CP-SAT's first solution as soon as it presolved
                hint_every_variable(ctx, best.sessions, left, run.solve)
                if run.interrupted:  # Ctrl-C while hinting
                    break
            solver = cp_model.CpSolver()
            configure(solver, settings, whole)
            began = time.monotonic()
            watch = alternate and not settings.deterministic  # a stall is seen on the wall clock
            code = run.solve(
                solver, ctx.model, recorder, stall_watch(recorder, stall if watch else None)
            )
            clock.charge(solver)
            log.debug(
                "whole-week search: %s after %.1fs",
                cp_model.CpSolverStatus(code).name,
                time.monotonic() - began,
            )
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                # The schedule's cost, term by term.  CP-SAT's own objective_value can differ
                # from it after postsolve when stopped early; the terms are what the schedule gives.
                found = Found.read(ctx, solver.value)
                if best is None or found.objective < best.objective:
                    kept(found)
                if best is None or found.objective <= best.objective or code == cp_model.OPTIMAL:
                    best = found
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
                # a search stopped before its first schedule may still have proven a bound;
                # every cost is non-negative, so 0 always holds
                proven = solver.best_objective_bound if code != cp_model.UNKNOWN else 0.0
                proven = proven if math.isfinite(proven) else 0.0
                bound = max(bound or 0.0, round(proven, 6))
            if code == cp_model.OPTIMAL:
                status = Status.OPTIMAL
                break
            if (
                code in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID)
                or not alternate
                or best is None
            ):
                break
            if run.interrupted:
                break
            if code == cp_model.UNKNOWN:
                # Not even the schedule in hand came back: presolving the whole week outlasts
                # the window, and would again.  Neighbourhood rounds get the time instead.
                hopeless = True
                log.debug("whole-week search skipped from now on (presolve outlasts it)")
        best, n = improve(ctx, best, settings, recorder, clock, bound, stall, run, hoods, kept)
        rounds += n
        whole_week = not hopeless  # the rounds stalled (or the time is up)
        if run.interrupted:
            break
    if code == cp_model.INFEASIBLE and best is None and not run.interrupted:
        best = second_opinion(ctx, settings, run)
        if best is not None:
            code, status, bound = cp_model.FEASIBLE, Status.FEASIBLE, None
    clock.reserved = 0.0
    searched = best is not None and status is not Status.OPTIMAL and not run.interrupted
    if relax and relaxed is None and searched:
        relaxed = relaxation_bound(instance, settings, clock, run, parts)
        recorder.floor = max(floor, relaxed)
    if limits:  # (there is a schedule: limits are drawn around the schedules in hand)
        # A restriction of the week: its bound and its optimum are not the week's.
        bound, status = None, Status.FEASIBLE
    if held is not None and (best is None or held.objective < best.objective):
        best, status = held, Status.FEASIBLE
    if best is not None:  # the floor holds for every week, and beats a weak search bound
        bound = max(bound or 0.0, recorder.floor)
        if best.objective <= bound:
            status = Status.OPTIMAL
    wall = time.monotonic() - t0

    stats = {
        "build_seconds": round(build_seconds, 3),
        "variables": len(proto.variables),
        "constraints": len(proto.constraints),
        "participants": len(instance.participants),
        "time_to_first": round(recorder.events[0].elapsed, 3) if recorder.events else None,
        "time_to_best": round(recorder.events[-1].elapsed, 3) if recorder.events else None,
        "first_fit_objective": recorder.first_fit,
        "cost_floor": floor,
        "relaxation_bound": relaxed,
        "lns_rounds": rounds,
        "repair_rounds": repair_rounds,  # rounds that repaired a first fit breaking rules
        "limited_groups": len(limits.members),  # groups offered to some eligible people only
        "limited_leads": len(limits.leads),  # groups and 1:1 plans offered fewer therapists
        "progress": [
            {
                "elapsed": round(e.elapsed, 3),
                "objective": e.objective,
                "bound": e.bound,
                "fully_served": e.fully_served,
            }
            for e in recorder.events
        ],
    }
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"internal error, invalid model: {ctx.model.validate()}")
    if code == cp_model.INFEASIBLE and best is not None:
        log.error("CP-SAT reports infeasible, yet the first-fit schedule is valid; keeping it")
    if best is not None:
        solution = with_schedule(instance, best, status, bound, wall, stats)
        return checked(instance, solution, first_fit, bound, wall, stats)
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
