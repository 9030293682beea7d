"""A lower bound on any schedule's cost, read from the instance alone.

Every cost term is non-negative and each participant owns some of them, so
the least each person's own terms can cost, summed over people, bounds the
whole objective.  Per person the argument is short:

* served in full, they attend at least the minutes their plan asks for, on
  days that can each hold their daily minimum (``min_hours_per_day``) within
  the minutes they are free in program hours (and their ``max_hours_per_day``),
  at most ``max_days`` of them; a member of a group attends each of its
  meetings, each on its own day, so a plan with group (or education) hours
  takes at least as many days as the groups that can give those hours meet;
  and the minutes their preferred windows on those days cannot hold, the daily
  minimum included, are minutes outside them.  The cheapest set of days (at
  most 2^7 of them) prices that;
* not served in full, they cost ``participant_short`` and are short of
  ``min_hours`` by at least what even their roomiest days cannot hold.

One coupling between people is cheap to price.  Groups of a kind that few
meetings serve (a track's psychoeducation, often one or two meetings a week)
meet on at most as many days as they have meetings, the same days for all
their members: everyone who needs those hours is served in full only on a set
of days that holds enough of those days, on which they can make a meeting.
Trying every choice of those days (at most 7 choose 6) and, for each, each
person's cheapest set of days that holds them, or their cost left short,
gives the least those people can cost together.

And one term is shared by everyone: the busiest therapist's share of their
week is at least the share all therapists' weekly minutes are filled to, and
whoever is served in full takes some of those minutes (their 1:1 sessions
whole, their group minutes shared by at most the largest group open to them
seats).  Each person's served cost carries their minutes' part of that term,
and one percentage point is given back for the share's rounding down.

It holds for every week, including large weeks whose model is a
restriction, so the solver reports it when its own search proves less.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations

from iopsched.instance import Group, Instance, Participant, minutes_of
from iopsched.model.grid import eligible_for_group
from iopsched.timegrid import (
    DAYS,
    MINUTES_PER_DAY,
    free_minutes_by_day,
    intersect_spans,
    windows_union,
)
from iopsched.weights import Weights

Cost = int | Fraction  # a cost, or one with a share of the busiest therapist's term


def minutes_for_full_plan(p: Participant) -> int:
    """Fewest minutes a schedule that meets the whole plan gives this participant."""
    plan = p.plan
    kinds = minutes_of(plan.group_hours or 0) + minutes_of(plan.education_hours or 0)
    for spec in (plan.individual, plan.family):
        if spec is not None:
            kinds += spec.sessions * spec.minutes
    return max(minutes_of(plan.min_hours), kinds)


def daily_capacity(inst: Instance, p: Participant) -> list[int]:
    """Most minutes each day can hold for this participant, Monday first: the minutes
    they are free inside program hours, and no more than their ``max_hours_per_day``."""
    free = free_minutes_by_day(
        intersect_spans(windows_union(p.availability), windows_union(inst.program_hours))
    )
    if p.max_hours_per_day is None:
        return free
    return [min(f, minutes_of(p.max_hours_per_day)) for f in free]


def days_for_groups(inst: Instance, p: Participant, kind: str, need: int) -> int | None:
    """Fewest days that ``need`` minutes from groups of ``kind`` take (None: no groups can).

    A member attends every meeting of a group, each on a different day, so joining
    groups that meet at most k times a week takes k days; k must be high enough for
    the groups meeting at most k times to hold ``need`` minutes between them.
    """
    if need <= 0:
        return 0
    open_to_them = [g for g in inst.groups if g.kind == kind and eligible_for_group(p, g)]
    for k in sorted({g.meetings_per_week for g in open_to_them}):
        held = sum(
            g.duration_minutes * g.meetings_per_week
            for g in open_to_them
            if g.meetings_per_week <= k
        )
        if held >= need:
            return k
    return None


def preferred_capacity(inst: Instance, p: Participant) -> list[int] | None:
    """Most minutes each day can hold inside this participant's preferred windows (and
    no more than :func:`daily_capacity`), Monday first; None when they name none, so
    that no minute costs ``outside_preferred``."""
    if not p.preferred:
        return None
    inside = free_minutes_by_day(
        intersect_spans(
            intersect_spans(windows_union(p.preferred), windows_union(p.availability)),
            windows_union(inst.program_hours),
        )
    )
    return [min(i, c) for i, c in zip(inside, daily_capacity(inst, p), strict=True)]


def fewest_outside(days: Sequence[int], need: int, low: int, pref: Sequence[int]) -> int:
    """Fewest attended minutes outside the preferred windows when ``need`` minutes are
    spread over ``days``, each getting at least ``low``: a day's first ``low`` minutes
    spill outside where its preferred minutes ``pref`` are fewer, and minutes beyond
    every day's preferred room spill outside too."""
    spill = sum(max(0, low - pref[d]) for d in days)
    room = sum(max(0, pref[d] - low) for d in days)
    return spill + max(0, need - low * len(days) - room)


def day_options(inst: Instance, p: Participant, w: Weights) -> tuple[int, list[tuple[int, int]]]:
    """What this participant's own cost terms add up to at least: not served in full, and
    served in full on each set of days that can hold their plan (its cost and its days as
    bits, Monday the lowest), cheapest first."""
    plan = p.plan
    need = minutes_for_full_plan(p)
    if need == 0:
        return 0, []
    caps = daily_capacity(inst, p)
    low = minutes_of(p.min_hours_per_day or 0)
    # a day that cannot hold the daily minimum is a day they cannot attend at all
    usable = [d for d in range(len(caps)) if caps[d] > 0 and caps[d] >= low]
    most_days = len(usable) if p.max_days is None else min(p.max_days, len(usable))
    roomiest = sorted((caps[d] for d in usable), reverse=True)[:most_days]
    most = min(sum(roomiest), minutes_of(plan.max_hours))
    # not served in full: the participant_short term, and min_hours short by what no week holds
    short = w.participant_short + w.min_hours_short * max(0, minutes_of(plan.min_hours) - most)
    group_days = days_for_groups(inst, p, "group", minutes_of(plan.group_hours or 0))
    education_days = days_for_groups(inst, p, "education", minutes_of(plan.education_hours or 0))
    if need > most or group_days is None or education_days is None:
        return short, []
    fewest = max(1, group_days, education_days)
    pref = preferred_capacity(inst, p)
    options = []
    for k in range(fewest, most_days + 1):  # served in full on k days: which k days?
        if w.attendance_day * k >= short:
            break
        for days in combinations(usable, k):
            if sum(caps[d] for d in days) < need:
                continue
            outside = 0 if pref is None else fewest_outside(days, need, low, pref)
            cost = w.attendance_day * k + w.outside_preferred * outside
            if cost < short:
                options.append((cost, sum(1 << d for d in days)))
    options.sort()
    return short, options


def cheapest(short: Cost, options: Sequence[tuple[Cost, int]]) -> Cost:
    """The least of :func:`day_options`: their cheapest days, or their cost left short."""
    return options[0][0] if options else short


def participant_floor(inst: Instance, p: Participant, w: Weights) -> int:
    """The least this participant's own cost terms can add up to in any schedule."""
    return int(cheapest(*day_options(inst, p, w)))


def meeting_days(inst: Instance, p: Participant, minutes: int) -> int:
    """Days (bits, Monday the lowest) on which the participant is free, inside program
    hours, for ``minutes`` in a row."""
    free = intersect_spans(windows_union(p.availability), windows_union(inst.program_hours))
    days = 0
    for a, b in free:
        while a < b:  # a span may run past midnight: one day at a time
            end = min(b, (a // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY)
            if end - a >= minutes:
                days |= 1 << (a // MINUTES_PER_DAY)
            a = end
    return days


def scarce_groups(inst: Instance) -> list[tuple[str, list[Group]]]:
    """Groups of one kind that share people (linked through the people open to them),
    whose meetings add up to fewer than the days of a week: their meetings fall on
    at most that many days, whoever attends them.  Each with its kind."""
    out = []
    for kind in ("education", "group"):
        groups = [g for g in inst.groups if g.kind == kind]
        open_to = {
            g.id: {p.id for p in inst.participants if eligible_for_group(p, g)} for g in groups
        }
        linked: list[tuple[set[str], list[Group]]] = []
        for g in groups:
            joined = [c for c in linked if c[0] & open_to[g.id]]
            people, members = set(open_to[g.id]), [g]
            for c in joined:
                people |= c[0]
                members += c[1]
                linked.remove(c)
            linked.append((people, members))
        out += [(kind, c[1]) for c in linked if sum(g.meetings_per_week for g in c[1]) < len(DAYS)]
    return out


def therapist_minutes(inst: Instance, p: Participant) -> Fraction:
    """Fewest minutes of therapists' time that serving this participant in full takes:
    their 1:1 sessions whole, and each minute they spend in a group shared with at most
    as many others as the largest group of that kind open to them seats (minutes beyond
    their plan's parts come from any group)."""
    plan = p.plan
    own = sum(spec.sessions * spec.minutes for spec in (plan.individual, plan.family) if spec)
    seats: dict[str, int] = {}
    for g in inst.groups:
        if eligible_for_group(p, g):
            seats[g.kind] = max(seats.get(g.kind, 0), g.max_size)
    spent, given = Fraction(own), own
    for kind, hours in (("group", plan.group_hours), ("education", plan.education_hours)):
        need = minutes_of(hours or 0)
        given += need
        if need > 0 and kind in seats:
            spent += Fraction(need, seats[kind])
    rest = minutes_for_full_plan(p) - given
    if rest > 0 and seats:
        spent += Fraction(rest, max(seats.values()))
    return spent


Tie = tuple[int, list[tuple[str, int, int]]]  # meetings; (person, days they take, days free)


def shared_days(inst: Instance) -> list[Tie]:
    """For each set of scarce groups (:func:`scarce_groups`), its meetings and the people
    tied to their days: how many of those days their hours take, and on which days they
    can make a meeting.  Each person is tied to one set at most."""
    out: list[Tie] = []
    counted: set[str] = set()
    for kind, groups in scarce_groups(inst):
        field = "group_hours" if kind == "group" else "education_hours"
        ties = []
        for p in inst.participants:
            need = minutes_of(getattr(p.plan, field) or 0)
            mine = [g for g in groups if eligible_for_group(p, g)]
            if p.id in counted or need <= 0 or not mine:
                continue
            k = days_for_groups(inst, p, kind, need)
            if k is None:  # no group can give them the hours: short, as the floor says
                continue
            can = meeting_days(inst, p, min(g.duration_minutes for g in mine))
            ties.append((p.id, k, can))
        if ties:
            counted |= {pid for pid, _, _ in ties}
            out.append((sum(g.meetings_per_week for g in groups), ties))
    return out


def _priced(options: dict[str, tuple[Cost, list[tuple[Cost, int]]]], shared: list[Tie]) -> Cost:
    """Each person's cheapest cost, with the days of scarce groups shared by their people."""
    floor = {pid: cheapest(*found) for pid, found in options.items()}
    total: Cost = sum(floor.values())
    for meetings, ties in shared:
        alone = sum(floor[pid] for pid, _, _ in ties)
        best = None
        for held in combinations(range(len(DAYS)), meetings):  # the days the groups meet
            mask = sum(1 << d for d in held)
            cost: Cost = 0
            for pid, k, can in ties:
                short, opts = options[pid]
                cost += next((c for c, days in opts if (days & mask & can).bit_count() >= k), short)
            best = cost if best is None else min(best, cost)
        total += best - alone
    return total


def cost_floor(inst: Instance) -> int:
    """A lower bound on the objective of every schedule of this week (see the module)."""
    w = Weights.resolve(inst.weights)
    options = {p.id: day_options(inst, p, w) for p in inst.participants}
    shared = shared_days(inst)
    total = _priced(options, shared)
    capacity = sum(minutes_of(t.max_hours_per_week) for t in inst.therapists)
    if w.therapist_peak_load == 0 or capacity == 0:
        return int(total)
    # each therapist-minute a person served in full takes adds this much to the peak term
    rate = Fraction(100 * w.therapist_peak_load, capacity)
    loaded: dict[str, tuple[Cost, list[tuple[Cost, int]]]] = {}
    for p in inst.participants:
        short, opts = options[p.id]
        extra = rate * therapist_minutes(inst, p) if opts else Fraction(0)
        loaded[p.id] = (short, [(c + extra, days) for c, days in opts if c + extra < short])
    # the peak is a whole percentage, so it costs more than its fraction less one point
    with_load = math.floor(_priced(loaded, shared) - w.therapist_peak_load) + 1
    return int(max(total, with_load))
