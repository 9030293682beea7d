"""A known schedule (the first-fit one, the best so far, last week's) as variable values.

:func:`schedule_values` gives every decision variable its value in a schedule,
each tagged with the group and/or participant it belongs to, so the solver can
hint all of them or fix all but a neighbourhood (large neighbourhood search).
:func:`hint_every_variable` hints the variables the rules derive from those
decisions as well: CP-SAT takes such a complete hint as its first solution
right after presolve, where it follows a hint of the decisions alone by search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from ortools.sat.python import cp_model, cp_model_helper

from iopsched.model.context import Ctx
from iopsched.solution import Session
from iopsched.timegrid import DAYS, MINUTES_PER_DAY, parse_hhmm


class Value(NamedTuple):
    """A decision variable's value in a schedule, and whose decision it is (a tuple: the
    800-person week has over 100,000 of them)."""

    var: cp_model.IntVar
    value: int
    group: str | None = None  # a group's timing, staffing or membership
    participant: str | None = None  # a membership or a 1:1 session


def _slot(ctx: Ctx, s: Session) -> int:
    return (DAYS.index(s.day) * MINUTES_PER_DAY + parse_hhmm(s.start)) // ctx.grid.slot_minutes


def schedule_values(ctx: Ctx, sessions: list[Session]) -> Iterator[Value]:
    """Every decision variable's value in this schedule."""
    pools = ctx.cand.pool_of

    def pool(room: str | None) -> str | None:
        return None if room is None else pools[room]

    meetings: dict[str, dict[int, Session]] = defaultdict(dict)
    one_to_one: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for s in sessions:
        if s.group is not None:
            meetings[s.group][DAYS.index(s.day)] = s
        else:
            one_to_one[(s.participants[0], s.kind)].append(s)
    for gid, gv in ctx.vars.groups.items():
        held = meetings.get(gid, {})
        members = set().union(*(set(s.participants) for s in held.values()))
        yield Value(gv.run, int(bool(held)), gid)
        for pid, lit in gv.members.items():
            yield Value(lit, int(pid in members), gid, pid)
        for sv in gv.meetings:
            s = held.get(sv.index)
            slot = _slot(ctx, s) if s is not None else None
            yield Value(sv.present, int(s is not None), gid)
            yield Value(sv.start, slot if slot is not None else sv.candidates[0], gid)
            for t, lit in sv.at.items():
                yield Value(lit, int(t == slot), gid)
            for tid, lit in sv.therapists.items():
                yield Value(lit, int(s is not None and s.therapist == tid), gid)
            for rid, lit in sv.rooms.items():
                yield Value(lit, int(s is not None and pool(s.room) == rid), gid)
            for pid, lit in sv.participants.items():
                yield Value(lit, int(s is not None and pid in members), gid, pid)
    for pid, svs in ctx.vars.one_to_one.items():
        for kind in ("individual", "family"):
            mine = sorted(one_to_one.get((pid, kind), []), key=lambda s: _slot(ctx, s))
            ours = [sv for sv in svs if sv.kind == kind]
            for sv, s in zip(ours, [*mine, *[None] * len(ours)], strict=False):
                slot = _slot(ctx, s) if s is not None else sv.candidates[0]
                yield Value(sv.present, int(s is not None), None, pid)
                yield Value(sv.start, slot, None, pid)
                for d, lit in sv.days.items():
                    yield Value(lit, int(s is not None and d == ctx.grid.day_of(slot)), None, pid)
                for tid, lit in sv.therapists.items():
                    yield Value(lit, int(s is not None and s.therapist == tid), None, pid)
                for rid, lit in sv.rooms.items():
                    yield Value(lit, int(s is not None and pool(s.room) == rid), None, pid)
                if sv.online is not None:
                    yield Value(sv.online, int(s is not None and s.room is None), None, pid)


def hint_schedule(ctx: Ctx, sessions: list[Session]) -> None:
    """Hint every decision variable so that the search starts from exactly these sessions."""
    ctx.model.clear_hints()
    values = list(schedule_values(ctx, sessions))
    hint = ctx.model.proto.solution_hint  # in bulk: add_hint is slow one by one
    hint.vars.extend(v.var.index for v in values)
    hint.values.extend(v.value for v in values)


def set_domain(proto: cp_model_helper.CpModelProto, index: int, domain: Iterable[int]) -> None:
    """Set a variable's domain in place (the proto is a wrapper: no assignment)."""
    dom = proto.variables[index].domain
    values = list(domain)
    dom.clear()
    dom.extend(values)


def fixed_except(
    ctx: Ctx, sessions: list[Session], free: Callable[[Value], bool]
) -> cp_model.CpModel:
    """The week's model with every decision not ``free`` fixed to its value in ``sessions``;
    the free ones are hinted with it."""
    model = ctx.model.clone()
    model.clear_hints()
    proto = model.proto
    hinted = []
    for v in schedule_values(ctx, sessions):
        if free(v):
            hinted.append(v)
        else:
            set_domain(proto, v.var.index, [v.value, v.value])
    proto.solution_hint.vars.extend(v.var.index for v in hinted)
    proto.solution_hint.values.extend(v.value for v in hinted)
    return model


def hint_every_variable(
    ctx: Ctx,
    sessions: list[Session],
    seconds: float = 10.0,
    solve: Callable[[cp_model.CpSolver, cp_model.CpModel], int] | None = None,
) -> list[int] | None:
    """Hint every variable of the week's model with its value in this schedule, the ones the
    rules derive from the decisions included (read from a solve of the week with every
    decision fixed, by ``solve`` if given, so that the caller can stop it), and return those
    values, one per variable; if that solve finds nothing within ``seconds`` (0.1 to 10),
    hint the decisions alone and return None.

    CP-SAT checks a complete hint before its presolve and again after it, and a hint that
    is complete and feasible after presolve is its first solution at once: on the 80-person
    example the most-served search then found its first schedule at a median of 6.2 s,
    against 10.8 s when it followed a hint of the decisions alone by search (both with
    CP-SAT's full presolve probing, which that search now limits).
    """
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.1, min(10.0, seconds))
    fixed = fixed_except(ctx, sessions, lambda v: False)
    code = solve(solver, fixed) if solve is not None else solver.solve(fixed)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        hint_schedule(ctx, sessions)
        return None
    ctx.model.clear_hints()
    values = list(solver.response_proto.solution)
    hint = ctx.model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)
    return values


def hint_last_week(ctx: Ctx) -> None:
    """Start from last week's group times and cohorts, where they are still possible."""
    prev = ctx.instance.previous
    if prev is None:
        return
    members: dict[str, set[str]] = {}
    times: dict[str, set[int]] = {}
    for s in prev.sessions:
        if s.group in ctx.vars.groups:
            times.setdefault(s.group, set()).add(_slot(ctx, s))
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
