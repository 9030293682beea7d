"""Therapists: availability, one place at a time, weekly and daily hours, sites."""

from __future__ import annotations

from ortools.sat.python import cp_model

from iopsched.instance import minutes_of
from iopsched.model.context import Ctx
from iopsched.model.grid import therapist_can_work_in


def therapist_free_for_what_they_deliver(ctx: Ctx) -> None:
    """A therapist delivers a session only inside their availability."""
    for tid, sessions in ctx.vars.by_therapist.items():
        spans = ctx.cand.therapist_spans[tid]
        for s in sessions:
            ctx.require_start_within(s, s.therapists[tid], spans)


def therapist_never_in_two_places(ctx: Ctx) -> None:
    """A therapist delivers at most one session at a time."""
    for tid, sessions in ctx.vars.by_therapist.items():
        ctx.one_at_a_time(tid, sessions, lambda s, tid=tid: s.therapists[tid])


def therapist_within_weekly_hours(ctx: Ctx) -> None:
    """A therapist's sessions add up to no more than their weekly hours."""
    slot = ctx.grid.slot_minutes
    for t in ctx.instance.therapists:
        sessions = ctx.vars.by_therapist.get(t.id, [])
        if sessions:
            load = sum(s.length * slot * s.therapists[t.id] for s in sessions)
            ctx.model.add(load <= minutes_of(t.max_hours_per_week))


def therapist_within_daily_hours(ctx: Ctx) -> None:
    """A therapist with a daily cap delivers no more than it on any day."""
    slot = ctx.grid.slot_minutes
    for t in ctx.instance.therapists:
        sessions = ctx.vars.by_therapist.get(t.id, [])
        if t.max_hours_per_day is None or not sessions:
            continue
        cap = minutes_of(t.max_hours_per_day)
        for d in range(7):
            on_d = [s for s in sessions if d in s.days]
            if sum(s.length * slot for s in on_d) <= cap:
                continue
            works = [
                s.therapists[t.id]  # a group meeting lies on one day
                if len(s.days) == 1
                else ctx.product(s.therapists[t.id], s.days[d], f"works[{t.id},{s.key},{d}]")
                for s in on_d
            ]
            load = cp_model.LinearExpr.weighted_sum(works, [s.length * slot for s in on_d])
            ctx.model.add(load <= cap)


def therapist_works_at_their_sites(ctx: Ctx) -> None:
    """A therapist with named sites sees people in person only in rooms at those sites."""
    rooms = ctx.instance.room_by_id
    for t in ctx.instance.therapists:
        if t.sites is None:
            continue
        for s in ctx.vars.by_therapist.get(t.id, []):
            bad = [lit for rid, lit in s.rooms.items() if not therapist_can_work_in(t, rooms[rid])]
            for lit in bad:
                ctx.model.add_at_most_one([s.therapists[t.id], lit])
