"""Where the search starts: the first fit and its variants, a caller's start schedule or
last week's carried forward, hints, and the choices a week's size decides."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from iopsched.greedy import completed, first_fit_solution
from iopsched.instance import Instance, Pin, minutes_of
from iopsched.model.context import Ctx
from iopsched.model.grid import Limits
from iopsched.model.hints import fixed_except, hint_last_week, hint_schedule
from iopsched.model.limits import limits_for
from iopsched.search.found import Found
from iopsched.search.run import Clock, Run, configure
from iopsched.settings import SolverSettings
from iopsched.solution import Session, Solution, Status
from iopsched.timegrid import parse_hhmm
from iopsched.validator import ValidationReport, Violation, validate

log = logging.getLogger("iopsched")

EXPRESSIBLE_SECONDS = 10.0  # most time to check that a start schedule fits the week's model


def first_fit_found(
    instance: Instance, rng: random.Random | None = None
) -> tuple[list[Session], Found | None]:
    """The greedy schedule (to hint), and the same as a result when it breaks no hard rule;
    with ``rng``, one of its variants."""
    trial = first_fit_solution(instance, rng)
    report = validate(instance, trial)
    if not report.ok:
        log.debug("first-fit schedule breaks rules, used as a hint only: %s", report.render(5))
        return trial.sessions, None
    return trial.sessions, Found(trial.sessions, trial.unmet, report.cost_terms)


def first_fit_variants(
    instance: Instance, settings: SolverSettings, best: Found, until: float
) -> Iterator[Found]:
    """Variants of the first fit (another intake order and group order) until ``until``
    (monotonic), each better one as it is found."""
    rng = random.Random(settings.seed)
    while time.monotonic() < until:
        _, found = first_fit_found(instance, random.Random(rng.getrandbits(32)))
        if found is not None and found.objective < best.objective:
            best = found
            yield found


def from_start(instance: Instance, start: Solution) -> Found | None:
    """The caller's start schedule with what it leaves unmet and costs, as our validator
    reads it.  One that breaks a hard rule of this week is mended and completed as last
    week's schedule is (:func:`carried_into`), with a warning naming what it breaks; None
    when even that breaks a rule.

    Its own unmet rows and objective need not match its sessions (a schedule a coordinator
    edited seldom has them right): they are recomputed from the sessions.
    """
    report = validate(instance, start)
    if broken := report.broken:
        log.warning(
            "the start schedule breaks %d rule(s) of this week: %s",
            len(broken),
            ValidationReport(broken).render(3),
        )
        return carried_into(instance, start, "the start schedule").found
    if not report.ok:
        log.info("the start schedule's unmet rows or objective are recomputed from its sessions")
    return Found(list(start.sessions), report.unmet, report.cost_terms)


@dataclass(frozen=True)
class Carried:
    """A schedule (last week's, or a start) carried into this week: the week made of it
    (None when it still breaks a rule of this week, ``broken``), and how many of its ``of``
    sessions it kept."""

    found: Found | None
    kept: int
    of: int
    broken: list[Violation] = field(default_factory=list)


def carried_forward(instance: Instance) -> Carried | None:
    """Last week's schedule (``previous``) carried into this week, as a coordinator would
    begin (:func:`carried_into`); None without ``previous``."""
    if instance.previous is None:
        return None
    return carried_into(instance, instance.previous, "last week's schedule")


def carried_into(instance: Instance, schedule: Solution, what: str) -> Carried:
    """A schedule (``what`` it is, for the log) carried into this week: people this week
    does not have taken out of its sessions, and sessions left with nobody, or naming a
    group, therapist or room this week lacks, dropped; then what breaks a hard rule of this
    week dropped too (:func:`mended`), and the week completed around the rest by first fit
    (groups that no longer run, pins, new people).  No week when nothing is left, or when
    the completed week still breaks a rule."""
    people = instance.participant_by_id
    sessions = [
        _with(s, [pid for pid in s.participants if pid in people])
        for s in schedule.sessions
        if any(pid in people for pid in s.participants)
        and (s.group is None or s.group in instance.group_by_id)
        and s.therapist in instance.therapist_by_id
        and (s.room is None or s.room in instance.room_by_id)
    ]
    while sessions:
        kept = mended(instance, sessions, _check(instance, sessions).broken)
        if kept == sessions:
            break
        log.debug("carrying %s: %d of %d sessions kept", what, len(kept), len(sessions))
        sessions = kept
    of = len(schedule.sessions)
    if not sessions:
        log.info("%s, carried into this week, keeps none of its sessions", what)
        return Carried(None, 0, of)
    week = completed(instance, sessions)
    report = _check(instance, week)
    if broken := report.broken:
        log.info(
            "%s, carried into this week, breaks %d rule(s) and is not the start: %s",
            what,
            len(broken),
            ValidationReport(broken).render(3),
        )
        return Carried(None, len(sessions), of, broken)
    log.info(
        "%s carried into this week: %d of its %d sessions kept, %d in all",
        what,
        len(sessions),
        of,
        len(week),
    )
    return Carried(Found(week, report.unmet, report.cost_terms), len(sessions), of)


def _check(instance: Instance, sessions: list[Session]) -> ValidationReport:
    """Our validator's report on these sessions as a schedule of the week."""
    return validate(
        instance, Solution(instance=instance.name, status=Status.FEASIBLE, sessions=sessions)
    )


def mended(instance: Instance, sessions: list[Session], broken: list[Violation]) -> list[Session]:
    """The sessions less what the ``broken`` rules name: a session (a group's with all its
    meetings; of two at once, a 1:1 one first); a group's meetings; a participant taken out
    of every session (over a weekly or daily limit); a therapist over a cap losing their 1:1
    sessions (that day, for a daily cap), or their groups when they have none; and, for a
    pin not kept, the sessions it describes, those holding its participant or therapist
    when it says, and that therapist's 1:1 sessions as needed under their caps, so that it
    can be placed where it says.  Anything else that is missing (a group that does not run,
    a day below its minimum) is left to the completion."""
    drop: set[str] = set()
    groups: set[str] = set()
    out_of: set[str] = set()
    one_to_one = {s.id for s in sessions if s.group is None}
    for v in broken:
        if v.session is not None:
            # of two sessions at once, a 1:1 session goes rather than a group's meetings
            pair = [v.session] if v.also is None else [v.session, v.also]
            drop.add(next((sid for sid in pair if sid in one_to_one), v.session))
        elif v.pin is not None:
            pin = instance.pins[v.pin]
            drop |= {s.id for s in sessions if _described(pin, s) or _in_the_way(instance, pin, s)}
            drop |= _under_caps(instance, pin, [s for s in sessions if s.id not in drop])
        elif v.lacking:
            continue
        elif v.group is not None:
            groups.add(v.group)
        elif v.participant is not None:
            out_of.add(v.participant)
        elif v.therapist is not None:
            theirs = [s for s in sessions if s.therapist == v.therapist]
            on_day = [s for s in theirs if v.day is None or s.day == v.day]
            ones = [s for s in on_day if s.group is None]
            drop |= {s.id for s in ones or on_day}
    groups |= {s.group for s in sessions if s.id in drop and s.group is not None}
    kept = []
    for s in sessions:
        if s.id in drop or s.group in groups:
            continue
        who = [pid for pid in s.participants if pid not in out_of]
        if who:
            kept.append(s if len(who) == len(s.participants) else _with(s, who))
    return kept


def _with(session: Session, participants: list[str]) -> Session:
    return session.model_copy(update={"participants": participants})


def _pin_minutes(instance: Instance, pin: Pin) -> int | None:
    """How long the pinned session lasts, where the pin says (a group's, or a 1:1 one's)."""
    if pin.group is not None:
        return instance.group_by_id[pin.group].duration_minutes
    if pin.participant is not None and pin.kind in ("individual", "family"):
        spec = getattr(instance.participant_by_id[pin.participant].plan, pin.kind)
        return None if spec is None else spec.minutes
    return None


def _length(s: Session) -> int:
    return parse_hhmm(s.end) - parse_hhmm(s.start)


def _in_the_way(instance: Instance, pin: Pin, s: Session) -> bool:
    """The session holds the pinned participant or therapist when the pin says, where the
    pin gives its day and start and its length is known."""
    minutes = _pin_minutes(instance, pin)
    if pin.day is None or pin.start is None or s.day != pin.day or minutes is None:
        return False
    start = parse_hhmm(pin.start)
    if not (parse_hhmm(s.start) < start + minutes and start < parse_hhmm(s.end)):
        return False
    return pin.participant in s.participants or (
        pin.therapist is not None and s.therapist == pin.therapist
    )


def _under_caps(instance: Instance, pin: Pin, sessions: list[Session]) -> set[str]:
    """The pinned therapist's 1:1 sessions to drop so that the pinned session fits under
    their weekly cap and, on its day, their daily cap (that day's go first)."""
    minutes = _pin_minutes(instance, pin)
    if pin.therapist is None or minutes is None:
        return set()
    t = instance.therapist_by_id[pin.therapist]
    theirs = [s for s in sessions if s.therapist == t.id]
    week = sum(map(_length, theirs)) + minutes - minutes_of(t.max_hours_per_week)
    day = 0
    if t.max_hours_per_day is not None and pin.day is not None:
        on_day = sum(_length(s) for s in theirs if s.day == pin.day)
        day = on_day + minutes - minutes_of(t.max_hours_per_day)
    out: set[str] = set()
    for s in sorted((s for s in theirs if s.group is None), key=lambda s: s.day != pin.day):
        if week <= 0 and (day <= 0 or s.day != pin.day):
            break
        out.add(s.id)
        week -= _length(s)
        day -= _length(s) if s.day == pin.day else 0
    return out


def _described(pin: Pin, s: Session) -> bool:
    """The session is of the kind a pin describes, whatever its time."""
    return (
        (pin.group is None or s.group == pin.group)
        and (pin.participant is None or pin.participant in s.participants)
        and (pin.therapist is None or s.therapist == pin.therapist)
        and (pin.kind is None or s.kind == pin.kind)
    )


def expressible(
    ctx: Ctx, sessions: list[Session], settings: SolverSettings, clock: Clock, run: Run
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


def add_hints(ctx: Ctx, start: list[Session] | None) -> None:
    """Start from a known schedule, else last week's groups, else an empty week."""
    if start is not None:
        hint_schedule(ctx, start)
    elif ctx.instance.previous is not None:
        hint_last_week(ctx)
    else:  # an empty week is always feasible: hinting it gives a first schedule at once
        hint_schedule(ctx, [])


def candidate_limits(
    instance: Instance, settings: SolverSettings, around: list[Found | None]
) -> Limits:
    """Candidate limits for a large week, around the schedules in hand (the first fit, and a
    start schedule if one was given), so that each stays a schedule of it; none for others."""
    small = settings.limits_from is None or len(instance.participants) < settings.limits_from
    guide = [s for found in around if found is not None for s in found.sessions]
    if small or not guide:  # with a schedule inside the limits, a schedule exists
        return Limits()
    copies, leads = settings.copies_per_person, settings.therapists_per_session
    return limits_for(instance, copies, leads, guide)


def twins_ordered(settings: SolverSettings, variables: int) -> bool:
    """Whether the week's model keeps interchangeable groups in order (``twin_order``)."""
    if settings.twin_order is not None:
        return settings.twin_order
    return not rounds_first(settings, variables)


def probing_for(settings: SolverSettings, variables: int) -> SolverSettings:
    """The settings, with the probing cut (``probing_work``) dropped when the week is too small
    for it (``probing_cut_above``)."""
    above = settings.probing_cut_above
    if settings.probing_work is None or above is None or variables > above:
        return settings
    return settings.model_copy(update={"probing_work": None})


def rounds_first(settings: SolverSettings, variables: int) -> bool:
    """Whether a model this large starts with neighbourhood rounds, not the whole week."""
    limit = settings.whole_week_first_up_to
    return limit is not None and variables > limit
