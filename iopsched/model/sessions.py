"""Individual and family sessions: when, with whom, in which room or online."""

from __future__ import annotations

from itertools import pairwise

from iopsched.model.context import Ctx
from iopsched.model.grid import domain


def one_to_one_sessions_are_placed(ctx: Ctx) -> None:
    """A 1:1 session that happens has one day, one therapist, and a room or a video link."""
    m, grid = ctx.model, ctx.grid
    for sessions in ctx.vars.one_to_one.values():
        for s in sessions:
            m.add(sum(s.days.values()) == s.present)
            on_day: dict[int, list[int]] = {}
            for t in s.candidates:
                on_day.setdefault(grid.day_of(t), []).append(t)
            for d, lit in s.days.items():
                m.add_linear_expression_in_domain(s.start, domain(on_day[d])).only_enforce_if(lit)
            m.add(sum(s.therapists.values()) == s.present)
            online = [s.online] if s.online is not None else []
            m.add(sum(s.rooms.values()) + sum(online) == s.present)
            m.add(s.start == s.candidates[0]).only_enforce_if(s.present.Not())


def one_to_one_sessions_in_order(ctx: Ctx) -> None:
    """A participant's sessions of one kind are numbered in time order (no duplicates)."""
    m = ctx.model
    for sessions in ctx.vars.one_to_one.values():
        for a, b in pairwise(sessions):
            if a.kind != b.kind:
                continue
            m.add_implication(b.present, a.present)
            m.add(a.start + a.length <= b.start).only_enforce_if(b.present)
