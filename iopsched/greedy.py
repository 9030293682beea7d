"""A first-fit schedule of the kind a coordinator builds by hand in a spreadsheet.

Groups go first, each at the times most of the people who still need its hours
can make (the times last week's schedule used come first); they are filled in
order of need, then intake order.  Individual and family sessions are fitted
afterwards where participant, therapist and a room are free, on days the
participant already comes in where possible (first a day below their
``min_hours_per_day``, but only when the session lifts it to the minimum).  Then
days left below a participant's ``min_hours_per_day`` are emptied, and the week is
looked at again: people still short join running groups with a place (two at once
where only both together hold their daily minimum) and get the 1:1 sessions they
lack, and short days are emptied again (``REPAIRS`` times at most).

It is fast and never consults the CP-SAT model, so it serves twice: as the
baseline iopsched is measured against, and as the warm start of the solver.
The schedule it returns obeys every hard rule it knows; pins that it cannot
honour leave it ``None`` (the solver then starts without it).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field

from iopsched.instance import Group, Instance, Participant, Pin, Therapist, minutes_of
from iopsched.model.grid import (
    Candidates,
    eligible_for_group,
    fits_site,
    interchangeable_groups,
    therapist_can_work_in,
)
from iopsched.solution import Session, Solution, Stats, Status
from iopsched.timegrid import (
    DAYS,
    MINUTES_PER_DAY,
    format_hhmm,
    parse_hhmm,
    week_minute,
)

log = logging.getLogger("iopsched")

Span = tuple[int, int]
MAX_TRIES = 40  # meeting-time combinations tried per group before giving up on it
REPAIRS = 3  # rounds of filling gaps, each followed by emptying days below a daily minimum


@dataclass
class _Meeting:
    day: int
    start: int  # minute of the week
    therapist: str
    room: str | None


@dataclass
class _Placed:
    """A session placed so far (group meetings keep their group id)."""

    kind: str
    start: int
    end: int
    therapist: str
    room: str | None
    participants: list[str]
    group: str | None = None


@dataclass
class _Book:
    """Who is busy when, and how much everyone has got so far.

    Besides each person's, therapist's and room's booked spans, ``mask`` holds
    them as grid slots (bit t: slot t overlaps a booking), so asking whether
    someone is free is a few integer operations however full their week is.
    """

    slot: int = 15
    people: dict[str, int] = field(default_factory=dict)  # participant id -> bit in ``occupied``
    busy: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    mask: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    occupied: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # slot -> people
    minutes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    day_minutes: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    kind_minutes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    days: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    releases: int = 0  # bookings given back so far

    def slots(self, a: int, b: int) -> int:
        """The grid slots [a, b) overlaps, as bits."""
        first, last = a // self.slot, -(-b // self.slot)
        return ((1 << (last - first)) - 1) << first

    def free(self, who: str, a: int, b: int) -> bool:
        return not self.mask[who] & self.slots(a, b)

    def take(self, who: str, a: int, b: int, kind: str | None = None) -> None:
        self.busy[who].append((a, b))
        self.mask[who] |= self.slots(a, b)
        if who in self.people:
            bit = 1 << self.people[who]
            for t in range(a // self.slot, -(-b // self.slot)):
                self.occupied[t] |= bit
        self.minutes[who] += b - a
        self.day_minutes[(who, a // MINUTES_PER_DAY)] += b - a
        self.days[who].add(a // MINUTES_PER_DAY)
        if kind is not None:
            self.kind_minutes[(who, kind)] += b - a

    def release(self, who: str, a: int, b: int, kind: str | None = None) -> None:
        self.releases += 1
        self.busy[who].remove((a, b))
        mask = 0
        for x, y in self.busy[who]:
            mask |= self.slots(x, y)
        self.mask[who] = mask
        if who in self.people:
            bit = 1 << self.people[who]
            for t in range(a // self.slot, -(-b // self.slot)):
                if not mask >> t & 1:
                    self.occupied[t] &= ~bit
        self.minutes[who] -= b - a
        day = a // MINUTES_PER_DAY
        self.day_minutes[(who, day)] -= b - a
        if not any(x // MINUTES_PER_DAY == day for x, _ in self.busy[who]):
            self.days[who].discard(day)
        if kind is not None:
            self.kind_minutes[(who, kind)] -= b - a


class Greedy:
    """One first-fit pass over a week (see the module docstring)."""

    def __init__(self, instance: Instance, rng: random.Random | None = None):
        """``rng``: a variant, with intake order shuffled and group sizes weighed anew."""
        self.inst = instance
        self.cand = Candidates(instance)
        self.book = _Book(
            instance.slot_minutes, {p.id: i for i, p in enumerate(instance.participants)}
        )
        self.placed: list[_Placed] = []
        self.avoided: dict[str, set[str]] = defaultdict(set)  # id -> those kept apart from them
        for pair in instance.avoid_pairs():
            for one in pair:
                self.avoided[one] |= pair - {one}
        self.people = instance.participant_by_id
        self.rooms = instance.room_by_id
        intake = [p.id for p in instance.participants]
        if rng is not None:
            rng.shuffle(intake)
        self.order = {pid: i for i, pid in enumerate(intake)}
        self.weight = {g.id: 1.0 if rng is None else rng.uniform(0.7, 1.3) for g in instance.groups}
        self.slot = instance.slot_minutes
        self._hours: dict[str, int] = {}  # id -> their hours as grid slots (see open_at)
        self._free_people: dict[int, dict[int, int]] = {}  # minutes -> start -> who is free
        self._no_place: dict[tuple[str, str], tuple[int, int]] = {}  # see place_missing
        self._eligible = {
            g.id: [p for p in instance.participants if eligible_for_group(p, g)]
            for g in instance.groups
        }
        self._open = {gid: {p.id for p in people} for gid, people in self._eligible.items()}
        self._pinned_groups = {pin.group for pin in instance.pins if pin.group is not None}
        self._pinned_people = {p.participant for p in instance.pins if p.participant is not None}
        self._any_must_run = any(self.must_run(g) for g in instance.groups)
        prev = instance.previous
        self.previous_members: dict[str, set[str]] = defaultdict(set)
        self.previous_times: dict[str, list[int]] = defaultdict(list)
        for s in prev.sessions if prev is not None else []:
            if s.group is not None:
                self.previous_members[s.group].update(s.participants)
                self.previous_times[s.group].append(week_minute(s.day, s.start))

    # ------------------------------------------------------------ accounting
    def reserved(self, p: Participant) -> int:
        """Minutes still to come from the participant's individual and family sessions."""
        out = 0
        for kind in ("individual", "family"):
            spec = getattr(p.plan, kind)
            if spec is not None:
                done = self.book.kind_minutes[(p.id, kind)] // spec.minutes
                out += max(0, spec.sessions - done) * spec.minutes
        return out

    def need(self, p: Participant, kind: str) -> int:
        """Minutes of ``kind`` sessions that would still help the participant's plan."""
        plan = p.plan
        req = plan.group_hours if kind == "group" else plan.education_hours
        own = minutes_of(req or 0) - self.book.kind_minutes[(p.id, kind)]
        total = minutes_of(plan.min_hours) - self.book.minutes[p.id] - self.reserved(p)
        return max(own, total, 0)

    def room_for(self, p: Participant, minutes: int, days: list[int]) -> bool:
        """The participant's weekly, daily and day-count limits leave room for these minutes."""
        return self.room_by_day(p, dict.fromkeys(days, minutes))

    def room_by_day(self, p: Participant, added: dict[int, int]) -> bool:
        """The participant's weekly, daily and day-count limits leave room for ``added``
        (day -> minutes)."""
        b = self.book
        total = b.minutes[p.id] + self.reserved(p) + sum(added.values())
        if total > minutes_of(p.plan.max_hours):
            return False
        if p.max_hours_per_day is not None:
            cap = minutes_of(p.max_hours_per_day)
            if any(b.day_minutes[(p.id, d)] + m > cap for d, m in added.items()):
                return False
        return p.max_days is None or len(b.days[p.id] | set(added)) <= p.max_days

    def available_starts(self, pid: str, minutes: int) -> frozenset[int]:
        """Start slots at which the participant is available for ``minutes`` (busy or not)."""
        return self.cand.starts(self.cand.participant_spans[pid], minutes)

    def open_at(self, who: str, spans: list[Span], a: int, b: int) -> bool:
        """[a, b) lies in ``spans`` (``who``'s hours) and ``who`` has nothing booked in it."""
        hours = self._hours.get(who)
        if hours is None:
            hours = self._hours[who] = _slot_mask(spans, self.slot)
        need = self.book.slots(a, b)
        return hours & need == need and not self.book.mask[who] & need

    def participant_free(self, pid: str, a: int, b: int) -> bool:
        return self.open_at(pid, self.cand.participant_spans[pid], a, b)

    def therapist_ok(self, t: Therapist, a: int, b: int, extra: int = 0) -> bool:
        """Free, available and within weekly and daily hours for [a, b) (plus ``extra`` minutes)."""
        book = self.book
        if not self.open_at(t.id, self.cand.therapist_spans[t.id], a, b):
            return False
        if book.minutes[t.id] + extra + b - a > minutes_of(t.max_hours_per_week):
            return False
        if t.max_hours_per_day is not None:
            used = book.day_minutes[(t.id, a // MINUTES_PER_DAY)]
            if used + b - a > minutes_of(t.max_hours_per_day):
                return False
        return True

    def free_rooms(self, rooms, a: int, b: int, seats: int) -> list:
        ok = [
            r
            for r in rooms
            if r.capacity >= seats and self.open_at(r.id, self.cand.room_spans[r.id], a, b)
        ]
        return sorted(ok, key=lambda r: (r.capacity, r.id))

    # ----------------------------------------------------------------- groups
    def group_order(self) -> list[Group]:
        def key(g: Group):
            hours = g.duration_minutes * g.meetings_per_week * self.weight[g.id]
            return (not self.must_run(g), g.fixed_times is None, -hours)

        return sorted(self.inst.groups, key=key)

    def pins_of_group(self, g: Group) -> list[Pin]:
        return [pin for pin in self.inst.pins if pin.group == g.id]

    def must_run(self, g: Group) -> bool:
        """The group is not optional, or a pin names it (a meeting already announced)."""
        return not g.optional or g.id in self._pinned_groups

    def combos(self, g: Group, masks: dict[int, int], days_in: dict[int, int]) -> list[list[int]]:
        """Meeting starts (one per day, ``meetings_per_week`` days) that most people can make.

        Ties go to the days those people already come in on (``days_in``: day -> mask).
        """
        fixed = self.cand.fixed_starts(g)
        if fixed is not None:
            return [[t * self.slot for t in fixed]]
        by_day: dict[int, list[int]] = defaultdict(list)
        for t in sorted(masks):
            by_day[t // MINUTES_PER_DAY].append(t)
        pinned_days = set()
        for pin in self.pins_of_group(g):
            if pin.day is None:
                continue
            day = DAYS.index(pin.day)
            pinned_days.add(day)
            by_day[day] = [t for t in by_day[day] if _pin_fits(pin, [t], g.duration_minutes)]
        by_day = defaultdict(list, {d: ts for d, ts in by_day.items() if ts})
        if len(by_day) < g.meetings_per_week or not pinned_days <= set(by_day):
            return []
        out: dict[tuple[int, ...], int] = {}
        prev = sorted(self.previous_times.get(g.id, []))
        if len(prev) == g.meetings_per_week and all(t in masks for t in prev):
            out[tuple(prev)] = 1 << 40  # last week's times first
        busiest = {d: -max((masks[t].bit_count(), -t) for t in ts)[1] for d, ts in by_day.items()}
        for days in itertools.combinations(sorted(by_day), g.meetings_per_week):
            if not pinned_days <= set(days):
                continue
            clock = set.intersection(*({t % MINUTES_PER_DAY for t in by_day[d]} for d in days))
            inits = [[busiest[d] for d in days]]
            inits += [[d * MINUTES_PER_DAY + c for d in days] for c in sorted(clock)]
            for pick in inits:
                for _ in range(2):  # coordinate ascent: each day's start against the others
                    for i, d in enumerate(days):
                        rest = _and(masks[t] for j, t in enumerate(pick) if j != i)
                        # most people free then, earliest on a tie
                        pick[i] = -max(((masks[t] & rest).bit_count(), -t) for t in by_day[d])[1]
                common = _and(masks[t] for t in pick)
                fit = min(common.bit_count(), g.max_size)
                same_days = sum((common & days_in.get(d, 0)).bit_count() for d in days)
                out[tuple(pick)] = max(out.get(tuple(pick), 0), fit * 10_000 + same_days)
        ranked = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))
        return [list(k) for k, _ in ranked[:MAX_TRIES]]

    def same_times(self, g: Group, h: Group) -> bool:
        """Both groups have fixed times, some of them overlapping, and people in common."""
        a, b = self.cand.fixed_starts(g), self.cand.fixed_starts(h)
        if a is None or b is None or self._open[g.id].isdisjoint(self._open[h.id]):
            return False
        la, lb = self.cand.grid.slots(g.duration_minutes), self.cand.grid.slots(h.duration_minutes)
        return any(s < t + lb and t < s + la for s in a for t in b)

    def place_group(
        self,
        g: Group,
        options: list[list[int]] | None = None,
        favour: frozenset[str] = frozenset(),
        keep: int = 0,
    ) -> list[Participant]:
        """Place a group at the best of its meeting-time ``options`` (default: all); its cohort.

        ``favour``: participants taken first (a block's cohort), after those pins force.
        ``keep``: people free then to leave out, where the group runs without them.
        """
        length = g.duration_minutes
        pins = self.pins_of_group(g)
        forced = {pin.participant for pin in pins if pin.participant is not None}
        eligible = self._eligible[g.id]
        wanting = [p for p in eligible if self.need(p, g.kind) > 0 or p.id in forced]
        if self.must_run(g) and len(wanting) < g.min_size:
            wanting = eligible
        masks, days_in, index = self.masks(g, wanting)
        if options is None:
            options = self.combos(g, masks, days_in)
        for starts in options:
            if not all(_pin_fits(pin, starts, length) for pin in pins):
                continue
            common = _and(masks.get(t, 0) for t in starts)
            people = [p for p in wanting if common >> index[p.id] & 1]
            cohort = self.pick_cohort(g, people, starts, forced | favour)
            if keep:
                cohort = cohort[: max(g.min_size, len(forced), len(people) - keep)]
            if len(cohort) < g.min_size or not forced <= {p.id for p in cohort}:
                continue
            meetings = self.staff_meetings(g, starts, cohort, pins)
            if meetings is None:
                continue
            self.commit_group(g, meetings, cohort)
            return cohort
        if self.must_run(g):
            log.debug("greedy: mandatory group %s not placed", g.id)
        return []

    def masks(
        self, g: Group, wanting: list[Participant]
    ) -> tuple[dict[int, int], dict[int, int], dict[str, int]]:
        """Who of ``wanting`` is free at each start of ``g``, as bits.

        Returns start minute -> mask, day -> mask of those who already come in that
        day, and participant id -> bit.
        """
        length = g.duration_minutes
        index = self.book.people
        slots = -(-length // self.slot)
        free = self.free_people(length)
        occupied = self.book.occupied
        wanted = 0
        for p in wanting:
            wanted |= 1 << index[p.id]
        masks = {}
        for t in self.cand.group_starts(g):
            m = free.get(t, 0) & wanted
            for k in range(slots):  # not those with a session booked that it would overlap
                if not m:
                    break
                m &= ~occupied.get(t + k, 0)
            if m or self.must_run(g):
                masks[t * self.slot] = m
        days_in: dict[int, int] = defaultdict(int)
        for p in wanting:
            for d in self.book.days[p.id]:
                days_in[d] |= 1 << index[p.id]
        return masks, days_in, index

    def free_people(self, minutes: int) -> dict[int, int]:
        """Start slot -> the participants available then for ``minutes`` (busy or not)."""
        if minutes not in self._free_people:
            out: dict[int, int] = defaultdict(int)
            for p in self.inst.participants:
                bit = 1 << self.book.people[p.id]
                for t in self.available_starts(p.id, minutes):
                    out[t] |= bit
            self._free_people[minutes] = dict(out)
        return self._free_people[minutes]

    def best_new_times(self, g: Group, wanting: list[Participant]) -> tuple[list[int], list[str]]:
        """Starts for one more group like ``g`` that most of ``wanting`` can make, and who.

        The new group is a group of its own: not ``g``'s fixed times or last week's.
        """
        g = g.model_copy(update={"id": f"{g.id} (new)", "fixed_times": None, "optional": True})
        masks, days_in, index = self.masks(g, wanting)
        for starts in self.combos(g, masks, days_in)[:1]:
            common = _and(masks[t] for t in starts)
            return starts, [p.id for p in wanting if common >> index[p.id] & 1]
        return [], []

    def load(self, sessions: list[Session]) -> None:
        """Book an existing schedule (to reason about what is still free in it)."""
        for s in sessions:
            day = DAYS.index(s.day) * MINUTES_PER_DAY
            a = day + parse_hhmm(s.start)
            b = day + parse_hhmm(s.end)
            self.book.take(s.therapist, a, b)
            if s.room is not None:
                self.book.take(s.room, a, b)
            for pid in s.participants:
                self.book.take(pid, a, b, s.kind)
            self.placed.append(
                _Placed(s.kind, a, b, s.therapist, s.room, list(s.participants), s.group)
            )

    def place_block(self, g: Group, cohort: list[Participant], todo: list[Group]) -> None:
        """Put a companion group right before or after ``g``'s meetings, for the same cohort.

        Programs run care in blocks (a process group, then a skills group, the same
        evenings): it saves people a day and meets daily minimums.
        """
        starts = sorted(s.start for s in self.placed if s.group == g.id)
        ids = {p.id for p in cohort}
        for other in todo:
            if other.meetings_per_week != len(starts) or other.kind != g.kind:
                continue
            if self.must_run(other) or other.fixed_times is not None:
                continue
            fits = sum(1 for p in cohort if eligible_for_group(p, other))
            if fits < other.min_size:
                continue
            ok = {t * self.slot for t in self.cand.group_starts(other)}
            options = [
                shifted
                for shifted in (
                    [t + g.duration_minutes for t in starts],
                    [t - other.duration_minutes for t in starts],
                )
                if all(t in ok for t in shifted)
            ]
            if options and self.place_group(other, options, frozenset(ids)):
                todo.remove(other)
                return

    def pick_cohort(
        self, g: Group, people: list[Participant], starts: list[int], forced: set[str]
    ) -> list[Participant]:
        """The members: forced by pins first, then most in need, then intake order."""
        days = [t // MINUTES_PER_DAY for t in starts]
        sites = {p.site for p in people if p.site is not None and p.id in forced}
        if not g.virtual and g.site is None and not sites:
            firsts = [p.site for p in sorted(people, key=self._urgency) if p.site is not None]
            sites = set(firsts[:1])
        cohort: list[Participant] = []
        for p in sorted(people, key=lambda p: (p.id not in forced, *self._urgency(p, g))):
            if len(cohort) == g.max_size:
                break
            if not g.virtual and p.site is not None and sites and p.site not in sites:
                continue
            if not self.avoided[p.id].isdisjoint(q.id for q in cohort):
                continue
            if self.room_for(p, g.duration_minutes, days):
                cohort.append(p)
        return cohort

    def _urgency(self, p: Participant, g: Group | None = None) -> tuple:
        kind = g.kind if g is not None else "group"
        was = g is not None and p.id in self.previous_members.get(g.id, set())
        return (not was, -self.need(p, kind), self.order[p.id])

    def staff_meetings(
        self, g: Group, starts: list[int], cohort: list[Participant], pins: list[Pin]
    ) -> list[_Meeting] | None:
        """A facilitator (the same one all week where possible) and a room for every meeting."""
        length = g.duration_minutes
        leads = self.cand.facilitators(g)
        site = next((p.site for p in cohort if p.site is not None), g.site)
        rooms = [r for r in self.cand.group_rooms(g) if fits_site(r, site)]
        wanted = {pin.therapist for pin in pins if pin.therapist is not None}
        total = length * len(starts)

        def required(t: int) -> str | None:
            """The therapist a pin names for the meeting at ``t`` (one with a day or start)."""
            return next(
                (
                    pin.therapist
                    for pin in pins
                    if pin.therapist is not None
                    and (pin.day is not None or pin.start is not None)
                    and _pin_fits(pin, [t], length)
                ),
                None,
            )

        free_at: dict[int, list] = {}  # rooms stay as they are while the meetings are staffed

        def room_at(t: int, lead: Therapist) -> tuple[bool, str | None]:
            """(found, room): a free room that seats the cohort, None for a virtual group."""
            if g.virtual:
                return True, None
            if t not in free_at:
                free_at[t] = self.free_rooms(rooms, t, t + length, len(cohort))
            ok = [r for r in free_at[t] if therapist_can_work_in(lead, r)]
            return bool(ok), ok[0].id if ok else None

        def load(t: Therapist) -> float:
            return self.book.minutes[t.id] / max(1, minutes_of(t.max_hours_per_week))

        for lead in sorted(leads, key=lambda t: (t.id not in wanted, load(t), t.id)):
            if wanted and wanted != {lead.id}:
                continue  # one facilitator all week only if that is the one the pins name
            if all(self.therapist_ok(lead, t, t + length, total - length) for t in starts):
                places = [room_at(t, lead) for t in starts]
                if all(found for found, _ in places):
                    return [
                        _Meeting(t // MINUTES_PER_DAY, t, lead.id, room)
                        for t, (_, room) in zip(starts, places, strict=True)
                    ]
        meetings = []
        for t in starts:  # a different facilitator per meeting
            named = required(t)
            order = sorted(leads, key=lambda t: (t.id not in wanted, load(t), t.id))
            for lead in [lead for lead in order if named is None or lead.id == named]:
                if not self.therapist_ok(lead, t, t + length):
                    continue
                found, room = room_at(t, lead)
                if found:
                    meetings.append(_Meeting(t // MINUTES_PER_DAY, t, lead.id, room))
                    self.book.take(lead.id, t, t + length)  # hold while the others are chosen
                    break
            else:
                break
        for m in meetings:
            self.book.release(m.therapist, m.start, m.start + length)
        if len(meetings) < len(starts) or not wanted <= {m.therapist for m in meetings}:
            return None
        return meetings

    def commit_group(self, g: Group, meetings: list[_Meeting], cohort: list[Participant]) -> None:
        length = g.duration_minutes
        members = sorted(p.id for p in cohort)
        for m in meetings:
            a, b = m.start, m.start + length
            self.book.take(m.therapist, a, b)
            if m.room is not None:
                self.book.take(m.room, a, b)
            for pid in members:
                self.book.take(pid, a, b, g.kind)
            self.placed.append(_Placed(g.kind, a, b, m.therapist, m.room, list(members), g.id))

    # ------------------------------------------------------------ 1:1 sessions
    def place_one_to_one(self, p: Participant, kind: str, pin: Pin | None = None) -> bool:
        spec = getattr(p.plan, kind)
        length = spec.minutes
        therapists = self.cand.one_to_one_therapists(p, kind)
        if pin is not None and pin.therapist is not None:
            therapists = [t for t in therapists if t.id == pin.therapist]
        rooms = self.cand.one_to_one_rooms(p, kind)
        seats = 1 + (p.family_size if kind == "family" else 0)
        starts = sorted(self.cand.starts(self.cand.one_to_one_spans(p, kind), length))
        min_day = minutes_of(p.min_hours_per_day or 0)
        options = []
        for t in starts:
            a = t * self.slot
            b, day = a + length, a // MINUTES_PER_DAY
            if pin is not None and not _pin_fits(pin, [a], length):
                continue
            if not self.book.free(p.id, a, b) or not self.room_for(p, 0, [day]):
                continue
            if self.book.minutes[p.id] + length > minutes_of(p.plan.max_hours):
                continue
            here = self.book.day_minutes[(p.id, day)]
            if p.max_hours_per_day is not None and here + length > minutes_of(p.max_hours_per_day):
                continue
            if here == 0 and length < min_day and pin is None:
                continue
            # a day short of the daily minimum first when this session lifts it to the
            # minimum, then days already at it; a session that leaves a day short is wasted
            # (the day is emptied at the end) unless nothing else fits
            lifts = 0 < here < min_day <= here + length
            options.append((not lifts, here + length < min_day, here == 0, -here, a))
        # the least loaded first (sorted once: nothing is booked until a place is found)
        leads = sorted(therapists, key=lambda t: (self.book.minutes[t.id], t.id))
        for *_, a in sorted(options):
            b = a + length
            for lead in leads:
                if not self.therapist_ok(lead, a, b):
                    continue
                free = self.free_rooms(rooms, a, b, seats)
                ok = [r for r in free if therapist_can_work_in(lead, r)]
                if not ok and not p.telehealth:
                    continue
                room = ok[0].id if ok else None
                self.book.take(lead.id, a, b)
                if room is not None:
                    self.book.take(room, a, b)
                self.book.take(p.id, a, b, kind)
                self.placed.append(_Placed(kind, a, b, lead.id, room, [p.id]))
                return True
        return False

    def one_to_one_order(self) -> list[Participant]:
        """Participants with the fewest possible starts first."""

        def options(p: Participant) -> int:
            return len(self.cand.starts(self.cand.participant_spans[p.id], 60))

        return sorted(self.inst.participants, key=lambda p: (options(p), self.order[p.id]))

    # ----------------------------------------------------------------- repair
    def drop_short_days(self) -> None:
        """Empty any day that gives a participant less than their min_hours_per_day."""
        changed = True
        while changed:
            changed = False
            for p in self.inst.participants:
                floor = minutes_of(p.min_hours_per_day or 0)
                for day in sorted(self.book.days[p.id]):
                    if 0 < self.book.day_minutes[(p.id, day)] < floor and not self.held(p, day):
                        self.leave_day(p, day)
                        changed = True

    def held(self, p: Participant, day: int) -> bool:
        """A pin keeps ``p`` in a session that day: it names them (for a group, at any of
        its meetings: leaving the day leaves the group), or a group that must run would
        fall below its minimum size without them."""
        if p.id not in self._pinned_people and not self._any_must_run:
            return False  # (the common case, and a hot one: every short day asks)
        mine = [s for s in self.placed if p.id in s.participants]
        for s in mine:
            if s.start // MINUTES_PER_DAY != day:
                continue
            together = [s] if s.group is None else [m for m in mine if m.group == s.group]
            if s.group is not None:
                g = self.inst.group_by_id[s.group]
                if self.must_run(g) and len(s.participants) <= g.min_size:
                    return True
            pins = [pin for pin in self.inst.pins if pin.participant == p.id]
            if any(_pin_holds(pin, m) for pin in pins for m in together):
                return True
        return False

    def leave_day(self, p: Participant, day: int) -> None:
        """Take a participant out of everything on a day (whole groups, 1:1 sessions)."""
        mine = [s for s in self.placed if p.id in s.participants]
        # a member is in every meeting of their group: its meeting that day is among theirs
        groups = {s.group for s in mine if s.group and s.start // MINUTES_PER_DAY == day}
        for s in mine:
            if s.group is None and s.start // MINUTES_PER_DAY == day:
                self.unplace(s)
            elif s.group in groups:
                s.participants.remove(p.id)
                self.book.release(p.id, s.start, s.end, s.kind)
        for gid in groups:
            g = self.inst.group_by_id[gid]
            meetings = [s for s in self.placed if s.group == gid]
            if meetings and len(meetings[0].participants) < g.min_size:
                for s in meetings:
                    for pid in list(s.participants):
                        self.book.release(pid, s.start, s.end, s.kind)
                    s.participants.clear()
                    self.unplace(s)

    def unplace(self, s: _Placed) -> None:
        self.book.release(s.therapist, s.start, s.end)
        if s.room is not None:
            self.book.release(s.room, s.start, s.end)
        for pid in s.participants:
            self.book.release(pid, s.start, s.end, s.kind)
        self.placed.remove(s)

    # -------------------------------------------------------------------- run
    def run(self, keep: list[Session] | None = None) -> list[Session]:
        """The first fit of the week; with ``keep`` (last week's sessions carried forward),
        the week completed around them: they stay as they are, and the rest is placed as a
        first fit places it (pinned sessions they do not hold, groups that do not run among
        them, people still short fitted in, days below a daily minimum emptied)."""
        if keep:
            self.load(keep)
        running = {s.group for s in self.placed if s.group is not None}
        for pin in self.inst.pins:  # booked 1:1 sessions first
            if (
                pin.group is None
                and pin.participant is not None
                and pin.kind in ("individual", "family")
                and not any(
                    pin.participant in s.participants and _pin_holds(pin, s) for s in self.placed
                )
            ):
                spec = getattr(self.people[pin.participant].plan, pin.kind)
                if spec is not None and spec.sessions > 0:
                    self.place_one_to_one(self.people[pin.participant], pin.kind, pin)
        todo = [g for g in self.group_order() if g.id not in running]
        # groups that must run first, each before any block partner can take its people,
        # and each leaving enough people for those still to come at the same times
        must = [g for g in todo if self.must_run(g)]
        todo = [g for g in todo if not self.must_run(g)]
        placed = []
        for i, g in enumerate(must):
            keep = sum(h.min_size for h in must[i + 1 :] if self.same_times(g, h))
            placed.append((g, self.place_group(g, keep=keep)))
        for g, cohort in placed:
            if cohort:
                self.place_block(g, cohort, todo)
        while todo:
            g = todo.pop(0)
            cohort = self.place_group(g)
            if cohort:
                self.place_block(g, cohort, todo)
        for p in self.one_to_one_order():
            for kind in ("individual", "family"):
                have = sum(1 for s in self.placed if s.kind == kind and p.id in s.participants)
                self.place_missing(p, kind, have)
        self.drop_short_days()
        for _ in range(REPAIRS):
            if not self.fill_gaps():
                break
            self.drop_short_days()
        if not keep:  # (a kept group keeps its id: its members attended it last week)
            self.fill_twins_in_order()
        return self.sessions()

    def fill_gaps(self) -> bool:
        """Put people still short into running groups with a place, then their 1:1 sessions.

        Emptying short days frees people and places; a coordinator would look again.
        A person joins only where every meeting day then holds their daily minimum; one
        with a daily minimum may join two groups at once that hold it together where
        neither does alone.  Returns whether anything was added.
        """
        added = False
        meetings: dict[str, list[_Placed]] = defaultdict(list)
        have: dict[tuple[str, str], int] = defaultdict(int)  # (participant, kind) -> 1:1 sessions
        for s in self.placed:
            if s.group is not None:
                meetings[s.group].append(s)
            else:
                have[(s.participants[0], s.kind)] += 1
        open_to: dict[str, list[Group]] = defaultdict(list)  # participant -> running groups
        for gid in meetings:
            g = self.inst.group_by_id[gid]
            for q in self._eligible[gid]:
                open_to[q.id].append(g)
        for p in sorted(self.inst.participants, key=self._urgency):
            wants = {kind: self.need(p, kind) > 0 for kind in ("group", "education")}
            lift = self.held_short_days(p)  # a group meeting on one of these days helps too
            options = [
                (g, meetings[g.id])
                for g in open_to[p.id]
                if (wants[g.kind] or _meets_on(meetings[g.id], lift))
                and self.may_join(p, g, meetings[g.id])
            ]
            tries = [[option] for option in options]
            if p.min_hours_per_day is not None:
                tries += [list(pair) for pair in itertools.combinations(options, 2)]
            for joins in tries:
                if self.can_join(p, joins) and all(
                    self.need(p, g.kind) > 0 or _meets_on(ms, lift) for g, ms in joins
                ):
                    for g, ms in joins:
                        for m in ms:
                            m.participants.append(p.id)
                            self.book.take(p.id, m.start, m.end, g.kind)
                    added = True
                    lift = self.held_short_days(p) if lift else lift
            for kind in ("individual", "family"):
                if self.place_missing(p, kind, have[(p.id, kind)]):
                    added = True
        return added

    def held_short_days(self, p: Participant) -> set[int]:
        """Days below the participant's daily minimum that a pin keeps them in."""
        floor = minutes_of(p.min_hours_per_day or 0)
        return {
            d
            for d in self.book.days[p.id]
            if self.book.day_minutes[(p.id, d)] < floor and self.held(p, d)
        }

    def place_missing(self, p: Participant, kind: str, have: int) -> int:
        """Place the participant's missing ``kind`` sessions (``have`` are placed); how many.

        One that found no place is not looked for again until something is given back
        (a release) or the person's own week changes: until then it cannot fit.
        """
        spec = getattr(p.plan, kind)
        if spec is None or self._no_place.get((p.id, kind)) == self._state(p):
            return 0
        placed = 0
        for _ in range(have, spec.sessions):
            if not self.place_one_to_one(p, kind):
                self._no_place[(p.id, kind)] = self._state(p)
                break
            placed += 1
        return placed

    def _state(self, p: Participant) -> tuple[int, int]:
        return self.book.releases, self.book.minutes[p.id]

    def may_join(self, p: Participant, g: Group, meetings: list[_Placed]) -> bool:
        """A running group's own rules let ``p`` into all its meetings: a place in the group
        and its rooms, tags, site, nobody to be kept apart from, and ``p`` free each time."""
        members = meetings[0].participants
        if p.id in members or len(members) >= g.max_size or p.id not in self._open[g.id]:
            return False
        if not self.avoided[p.id].isdisjoint(members):
            return False
        for m in meetings:
            if not self.participant_free(p.id, m.start, m.end):
                return False
            if m.room is not None:
                room = self.rooms[m.room]
                if room.capacity <= len(members) or not fits_site(room, p.site):
                    return False
        return True

    def can_join(self, p: Participant, joins: list[tuple[Group, list[_Placed]]]) -> bool:
        """Every hard rule still holds with ``p`` added to all meetings of these running groups."""
        added: dict[int, int] = defaultdict(int)  # day -> minutes
        spans: list[Span] = []
        for _, meetings in joins:
            for m in meetings:
                added[m.start // MINUTES_PER_DAY] += m.end - m.start
                spans.append((m.start, m.end))
        # the cheap checks first: most pairs tried fail the daily minimum
        floor = minutes_of(p.min_hours_per_day or 0)
        if any(self.book.day_minutes[(p.id, d)] + m < floor for d, m in added.items()):
            return False
        spans.sort()
        if any(a < end for (_, end), (a, _) in itertools.pairwise(spans)):
            return False  # two of the groups meet at once
        # again: p may have joined others since the options were drawn up
        if not all(self.may_join(p, g, meetings) for g, meetings in joins):
            return False
        return self.room_by_day(p, added)

    def fill_twins_in_order(self) -> None:
        """Give interchangeable groups their ids so the fullest runs under the first id
        (the order the model keeps with ``twin_order``)."""
        for twins in interchangeable_groups(self.inst):
            ids = [g.id for g in twins]
            size = {gid: 0 for gid in ids}
            for s in self.placed:
                if s.group in size:
                    size[s.group] = len(s.participants)
            rename = dict(zip(sorted(ids, key=lambda g: -size[g]), ids, strict=True))
            for s in self.placed:
                if s.group in rename:
                    s.group = rename[s.group]

    def sessions(self) -> list[Session]:
        """The placed sessions with the solver's ids (groups ``gid#k``, 1:1 ``pid/kind#k``)."""
        out = []
        count: dict[str, int] = defaultdict(int)
        for s in sorted(self.placed, key=lambda s: (s.start, s.group or "", s.participants)):
            key = s.group if s.group is not None else f"{s.participants[0]}/{s.kind}"
            count[key] += 1
            day = s.start // MINUTES_PER_DAY
            out.append(
                Session(
                    id=f"{key}#{count[key]}",
                    kind=s.kind,  # type: ignore[arg-type]
                    group=s.group,
                    day=DAYS[day],
                    start=format_hhmm(s.start - day * MINUTES_PER_DAY),
                    end=format_hhmm(s.end - day * MINUTES_PER_DAY),
                    therapist=s.therapist,
                    room=s.room,
                    participants=sorted(s.participants),
                )
            )
        return out


def _and(masks) -> int:
    """Bitwise AND of participant masks (all bits set when there are none)."""
    out = -1
    for m in masks:
        out &= m
    return out


def _slot_mask(spans: list[Span], slot: int) -> int:
    """The grid slots that lie wholly inside ``spans``, as bits."""
    out = 0
    for a, b in spans:
        first, last = -(-a // slot), b // slot
        if last > first:
            out |= ((1 << (last - first)) - 1) << first
    return out


def _meets_on(meetings: list[_Placed], days: set[int]) -> bool:
    """Some of these meetings fall on one of ``days``."""
    return bool(days) and any(m.start // MINUTES_PER_DAY in days for m in meetings)


def _pin_holds(pin: Pin, s: _Placed) -> bool:
    """The placed session is one the pin describes (its participant aside)."""
    return (
        (pin.group is None or pin.group == s.group)
        and (pin.kind is None or pin.kind == s.kind)
        and (pin.therapist is None or pin.therapist == s.therapist)
        and _pin_fits(pin, [s.start], s.end - s.start)
    )


def _pin_fits(pin: Pin, starts: list[int], length: int) -> bool:
    """Some meeting among ``starts`` has the pin's day and start."""
    for t in starts:
        day = t // MINUTES_PER_DAY
        if pin.day is not None and DAYS[day] != pin.day:
            continue
        if pin.start is not None and week_minute(DAYS[day], pin.start) != t:
            continue
        return True
    return False


def greedy_schedule(instance: Instance, rng: random.Random | None = None) -> list[Session]:
    """The first-fit schedule of the week (see the module docstring); with ``rng``, a variant
    (another intake order, groups of about the same size in another order)."""
    return Greedy(instance, rng).run()


def completed(instance: Instance, keep: list[Session]) -> list[Session]:
    """The week completed around ``keep`` by first fit (:meth:`Greedy.run`)."""
    return Greedy(instance).run(keep)


def first_fit_solution(instance: Instance, rng: random.Random | None = None) -> Solution:
    """The first-fit schedule (a variant with ``rng``) as a solution, its unmet rows and cost
    recomputed from it."""
    from iopsched.validator import assess, cost_by_rule

    sessions = greedy_schedule(instance, rng)
    unmet, terms = assess(instance, sessions)
    return Solution(
        instance=instance.name,
        status=Status.FEASIBLE,
        objective=sum(t.cost for t in terms),
        sessions=sessions,
        unmet=unmet,
        stats=Stats(cost_terms=terms, cost_by_rule=cost_by_rule(terms)),
    )
