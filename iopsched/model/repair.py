"""Repair a first fit that breaks a daily minimum or a pin.

A pin can hold a person on a day that the first fit cannot fill to their
``min_hours_per_day`` (a booked 1:1 session on an evening none of their groups
meets), or name a meeting the first fit could not staff: the first fit then
breaks a hard rule and gives no schedule, and CP-SAT alone, from an empty
week, may need minutes to find one.  A coordinator would start from that
near-schedule and move a few groups.  So does the solver: in the week's model
built with ``repair`` those rules may be broken and what is broken is the
objective, so the near-schedule is a schedule of that model; rounds then
re-solve some of the groups open to the people still short and the groups and
people a broken pin names, with the rest fixed, until nothing is broken.  The
search then prices the week's costs from that schedule as from a first fit.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from iopsched.model.build import BROKEN_PIN_MINUTES
from iopsched.model.context import Ctx
from iopsched.model.lns import Neighbourhood
from iopsched.solution import Session


@dataclass(frozen=True)
class Debt:
    """What a schedule of a repair model still breaks."""

    people: frozenset[str]  # below their daily minimum on some day
    pins: frozenset[int]  # broken
    amount: int  # minutes below daily minimums, plus BROKEN_PIN_MINUTES a pin

    @property
    def paid(self) -> bool:
        return self.amount == 0


def debt(ctx: Ctx, value: Callable[[object], int]) -> Debt:
    """Read what the solution ``value`` still breaks from a repair model (``ctx.repair``)."""
    people = {pid for pid, days in ctx.below_daily_minimum.items() if any(value(x) for x in days)}
    below = sum(value(x) for days in ctx.below_daily_minimum.values() for x in days)
    pins = {i for i, lit in ctx.pin_broken.items() if value(lit)}
    return Debt(frozenset(people), frozenset(pins), below + BROKEN_PIN_MINUTES * len(pins))


class RepairParts:
    """The parts repair rounds free: the people still short of a daily minimum and
    some of the groups open to them; for a broken pin, its group and person (or, with
    none named, some who may join its group), the groups its therapist leads that day
    and some of those meeting that day; and those groups' members, at most ``cap``
    people."""

    def __init__(self, ctx: Ctx, seed: int):
        self.rng = random.Random(seed)
        self.pins = ctx.instance.pins
        # who may join each group, as the model offers it (the same as lns.Neighbourhoods)
        self.eligible = {gid: sorted(gv.members) for gid, gv in ctx.vars.groups.items()}
        self.open_to: dict[str, list[str]] = defaultdict(list)  # participant -> groups
        for gid in sorted(self.eligible):
            for pid in self.eligible[gid]:
                self.open_to[pid].append(gid)

    def pick(self, sessions: list[Session], owed: Debt, size: int, cap: int) -> Neighbourhood:
        rng = self.rng
        members: dict[str, set[str]] = defaultdict(set)
        for s in sessions:
            if s.group is not None:
                members[s.group].update(s.participants)
        core = set(owed.people)
        named: set[str] = set()  # groups a broken pin needs moved
        options: set[str] = set()  # groups that may stand in its way
        for i in sorted(owed.pins):
            pin = self.pins[i]
            if pin.group is not None:
                named.add(pin.group)
                if pin.participant is None:  # people to hold it
                    open_ = self.eligible[pin.group]
                    core |= set(rng.sample(open_, min(len(open_), 2 * size)))
            if pin.participant is not None:
                core.add(pin.participant)
            if pin.day is not None:
                that_day = [s for s in sessions if s.day == pin.day]
                options |= {s.group for s in that_day if s.group is not None}
                if pin.therapist is not None:
                    led = [s for s in that_day if s.therapist == pin.therapist]
                    named |= {s.group for s in led if s.group is not None}
                    core |= {s.participants[0] for s in led if s.group is None}
        options |= {g for pid in core for g in self.open_to[pid]}
        options = sorted(options - named)
        groups = named | set(rng.sample(options, min(size, len(options))))
        others = sorted({pid for g in groups for pid in members[g]} - core)
        spare = max(0, min(len(others), cap - len(core)))
        people = core | set(rng.sample(others, spare))
        return Neighbourhood("repair", frozenset(groups), frozenset(people))
