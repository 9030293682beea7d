"""``solve()``: parameters, progress callback, hints and status mapping around the model."""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

from iopsched.bounds import cost_floor, participant_floor
from iopsched.greedy import first_fit_solution
from iopsched.instance import Instance
from iopsched.isolate import solve_isolated
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.diagnose import explain_infeasible
from iopsched.model.grid import Limits
from iopsched.model.hints import fixed_except, hint_every_variable, hint_last_week, hint_schedule
from iopsched.model.limits import limits_for
from iopsched.model.lns import Neighbourhood, Neighbourhoods, RoundModels, by_site, track_parts
from iopsched.model.repair import Debt, RepairParts, debt
from iopsched.model.served import most_fully_served, served_objective
from iopsched.relaxation import track_ids, track_week
from iopsched.solution import CostTerm, Session, Solution, Stats, Status, UnmetRow, relative_gap
from iopsched.validator import cost_by_rule, validate
from iopsched.weights import Weights

log = logging.getLogger("iopsched")
MIN_ROUND_PEOPLE = 6  # a capped neighbourhood round frees at least this many participants
PROBE_SECONDS = 1.0  # before a repair: time for CP-SAT to refute a week outright
EXPRESSIBLE_SECONDS = 10.0  # most time to check that a start schedule fits the week's model


class SolverSettings(BaseModel):
    """How to solve (never part of the instance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit: float = Field(default=60.0, gt=0, description="seconds")
    workers: int = Field(default=0, ge=0, description="search workers; 0 = one per core, up to 8")
    seed: int = Field(default=0, ge=0)
    relative_gap_limit: float = Field(default=0.0, ge=0)
    log_search: bool = False
    diagnose_seconds: float = Field(default=20.0, gt=0, description="budget to explain infeasible")
    warm_start: bool = Field(default=True, description="start from the first-fit schedule")
    neighbourhood_search: bool = Field(
        default=True, description="after the whole-week search, re-solve parts of the week"
    )
    whole_week_share: float = Field(
        default=0.1, gt=0, le=1, description="longest whole-week search, as a share of the limit"
    )
    whole_week_first_up_to: int | None = Field(
        default=8000,
        ge=0,
        description=(
            "weeks whose model has more variables than this start with neighbourhood rounds, "
            "and search the whole week only once the rounds stall: presolving a large week "
            "outlasts the first window (the 80-person example, 14,247 variables, needs about "
            "15 s before its first whole-week schedule on 2 cores); None: always whole week first"
        ),
    )
    stall_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="either search hands over to the other after this share without a gain",
    )
    first_fit_share: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description=(
            "share of the limit spent on variants of the first fit (other intake and group "
            "orders) after it, keeping the best (a variant begun before the share is up is "
            "finished); 0: the first fit alone, as in deterministic solves, where how many "
            "variants fit would depend on the machine"
        ),
    )
    served_first_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "at most this share of the limit spent first on a whole-week search for the most "
            "people fully served (iopsched.model.served), keeping each schedule that costs "
            "less by the week's objective; it ends sooner once it has found nothing better "
            "(by its own objective) for served_first_stall of the limit; 0: never (0.9 until "
            "2026-11-28, when half left time for the rounds that serve the last people and "
            "ended lower on 10 of 12 seeds of the 80-person example, docs/how-it-works.md)"
        ),
    )
    served_first_stall: float = Field(
        default=0.15, gt=0, le=1, description="see served_first_share (at least 3 s)"
    )
    served_first_wait: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "that window ends when CP-SAT has found no schedule of its own within this share "
            "of the limit (its first comes 1.3 to 2.3 s in on the 80-person example), leaving "
            "the rest to the neighbourhood rounds"
        ),
    )
    served_first_lns_only: bool = Field(
        default=True,
        description=(
            "that window runs CP-SAT's neighbourhood search alone (use_lns_only), without its "
            "full-problem worker, whose bound the window never uses: on the 80-person "
            "example at 60 s on 2 workers it ended lower on 10 of 12 seeds "
            "(docs/how-it-works.md); False: CP-SAT's default portfolio"
        ),
    )
    served_first_probing: float = Field(
        default=0.05,
        gt=0,
        description=(
            "that window's presolve probes for at most this much deterministic work "
            "(CP-SAT's probing_deterministic_time_limit, whose default 1.0 took 8 s of the "
            "window's 9 s presolve on the 80-person example; with 0.05 the window's "
            "objective was lower at 45 s on 6 of 6 seeds, docs/how-it-works.md)"
        ),
    )
    served_first_up_to: int | None = Field(
        default=None,
        ge=0,
        description=(
            "that first window is for weeks whose model is too large for the whole-week "
            "search first (whole_week_first_up_to) and has at most this many variables; "
            "None (the default since 2026-11-28, 30,000 before): no upper limit, so every "
            "week searched without candidate limits (limits_from) gets it"
        ),
    )
    served_by_track: bool = Field(
        default=True,
        description=(
            "in a week of several tracks (people linked by the groups open to them), that "
            "window searches one track at a time, the rest of the week fixed: first the track "
            "with the most people not fully served, then the others by turns, until every "
            "track with someone short has had a turn without a gain since the last gain or "
            "less than half a turn is left (docs/how-it-works.md); False: the whole week at once"
        ),
    )
    served_turn_up_to: int | None = Field(
        default=400,
        ge=0,
        description=(
            "the most people one turn of that window frees: a track with more takes its turns "
            "site by site (its people at each site, with the groups open to them), and a week "
            "searched with candidate limits (limits_from) whose turns are still larger skips "
            "the window (tracks of 505 to 766 people at 2,000 over 10 sites ended higher than "
            "without it, the same week site by site lower; 0: weeks with candidate limits "
            "skip it, as all did until 2026-11-29; docs/how-it-works.md); None: whole tracks, "
            "at any size"
        ),
    )
    served_track_share: float = Field(
        default=1 / 6,
        gt=0,
        le=1,
        description="the most one track's turn in that window takes, as a share of the limit",
    )
    served_turn_stall: float | None = Field(
        default=0.05,
        gt=0,
        le=1,
        description=(
            "a track's turn in that window ends once it has found nothing better for this "
            "share of the limit (at least 2 s), leaving the rest of the window to the next "
            "track; None: a turn ends by served_first_stall like the window (the default "
            "until 2026-11-29; 0.05 ended lower on 10 of 12 seeds of a 200-person week and "
            "on 12 of 24 of the 80-person example, docs/how-it-works.md)"
        ),
    )
    twin_order: bool | None = Field(
        default=None,
        description=(
            "break the symmetry of interchangeable groups in the week's model (the first runs "
            "and is filled before the second): it removes no schedule's cost and helps the "
            "whole-week search prove bounds, but closes moves between twins to every "
            "neighbourhood that frees one twin and not the other; None: on for weeks whose "
            "whole week is searched first (whole_week_first_up_to), off for the larger ones "
            "(docs/how-it-works.md)"
        ),
    )
    round_seconds: float = Field(default=3.0, gt=0, description="time limit of one LNS round")
    probing_work: float | None = Field(
        default=0.01,
        gt=0,
        description=(
            "in a week whose model has more than probing_cut_above variables, every search's "
            "presolve probes for at most this much deterministic work (CP-SAT's "
            "probing_deterministic_time_limit, default 1.0, which took 2.2 to 2.7 s of each "
            "3 s round on the 200-person week, so rounds found nothing); None: CP-SAT's "
            "default everywhere (docs/how-it-works.md)"
        ),
    )
    probing_cut_above: int | None = Field(
        default=30000,
        ge=0,
        description=(
            "see probing_work (the 80-person example, 14,248 variables, is no better for "
            "the cut); None: in every week"
        ),
    )
    repair: bool = Field(
        default=True,
        description=(
            "when the first fit breaks a daily minimum or a pin, repair it with neighbourhood "
            "rounds that minimise what it breaks (iopsched.model.repair) before searching the "
            "week from scratch"
        ),
    )
    repair_stall_rounds: int = Field(
        default=8, ge=1, description="repair gives up after this many rounds without a gain"
    )
    round_people: int | None = Field(
        default=20,
        ge=1,
        description=(
            "most participants the first LNS round frees; each round CP-SAT settles allows a "
            "fifth more, each that runs out of time without a gain a fifth fewer (a freed "
            "group's other members then stay in it as they are); None: a round frees all in its "
            "groups (on the 80-person example an education group alone frees 31 people)"
        ),
    )
    presolve_passes: int = Field(
        default=1,
        ge=1,
        description=(
            "most passes of CP-SAT's presolve per search (CP-SAT's default is 3): on the "
            "80-person example each pass probes for about half a second of a 3 s round"
        ),
    )
    local_search: bool = Field(
        default=False,
        description=(
            "CP-SAT's local-search subsolvers (feasibility jump and violation local search); "
            "never with a single presolve pass, which can leave a room pool's cumulative "
            "in pieces without variables, on which OR-Tools 9.15 crashes in them"
        ),
    )
    adaptive_neighbourhoods: bool = Field(
        default=True,
        description=(
            "draw the kind of part each round frees by what the kind has gained per second "
            "lately; False: every kind equally often"
        ),
    )
    staffing_rounds: bool = Field(
        default=True,
        description=(
            "some rounds keep every group's times and cohort and re-solve who leads each "
            "meeting together with every 1:1 session"
        ),
    )
    deterministic: bool = Field(
        default=False,
        description=(
            "count time (the limit and each round's) in CP-SAT's deterministic work units "
            "instead of seconds (a unit takes a few seconds): the same seed and workers "
            "give the same schedule on every run and machine, while the wall time varies"
        ),
    )
    isolated: bool = Field(
        default=False,
        description=(
            "run the search in a child process (iopsched.isolate): should CP-SAT crash, "
            "the caller's process survives and gets the best schedule found until then"
        ),
    )
    relaxation_share: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description=(
            "most of the limit spent proving a bound on the week without staff and room "
            "limits, track by track (iopsched.relaxation), before the search (after it when "
            "first fit gives no schedule, so the first schedule is not delayed); 0: never"
        ),
    )
    relaxation_track_size: int = Field(
        default=30,
        ge=1,
        description=(
            "only tracks of at most this many participants are solved for that bound (larger "
            "ones are seldom proven within the share and count their cost floor)"
        ),
    )
    limits_from: int | None = Field(
        default=300,
        ge=1,
        description=(
            "weeks of at least this many participants get the candidate limits below "
            "(the model then grows linearly); smaller weeks are solved exactly; None: never"
        ),
    )
    therapists_per_session: int | None = Field(
        default=6,
        ge=1,
        description=(
            "large weeks: offer each group, and each participant's 1:1 sessions, at most this "
            "many therapists (those first fit used, then the least booked); None offers all"
        ),
    )
    copies_per_person: int | None = Field(
        default=4,
        ge=1,
        description=(
            "large weeks: offer each participant at most this many copies of a repeated group "
            "(those first fit suggests); None offers every copy. A limited week reports "
            "the cost floor (iopsched.bounds) as its bound, since its own does not hold "
            "for the whole week"
        ),
    )


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


class _Recorder(cp_model.CpSolverSolutionCallback):
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


@dataclass
class _Found:
    """A schedule with what it leaves unmet and what it costs, term by term."""

    sessions: list[Session]
    unmet: list[UnmetRow]
    terms: list[CostTerm]

    @property
    def objective(self) -> int:
        return sum(term.cost for term in self.terms)


def _first_fit(
    instance: Instance, rng: random.Random | None = None
) -> tuple[list[Session], _Found | None]:
    """The greedy schedule (to hint), and the same as a result when it breaks no hard rule;
    with ``rng``, one of its variants."""
    trial = first_fit_solution(instance, rng)
    report = validate(instance, trial)
    if not report.ok:
        log.debug("first-fit schedule breaks rules, used as a hint only: %s", report.render(5))
        return trial.sessions, None
    return trial.sessions, _Found(trial.sessions, trial.unmet, report.cost_terms)


def _first_fit_variants(
    instance: Instance, settings: SolverSettings, best: _Found, until: float
) -> Iterator[_Found]:
    """Variants of the first fit (another intake order and group order) until ``until``
    (monotonic), each better one as it is found."""
    rng = random.Random(settings.seed)
    while time.monotonic() < until:
        _, found = _first_fit(instance, random.Random(rng.getrandbits(32)))
        if found is not None and found.objective < best.objective:
            best = found
            yield found


def _from_start(instance: Instance, start: Solution) -> _Found | None:
    """The caller's start schedule with what it leaves unmet and costs, as our validator
    reads it; None (and a warning naming what it breaks) when it breaks a hard rule."""
    report = validate(instance, start)
    if not report.ok:
        log.warning(
            "the start schedule breaks %d rule(s) of this week and is not used: %s",
            len(report.violations),
            report.render(3),
        )
        return None
    return _Found(list(start.sessions), report.unmet, report.cost_terms)


def _expressible(
    ctx: Ctx, sessions: list[Session], settings: SolverSettings, clock: _Clock, run: _Run
) -> bool:
    """Whether the week's model has these sessions as a solution (False only when CP-SAT
    proves it has not, within ``EXPRESSIBLE_SECONDS``: running out of time says nothing)."""
    solver = cp_model.CpSolver()
    configure(solver, settings, min(EXPRESSIBLE_SECONDS, clock.left()), log=False)
    solver.parameters.num_workers = 1
    solver.parameters.interleave_search = False
    code = run.solve(solver, fixed_except(ctx, sessions, lambda v: False))
    clock.charge(solver)
    return code not in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID)


def _add_hints(ctx: Ctx, start: list[Session] | None) -> None:
    """Start from a known schedule, else last week's groups, else an empty week."""
    if start is not None:
        hint_schedule(ctx, start)
    elif ctx.instance.previous is not None:
        hint_last_week(ctx)
    else:  # an empty week is always feasible: hinting it gives a first schedule at once
        hint_schedule(ctx, [])


def _found(ctx: Ctx, value: Callable[[object], int]) -> _Found:
    return _Found(
        extract.schedule(ctx, value), extract.unmet(ctx, value), extract.cost_terms(ctx, value)
    )


def configure(
    solver: cp_model.CpSolver, settings: SolverSettings, seconds: float, log: bool = True
) -> None:
    """CP-SAT parameters for one search of at most ``seconds`` (work units if deterministic).

    Presolve probing stays on (the most-served window only limits its work): OR-Tools 9.15 with
    ``cp_model_probing_level=0`` calls feasible models infeasible (a week with
    one group freed and the rest fixed to a valid schedule, 21 times in 30;
    ``tests/test_lns.py`` keeps that from coming back).
    """
    p = solver.parameters
    p.num_workers = settings.workers or min(8, os.cpu_count() or 1)
    if settings.deterministic:
        p.max_deterministic_time = max(0.01, seconds)
        # several workers interleave their work in fixed batches: the same result every run
        p.interleave_search = p.num_workers > 1
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


class _Run:
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


class _Clock:
    """The solve's time: wall-clock seconds, or the deterministic work CP-SAT has done.

    Deterministic time is the sum of CP-SAT's own work units over every search so
    far; it does not depend on the machine's speed or load, so neither does any
    decision taken on it.
    """

    def __init__(self, settings: SolverSettings, t0: float):
        self.deterministic = settings.deterministic
        self.t0 = t0
        self.limit = settings.time_limit
        self.work = 0.0  # CP-SAT's deterministic time so far
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
            self.work += max(self.least, solver.deterministic_time)
        except RuntimeError:  # CP-SAT never ran (Ctrl-C before the thread started)
            self.work += self.least


def _stall_watch(recorder: _Recorder, stall: float | None) -> Callable[[], bool] | None:
    """True once ``stall`` seconds pass without a better schedule (None: never)."""
    if stall is None:
        return None
    started = time.monotonic()

    def stalled() -> bool:
        last = recorder.events[-1].elapsed + recorder.t0 if recorder.events else started
        return time.monotonic() - max(last, started) > stall

    return stalled


def _next_size(
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


def _improve(
    ctx: Ctx,
    best: _Found,
    settings: SolverSettings,
    recorder: _Recorder,
    clock: _Clock,
    bound: float | None,
    stall: float,
    run: _Run,
    hoods: Neighbourhoods,
    kept: Callable[[_Found], None],
) -> tuple[_Found, int]:
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
            found = _found(ctx, solver.value)
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
        size, cap = _next_size(settled, gained, size, cap, len(hoods.groups), people)
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


def _refuted(ctx: Ctx, settings: SolverSettings, clock: _Clock, run: _Run) -> bool:
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


def _repair(
    instance: Instance,
    limits: Limits,
    sessions: list[Session],
    settings: SolverSettings,
    clock: _Clock,
    run: _Run,
) -> tuple[_Found | None, int]:
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
        code = run.solve(solver, models.model(sessions, part), _StopWhenPaid(ctx))
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
            found = _found(ctx, solver.value)
            report = validate(instance, _with_schedule(instance, found, Status.FEASIBLE, 0, 0, {}))
            if not report.ok:  # a defect of the repair model: say so, and search on
                log.error("repaired schedule breaks rules: %s", report.render(5))
                return None, rounds
            return _Found(found.sessions, report.unmet, report.cost_terms), rounds
    return None, rounds


def _second_opinion(ctx: Ctx, settings: SolverSettings, run: _Run) -> _Found | None:
    """Before calling a week infeasible, search it again without presolve.

    CP-SAT's presolve has wrongly found feasible models infeasible (see
    :func:`configure`); a schedule found here proves it did.
    """
    solver = cp_model.CpSolver()
    configure(solver, settings, settings.diagnose_seconds, log=False)
    solver.parameters.cp_model_presolve = False
    code = run.solve(solver, ctx.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    log.warning("CP-SAT's presolve called this week infeasible, but it has a schedule")
    return _found(ctx, solver.value)


class _StopAt(cp_model.CpSolverSolutionCallback):
    """Stops the search at a schedule costing no more than ``target``."""

    def __init__(self, target: float):
        super().__init__()
        self.target = target

    def on_solution_callback(self) -> None:
        if self.objective_value <= self.target:
            self.stop_search()


class _StopWhenPaid(cp_model.CpSolverSolutionCallback):
    """Stops a repair round at its first schedule that breaks nothing."""

    def __init__(self, ctx: Ctx):
        super().__init__()
        self.ctx = ctx

    def on_solution_callback(self) -> None:
        if debt(self.ctx, self.value).paid:
            self.stop_search()


class _ServedWatch(cp_model.CpSolverSolutionCallback):
    """Watches the search for the most people fully served: hands on each of its schedules
    that costs less by the week's own objective, and notes when its latest schedule came."""

    def __init__(self, ctx: Ctx, best: _Found, better: Callable[[_Found], None]):
        super().__init__()
        self.ctx, self.best, self.better = ctx, best, better
        self.last: float | None = None  # monotonic time of the latest schedule
        self.values: list[int] | None = None  # every variable's value in a better schedule

    def on_solution_callback(self) -> None:
        self.last = time.monotonic()
        found = _found(self.ctx, self.value)
        if found.objective < self.best.objective:
            self.best = found
            self.values = list(self.response_proto.solution)
            self.better(found)


def _window_over(now: float, started: float, last: float | None, wait: float, stall: float) -> bool:
    """The most-served window is over: no schedule of its own ``wait`` seconds after it began,
    or nothing better by its objective ``stall`` seconds after its latest schedule."""
    if last is None:
        return now - started > wait
    return now - last > stall


def most_served_search(
    ctx: Ctx, settings: SolverSettings, seconds: float
) -> tuple[cp_model.CpModel, cp_model.CpSolver]:
    """The most-served window's model (:func:`iopsched.model.served.most_fully_served`, the
    hints of ``ctx`` included) and CP-SAT configured to search it for ``seconds``."""
    return most_fully_served(ctx), _served_solver(settings, seconds)


def _served_solver(settings: SolverSettings, seconds: float) -> cp_model.CpSolver:
    """CP-SAT configured for a most-served search of ``seconds``."""
    solver = cp_model.CpSolver()
    configure(solver, settings, seconds)
    # Both workers on neighbourhoods: the full-problem worker's bound is of no use here, and
    # its search adds little to the window's schedules (settings: served_first_lns_only).
    solver.parameters.use_lns_only = settings.served_first_lns_only
    solver.parameters.probing_deterministic_time_limit = settings.served_first_probing
    return solver


def _serve_most(
    ctx: Ctx,
    best: _Found,
    settings: SolverSettings,
    clock: _Clock,
    run: _Run,
    better: Callable[[_Found], None],
    turns: list[Neighbourhood] | None = None,
) -> _Found:
    """A search from ``best`` for the most people fully served (``served_first_share`` of
    the limit, less once it stalls), of the whole week or by turns (``turns``, by default
    :func:`_turns`); returns the schedule that costs least by the week's objective,
    ``best`` or one found here."""
    every = hint_every_variable(ctx, best.sessions, clock.left(), run.solve)
    if every is None:
        log.debug("the best schedule hinted by its decisions alone")
    if run.interrupted:  # Ctrl-C while hinting
        return best
    seconds = min(clock.left(), settings.served_first_share * settings.time_limit)
    parts = _turns(ctx, settings) if turns is None else turns
    if len(parts) < 2:
        model, solver = most_served_search(ctx, settings, seconds)
        return _served_window(ctx, model, solver, best, settings, clock, run, better).best
    return _serve_most_by_track(ctx, parts, best, every, seconds, settings, clock, run, better)


def _turns(ctx: Ctx, settings: SolverSettings) -> list[Neighbourhood]:
    """The parts the most-served window takes turns on (``served_by_track``): each track,
    site by site when it has more than ``served_turn_up_to`` people; [] when it searches
    the whole week at once."""
    if not settings.served_by_track:
        return []
    parts, most = track_parts(ctx), settings.served_turn_up_to
    if most is None:
        return parts
    return [chunk for part in parts for chunk in by_site(ctx, part, most)]


def _turns_fit(settings: SolverSettings, turns: list[Neighbourhood], participants: int) -> bool:
    """Whether no turn of the window frees more than ``served_turn_up_to`` people (a
    window of fewer than two turns searches the whole week, all ``participants``)."""
    most = settings.served_turn_up_to
    sizes = [len(turn.participants) for turn in turns] if len(turns) > 1 else [participants]
    return most is None or max(sizes) <= most


def _served_stall(settings: SolverSettings, share: float | None = None) -> float:
    """Seconds without a better schedule that end a most-served search: ``share`` of the
    limit, at least 2 s, or by default ``served_first_stall`` of it, at least 3 s."""
    if share is None:
        return max(3.0, settings.served_first_stall * settings.time_limit)
    return max(2.0, share * settings.time_limit)


def _served_window(
    ctx: Ctx,
    model: cp_model.CpModel,
    solver: cp_model.CpSolver,
    best: _Found,
    settings: SolverSettings,
    clock: _Clock,
    run: _Run,
    better: Callable[[_Found], None],
    *,
    stall_share: float | None = None,
) -> _ServedWatch:
    """One most-served search of ``model`` from ``best``, ended by the time limit, a proof,
    or a stall (:func:`_served_stall` of ``stall_share``; ``served_first_wait``)."""
    watch = _ServedWatch(ctx, best, better)
    stall = _served_stall(settings, stall_share)
    wait = settings.served_first_wait * settings.time_limit
    started = time.monotonic()

    def stalled() -> bool:
        """On the wall clock (a deterministic solve runs its whole window)."""
        now = time.monotonic()
        return not settings.deterministic and _window_over(now, started, watch.last, wait, stall)

    code = run.solve(solver, model, watch, stalled)
    clock.charge(solver)
    log.debug(
        "most-served search: %s after %.1fs; kept %s, %d not fully served",
        solver.status_name(code),
        time.monotonic() - started,
        watch.best.objective,
        len({row.participant for row in watch.best.unmet}),
    )
    return watch


def _next_track(
    parts: list[Neighbourhood], short: set[str], tried: set[int], previous: int | None
) -> int | None:
    """The track whose turn is next: of those with someone short and not ``tried`` since the
    last gain, the one with the most people short, the ``previous`` one last (None: none)."""
    waiting = [k for k, part in enumerate(parts) if short & part.participants and k not in tried]
    if not waiting:
        return None
    return min(waiting, key=lambda k: (k == previous, -len(short & parts[k].participants), k))


def _serve_most_by_track(
    ctx: Ctx,
    parts: list[Neighbourhood],
    best: _Found,
    every: list[int] | None,
    seconds: float,
    settings: SolverSettings,
    clock: _Clock,
    run: _Run,
    better: Callable[[_Found], None],
) -> _Found:
    """The most-served window one track at a time, the rest of the week fixed to ``best``
    (``every``: each variable's value in it, when known).

    The next turn goes to the track with the most people not fully served, the track just
    searched last; the window ends once less than half a turn of its ``seconds`` is left,
    or once every track with someone short has had a turn without a gain since the last gain.
    """
    models = RoundModels(ctx)
    models.fix_to(best.sessions, every)
    end = clock.now() + seconds
    tried: set[int] = set()  # tracks searched without a gain since the last gain
    previous, turns = None, 0
    turn = settings.served_track_share * settings.time_limit
    # a turn shorter than half of one is mostly presolve (0.4 and 3 s turns at the end of
    # the window gained nothing on a 100-person week): the rest goes to the steps after it
    while (left := min(end - clock.now(), clock.left())) >= turn / 2 and not run.interrupted:
        i = _next_track(parts, {row.participant for row in best.unmet}, tried, previous)
        if i is None:
            break
        model = models.model(best.sessions, parts[i])
        model.minimize(served_objective(ctx))
        solver = _served_solver(settings, min(left, turn))
        solver.parameters.random_seed = settings.seed + turns
        share = settings.served_turn_stall
        watch = _served_window(
            ctx, model, solver, best, settings, clock, run, better, stall_share=share
        )
        turns += 1
        log.debug("most-served turn %d: a track of %d", turns, len(parts[i].participants))
        if (values := watch.values) is not None:
            best = watch.best
            models.keep(best.sessions, parts[i], lambda v, values=values: values[v.index], values)
            tried = set()
        else:
            tried.add(i)
        previous = i
    return best


def _least_cost(
    ctx: Ctx, settings: SolverSettings, seconds: float, target: float, clock: _Clock, run: _Run
) -> float:
    """What CP-SAT proves within ``seconds`` that every schedule of the model costs at least
    (0 when it proves nothing); it stops early at a schedule costing ``target`` or less,
    since no bound above that can be proven."""
    solver = cp_model.CpSolver()
    configure(solver, settings, seconds, log=False)
    code = run.solve(solver, ctx.model, _StopAt(target))
    clock.charge(solver)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0.0
    bound = solver.best_objective_bound
    return round(bound, 6) if math.isfinite(bound) else 0.0


def _relaxation_bound(
    instance: Instance, settings: SolverSettings, clock: _Clock, run: _Run, parts: list[list[str]]
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
            proven = _least_cost(ctx, settings, seconds, floor, clock, run)
        total += max(floor, proven)
    log.debug("bound from the week without staff and room limits: %.0f", total)
    return total


def _limits(instance: Instance, settings: SolverSettings, around: list[_Found | None]) -> Limits:
    """Candidate limits for a large week, around the schedules in hand (the first fit, and a
    start schedule if one was given), so that each stays a schedule of it; none for others."""
    small = settings.limits_from is None or len(instance.participants) < settings.limits_from
    guide = [s for found in around if found is not None for s in found.sessions]
    if small or not guide:  # with a schedule inside the limits, a schedule exists
        return Limits()
    copies, leads = settings.copies_per_person, settings.therapists_per_session
    return limits_for(instance, copies, leads, guide)


def _twins_ordered(settings: SolverSettings, variables: int) -> bool:
    """Whether the week's model keeps interchangeable groups in order (``twin_order``)."""
    if settings.twin_order is not None:
        return settings.twin_order
    return not _rounds_first(settings, variables)


def _probing(settings: SolverSettings, variables: int) -> SolverSettings:
    """The settings, with the probing cut (``probing_work``) dropped when the week is too small
    for it (``probing_cut_above``)."""
    above = settings.probing_cut_above
    if settings.probing_work is None or above is None or variables > above:
        return settings
    return settings.model_copy(update={"probing_work": None})


def _rounds_first(settings: SolverSettings, variables: int) -> bool:
    """Whether a model this large starts with neighbourhood rounds, not the whole week."""
    limit = settings.whole_week_first_up_to
    return limit is not None and variables > limit


def _with_schedule(
    instance: Instance,
    best: _Found,
    status: Status,
    bound: float | None,
    wall: float,
    stats: dict,
) -> Solution:
    """The solution that carries ``best``, with its gap and cost terms in the stats."""
    stats = stats | {
        "gap": relative_gap(best.objective, bound),
        "participants_fully_served": len(instance.participants)
        - len({row.participant for row in best.unmet}),
        "cost_by_rule": cost_by_rule(best.terms),
        "cost_terms": best.terms,
    }
    return Solution(
        instance=instance.name,
        status=status,
        objective=best.objective,
        bound=bound,
        solve_seconds=round(wall, 3),
        sessions=best.sessions,
        unmet=best.unmet,
        stats=Stats(**stats),
    )


def _checked(
    instance: Instance,
    solution: Solution,
    first_fit: _Found | None,
    bound: float | None,
    wall: float,
    stats: dict,
) -> Solution:
    """The solution, once our own validator passes it.

    A schedule from the search that breaks a hard rule (or whose cost does not match
    its sessions) is a defect in the model: it is logged as an error and the
    first-fit schedule, validated before the search, is returned instead.
    """
    report = validate(instance, solution)
    if report.ok:
        return solution
    log.error("internal error: the schedule found fails validation; %s", report.render(5))
    if first_fit is None:
        log.error("no validated schedule to fall back on: returning it as found")
        return solution
    log.error("returning the first-fit schedule instead")
    return _with_schedule(instance, first_fit, Status.FEASIBLE, bound, wall, stats)


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
    recorder = _Recorder(t0, on_progress, len(instance.participants))
    floor = float(cost_floor(instance))
    recorder.floor = floor  # raised below by the relaxation's bound

    def kept(found: _Found) -> None:
        """Hand a better schedule to ``on_schedule`` as it is kept."""
        if on_schedule is not None:
            stats = {"participants": len(instance.participants), "cost_floor": floor}
            wall = time.monotonic() - t0
            on_schedule(
                _with_schedule(instance, found, Status.FEASIBLE, recorder.floor, wall, stats)
            )

    # Each better schedule goes to on_schedule before its progress line goes to
    # on_progress: a caller that stops at a line (Ctrl-C in a callback, an isolated
    # search stopped by its parent) already holds the schedule the line reports.
    hint, best = None, None
    try:
        if settings.warm_start:
            hint, first = _first_fit(instance)
            if first is not None:
                recorder.first_fit, best = first.objective, first
                kept(best)
                recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        before_start, hint_before_start = best, hint
        given = _from_start(instance, start) if start is not None else None
        if given is not None and (best is None or given.objective < best.objective):
            hint, best = given.sessions, given
            kept(best)
            recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        started = best is not None and best is given
        # variants of the first fit, unless the search starts from the caller's schedule
        share = 0.0 if settings.deterministic or started else settings.first_fit_share
        until = t0 + share * settings.time_limit
        for found in _first_fit_variants(instance, settings, best, until) if best and share else ():
            hint, best = found.sessions, found
            kept(best)
            recorder.offer(best.objective, 0.0, {row.participant for row in best.unmet})
        t_build = time.monotonic()
        limits = _limits(instance, settings, [best, before_start if started else None])
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
        return _with_schedule(instance, best, Status.FEASIBLE, floor, wall, stats)
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
    ctx.order_twins(not started and _twins_ordered(settings, len(proto.variables)))
    settings = _probing(settings, len(proto.variables))
    _add_hints(ctx, hint)  # replaced by the best schedule once there is one
    build_seconds = time.monotonic() - t_build
    log.info(
        "model: %d variables, %d constraints, built in %.2fs",
        len(proto.variables),
        len(proto.constraints),
        build_seconds,
    )

    clock = _Clock(settings, t0)
    run = _Run()  # Ctrl-C ends the whole solve and keeps the best schedule
    held: _Found | None = None  # a start the model cannot take, returned if nothing beats it
    if started and not _expressible(ctx, best.sessions, settings, clock, run):
        log.warning(
            "the start schedule is valid but outside this week's model; the search starts "
            "from the first fit, and the start is returned if it finds nothing better"
        )
        held, best, hint = best, before_start, hint_before_start
        first_fit = best
        ctx.model.clear_hints()
        _add_hints(ctx, hint)
    repair_rounds = 0
    if best is None and hint is not None and settings.repair and settings.neighbourhood_search:
        if _refuted(ctx, settings, clock, run):
            log.debug("repair skipped: CP-SAT's presolve proves the week has no schedule")
        else:
            best, repair_rounds = _repair(instance, limits, hint, settings, clock, run)
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
    whole_week = not (alternate and _rounds_first(settings, len(proto.variables)))
    if not whole_week:
        log.debug("large model: neighbourhood rounds first, the whole week once they stall")
    # The relaxation's bound: before the search when first fit gave a schedule, else after
    # it (its time held back), so that it never delays the first schedule.
    parts = track_ids(instance) if settings.relaxation_share > 0 else []
    relax = any(len(ids) <= settings.relaxation_track_size for ids in parts)
    relaxed: float | None = None
    if relax and best is not None:
        relaxed = _relaxation_bound(instance, settings, clock, run, parts)
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
    turns = _turns(ctx, settings) if window else []
    if window and (not limits or _turns_fit(settings, turns, len(instance.participants))):

        def better(found: _Found) -> None:
            kept(found)
            recorder.offer(found.objective, 0.0, {row.participant for row in found.unmet})

        best = _serve_most(ctx, best, settings, clock, run, better, turns)

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
                solver, ctx.model, recorder, _stall_watch(recorder, stall if watch else None)
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
                found = _found(ctx, solver.value)
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
        best, n = _improve(ctx, best, settings, recorder, clock, bound, stall, run, hoods, kept)
        rounds += n
        whole_week = not hopeless  # the rounds stalled (or the time is up)
        if run.interrupted:
            break
    if code == cp_model.INFEASIBLE and best is None and not run.interrupted:
        best = _second_opinion(ctx, settings, run)
        if best is not None:
            code, status, bound = cp_model.FEASIBLE, Status.FEASIBLE, None
    clock.reserved = 0.0
    searched = best is not None and status is not Status.OPTIMAL and not run.interrupted
    if relax and relaxed is None and searched:
        relaxed = _relaxation_bound(instance, settings, clock, run, parts)
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
        solution = _with_schedule(instance, best, status, bound, wall, stats)
        return _checked(instance, solution, first_fit, bound, wall, stats)
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
