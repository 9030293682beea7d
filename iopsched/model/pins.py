"""Pins: sessions already announced or booked must be in the schedule."""

from __future__ import annotations

from iopsched.instance import Pin
from iopsched.model.context import Ctx
from iopsched.model.variables import BoolVar, SessionVars
from iopsched.timegrid import DAYS, parse_hhmm


def pin_label(i: int, pin: Pin) -> str:
    """How a pin is named in reasons: its index and what it describes."""
    parts = [f"{k}={v}" for k, v in pin.model_dump(exclude_none=True).items()]
    return f"pin {i} ({', '.join(parts)})"


def could_match(s: SessionVars, pin: Pin) -> bool:
    return (
        (pin.kind is None or s.kind == pin.kind)
        and (pin.group is None or s.group_id == pin.group)
        and (pin.participant is None or pin.participant in s.participants)
        and (pin.therapist is None or pin.therapist in s.therapists)
        and (pin.day is None or DAYS.index(pin.day) in s.days)
    )


def _matches(ctx: Ctx, s: SessionVars, pin: Pin) -> BoolVar:
    """A literal that, when true, makes ``s`` a session of the pin's description."""
    m = ctx.model
    needs = [s.present]
    if pin.participant is not None:
        needs.append(s.participants[pin.participant])
    if pin.therapist is not None:
        needs.append(s.therapists[pin.therapist])
    if pin.day is not None:
        needs.append(s.days[DAYS.index(pin.day)])
    lit = m.new_bool_var(f"pinned[{s.key}]")
    m.add_bool_and(needs).only_enforce_if(lit)
    if pin.start is not None:
        slot = parse_hhmm(pin.start) // ctx.grid.slot_minutes
        days = [DAYS.index(pin.day)] if pin.day is not None else range(7)
        at = [s.starts_at(m, d * ctx.grid.slots_per_day + slot) for d in days]
        m.add_bool_or(at).only_enforce_if(lit)
    return lit


def pinned_sessions_are_kept(ctx: Ctx) -> None:
    """Every pinned session is in the schedule as described."""
    m = ctx.model
    for i, pin in enumerate(ctx.instance.pins):
        options = [_matches(ctx, s, pin) for s in ctx.vars.sessions if could_match(s, pin)]
        if not options:
            options = [m.new_constant(0)]
        if ctx.repair:
            ctx.pin_broken[i] = broken = m.new_bool_var(f"pin_broken[{i}]")
            options.append(broken)
        m.add_bool_or(options).only_enforce_if(ctx.switch(pin_label(i, pin)))
