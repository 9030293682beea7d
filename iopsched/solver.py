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
from iopsched.model.context import Ctx
from iopsched.model.diagnose import explain_infeasible
from iopsched.model.grid import Limits
from iopsched.model.hints import hint_every_variable
from iopsched.model.lns import Neighbourhoods
from iopsched.relaxation import track_ids
from iopsched.search.bound import relaxation_bound
from iopsched.search.found import Found, checked, with_schedule
from iopsched.search.rounds import improve, refuted, repair_first_fit, second_opinion
from iopsched.search.run import Clock, Progress, Recorder, Run, configure, stall_watch
from iopsched.search.start import (
    Carried,
    add_hints,
    candidate_limits,
    carried_forward,
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
from iopsched.solution import Session, Solution, Stats, Status

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
    costs more.  A start that breaks a rule gets a warning naming what it breaks, and is
    mended and completed as last week's schedule is (:func:`iopsched.search.start.carried_into`).
    """
    settings = settings or SolverSettings()
    overrides = {"time_limit": time_limit, "workers": workers, "seed": seed}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if settings.isolated:
        inner = settings.model_copy(update={"isolated": False})
        return solve_isolated(instance, inner, on_progress, on_schedule, start=start)
    week = _Solve(instance, settings, on_progress, on_schedule)
    try:
        week.first_schedules(start)
        week.build()
    except KeyboardInterrupt:
        if week.best is None:
            raise
        log.warning("interrupted before the search; keeping the best schedule so far")
        return week.interrupted_before_search()
    week.check_start()
    week.repair()
    week.search()
    return week.result()


class _Solve:
    """One solve's state, step by step: what :func:`solve` runs, in its order."""

    ctx: Ctx  # the week's model, once built
    clock: Clock
    run: Run

    def __init__(
        self,
        instance: Instance,
        settings: SolverSettings,
        on_progress: Callable[[Progress], None] | None,
        on_schedule: Callable[[Solution], None] | None,
    ):
        self.instance, self.settings, self.on_schedule = instance, settings, on_schedule
        self.t0 = time.monotonic()
        self.recorder = Recorder(self.t0, on_progress, len(instance.participants))
        self.floor = float(cost_floor(instance))
        self.recorder.floor = self.floor  # raised by the relaxation's bound
        self.hint: list[Session] | None = None  # what the model is hinted with
        self.best: Found | None = None  # the best schedule in hand
        self.first_fit: Found | None = None  # validated: the one to fall back on
        self.held: Found | None = None  # a start the model cannot take, returned if unbeaten
        self.started = False  # the search starts from the caller's schedule
        self.carried: Carried | None = None  # last week's schedule carried forward, if tried
        self.before_start: tuple[Found | None, list[Session] | None] = (None, None)
        self.limits = Limits()
        self.build_seconds = 0.0
        self.code, self.status = cp_model.UNKNOWN, Status.FEASIBLE
        self.bound: float | None = None  # the search's own, where it holds for the week
        self.rounds = self.repair_rounds = 0
        self.relaxed: float | None = None
        self.parts: list[list[str]] = []  # the tracks of the relaxation's bound, if any

    @property
    def variables(self) -> int:
        return len(self.proto.variables)

    def kept(self, found: Found) -> None:
        """Hand a better schedule to ``on_schedule`` as it is kept."""
        if self.on_schedule is not None:
            stats = {"participants": len(self.instance.participants), "cost_floor": self.floor}
            wall = time.monotonic() - self.t0
            self.on_schedule(
                with_schedule(
                    self.instance, found, Status.FEASIBLE, self.recorder.floor, wall, stats
                )
            )

    def better(self, found: Found) -> None:
        """Keep and report a better schedule found outside a whole-week search.

        It goes to ``on_schedule`` before its progress line goes to ``on_progress``: a
        caller that stops at a line (Ctrl-C in a callback, an isolated search stopped by
        its parent) already holds the schedule the line reports.
        """
        self.kept(found)
        self.recorder.offer(found.objective, 0.0, {row.participant for row in found.unmet})

    def first_schedules(self, start: Solution | None) -> None:
        """The first fit; the caller's start (by default last week's schedule carried into
        this week, ``carry_forward``) if it is better; then variants of the first fit
        (unless the search starts from the start)."""
        settings = self.settings
        if settings.warm_start:
            self.hint, first = first_fit_found(self.instance)
            if first is not None:
                self.recorder.first_fit, self.best = first.objective, first
                self.better(first)
        self.before_start = self.best, self.hint
        given = None
        if start is not None:
            given = from_start(self.instance, start)
        elif settings.carry_forward:
            self.carried = carried_forward(self.instance)
            given = None if self.carried is None else self.carried.found
        if given is not None and (self.best is None or given.objective < self.best.objective):
            self.hint, self.best = given.sessions, given
            self.better(given)
        self.started = self.best is not None and self.best is given
        share = 0.0 if settings.deterministic or self.started else settings.first_fit_share
        until = self.t0 + share * settings.time_limit
        if self.best is not None and share:
            for found in first_fit_variants(self.instance, settings, self.best, until):
                self.hint, self.best = found.sessions, found
                self.better(found)

    def build(self) -> None:
        """The week's model (with candidate limits around the schedules in hand when it
        is large), hinted with the best of them."""
        t_build = time.monotonic()
        start = self.before_start[0] if self.started else None
        self.limits = candidate_limits(self.instance, self.settings, [self.best, start])
        self.ctx = ctx = build_model(self.instance, limits=self.limits, twin_order=None)
        self.first_fit = self.best
        self.recorder.ctx = ctx
        self.recorder.bound_holds = not self.limits
        if self.limits:
            log.info(
                "large week: %d groups open to fewer people, %d sessions to fewer therapists; "
                "the search bound is not a bound for the whole week",
                len(self.limits.members),
                len(self.limits.leads),
            )
        self.proto = ctx.model.Proto()  # CP-SAT's own: counts what is added later too
        # a start's interchangeable groups need not run in order of their ids
        ctx.order_twins(not self.started and twins_ordered(self.settings, self.variables))
        self.settings = probing_for(self.settings, self.variables)
        add_hints(ctx, self.hint)  # replaced by the best schedule once there is one
        self.build_seconds = time.monotonic() - t_build
        log.info(
            "model: %d variables, %d constraints, built in %.2fs",
            len(self.proto.variables),
            len(self.proto.constraints),
            self.build_seconds,
        )
        self.clock = Clock(self.settings, self.t0)
        self.run = Run()  # Ctrl-C ends the whole solve and keeps the best schedule

    def check_start(self) -> None:
        """A start the week's model cannot take is held back: the search starts from the
        first fit, and the start is returned if nothing beats it."""
        if not self.started or self.best is None:
            return
        if expressible(self.ctx, self.best.sessions, self.settings, self.clock, self.run):
            return
        log.warning(
            "the start schedule is valid but outside this week's model; the search starts "
            "from the first fit, and the start is returned if it finds nothing better"
        )
        self.held = self.best
        self.best, self.hint = self.before_start
        self.first_fit = self.best
        self.ctx.model.clear_hints()
        add_hints(self.ctx, self.hint)

    def repair(self) -> None:
        """With no valid first fit but a near-schedule, repair it (iopsched.model.repair)."""
        settings = self.settings
        if not (self.best is None and self.hint is not None and settings.repair):
            return
        if not settings.neighbourhood_search:
            return
        if refuted(self.ctx, settings, self.clock, self.run):
            log.debug("repair skipped: CP-SAT's presolve proves the week has no schedule")
            return
        found, self.repair_rounds = repair_first_fit(
            self.instance, self.limits, self.hint, settings, self.clock, self.run
        )
        if found is not None:
            log.info("first fit repaired in %d rounds", self.repair_rounds)
            self.best = self.first_fit = found
            self.better(found)

    def search(self) -> None:
        """The relaxation's bound, the most-served window, then the week's own objective:
        the whole-week search and neighbourhood rounds in turn, from the best schedule."""
        settings = self.settings
        self.parts = track_ids(self.instance) if settings.relaxation_share > 0 else []
        relax = any(len(ids) <= settings.relaxation_track_size for ids in self.parts)
        # The relaxation's bound: before the search when first fit gave a schedule, else
        # after it (its time held back), so that it never delays the first schedule.
        if relax and self.best is not None:
            self.raise_floor()
        elif relax:
            self.clock.reserved = settings.relaxation_share * settings.time_limit
        self.alternate()
        if self.code == cp_model.INFEASIBLE and self.best is None and not self.run.interrupted:
            self.best = second_opinion(self.ctx, settings, self.run)
            if self.best is not None:
                self.code, self.status, self.bound = cp_model.FEASIBLE, Status.FEASIBLE, None
        self.clock.reserved = 0.0
        searched = self.best is not None and self.status is not Status.OPTIMAL
        if relax and self.relaxed is None and searched and not self.run.interrupted:
            self.raise_floor()

    def raise_floor(self) -> None:
        """The relaxation's bound, which raises the floor every progress line reports."""
        self.relaxed = relaxation_bound(
            self.instance, self.settings, self.clock, self.run, self.parts
        )
        self.recorder.floor = max(self.floor, self.relaxed)

    def open_question(self) -> bool:
        """Time is left, and the best schedule is not yet proven optimal by the floor."""
        proven = self.best is not None and self.best.objective <= self.recorder.floor
        return not proven and not self.run.interrupted and self.clock.left() > 0.2

    def alternate(self) -> None:
        """With a schedule in hand, alternate: the whole-week search until it stalls, then
        neighbourhood rounds until they stall, then the whole week again from the best.

        A week too large for the whole-week search first starts with rounds, after the
        most-served window (iopsched.model.served) when it is not too large to search.
        """
        settings = self.settings
        alternate = settings.neighbourhood_search and self.best is not None
        stall = max(3.0, settings.stall_share * settings.time_limit)
        hopeless = False  # the whole-week search once returned nothing: never again
        # one chooser for the whole solve: what it learns about the kinds of part outlives
        # a whole-week window
        kinds = tuple(
            k for k in Neighbourhoods.KINDS if settings.staffing_rounds or k != "staffing"
        )
        hoods = Neighbourhoods(self.ctx, settings.seed, settings.adaptive_neighbourhoods, kinds)
        whole_week = not (alternate and rounds_first(settings, self.variables))
        if not whole_week:
            log.debug("large model: neighbourhood rounds first, the whole week once they stall")
            self.serve_most_first()
        while self.open_question():
            if whole_week:
                if self.whole_week(alternate, stall):
                    break
                # Not even the schedule in hand came back: presolving the whole week
                # outlasts the window, and would again.  Rounds get the time instead.
                hopeless = self.code == cp_model.UNKNOWN
                if hopeless:
                    log.debug("whole-week search skipped from now on (presolve outlasts it)")
            self.best, n = improve(
                self.ctx,
                self.best,
                settings,
                self.recorder,
                self.clock,
                self.bound,
                stall,
                self.run,
                hoods,
                self.kept,
            )
            self.rounds += n
            whole_week = not hopeless  # the rounds stalled (or the time is up)
            if self.run.interrupted:
                break

    def serve_most_first(self) -> None:
        """The most-served window, on a week whose model is not too large for it."""
        settings = self.settings
        up_to = settings.served_first_up_to
        if (
            settings.served_first_share <= 0
            or self.best is None
            or self.run.interrupted
            or (up_to is not None and self.variables > up_to)
        ):
            return
        turns = turn_parts(self.ctx, settings)
        if self.limits and not turns_fit(settings, turns, len(self.instance.participants)):
            return
        self.best = serve_most(
            self.ctx, self.best, settings, self.clock, self.run, self.better, turns
        )

    def whole_week(self, alternate: bool, stall: float) -> bool:
        """One whole-week search from the best schedule; True when the solve's search is
        over (proven optimal, infeasible, interrupted, or nothing to alternate with)."""
        settings, left = self.settings, self.clock.left()
        whole = left
        if alternate:
            whole = min(left, max(3.0, settings.whole_week_share * settings.time_limit))
        if self.best is not None:  # complete: CP-SAT's first solution as soon as it presolved
            hint_every_variable(self.ctx, self.best.sessions, left, self.run.solve)
            if self.run.interrupted:  # Ctrl-C while hinting
                return True
        solver = cp_model.CpSolver()
        configure(solver, settings, whole)
        began = time.monotonic()
        watch = alternate and not settings.deterministic  # a stall is seen on the wall clock
        self.code = code = self.run.solve(
            solver,
            self.ctx.model,
            self.recorder,
            stall_watch(self.recorder, stall if watch else None),
        )
        self.clock.charge(solver)
        log.debug(
            "whole-week search: %s after %.1fs",
            cp_model.CpSolverStatus(code).name,
            time.monotonic() - began,
        )
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # The schedule's cost, term by term.  CP-SAT's own objective_value can differ
            # from it after postsolve when stopped early; the terms are what the schedule gives.
            found = Found.read(self.ctx, solver.value)
            if self.best is None or found.objective < self.best.objective:
                self.kept(found)
            if (
                self.best is None
                or found.objective <= self.best.objective
                or code == cp_model.OPTIMAL
            ):
                self.best = found
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
            # a search stopped before its first schedule may still have proven a bound;
            # every cost is non-negative, so 0 always holds
            proven = solver.best_objective_bound if code != cp_model.UNKNOWN else 0.0
            proven = proven if math.isfinite(proven) else 0.0
            self.bound = max(self.bound or 0.0, round(proven, 6))
        if code == cp_model.OPTIMAL:
            self.status = Status.OPTIMAL
            return True
        if code in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            return True
        return not alternate or self.best is None or self.run.interrupted

    def stats(self) -> dict:
        """The solution's stats: model size, times, bounds and progress."""
        events = self.recorder.events
        return {
            "build_seconds": round(self.build_seconds, 3),
            "variables": self.variables,
            "constraints": len(self.proto.constraints),
            "participants": len(self.instance.participants),
            "time_to_first": round(events[0].elapsed, 3) if events else None,
            "time_to_best": round(events[-1].elapsed, 3) if events else None,
            "first_fit_objective": self.recorder.first_fit,
            **self.origin(),
            "cost_floor": self.floor,
            "relaxation_bound": self.relaxed,
            "lns_rounds": self.rounds,
            "repair_rounds": self.repair_rounds,  # rounds that repaired a first fit
            "limited_groups": len(self.limits.members),  # groups offered to fewer people
            "limited_leads": len(self.limits.leads),  # sessions offered fewer therapists
            "progress": [
                {
                    "elapsed": round(e.elapsed, 3),
                    "objective": e.objective,
                    "bound": e.bound,
                    "fully_served": e.fully_served,
                }
                for e in events
            ],
        }

    def origin(self) -> dict:
        """The stats on where the search began: ``started_from`` (``first_fit``, ``start``
        or ``last_week``) and, when last week's schedule was carried forward, how much of
        it was kept and what it still broke when it was not the start."""
        taken = self.started and self.held is None
        if taken:
            started = "start" if self.carried is None else "last_week"
        else:
            started = "first_fit" if self.first_fit is not None else None
        out: dict = {"started_from": started}
        if (carried := self.carried) is not None:
            out |= {"last_week_kept": carried.kept, "last_week_sessions": carried.of}
            if carried.broken:
                out["last_week_breaks"] = [str(v) for v in carried.broken]
            if started != "last_week":
                if carried.found is None:
                    why = "breaks a rule" if carried.broken else "nothing kept"
                elif self.held is carried.found:
                    why = "outside the model"
                else:
                    why = "costs more than the first fit"
                out["last_week_unused"] = why
        return out

    def result(self) -> Solution:
        """The solution: the best schedule with its status and bound, checked by our
        validator; or none, with why."""
        best, bound, status = self.best, self.bound, self.status
        if self.limits:  # (there is a schedule: limits are drawn around the schedules in hand)
            # A restriction of the week: its bound and its optimum are not the week's.
            bound, status = None, Status.FEASIBLE
        if self.held is not None and (best is None or self.held.objective < best.objective):
            best, status = self.held, Status.FEASIBLE
        if best is not None:  # the floor holds for every week, and beats a weak search bound
            bound = max(bound or 0.0, self.recorder.floor)
            if best.objective <= bound:
                status = Status.OPTIMAL
        wall = time.monotonic() - self.t0
        stats = self.stats()
        if self.code == cp_model.MODEL_INVALID:
            raise RuntimeError(f"internal error, invalid model: {self.ctx.model.validate()}")
        if self.code == cp_model.INFEASIBLE and best is not None:
            log.error("CP-SAT reports infeasible, yet the first-fit schedule is valid; keeping it")
        if best is not None:
            solution = with_schedule(self.instance, best, status, bound, wall, stats)
            return checked(self.instance, solution, self.first_fit, bound, wall, stats)
        status = Status.INFEASIBLE if self.code == cp_model.INFEASIBLE else Status.UNKNOWN
        if status is Status.INFEASIBLE:
            stats["infeasible_because"] = explain_infeasible(
                self.instance, self.settings.diagnose_seconds
            )
        return Solution(
            instance=self.instance.name,
            status=status,
            solve_seconds=round(time.monotonic() - self.t0, 3),
            sessions=[],
            unmet=extract.unmet_of_empty_schedule(self.ctx),
            stats=Stats(**stats),
        )

    def interrupted_before_search(self) -> Solution:
        """The best schedule so far, after Ctrl-C before the model was built."""
        assert self.best is not None
        wall = time.monotonic() - self.t0
        events = self.recorder.events
        stats = {
            "time_to_first": round(events[0].elapsed if events else wall, 3),
            "lns_rounds": 0,
            "cost_floor": self.floor,
            "first_fit_objective": self.recorder.first_fit,
            **self.origin(),
        }
        return with_schedule(self.instance, self.best, Status.FEASIBLE, self.floor, wall, stats)
