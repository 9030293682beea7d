"""Hints: a known schedule (the greedy one, or last week's) as the search's starting point."""

from __future__ import annotations

from collections import defaultdict

from iopsched.model.context import Ctx
from iopsched.solution import Session
from iopsched.timegrid import DAYS, MINUTES_PER_DAY, parse_hhmm


def _slot(ctx: Ctx, s: Session) -> int:
    return (DAYS.index(s.day) * MINUTES_PER_DAY + parse_hhmm(s.start)) // ctx.grid.slot_minutes


def hint_schedule(ctx: Ctx, sessions: list[Session]) -> None:
    """Hint every decision variable so that the model starts from exactly these sessions."""
    m = ctx.model
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
        m.add_hint(gv.run, bool(held))
        for pid, lit in gv.members.items():
            m.add_hint(lit, pid in members)
        for sv in gv.meetings:
            s = held.get(sv.index)
            slot = _slot(ctx, s) if s is not None else None
            m.add_hint(sv.present, s is not None)
            m.add_hint(sv.start, slot if slot is not None else sv.candidates[0])
            for t, lit in sv.at.items():
                m.add_hint(lit, t == slot)
            for tid, lit in sv.therapists.items():
                m.add_hint(lit, s is not None and s.therapist == tid)
            for rid, lit in sv.rooms.items():
                m.add_hint(lit, s is not None and s.room == rid)
            for pid, lit in sv.participants.items():
                m.add_hint(lit, s is not None and pid in members)
    for pid, svs in ctx.vars.one_to_one.items():
        for kind in ("individual", "family"):
            mine = sorted(one_to_one.get((pid, kind), []), key=lambda s: _slot(ctx, s))
            for sv, s in zip(
                [sv for sv in svs if sv.kind == kind], [*mine, *[None] * len(svs)], strict=False
            ):
                slot = _slot(ctx, s) if s is not None else sv.candidates[0]
                m.add_hint(sv.present, s is not None)
                m.add_hint(sv.start, slot)
                for d, lit in sv.days.items():
                    m.add_hint(lit, s is not None and d == ctx.grid.day_of(slot))
                for tid, lit in sv.therapists.items():
                    m.add_hint(lit, s is not None and s.therapist == tid)
                for rid, lit in sv.rooms.items():
                    m.add_hint(lit, s is not None and s.room == rid)
                if sv.online is not None:
                    m.add_hint(sv.online, s is not None and s.room is None)


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
