"""Soft rules: each returns named penalty terms (rule, person, amount, weight).

Plan minimums come first (their weights dwarf the rest), then fewer
attendance days, one facilitator per group, balanced therapist load,
preferred times and stability against last week.
"""

from __future__ import annotations

from iopsched.instance import Participant, minutes_of
from iopsched.model.context import Ctx, PlanLine, Term
from iopsched.timegrid import minutes_outside, windows_union

HOUR_REQUIREMENTS = {
    "min_hours": None,
    "group_hours": {"group"},
    "education_hours": {"education"},
}


def _shortfall(ctx: Ctx, required: int, scheduled, name: str):
    """An expression equal to max(0, required - scheduled)."""
    if isinstance(scheduled, int):
        return max(0, required - scheduled)
    short = ctx.model.new_int_var(0, required, name)
    ctx.model.add_max_equality(short, [0, required - scheduled])
    return short


def plan_minimums_met(ctx: Ctx) -> list[Term]:
    """Participants get their plan minimums, and as many as possible get all of them."""
    w = ctx.weights
    terms: list[Term] = []
    for p in ctx.instance.participants:
        start = len(ctx.plan_lines)
        terms += _plan_lines(ctx, p)
        not_full = _any_short(ctx, p.id, ctx.plan_lines[start:])
        if not_full is not None:
            terms.append(Term("participant_short", p.id, not_full, w.participant_short))
    return terms


def _any_short(ctx: Ctx, pid: str, lines: list[PlanLine]):
    """A literal (or constant) that is 1 exactly when some plan line of the participant is short."""
    m = ctx.model
    flags = []
    for i, line in enumerate(lines):
        if isinstance(line.short, int):
            if line.short > 0:
                return 1
            continue
        flag = m.new_bool_var(f"short_any[{pid},{i}]")
        m.add(line.short <= line.required * flag)
        m.add(line.short >= flag)
        flags.append(flag)
    if not flags:
        return None
    if len(flags) == 1:
        return flags[0]
    out = m.new_bool_var(f"not_fully_served[{pid}]")
    m.add_max_equality(out, flags)
    return out


def _plan_lines(ctx: Ctx, p: Participant) -> list[Term]:
    """The plan lines of one participant and their shortfall terms."""
    w = ctx.weights
    terms: list[Term] = []
    plan = p.plan
    for req, kinds in HOUR_REQUIREMENTS.items():
        hours = getattr(plan, req)
        if not hours:
            continue
        required = minutes_of(hours)
        scheduled = ctx.minutes(p.id, kinds)
        short = _shortfall(ctx, required, scheduled, f"short[{req},{p.id}]")
        ctx.plan_lines.append(PlanLine(p.id, req, required, scheduled, short, True))
        terms.append(Term(f"{req}_short", p.id, short, getattr(w, f"{req}_short")))
    for kind in ("individual", "family"):
        spec = getattr(plan, kind)
        if spec is None or spec.sessions == 0:
            continue
        placed = sum(s.present for s in ctx.vars.one_to_one.get(p.id, []) if s.kind == kind)
        short = spec.sessions - placed
        ctx.plan_lines.append(PlanLine(p.id, kind, spec.sessions, placed, short, False))
        terms.append(Term(f"{kind}_short", p.id, short, getattr(w, f"{kind}_short")))
    return terms


def fewer_attendance_days(ctx: Ctx) -> list[Term]:
    """Participants come in on as few days as their care allows."""
    return [
        Term("attendance_day", pid, sum(days.values()), ctx.weights.attendance_day)
        for pid, days in ctx.attend_day.items()
    ]


def same_facilitator_all_week(ctx: Ctx) -> list[Term]:
    """A group sees the same facilitator at every meeting."""
    m, terms = ctx.model, []
    for gv in ctx.vars.groups.values():
        leads = {t for s in gv.meetings for t in s.therapists}
        if len(gv.meetings) < 2 or len(leads) < 2:
            continue
        uses = []
        for t in sorted(leads):
            lits = [s.therapists[t] for s in gv.meetings if t in s.therapists]
            used = m.new_bool_var(f"leads[{gv.group.id},{t}]")
            m.add_max_equality(used, lits)
            uses.append(used)
        m.add(sum(uses) >= gv.run)  # so the LP relaxation never counts fewer than one lead
        terms.append(
            Term(
                "facilitator_change",
                gv.group.id,
                sum(uses) - gv.run,
                ctx.weights.facilitator_change,
            )
        )
    return terms


def balanced_therapist_load(ctx: Ctx) -> list[Term]:
    """No therapist is loaded much closer to their weekly cap than the others."""
    m, slot = ctx.model, ctx.grid.slot_minutes
    shares = {}
    for t in ctx.instance.therapists:
        cap = minutes_of(t.max_hours_per_week)
        sessions = ctx.vars.by_therapist.get(t.id, [])
        if cap == 0 or not sessions:
            continue
        load = sum(s.length * slot * s.therapists[t.id] for s in sessions)
        share = m.new_int_var(0, 100, f"share[{t.id}]")
        # share = floor(100 * load / cap), as two linear constraints: CP-SAT's presolve
        # expands a division into variables a schedule's hint does not reach
        m.add(cap * share <= 100 * load)
        m.add(100 * load <= cap * share + cap - 1)
        shares[t.id] = share
    if not shares:
        return []
    peak = m.new_int_var(0, 100, "peak_share")
    m.add_max_equality(peak, list(shares.values()))
    weight = ctx.weights.therapist_peak_load
    return [Term("therapist_peak_load", "busiest therapist", peak, weight, shares)]


def preferred_times(ctx: Ctx) -> list[Term]:
    """Participants attend inside their preferred windows where possible."""
    m, grid, terms = ctx.model, ctx.grid, []
    known: dict[tuple[tuple[tuple[int, int], ...], str], dict[int, int]] = {}
    for p in ctx.instance.participants:
        if not p.preferred:
            continue
        spans = tuple(windows_union(p.preferred))
        parts = []
        for s in ctx.vars.by_participant.get(p.id, []):
            if (spans, s.key) not in known:  # people share windows, and groups their starts
                length = grid.to_minute(s.length)
                known[spans, s.key] = {
                    t: out
                    for t in s.candidates
                    if (
                        out := minutes_outside(spans, grid.to_minute(t), grid.to_minute(t) + length)
                    )
                }
            cost = known[spans, s.key]
            if not cost:
                continue
            outside = sum(c * s.starts_at(m, t) for t, c in cost.items())
            if s.group_id is None:
                parts.append(outside)
                continue
            member = s.participants[p.id]
            pen = m.new_int_var(0, max(cost.values()), f"outside[{p.id},{s.key}]")
            m.add(pen == outside).only_enforce_if(member)
            m.add(pen == 0).only_enforce_if(member.Not())
            parts.append(pen)
        if parts:
            terms.append(Term("outside_preferred", p.id, sum(parts), ctx.weights.outside_preferred))
    return terms


def stay_in_last_weeks_groups(ctx: Ctx) -> list[Term]:
    """Participants stay in the groups they attended last week."""
    prev = ctx.instance.previous
    if prev is None:
        return []
    pairs = {
        (s.group, pid)
        for s in prev.sessions
        if s.group is not None and s.group in ctx.vars.groups
        for pid in s.participants
        if pid in ctx.instance.participant_by_id
    }
    lost: dict[str, list] = {}
    for gid, pid in sorted(pairs):
        member = ctx.vars.groups[gid].members.get(pid)
        lost.setdefault(pid, []).append(1 if member is None else 1 - member)
    return [
        Term("left_previous_group", pid, sum(parts), ctx.weights.left_previous_group)
        for pid, parts in lost.items()
    ]
