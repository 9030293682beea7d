"""Running CP-SAT: its parameters, a search Ctrl-C can stop, the solve's clock, and the
record of each better schedule."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from iopsched.model.context import Ctx
from iopsched.settings import SolverSettings
from iopsched.solution import relative_gap

# A deterministic solve counts its time in CP-SAT's work units, this many for each second
# of its limits: about what one or two workers do in a second on the shipped weeks on this
# project's machine, so that such a solve takes about its limit on the wall clock (docs).
WORK_PER_SECOND = 0.3
# What one worker taking turns between CP-SAT's neighbourhood searches does in a second.
WORK_PER_SECOND_TAKING_TURNS = 0.18


def work_per_second(solver: cp_model.CpSolver) -> float:
    """CP-SAT's deterministic work counted as one second of a search by ``solver``."""
    p = solver.parameters
    alone = p.num_workers == 1 and p.interleave_search
    return WORK_PER_SECOND_TAKING_TURNS if alone else WORK_PER_SECOND


def configure(
    solver: cp_model.CpSolver,
    settings: SolverSettings,
    seconds: float,
    log: bool = True,
    lns_only: bool = False,
) -> None:
    """CP-SAT parameters for one search of at most ``seconds`` (if deterministic, the work
    CP-SAT does in about that time: :func:`work_per_second`).

    With ``lns_only`` CP-SAT runs its neighbourhood search alone (``use_lns_only``). One
    worker alone runs no neighbourhood search at all, only its tree search, so there it
    takes turns between CP-SAT's neighbourhood searches in fixed batches
    (``interleave_search``, as several deterministic workers do; docs/how-it-works.md,
    *One worker*).

    Presolve probing stays on (the most-served window only limits its work): OR-Tools 9.15 with
    ``cp_model_probing_level=0`` calls feasible models infeasible (a week with
    one group freed and the rest fixed to a valid schedule, 21 times in 30;
    ``tests/test_lns.py`` keeps that from coming back).
    """
    p = solver.parameters
    p.num_workers = settings.workers or min(8, os.cpu_count() or 1)
    p.use_lns_only = lns_only
    # deterministic workers share their work in fixed batches (the same result every run);
    # one worker searching neighbourhoods only takes turns between them
    p.interleave_search = (settings.deterministic and p.num_workers > 1) or (
        lns_only and p.num_workers == 1
    )
    if settings.deterministic:
        p.max_deterministic_time = max(0.01, seconds * work_per_second(solver))
    else:
        p.max_time_in_seconds = max(0.01, seconds)
    p.random_seed = settings.seed
    p.max_presolve_iterations = settings.presolve_passes
    if not settings.local_search or settings.presolve_passes < 2:
        # OR-Tools 9.15 segfaults in LsEvaluator when one presolve pass leaves a cumulative
        # without variables (a piece split off a room pool); tests/test_crash.py keeps one
        p.use_feasibility_jump = False
        p.num_violation_ls = 0
    p.relative_gap_limit = settings.relative_gap_limit
    if settings.probing_work is not None:
        p.probing_deterministic_time_limit = settings.probing_work
    p.log_search_progress = settings.log_search and log


class Run:
    """Runs CP-SAT in a thread so Ctrl-C (and a stall) can stop it from here."""

    def __init__(self) -> None:
        self.interrupted = False

    def solve(
        self,
        solver: cp_model.CpSolver,
        model: cp_model.CpModel,
        callback: cp_model.CpSolverSolutionCallback | None = None,
        stalled: Callable[[], bool] | None = None,
    ) -> int:
        solver.parameters.catch_sigint_signal = False
        out: list[int] = []
        errors: list[BaseException] = []
        finished = threading.Event()

        def work() -> None:
            try:
                out.append(solver.solve(model, callback))
            except BaseException as error:  # handed to the caller below
                errors.append(error)
            finally:
                finished.set()

        # Wait on an event, not Thread.join: a join broken by KeyboardInterrupt may
        # return later while the thread still runs.
        threading.Thread(target=work, daemon=True).start()
        while True:
            try:
                if finished.wait(0.2):
                    break
                if stalled is not None and stalled():
                    solver.stop_search()
            except KeyboardInterrupt:
                self.interrupted = True
                solver.stop_search()
        if errors and not self.interrupted:
            raise errors[0]
        return out[0] if out else cp_model.UNKNOWN


class Clock:
    """The solve's time: wall-clock seconds, or the deterministic work CP-SAT has done.

    Deterministic time is the sum of CP-SAT's own work units over every search so
    far, as seconds at :func:`work_per_second`; it does not depend on the machine's speed
    or load, so neither does any decision taken on it.
    """

    def __init__(self, settings: SolverSettings, t0: float):
        self.deterministic = settings.deterministic
        self.t0 = t0
        self.limit = settings.time_limit
        self.work = 0.0  # CP-SAT's deterministic time so far, as seconds
        self.reserved = 0.0  # held back from the search for a later step
        # every search counts at least this much, so searches that CP-SAT settles with no
        # measurable work (a tiny week) still use up the limit: at most 100 per round length
        self.least = settings.round_seconds / 100

    def now(self) -> float:
        return self.work if self.deterministic else time.monotonic() - self.t0

    def left(self) -> float:
        return self.limit - self.reserved - self.now()

    def charge(self, solver: cp_model.CpSolver) -> None:
        """Count one finished search (at least ``least``, even one stopped before it began)."""
        if not self.deterministic:
            return
        try:
            self.work += max(self.least, solver.deterministic_time / work_per_second(solver))
        except RuntimeError:  # CP-SAT never ran (Ctrl-C before the thread started)
            self.work += self.least


@dataclass(frozen=True)
class Progress:
    """One improved schedule found during the search."""

    elapsed: float
    objective: float
    bound: float
    fully_served: int | None = None  # participants whose plan is fully met

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound)


class Recorder(cp_model.CpSolverSolutionCallback):
    """Keeps (and reports) every schedule that improves on the best so far."""

    def __init__(self, t0: float, on_progress: Callable[[Progress], None] | None, people: int):
        super().__init__()
        self.t0 = t0
        self.events: list[Progress] = []
        self.on_progress = on_progress
        self.first_fit: int | None = None
        self.people = people
        self.ctx: Ctx | None = None  # set once the model is built
        self.bound_holds = True  # False when the model is a restriction of the week
        self.floor = 0.0  # a bound that always holds (iopsched.bounds)

    def offer(self, objective: float, bound: float, short: set[str] | None = None) -> None:
        if self.events and objective >= self.events[-1].objective:
            return
        served = None if short is None else self.people - len(short)
        # the floor always holds; the search's own bound only when its model is the week's
        bound = max(self.floor, bound) if self.bound_holds else self.floor
        event = Progress(time.monotonic() - self.t0, objective, bound, served)
        self.events.append(event)
        if self.on_progress is not None:
            self.on_progress(event)

    def on_solution_callback(self) -> None:
        short = None
        if self.ctx is not None and (
            not self.events or self.objective_value < self.events[-1].objective
        ):
            short = {line.participant for line in self.ctx.plan_lines if self.value(line.short) > 0}
        self.offer(self.objective_value, self.best_objective_bound, short)


def stall_watch(recorder: Recorder, stall: float | None) -> Callable[[], bool] | None:
    """True once ``stall`` seconds pass without a better schedule (None: never)."""
    if stall is None:
        return None
    started = time.monotonic()

    def stalled() -> bool:
        last = recorder.events[-1].elapsed + recorder.t0 if recorder.events else started
        return time.monotonic() - max(last, started) > stall

    return stalled


class StopAt(cp_model.CpSolverSolutionCallback):
    """Stops the search at a schedule costing no more than ``target``."""

    def __init__(self, target: float):
        super().__init__()
        self.target = target

    def on_solution_callback(self) -> None:
        if self.objective_value <= self.target:
            self.stop_search()
