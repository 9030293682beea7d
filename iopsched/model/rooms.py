"""Rooms: availability, one session at a time, and sites of the people in them."""

from __future__ import annotations

from iopsched.model.context import Ctx
from iopsched.model.grid import fits_site


def room_free_when_used(ctx: Ctx) -> None:
    """A room is used only inside its availability (default: all program hours)."""
    for rid, sessions in ctx.vars.by_room.items():
        spans = ctx.cand.room_spans[rid]
        for s in sessions:
            ctx.require_start_within(s, s.rooms[rid], spans)


def room_holds_one_session_at_a_time(ctx: Ctx) -> None:
    """A room holds at most one session at a time (a pool of k rooms, k sessions)."""
    m = ctx.model
    for rid, sessions in ctx.vars.by_room.items():
        size = len(ctx.cand.room_pools[rid])
        if size == 1:
            ctx.one_at_a_time(rid, sessions, lambda s, rid=rid: s.rooms[rid])
        elif len(sessions) > size:
            intervals = [
                m.new_optional_fixed_size_interval_var(
                    s.start, s.length, s.rooms[rid], f"{rid}:{s.key}"
                )
                for s in sessions
            ]
            m.add_cumulative(intervals, [1] * len(intervals), size)


def group_room_at_every_members_site(ctx: Ctx) -> None:
    """An in-person group meets in a room at the site of each of its members."""
    rooms = ctx.instance.room_by_id
    people = ctx.instance.participant_by_id
    for gv in ctx.vars.groups.values():
        for s in gv.meetings:
            for pid, member in gv.members.items():
                site = people[pid].site
                if site is None:
                    continue
                for rid, lit in s.rooms.items():
                    if not fits_site(rooms[rid], site):
                        ctx.model.add_at_most_one([member, lit])
