"""Read a schedule, its unmet plan lines and its cost terms out of solver values."""

from __future__ import annotations

from collections.abc import Callable

from iopsched.model.context import Ctx, PlanLine
from iopsched.solution import CostTerm, Session, UnmetRow
from iopsched.timegrid import MINUTES_PER_DAY, format_hhmm, split_week_minute, week_minute

Value = Callable[[object], int]


def _chosen(options: dict[str, object], value: Value) -> str | None:
    picked = [key for key, lit in options.items() if value(lit)]
    return picked[0] if picked else None


def schedule(ctx: Ctx, value: Value) -> list[Session]:
    """The sessions that take place, in time order."""
    grid = ctx.grid
    out = []
    for s in ctx.vars.sessions:
        if not value(s.present):
            continue
        start = grid.to_minute(value(s.start))
        end = start + grid.to_minute(s.length)  # candidates keep a session within its day
        day, start_hhmm = split_week_minute(start)
        therapist = _chosen(s.therapists, value)
        if therapist is None:
            raise RuntimeError(f"session {s.key} has no therapist")
        out.append(
            (
                start,
                Session(
                    id=s.key,
                    kind=s.kind,
                    group=s.group_id,
                    day=day,
                    start=start_hhmm,
                    end=format_hhmm(end - (start - start % MINUTES_PER_DAY)),
                    therapist=therapist,
                    room=_chosen(s.rooms, value),
                    participants=sorted(pid for pid, lit in s.participants.items() if value(lit)),
                ),
            )
        )
    ordered = [session for _, session in sorted(out, key=lambda x: (x[0], x[1].id))]
    count: dict[str, int] = {}
    for i, session in enumerate(ordered):  # a group's meetings are numbered in week order
        if session.group is not None:
            count[session.group] = count.get(session.group, 0) + 1
            ordered[i] = session.model_copy(
                update={"id": f"{session.group}#{count[session.group]}"}
            )
    return rooms_within_pools(ctx, ordered)


def rooms_within_pools(ctx: Ctx, sessions: list[Session]) -> list[Session]:
    """Give each session booked into a pool of interchangeable rooms one room of it.

    The model never books a pool beyond its size at any moment, so taking
    sessions by start time and giving each the first room already free always
    succeeds (interval partitioning).
    """
    pools = ctx.cand.room_pools
    free_at: dict[str, dict[str, int]] = {
        first: dict.fromkeys((r.id for r in rooms), -1)
        for first, rooms in pools.items()
        if len(rooms) > 1
    }
    out = list(sessions)
    order = sorted(
        (i for i, s in enumerate(out) if s.room in free_at),
        key=lambda i: (week_minute(out[i].day, out[i].start), out[i].id),
    )
    for i in order:
        s = out[i]
        start = week_minute(s.day, s.start)
        rooms = free_at[s.room]  # type: ignore[index]
        room = next((rid for rid, until in rooms.items() if until <= start), None)
        if room is None:
            raise RuntimeError(f"room pool {s.room} overbooked at {s.day} {s.start}")
        rooms[room] = week_minute(s.day, s.end)
        out[i] = s.model_copy(update={"room": room})
    return out


def _row(line: PlanLine, scheduled: int, short: int) -> UnmetRow:
    scale = 60.0 if line.per_hour else 1.0
    return UnmetRow(
        participant=line.participant,
        requirement=line.requirement,  # type: ignore[arg-type]
        required=round(line.required / scale, 4),
        scheduled=round(scheduled / scale, 4),
        short=round(short / scale, 4),
    )


def unmet(ctx: Ctx, value: Value) -> list[UnmetRow]:
    """One row per plan requirement that the schedule leaves short."""
    rows = []
    for line in ctx.plan_lines:
        short = value(line.short)
        if short > 0:
            rows.append(_row(line, value(line.scheduled), short))
    return rows


def unmet_of_empty_schedule(ctx: Ctx) -> list[UnmetRow]:
    """Unmet rows when there is no schedule: every requirement fully short."""
    return [_row(line, 0, line.required) for line in ctx.plan_lines if line.required > 0]


def cost_terms(ctx: Ctx, value: Value) -> list[CostTerm]:
    """Every non-zero piece of the objective, by rule and subject."""
    out = []
    for term in ctx.terms:
        amount = value(term.expr)
        if amount and term.weight:
            subject = term.subject
            if term.subject_by_value:
                subject = max(term.subject_by_value, key=lambda k: value(term.subject_by_value[k]))
            out.append(
                CostTerm(
                    rule=term.rule,
                    subject=subject,
                    amount=amount,
                    weight=term.weight,
                    cost=amount * term.weight,
                )
            )
    return out
