"""The most-served window: a search for the most people fully served
(:mod:`iopsched.model.served`), of the whole week or one track at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from iopsched.model.context import Ctx
from iopsched.model.hints import hint_every_variable
from iopsched.model.lns import Neighbourhood, RoundModels, by_site, track_parts
from iopsched.model.served import most_fully_served, served_objective
from iopsched.search.found import Found
from iopsched.search.run import Clock, Run, configure
from iopsched.settings import SolverSettings

log = logging.getLogger("iopsched")


class ServedWatch(cp_model.CpSolverSolutionCallback):
    """Watches the search for the most people fully served: hands on each of its schedules
    that costs less by the week's own objective, and notes when its latest schedule came."""

    def __init__(self, ctx: Ctx, best: Found, better: Callable[[Found], None]):
        super().__init__()
        self.ctx, self.best, self.better = ctx, best, better
        self.last: float | None = None  # monotonic time of the latest schedule
        self.values: list[int] | None = None  # every variable's value in a better schedule

    def on_solution_callback(self) -> None:
        self.last = time.monotonic()
        found = Found.read(self.ctx, self.value)
        if found.objective < self.best.objective:
            self.best = found
            self.values = list(self.response_proto.solution)
            self.better(found)


def window_over(now: float, started: float, last: float | None, wait: float, stall: float) -> bool:
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
    return most_fully_served(ctx), served_solver(settings, seconds)


def served_solver(settings: SolverSettings, seconds: float) -> cp_model.CpSolver:
    """CP-SAT configured for a most-served search of ``seconds``."""
    solver = cp_model.CpSolver()
    # Both workers on neighbourhoods: the full-problem worker's bound is of no use here, and
    # its search adds little to the window's schedules (settings: served_first_lns_only).
    configure(solver, settings, seconds, lns_only=settings.served_first_lns_only)
    solver.parameters.probing_deterministic_time_limit = settings.served_first_probing
    return solver


def serve_most(
    ctx: Ctx,
    best: Found,
    settings: SolverSettings,
    clock: Clock,
    run: Run,
    better: Callable[[Found], None],
    turns: list[Neighbourhood] | None = None,
) -> Found:
    """A search from ``best`` for the most people fully served (``served_first_share`` of
    the limit, less once it stalls), of the whole week or by turns (``turns``, by default
    :func:`turn_parts`); returns the schedule that costs least by the week's objective,
    ``best`` or one found here."""
    every = hint_every_variable(ctx, best.sessions, clock.left(), run.solve)
    if every is None:
        log.debug("the best schedule hinted by its decisions alone")
    if run.interrupted:  # Ctrl-C while hinting
        return best
    seconds = min(clock.left(), settings.served_first_share * settings.time_limit)
    parts = turn_parts(ctx, settings) if turns is None else turns
    if len(parts) < 2:
        model, solver = most_served_search(ctx, settings, seconds)
        return served_window(ctx, model, solver, best, settings, clock, run, better).best
    return serve_most_by_track(ctx, parts, best, every, seconds, settings, clock, run, better)


def turn_parts(ctx: Ctx, settings: SolverSettings) -> list[Neighbourhood]:
    """The parts the most-served window takes turns on (``served_by_track``): each track,
    site by site when it has more than ``served_turn_up_to`` people; [] when it searches
    the whole week at once."""
    if not settings.served_by_track:
        return []
    parts, most = track_parts(ctx), settings.served_turn_up_to
    if most is None:
        return parts
    return [chunk for part in parts for chunk in by_site(ctx, part, most)]


def turns_fit(settings: SolverSettings, turns: list[Neighbourhood], participants: int) -> bool:
    """Whether no turn of the window frees more than ``served_turn_up_to`` people (a
    window of fewer than two turns searches the whole week, all ``participants``)."""
    most = settings.served_turn_up_to
    sizes = [len(turn.participants) for turn in turns] if len(turns) > 1 else [participants]
    return most is None or max(sizes) <= most


def served_stall(settings: SolverSettings, share: float | None = None) -> float:
    """Seconds without a better schedule that end a most-served search: ``share`` of the
    limit, at least 2 s, or by default ``served_first_stall`` of it, at least 3 s."""
    if share is None:
        return max(3.0, settings.served_first_stall * settings.time_limit)
    return max(2.0, share * settings.time_limit)


def served_window(
    ctx: Ctx,
    model: cp_model.CpModel,
    solver: cp_model.CpSolver,
    best: Found,
    settings: SolverSettings,
    clock: Clock,
    run: Run,
    better: Callable[[Found], None],
    *,
    stall_share: float | None = None,
) -> ServedWatch:
    """One most-served search of ``model`` from ``best``, ended by the time limit, a proof,
    or a stall (:func:`served_stall` of ``stall_share``; ``served_first_wait``)."""
    watch = ServedWatch(ctx, best, better)
    stall = served_stall(settings, stall_share)
    wait = settings.served_first_wait * settings.time_limit
    started = time.monotonic()

    def stalled() -> bool:
        """On the wall clock (a deterministic solve runs its whole window)."""
        now = time.monotonic()
        return not settings.deterministic and window_over(now, started, watch.last, wait, stall)

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


def next_track(
    parts: list[Neighbourhood], short: set[str], tried: set[int], previous: int | None
) -> int | None:
    """The track whose turn is next: of those with someone short and not ``tried`` since the
    last gain, the one with the most people short, the ``previous`` one last (None: none)."""
    waiting = [k for k, part in enumerate(parts) if short & part.participants and k not in tried]
    if not waiting:
        return None
    return min(waiting, key=lambda k: (k == previous, -len(short & parts[k].participants), k))


def serve_most_by_track(
    ctx: Ctx,
    parts: list[Neighbourhood],
    best: Found,
    every: list[int] | None,
    seconds: float,
    settings: SolverSettings,
    clock: Clock,
    run: Run,
    better: Callable[[Found], None],
) -> Found:
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
        i = next_track(parts, {row.participant for row in best.unmet}, tried, previous)
        if i is None:
            break
        model = models.model(best.sessions, parts[i])
        model.minimize(served_objective(ctx))
        solver = served_solver(settings, min(left, turn))
        solver.parameters.random_seed = settings.seed + turns
        share = settings.served_turn_stall
        watch = served_window(
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
