"""Time grid and candidate starts: where in the week each session could begin.

Everything here is plain Python over the instance; the CP-SAT variables use
the sets computed here as their domains.  Time is counted in slots of the
week (``minute_of_week // slot_minutes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from iopsched.instance import Group, Instance, Participant, Room, Therapist, Window
from iopsched.timegrid import MINUTES_PER_DAY, intersect_spans, week_minute, windows_union

Spans = list[tuple[int, int]]


@dataclass(frozen=True)
class Grid:
    """The week cut into slots of ``slot_minutes``."""

    slot_minutes: int

    @cached_property
    def slots_per_day(self) -> int:
        return MINUTES_PER_DAY // self.slot_minutes

    def slots(self, minutes: int) -> int:
        """Slots in a duration (durations are checked to be on the grid)."""
        return minutes // self.slot_minutes

    def day_of(self, slot: int) -> int:
        return slot // self.slots_per_day

    def to_minute(self, slot: int) -> int:
        return slot * self.slot_minutes

    def slot_spans(self, spans: Spans) -> Spans:
        """Minute spans as slot spans, rounded inwards."""
        s = self.slot_minutes
        out = [(-(-a // s), b // s) for a, b in spans]
        return [(a, b) for a, b in out if a < b]

    def starts_within(self, spans: Spans, length: int) -> list[int]:
        """Slots where a session of ``length`` slots fits inside one span, on one day."""
        out: list[int] = []
        spd = self.slots_per_day
        for a, b in self.slot_spans(spans):
            for t in range(a, b - length + 1):
                if t // spd == (t + length - 1) // spd:
                    out.append(t)
        return out


def domain(values: list[int]) -> cp_model.Domain:
    """A CP-SAT domain of exactly these values."""
    return cp_model.Domain.FromValues(sorted(set(values)))


def fits_site(room: Room, site: str | None) -> bool:
    """A room is at a site when the site is unnamed or the room's site is it."""
    return site is None or room.site == site


def therapist_can_work_in(therapist: Therapist, room: Room) -> bool:
    """A therapist with named sites works only in rooms at those sites."""
    return therapist.sites is None or room.site in therapist.sites


def eligible_for_group(participant: Participant, group: Group) -> bool:
    """Tags and site allow the participant to join the group."""
    tags = set(participant.tags)
    if not set(group.tags_required) <= tags or tags & set(group.tags_excluded):
        return False
    return group.virtual or group.site is None or participant.site in (None, group.site)


def interchangeable_groups(instance: Instance) -> list[list[Group]]:
    """Classes of groups that differ only by id and name (and no pin or last week names them).

    Any schedule stays valid, at the same cost, when such groups swap ids.
    """
    named = {pin.group for pin in instance.pins}
    if instance.previous is not None:
        named |= {s.group for s in instance.previous.sessions}
    alike: dict[str, list[Group]] = {}
    for g in instance.groups:
        if g.id not in named:
            spec = g.model_dump(exclude={"id", "name"})
            alike.setdefault(repr(sorted(spec.items())), []).append(g)
    return [twins for twins in alike.values() if len(twins) > 1]


@dataclass(frozen=True)
class Limits:
    """Who may join which group, and who may lead which session (absent: anyone eligible)."""

    members: dict[str, frozenset[str]] = field(default_factory=dict)  # group id -> participants
    # group id, or "participant/individual" and "participant/family" -> therapists
    leads: dict[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.members or self.leads)


def one_to_one_key(participant: str, kind: str) -> str:
    """The key of a participant's individual or family sessions in ``Limits.leads``."""
    return f"{participant}/{kind}"


@dataclass
class Candidates:
    """Availability spans of every entity and the starts each session may take."""

    instance: Instance
    limits: Limits = field(default_factory=Limits)  # large weeks, see ``limits.py``
    grid: Grid = field(init=False)

    @cached_property
    def _kinds(self) -> list[tuple[Participant, tuple[frozenset[str], str | None]]]:
        return [(p, (frozenset(p.tags), p.site)) for p in self.instance.participants]

    def joiners(self, group: Group) -> list[Participant]:
        """Who may join the group, in instance order: eligible for it, and offered it where
        the week limits copies per person (eligibility is read once per tags and site)."""
        kinds: dict[tuple[frozenset[str], str | None], bool] = {}
        members = self.limits.members.get(group.id)
        out = []
        for p, kind in self._kinds:
            if kind not in kinds:
                kinds[kind] = eligible_for_group(p, group)
            if kinds[kind] and (members is None or p.id in members):
                out.append(p)
        return out

    def __post_init__(self) -> None:
        self.grid = Grid(self.instance.slot_minutes)
        self._group_starts: dict[str, list[int]] = {}
        self._starts: dict[tuple[tuple[tuple[int, int], ...], int], frozenset[int]] = {}

    @cached_property
    def program(self) -> Spans:
        return windows_union(self.instance.program_hours)

    def within_program(self, windows: list[Window] | None) -> Spans:
        """Spans of windows clipped to program hours (None = all program hours)."""
        if windows is None:
            return self.program
        return intersect_spans(self.program, windows_union(windows))

    @cached_property
    def therapist_spans(self) -> dict[str, Spans]:
        return {t.id: self.within_program(t.availability) for t in self.instance.therapists}

    @cached_property
    def room_spans(self) -> dict[str, Spans]:
        return {r.id: self.within_program(r.availability) for r in self.instance.rooms}

    @cached_property
    def room_pools(self) -> dict[str, list[Room]]:
        """Interchangeable rooms (same capacity, site and hours), keyed by the first one's id.

        The model books a pool, never more of its rooms at once than it has;
        which room of the pool each session gets is decided when the schedule
        is read out (``extract.rooms_within_pools``).
        """
        pools: dict[tuple, list[Room]] = {}
        for r in sorted(self.instance.rooms, key=lambda r: r.id):
            key = (r.capacity, r.site, tuple(self.room_spans[r.id]))
            pools.setdefault(key, []).append(r)
        return {rooms[0].id: rooms for rooms in pools.values()}

    @cached_property
    def pool_of(self) -> dict[str, str]:
        """Room id -> the id its pool is known by."""
        return {r.id: first for first, rooms in self.room_pools.items() for r in rooms}

    def one_per_pool(self, rooms: list[Room]) -> list[Room]:
        """The rooms that stand for their pools, among ``rooms``."""
        return [r for r in rooms if r.id in self.room_pools]

    @cached_property
    def participant_spans(self) -> dict[str, Spans]:
        return {p.id: self.within_program(p.availability) for p in self.instance.participants}

    def family_spans(self, participant: Participant) -> Spans:
        spans = self.participant_spans[participant.id]
        if participant.family_availability is None:
            return spans
        return intersect_spans(spans, windows_union(participant.family_availability))

    def starts(self, spans: Spans, minutes: int) -> frozenset[int]:
        """Starts of a session of ``minutes`` inside ``spans`` (remembered: asked for often)."""
        key = (tuple(spans), minutes)
        if key not in self._starts:
            self._starts[key] = frozenset(self.grid.starts_within(spans, self.grid.slots(minutes)))
        return self._starts[key]

    # ----------------------------------------------------------------- groups
    def facilitators(self, group: Group) -> list[Therapist]:
        """Therapists who may lead the group: named facilitators or anyone with the modality."""
        pool = self.instance.therapists
        if group.facilitators is not None:
            pool = [self.instance.therapist_by_id[t] for t in group.facilitators]
        out = [t for t in pool if group.kind in t.modalities]
        if group.site is not None:
            out = [t for t in out if t.sites is None or group.site in t.sites]
        if group.id in self.limits.leads:
            out = [t for t in out if t.id in self.limits.leads[group.id]]
        return out

    def group_rooms(self, group: Group) -> list[Room]:
        """Rooms an in-person group may meet in (site; capacity checked per cohort)."""
        if group.virtual:
            return []
        return [r for r in self.instance.rooms if fits_site(r, group.site)]

    def fixed_starts(self, group: Group) -> list[int] | None:
        """The fixed meeting starts in slots, sorted by day, if the program fixed them."""
        if group.fixed_times is None:
            return None
        s = self.instance.slot_minutes
        return sorted(week_minute(ft.day, ft.start) // s for ft in group.fixed_times)

    def group_starts(self, group: Group) -> list[int]:
        """Starts where some facilitator and (unless virtual) some room are free (do not mutate)."""
        if group.id not in self._group_starts:
            self._group_starts[group.id] = self._find_group_starts(group)
        return self._group_starts[group.id]

    def _find_group_starts(self, group: Group) -> list[int]:
        d = group.duration_minutes
        ok = self.starts(self.program, d)
        lead: set[int] = set()
        for t in self.facilitators(group):
            lead |= self.starts(self.therapist_spans[t.id], d)
        ok &= lead
        if not group.virtual:
            place: set[int] = set()
            for r in self.group_rooms(group):
                place |= self.starts(self.room_spans[r.id], d)
            ok &= place
        fixed = self.fixed_starts(group)
        if fixed is not None:
            ok &= set(fixed)
        return sorted(ok)

    # --------------------------------------------------------- 1:1 sessions
    def one_to_one_therapists(self, participant: Participant, kind: str) -> list[Therapist]:
        """Who may deliver a participant's individual (their primary) or family session."""
        if kind == "individual" and participant.primary_therapist is not None:
            return [self.instance.therapist_by_id[participant.primary_therapist]]
        out = [t for t in self.instance.therapists if kind in t.modalities]
        allowed = self.limits.leads.get(one_to_one_key(participant.id, kind))
        return out if allowed is None else [t for t in out if t.id in allowed]

    def one_to_one_rooms(self, participant: Participant, kind: str) -> list[Room]:
        """Rooms at the participant's site that seat them (and their family)."""
        seats = 1 + (participant.family_size if kind == "family" else 0)
        return [
            r for r in self.instance.rooms if r.capacity >= seats and fits_site(r, participant.site)
        ]

    def one_to_one_spans(self, participant: Participant, kind: str) -> Spans:
        if kind == "family":
            return self.family_spans(participant)
        return self.participant_spans[participant.id]
