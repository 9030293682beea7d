"""Groups and cohorts: when a group meets, who is in it, who leads it, where."""

from __future__ import annotations

import itertools

from iopsched.model.context import Ctx
from iopsched.model.grid import interchangeable_groups


def group_meets_its_weekly_count(ctx: Ctx) -> None:
    """A group that runs meets exactly its number of times a week, at most once a day."""
    m = ctx.model
    for gv in ctx.vars.groups.values():
        m.add(sum(s.present for s in gv.meetings) == gv.group.meetings_per_week * gv.run)
        for s in gv.meetings:
            m.add_implication(s.present, gv.run)
            m.add_exactly_one([*s.at.values(), s.present.Not()])
            first = s.candidates[0]
            m.add(s.start == sum(t * lit for t, lit in s.at.items()) + first * (1 - s.present))


def mandatory_groups_run(ctx: Ctx) -> None:
    """A group the program does not mark optional must run this week."""
    for gv in ctx.vars.groups.values():
        if not gv.group.optional:
            ctx.model.add(gv.run == 1).only_enforce_if(ctx.switch(f"group {gv.group.id} must run"))


def cohort_size_within_limits(ctx: Ctx) -> None:
    """A running group has min_size to max_size members, the same ones every meeting."""
    m = ctx.model
    for gv in ctx.vars.groups.values():
        g = gv.group
        size = sum(gv.members.values())
        m.add(size >= g.min_size * gv.run)
        m.add(size <= g.max_size * gv.run)
        for lit in gv.members.values():
            m.add_implication(lit, gv.run)


def identical_groups_filled_in_order(ctx: Ctx) -> None:
    """Of two interchangeable groups, the first runs and is filled before the second.

    Not a rule of the week: it only breaks symmetry (any schedule can swap twins' ids
    to keep it), so it holds only while ``ctx.twins_in_order`` does (``Ctx.order_twins``)."""
    for twins in interchangeable_groups(ctx.instance):
        for a, b in itertools.pairwise(ctx.vars.groups[g.id] for g in twins):
            if set(a.members) == set(b.members):
                if ctx.twins_in_order is None:
                    ctx.twins_in_order = ctx.model.new_bool_var("twins_in_order")
                on = ctx.twins_in_order
                fuller = sum(a.members.values()) >= sum(b.members.values())
                ctx.model.add(a.run >= b.run).only_enforce_if(on)
                ctx.model.add(fuller).only_enforce_if(on)


def avoided_pairs_never_share_a_group(ctx: Ctx) -> None:
    """Participants who must be kept apart are never in the same group."""
    # sorted: a set's order changes from run to run, and the model must not
    for a, b in sorted(tuple(sorted(pair)) for pair in ctx.instance.avoid_pairs()):
        for gv in ctx.vars.groups.values():
            if a in gv.members and b in gv.members:
                ctx.model.add_at_most_one([gv.members[a], gv.members[b]])


def one_facilitator_per_meeting(ctx: Ctx) -> None:
    """Every meeting of a running group has exactly one facilitator."""
    for gv in ctx.vars.groups.values():
        for s in gv.meetings:
            ctx.model.add(sum(s.therapists.values()) == s.present)


def in_person_meetings_have_a_room_that_seats_the_cohort(ctx: Ctx) -> None:
    """An in-person meeting has one room, big enough for the whole cohort."""
    m, rooms = ctx.model, ctx.instance.room_by_id
    for gv in ctx.vars.groups.values():
        if gv.group.virtual:
            continue
        size = sum(gv.members.values())
        for s in gv.meetings:
            m.add(sum(s.rooms.values()) == s.present)
            for rid, lit in s.rooms.items():
                if rooms[rid].capacity < gv.group.max_size:
                    m.add(size <= rooms[rid].capacity).only_enforce_if(lit)
