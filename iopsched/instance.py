"""The instance side of the data contract (``iopsched/instance@1``).

Pydantic checks each field's shape; :func:`cross_check` then checks the
instance across entities (grid, ids, references, ranges) once, on load, and
reports every problem with its field path.  Lookups are built afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from iopsched.solution import SessionKind, Solution
from iopsched.timegrid import (
    MINUTES_PER_DAY,
    Clock,
    Day,
    end_after_start,
    parse_hhmm,
    window_span,
    windows_union,
)
from iopsched.weights import DEFAULT_WEIGHTS

INSTANCE_FORMAT = "iopsched/instance@1"
Modality = Literal["group", "education", "individual", "family"]
Level = Literal["op", "iop-adult", "iop-adolescent", "php"]


Id = Annotated[str, Field(min_length=1)]
Hours = Annotated[float, Field(ge=0, le=168)]


class Problem(BaseModel):
    """One thing wrong with an input: where (field path) and what."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class InstanceProblems(ValueError):
    """Raised by the cross-entity check; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """A stretch of one day, [start, end)."""

    day: Day
    start: Clock
    end: Clock

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: str, info: ValidationInfo) -> str:
        return end_after_start(info.data.get("start"), end)

    @property
    def span(self) -> tuple[int, int]:
        """[start, end) in minutes of the week."""
        return window_span(self)


class Room(_Strict):
    id: Id
    capacity: int = Field(ge=1)
    availability: list[Window] | None = None
    site: str | None = None


class Therapist(_Strict):
    id: Id
    name: str | None = None
    modalities: list[Modality]
    availability: list[Window]
    max_hours_per_week: Hours
    max_hours_per_day: Hours | None = None
    sites: list[str] | None = None


class FixedTime(_Strict):
    day: Day
    start: Clock


class Group(_Strict):
    id: Id
    name: str | None = None
    kind: Literal["group", "education"]
    duration_minutes: int = Field(gt=0, le=MINUTES_PER_DAY)
    meetings_per_week: int = Field(ge=1, le=7)
    min_size: int = Field(ge=1)
    max_size: int = Field(ge=1)
    tags_required: list[str] = Field(default_factory=list)
    tags_excluded: list[str] = Field(default_factory=list)
    facilitators: list[str] | None = None
    fixed_times: list[FixedTime] | None = None
    virtual: bool = False
    optional: bool = True
    site: str | None = None


class SessionPlan(_Strict):
    sessions: int = Field(ge=0, le=14)
    minutes: int = Field(gt=0, le=MINUTES_PER_DAY)


class Plan(_Strict):
    level: Level | None = None
    min_hours: Hours
    max_hours: Hours
    group_hours: Hours | None = None
    education_hours: Hours | None = None
    individual: SessionPlan | None = None
    family: SessionPlan | None = None


class Participant(_Strict):
    id: Id
    tags: list[str] = Field(default_factory=list)
    availability: list[Window]
    plan: Plan
    primary_therapist: str | None = None
    family_availability: list[Window] | None = None
    family_size: int = Field(default=2, ge=0)
    max_days: int | None = Field(default=None, ge=0, le=7)
    max_hours_per_day: Hours | None = None
    min_hours_per_day: Hours | None = None
    avoid: list[str] = Field(default_factory=list)
    telehealth: bool = False
    site: str | None = None
    preferred: list[Window] | None = None


class Pin(_Strict):
    participant: str | None = None
    group: str | None = None
    therapist: str | None = None
    kind: SessionKind | None = None
    day: Day | None = None
    start: Clock | None = None


def minutes_of(hours: float) -> int:
    """Whole minutes of a decimal number of hours."""
    return round(hours * 60)


class Instance(_Strict):
    """One week to plan: program hours, rooms, staff, groups, participants."""

    format: Literal["iopsched/instance@1"] = INSTANCE_FORMAT
    name: str
    week_of: dt.date | None = None
    slot_minutes: int = Field(default=15, ge=1, le=MINUTES_PER_DAY)
    program_hours: list[Window] = Field(min_length=1)
    rooms: list[Room] = Field(default_factory=list)
    therapists: list[Therapist] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    participants: list[Participant] = Field(default_factory=list)
    previous: Solution | None = None
    pins: list[Pin] = Field(default_factory=list)
    weights: dict[str, NonNegativeInt] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_check(self) -> Instance:
        problems = cross_check(self)
        if problems:
            raise InstanceProblems(problems)
        return self

    # Lookups, built after the check.
    @cached_property
    def participant_by_id(self) -> dict[str, Participant]:
        return {p.id: p for p in self.participants}

    @cached_property
    def therapist_by_id(self) -> dict[str, Therapist]:
        return {t.id: t for t in self.therapists}

    @cached_property
    def group_by_id(self) -> dict[str, Group]:
        return {g.id: g for g in self.groups}

    @cached_property
    def room_by_id(self) -> dict[str, Room]:
        return {r.id: r for r in self.rooms}

    @cached_property
    def uses_sites(self) -> bool:
        """True if anything names a site (else the instance is one site)."""
        return (
            any(r.site for r in self.rooms)
            or any(t.sites for t in self.therapists)
            or any(g.site for g in self.groups)
            or any(p.site for p in self.participants)
        )

    def avoid_pairs(self) -> set[frozenset[str]]:
        """Pairs of participants who must never share a group (either side listing)."""
        return {frozenset((p.id, q)) for p in self.participants for q in p.avoid if q != p.id}


# --------------------------------------------------------------------------- checks


def _duplicates(ids: list[str], what: str, path: str) -> list[Problem]:
    counts = Counter(ids)
    return [
        Problem(path=f"{path}[{i}].id", message=f"duplicate {what} id {value!r}")
        for i, value in enumerate(ids)
        if counts[value] > 1
    ]


def _grid_windows(windows: list[Window] | None, slot: int, path: str) -> list[Problem]:
    problems = []
    for i, w in enumerate(windows or []):
        for field in ("start", "end"):
            minutes = parse_hhmm(getattr(w, field))
            if minutes % slot:
                problems.append(
                    Problem(
                        path=f"{path}[{i}].{field}",
                        message=f"{getattr(w, field)} is not on the {slot}-minute grid",
                    )
                )
    return problems


def cross_check(inst: Instance) -> list[Problem]:
    """Every cross-entity problem of an instance (empty list when it is sound)."""
    out: list[Problem] = []
    slot = inst.slot_minutes
    if MINUTES_PER_DAY % slot:
        out.append(Problem(path="slot_minutes", message=f"{slot} does not divide a day"))
        return out

    out += _duplicates([r.id for r in inst.rooms], "room", "rooms")
    out += _duplicates([t.id for t in inst.therapists], "therapist", "therapists")
    out += _duplicates([g.id for g in inst.groups], "group", "groups")
    out += _duplicates([p.id for p in inst.participants], "participant", "participants")
    therapists = {t.id: t for t in inst.therapists}
    groups = {g.id: g for g in inst.groups}
    participants = {p.id for p in inst.participants}

    out += _grid_windows(inst.program_hours, slot, "program_hours")
    for i, r in enumerate(inst.rooms):
        out += _grid_windows(r.availability, slot, f"rooms[{i}].availability")
    for i, t in enumerate(inst.therapists):
        path = f"therapists[{i}]"
        out += _grid_windows(t.availability, slot, f"{path}.availability")
        if t.max_hours_per_day is not None and minutes_of(t.max_hours_per_day) > minutes_of(
            t.max_hours_per_week
        ):
            out.append(
                Problem(
                    path=f"{path}.max_hours_per_day",
                    message="is above max_hours_per_week",
                )
            )
        if len(set(t.modalities)) != len(t.modalities):
            out.append(Problem(path=f"{path}.modalities", message="lists a modality twice"))

    for i, g in enumerate(inst.groups):
        path = f"groups[{i}]"
        if g.duration_minutes % slot:
            out.append(
                Problem(
                    path=f"{path}.duration_minutes",
                    message=f"{g.duration_minutes} is not a multiple of slot_minutes ({slot})",
                )
            )
        if g.min_size > g.max_size:
            out.append(
                Problem(
                    path=f"{path}.min_size",
                    message=f"min_size {g.min_size} is above max_size {g.max_size}",
                )
            )
        both = set(g.tags_required) & set(g.tags_excluded)
        if both:
            out.append(
                Problem(
                    path=f"{path}.tags_excluded",
                    message=f"tags both required and excluded: {', '.join(sorted(both))}",
                )
            )
        if g.virtual and g.site:
            out.append(Problem(path=f"{path}.site", message="a virtual group has no site"))
        for j, fid in enumerate(g.facilitators or []):
            fpath = f"{path}.facilitators[{j}]"
            if fid not in therapists:
                out.append(Problem(path=fpath, message=f"unknown therapist {fid!r}"))
            elif g.kind not in therapists[fid].modalities:
                out.append(
                    Problem(
                        path=fpath,
                        message=f"therapist {fid!r} does not deliver {g.kind!r}",
                    )
                )
        if g.facilitators is not None and not g.facilitators:
            out.append(Problem(path=f"{path}.facilitators", message="is empty"))
        if g.fixed_times is not None:
            if len(g.fixed_times) != g.meetings_per_week:
                out.append(
                    Problem(
                        path=f"{path}.fixed_times",
                        message=(
                            f"has {len(g.fixed_times)} times but meetings_per_week is "
                            f"{g.meetings_per_week}"
                        ),
                    )
                )
            days = [ft.day for ft in g.fixed_times]
            if len(set(days)) != len(days):
                out.append(
                    Problem(
                        path=f"{path}.fixed_times",
                        message="meets twice on one day (a group meets at most once a day)",
                    )
                )
            for j, ft in enumerate(g.fixed_times):
                start = parse_hhmm(ft.start)
                if start % slot:
                    out.append(
                        Problem(
                            path=f"{path}.fixed_times[{j}].start",
                            message=f"{ft.start} is not on the {slot}-minute grid",
                        )
                    )
                if start + g.duration_minutes > MINUTES_PER_DAY:
                    out.append(
                        Problem(
                            path=f"{path}.fixed_times[{j}].start",
                            message="the meeting would run past midnight",
                        )
                    )

    for i, p in enumerate(inst.participants):
        path = f"participants[{i}]"
        out += _grid_windows(p.availability, slot, f"{path}.availability")
        out += _grid_windows(p.family_availability, slot, f"{path}.family_availability")
        plan = p.plan
        if minutes_of(plan.min_hours) > minutes_of(plan.max_hours):
            out.append(
                Problem(
                    path=f"{path}.plan.min_hours",
                    message=f"min_hours {plan.min_hours:g} is above max_hours {plan.max_hours:g}",
                )
            )
        for field in ("group_hours", "education_hours"):
            value = getattr(plan, field)
            if value is not None and minutes_of(value) > minutes_of(plan.max_hours):
                out.append(
                    Problem(
                        path=f"{path}.plan.{field}",
                        message=f"{field} {value:g} is above max_hours {plan.max_hours:g}",
                    )
                )
        for field in ("individual", "family"):
            spec = getattr(plan, field)
            if spec is not None and spec.minutes % slot:
                out.append(
                    Problem(
                        path=f"{path}.plan.{field}.minutes",
                        message=f"{spec.minutes} is not a multiple of slot_minutes ({slot})",
                    )
                )
        if (
            p.min_hours_per_day is not None
            and p.max_hours_per_day is not None
            and minutes_of(p.min_hours_per_day) > minutes_of(p.max_hours_per_day)
        ):
            out.append(
                Problem(
                    path=f"{path}.min_hours_per_day",
                    message="is above max_hours_per_day",
                )
            )
        if p.primary_therapist is not None:
            tid = p.primary_therapist
            if tid not in therapists:
                out.append(
                    Problem(path=f"{path}.primary_therapist", message=f"unknown therapist {tid!r}")
                )
            elif (
                plan.individual
                and plan.individual.sessions
                and "individual" not in therapists[tid].modalities
            ):
                out.append(
                    Problem(
                        path=f"{path}.primary_therapist",
                        message=f"therapist {tid!r} does not deliver individual therapy",
                    )
                )
        for j, other in enumerate(p.avoid):
            if other not in participants:
                out.append(
                    Problem(path=f"{path}.avoid[{j}]", message=f"unknown participant {other!r}")
                )
            elif other == p.id:
                out.append(Problem(path=f"{path}.avoid[{j}]", message="a participant avoids self"))

    for i, pin in enumerate(inst.pins):
        path = f"pins[{i}]"
        if pin.participant is not None and pin.participant not in participants:
            out.append(
                Problem(
                    path=f"{path}.participant", message=f"unknown participant {pin.participant!r}"
                )
            )
        if pin.therapist is not None and pin.therapist not in therapists:
            out.append(
                Problem(path=f"{path}.therapist", message=f"unknown therapist {pin.therapist!r}")
            )
        if pin.group is not None:
            if pin.group not in groups:
                out.append(Problem(path=f"{path}.group", message=f"unknown group {pin.group!r}"))
            elif pin.kind is not None and pin.kind != groups[pin.group].kind:
                out.append(
                    Problem(
                        path=f"{path}.kind",
                        message=f"group {pin.group!r} is of kind {groups[pin.group].kind!r}",
                    )
                )
        if pin.start is not None and parse_hhmm(pin.start) % slot:
            out.append(
                Problem(
                    path=f"{path}.start", message=f"{pin.start} is not on the {slot}-minute grid"
                )
            )
        if all(getattr(pin, f) is None for f in type(pin).model_fields):
            out.append(Problem(path=path, message="a pin must describe at least one thing"))

    for name in inst.weights:
        if name not in DEFAULT_WEIGHTS:
            out.append(
                Problem(
                    path=f"weights.{name}",
                    message=f"unknown weight; known: {', '.join(DEFAULT_WEIGHTS)}",
                )
            )
    if not windows_union(inst.program_hours):
        out.append(Problem(path="program_hours", message="is empty"))
    return out
