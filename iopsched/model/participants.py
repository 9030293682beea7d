"""Participants: availability, one place at a time, weekly, daily and day-count limits."""

from __future__ import annotations

from ortools.sat.python import cp_model

from iopsched.bounds import daily_capacity
from iopsched.instance import minutes_of
from iopsched.model.context import Ctx


def participant_free_for_their_groups(ctx: Ctx) -> None:
    """A participant joins a group only if free for every one of its meetings."""
    for gv in ctx.vars.groups.values():
        for pid, member in gv.members.items():
            spans = ctx.cand.participant_spans[pid]
            for s in gv.meetings:
                ctx.require_start_within(s, member, spans)


def participant_never_in_two_places(ctx: Ctx) -> None:
    """A participant attends at most one session at a time."""
    for pid, sessions in ctx.vars.by_participant.items():
        ctx.one_at_a_time(pid, sessions, lambda s, pid=pid: s.participants[pid])


def participant_within_max_hours(ctx: Ctx) -> None:
    """A participant gets no more than their plan's max_hours a week."""
    for p in ctx.instance.participants:
        if p.id in ctx.vars.by_participant:
            ctx.model.add(ctx.minutes(p.id) <= minutes_of(p.plan.max_hours))


def attendance_days_defined(ctx: Ctx) -> None:
    """A participant attends on a day exactly when they have a session that day."""
    m = ctx.model
    for pid in ctx.vars.by_participant:
        for d, sessions in sorted(ctx.by_day(pid).items()):
            lits = [ctx.on_day(s, pid, d) for s in sessions]
            day = m.new_bool_var(f"attends[{pid},{d}]")
            m.add_max_equality(day, lits)
            ctx.attend_day.setdefault(pid, {})[d] = day


def participant_within_max_days(ctx: Ctx) -> None:
    """A participant comes in on no more than their max_days."""
    for p in ctx.instance.participants:
        days = ctx.attend_day.get(p.id, {})
        if p.max_days is not None and len(days) > p.max_days:
            ctx.model.add(sum(days.values()) <= p.max_days)


def participant_daily_hours_within_limits(ctx: Ctx) -> None:
    """On a day they attend, a participant gets between min and max hours per day.

    The cap is written against the day's literal: no more than the minutes they are
    free that day, and none on a day they stay home.  Whole schedules obey it anyway;
    written this way it also tells the LP relaxation how little one day can hold.
    """
    slot = ctx.grid.slot_minutes
    for p in ctx.instance.participants:
        on = ctx.by_day(p.id)
        cap = daily_capacity(ctx.instance, p)
        for d, day in ctx.attend_day.get(p.id, {}).items():
            lits = [ctx.on_day(s, p.id, d) for s in on[d]]
            weights = [s.length * slot for s in on[d]]
            # the day's minutes against its cap (then its minimum) times the day's literal,
            # as one weighted sum (faster to build than a sum taken term by term)
            both = [*lits, day]
            ctx.model.add(cp_model.LinearExpr.weighted_sum(both, [*weights, -cap[d]]) <= 0)
            if p.min_hours_per_day:
                least = minutes_of(p.min_hours_per_day)
                day_sum = cp_model.LinearExpr.weighted_sum(both, [*weights, -least])
                if ctx.repair:
                    below = ctx.model.new_int_var(0, least, f"below_daily_minimum[{p.id},{d}]")
                    ctx.below_daily_minimum.setdefault(p.id, []).append(below)
                    day_sum += below
                ctx.model.add(day_sum >= 0)
