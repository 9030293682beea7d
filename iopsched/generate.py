"""Synthetic but realistic weeks (DOMAIN.md numbers), deterministic per seed.

Tracks of care each run their own groups; participants carry availability
shaped like real lives (office workers' evenings, shift workers, students,
parents with short evenings, weekend-only); plans follow levels of care.
Supply (therapist hours, group seats, rooms) is sized from demand so a week is
not hopeless by construction unless ``profile="understaffed"``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from iopsched.instance import Group, Instance, Participant, Window
from iopsched.model.grid import eligible_for_group
from iopsched.solution import Solution
from iopsched.timegrid import (
    MINUTES_PER_DAY,
    day_index,
    format_hhmm,
    parse_hhmm,
    spans_cover,
    windows_union,
)

EVENINGS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Track:
    """A homogeneous track of care with its own groups."""

    key: str
    tags: tuple[str, ...]
    excluded: tuple[str, ...]
    adolescent: bool = False


TRACKS = {
    "su": Track("su", ("adult", "su"), ("adolescent",)),
    "mh": Track("mh", ("adult", "mh"), ("adolescent", "su")),
    "adol": Track("adol", ("adolescent",), ("adult",), adolescent=True),
}

# Program shapes: program hours per day, and the weekend block.
PROFILES: dict[str, dict[str, Any]] = {
    "small": {
        "days": {d: ("17:00", "21:00") for d in ("mon", "tue", "wed", "thu")}
        | {"sat": ("09:00", "13:00")},
        "tracks": {"su": 0.5, "mh": 0.5},
        "staffing": 1.0,
    },
    "evening": {
        "days": {d: ("16:00", "21:00") for d in EVENINGS}
        | {"sat": ("09:00", "14:00"), "sun": ("10:00", "14:00")},
        "tracks": {"su": 0.4, "mh": 0.35, "adol": 0.25},
        "staffing": 1.0,
    },
    "understaffed": {
        "days": {d: ("16:00", "21:00") for d in EVENINGS} | {"sat": ("09:00", "14:00")},
        "tracks": {"su": 0.4, "mh": 0.35, "adol": 0.25},
        "staffing": 0.55,
    },
}


def _w(day: str, start: str, end: str) -> dict[str, str]:
    return {"day": day, "start": start, "end": end}


def _clip(day: str, start: str, end: str, program: dict[str, tuple[str, str]]) -> list[dict]:
    if day not in program:
        return []
    a = max(parse_hhmm(start), parse_hhmm(program[day][0]))
    b = min(parse_hhmm(end), parse_hhmm(program[day][1]))
    return [_w(day, format_hhmm(a), format_hhmm(b))] if a < b else []


def _availability(rng: random.Random, track: Track, program: dict) -> tuple[str, list[dict]]:
    """A life-shaped availability: which kind of life, and its windows."""
    weekend = [d for d in ("sat", "sun") if d in program]
    weekdays = [d for d in EVENINGS if d in program]
    if track.adolescent:
        kind = rng.choices(["school", "school-sport"], [0.7, 0.3])[0]
        days = weekdays if kind == "school" else rng.sample(weekdays, k=min(3, len(weekdays)))
        out = [w for d in days for w in _clip(d, "16:00", "20:30", program)]
        out += [w for d in weekend[:1] for w in _clip(d, "09:00", "13:00", program)]
        return kind, out
    kind = rng.choices(
        ["office", "shift", "parent", "weekend", "flexible"], [0.45, 0.2, 0.15, 0.05, 0.15]
    )[0]
    if kind == "office":
        days = sorted(rng.sample(weekdays, k=min(len(weekdays), rng.choice([4, 5]))))
        out = [w for d in days for w in _clip(d, "17:00", "21:00", program)]
        out += [w for d in weekend[:1] for w in _clip(d, "09:00", "14:00", program)]
    elif kind == "shift":
        days = weekdays[rng.randrange(2) :: 2] + weekend
        out = [w for d in days for w in _clip(d, "09:00", "21:00", program)]
    elif kind == "parent":
        out = [w for d in weekdays for w in _clip(d, "18:00", "20:30", program)]
        out += [w for d in weekend for w in _clip(d, "09:00", "14:00", program)]
    elif kind == "weekend":
        out = [w for d in weekend for w in _clip(d, "00:00", "24:00", program)]
        out += [w for d in weekdays[-2:] for w in _clip(d, "17:00", "21:00", program)]
    else:
        out = [w for d in list(program) for w in _clip(d, "00:00", "24:00", program)]
    return kind, out


def _person(
    rng: random.Random, track: Track, program: dict[str, tuple[str, str]], pid: str
) -> dict[str, Any]:
    """One participant of ``track``: a life-shaped availability and a plan for their level
    of care (no primary therapist yet)."""
    life, availability = _availability(rng, track, program)
    if track.adolescent:
        lo = rng.choice([6, 6, 7.5, 9])
        plan = {
            "level": "iop-adolescent",
            "min_hours": lo,
            "max_hours": lo + rng.choice([3, 4.5, 6]),
        }
        plan |= {"group_hours": min(lo - 1.5, 4.5), "education_hours": 1}
        plan["family"] = {"sessions": 1, "minutes": 60}
    else:
        lo = rng.choice([9, 9, 9, 10.5, 12])
        plan = {
            "level": "iop-adult",
            "min_hours": lo,
            "max_hours": min(19, lo + rng.choice([3, 4.5, 6])),
        }
        plan |= {"group_hours": 6, "education_hours": 1}
        if rng.random() < 0.15:
            plan["family"] = {"sessions": 1, "minutes": 60}
    plan["individual"] = {"sessions": 1, "minutes": rng.choice([45, 60, 60])}
    person: dict[str, Any] = {
        "id": pid,
        "tags": list(track.tags)
        + (["co-occurring"] if track.key == "su" and rng.random() < 0.3 else []),
        "availability": availability,
        "plan": plan,
        "telehealth": rng.random() < 0.3,
    }
    if "family" in plan:
        family = [w for d in list(program) for w in _clip(d, "18:00", "21:00", program)]
        person["family_availability"] = family
        person["family_size"] = rng.choice([1, 2, 2, 3])
    if rng.random() < 0.25:
        person["min_hours_per_day"] = 2.5
    if rng.random() < 0.3:
        person["max_days"] = 4
    if life == "parent" and rng.random() < 0.5:
        person["preferred"] = [w for d in EVENINGS for w in _clip(d, "18:00", "20:00", program)]
    return person


def generate(
    participants: int,
    seed: int = 0,
    *,
    profile: str = "evening",
    name: str | None = None,
    pins: int = 0,
    fixed_groups: int = 0,
    sites: int = 1,
    week_of: dt.date | None = None,
) -> Instance:
    """A realistic week of ``participants`` people, the same for the same arguments.

    With ``sites`` > 1 the people are split evenly over that many sites, each
    with its own staff, rooms and groups (ids prefixed ``S1-``, ``S2-``, ...).
    """
    if sites > 1:
        return _multi_site(participants, seed, profile, name, pins, fixed_groups, sites, week_of)
    rng = random.Random(f"{seed}:{participants}:{profile}")
    shape = PROFILES[profile]
    program: dict[str, tuple[str, str]] = shape["days"]
    tracks = list(shape["tracks"])
    weights = list(shape["tracks"].values())

    people: list[dict[str, Any]] = []
    by_track: dict[str, list[dict]] = {t: [] for t in tracks}
    for i in range(participants):
        track = TRACKS[rng.choices(tracks, weights)[0]]
        person = _person(rng, track, program, f"P{i + 1:04d}")
        people.append(person)
        by_track[track.key].append(person)

    # Groups: each track runs enough parallel copies to seat everyone.  A day of
    # care is a 90-minute process group and a 60-minute skills group (2.5 h),
    # three days a week, plus weekly psychoeducation and individual therapy.
    groups: list[dict[str, Any]] = []
    for key, members in by_track.items():
        track = TRACKS[key]
        base = {"tags_required": list(track.tags), "tags_excluded": list(track.excluded)}
        copies = max(1, math.ceil(len(members) / 10))
        for c in range(copies):
            suffix = f"-{c + 1}" if copies > 1 else ""
            for kind, minutes in (("process", 90), ("skills", 60)):
                groups.append(
                    {
                        "id": f"{key}-{kind}{suffix}",
                        "name": f"{key} {kind} group",
                        "kind": "group",
                        "duration_minutes": minutes,
                        "meetings_per_week": 3,
                        "min_size": 3,
                        "max_size": 12,
                    }
                    | base
                )
        # Psychoeducation seats up to 35 (DOMAIN.md): a big track runs several sessions.
        sections = 1 if len(members) <= 35 else math.ceil(len(members) / 30)
        for c in range(sections):
            suffix = f"-{c + 1}" if sections > 1 else ""
            groups.append(
                {
                    "id": f"{key}-education{suffix}",
                    "name": f"{key} psychoeducation",
                    "kind": "education",
                    "duration_minutes": 60,
                    "meetings_per_week": 1,
                    "min_size": 3,
                    "max_size": max(16, min(35, len(members) + 4)),
                    "virtual": len(members) > 30,
                }
                | base
            )
    if participants >= 40:
        groups.append(
            {
                "id": "multi-family",
                "name": "multi-family evening group",
                "kind": "group",
                "duration_minutes": 90,
                "meetings_per_week": 1,
                "min_size": 3,
                "max_size": 12,
                "tags_required": ["adolescent"],
            }
        )

    # Therapists: licensed clinicians (all modalities) and certified counselors (groups).
    demand = sum(p["plan"]["min_hours"] for p in people) / 6 + 3 * participants / 4
    n_staff = max(3, round(demand / 25 * shape["staffing"]))
    therapists = []
    shifts = [
        {d: ("14:00", "21:00") for d in EVENINGS} | {"sat": ("09:00", "14:00")},
        {d: ("16:00", "21:00") for d in EVENINGS} | {"sun": ("10:00", "14:00")},
        {d: ("12:00", "21:00") for d in ("mon", "tue", "wed", "thu")} | {"sat": ("09:00", "14:00")},
    ]
    for j in range(n_staff):
        licensed = j % 3 != 2
        shift = shifts[j % len(shifts)]
        therapists.append(
            {
                "id": f"T{j + 1:02d}",
                "modalities": ["group", "education"]
                + (["individual", "family"] if licensed else []),
                "availability": [w for d, (a, b) in shift.items() for w in _clip(d, a, b, program)],
                "max_hours_per_week": rng.choice([24, 32, 40]),
                "max_hours_per_day": 8,
            }
        )
    licensed_ids = [t["id"] for t in therapists if "individual" in t["modalities"]]
    for i, person in enumerate(people):
        if rng.random() < 0.7:
            person["primary_therapist"] = licensed_ids[i % len(licensed_ids)]

    # Rooms: group rooms, a large room, offices.
    n_group_rooms = max(2, math.ceil(len(groups) / 5))
    rooms = [
        {"id": f"G{k + 1}", "capacity": rng.choice([12, 12, 14])} for k in range(n_group_rooms)
    ]
    rooms.append({"id": "HALL", "capacity": 36})
    rooms += [
        {"id": f"O{k + 1}", "capacity": rng.choice([3, 4, 5])} for k in range(max(2, n_staff // 2))
    ]

    # Confidentiality: a few pairs who know each other outside.
    for _ in range(participants // 15):
        a, b = rng.sample(people, 2)
        a.setdefault("avoid", []).append(b["id"])

    data: dict[str, Any] = {
        "format": "iopsched/instance@1",
        "name": name or f"generated-{profile}-{participants}-s{seed}",
        "week_of": week_of.isoformat() if week_of else None,
        "slot_minutes": 15,
        "program_hours": [_w(d, a, b) for d, (a, b) in program.items()],
        "rooms": rooms,
        "therapists": therapists,
        "groups": groups,
        "participants": people,
    }
    _add_fixed_and_pins(rng, data, fixed_groups, pins)
    return Instance.model_validate(data)


def follow_on(
    week: Instance,
    previous: Solution,
    seed: int = 0,
    *,
    turnover: int,
    pins: int = 0,
    name: str | None = None,
) -> Instance:
    """The next week of a program with rolling admission (DOMAIN.md): ``turnover`` people
    discharged at random and as many new intakes, each of the track of someone who left and
    made as :func:`generate` makes people; last week's schedule (``previous``) attached; and
    the first individual session of up to ``pins`` new intakes booked with their primary
    therapist.  The same for the same arguments."""
    rng = random.Random(f"follow-on:{seed}:{turnover}:{week.name}")
    data = week.model_dump(mode="json", exclude_none=True)
    people = data["participants"]
    if turnover < 0:
        raise ValueError(f"turnover {turnover} is negative")
    if turnover > len(people):
        raise ValueError(f"turnover {turnover} is more than the week's {len(people)} participants")
    gone = set(rng.sample(sorted(p["id"] for p in people), turnover))
    program: dict[str, tuple[str, str]] = {}
    for w in week.program_hours:
        program.setdefault(w.day, (w.start, w.end))
    licensed = [t["id"] for t in data["therapists"] if "individual" in t["modalities"]]
    # new ids go on from the highest number, each with the prefix of who left ("S2-P", "P")
    first = 1 + max((n for p in people if (n := _numbered(p["id"])[1]) is not None), default=0)
    new = []
    for k, left in enumerate(p for p in people if p["id"] in gone):
        pid = f"{_numbered(left['id'])[0]}{first + k:04d}"
        person = _person(rng, track_of(left), program, pid)
        if licensed and rng.random() < 0.7:
            person["primary_therapist"] = licensed[(first + k) % len(licensed)]
        if "site" in left:  # a new intake comes to the site of the place they take
            person["site"] = left["site"]
        new.append(person)
    stay = [p for p in people if p["id"] not in gone]
    for p in stay:
        if "avoid" in p:
            p["avoid"] = [q for q in p["avoid"] if q not in gone]
    # booked where the therapist's calendar (last week's schedule) is free, as a coordinator would
    calendar: dict[str, list[tuple[str, int, int]]] = {}
    for s in previous.sessions:
        calendar.setdefault(s.therapist, []).append((s.day, parse_hhmm(s.start), parse_hhmm(s.end)))
    booked = {"participants": new, "therapists": data["therapists"]}
    _add_pins(rng, booked, pins, calendar)
    kept = [pin for pin in data.get("pins", []) if pin.get("participant") not in gone]
    data |= {
        "name": name or f"{week.name}-next",
        "participants": stay + new,
        "pins": kept + booked["pins"],
        "previous": previous.model_dump(mode="json", exclude_none=True),
    }
    if week.week_of is not None:
        data["week_of"] = (week.week_of + dt.timedelta(days=7)).isoformat()
    return Instance.model_validate(data)


def _numbered(pid: str) -> tuple[str, int | None]:
    """An id's prefix and the number it ends with ("S2-P0007": "S2-P" and 7)."""
    head = pid.rstrip("0123456789")
    return head, int(pid[len(head) :]) if len(head) < len(pid) else None


def track_of(person: dict[str, Any]) -> Track:
    """The generator's track a participant belongs to, by their tags."""
    tags = set(person.get("tags", []))
    for track in TRACKS.values():
        if set(track.tags) <= tags and not tags & set(track.excluded):
            return track
    raise ValueError(f"participant {person['id']} is in none of the generator's tracks")


def _multi_site(
    participants: int,
    seed: int,
    profile: str,
    name: str | None,
    pins: int,
    fixed_groups: int,
    sites: int,
    week_of: dt.date | None,
) -> Instance:
    """Several single-site weeks side by side, each at its own site."""
    merged: dict[str, Any] = {}
    for k in range(sites):
        code = f"S{k + 1}"
        share = participants // sites + (1 if k < participants % sites else 0)
        part = generate(
            share, seed * 1000 + k, profile=profile, pins=pins, fixed_groups=fixed_groups
        )
        data = part.model_dump(mode="json", exclude_none=True)
        rename = {
            x["id"]: f"{code}-{x['id']}"
            for key in ("rooms", "therapists", "groups", "participants")
            for x in data[key]
        }
        for room in data["rooms"]:
            room |= {"id": rename[room["id"]], "site": code}
        for t in data["therapists"]:
            t |= {"id": rename[t["id"]], "sites": [code]}
        for g in data["groups"]:
            g["id"] = rename[g["id"]]
            if not g.get("virtual"):
                g["site"] = code
            if "facilitators" in g:
                g["facilitators"] = [rename[x] for x in g["facilitators"]]
        for p in data["participants"]:
            p |= {"id": rename[p["id"]], "site": code}
            p["avoid"] = [rename[x] for x in p.get("avoid", [])]
            if "primary_therapist" in p:
                p["primary_therapist"] = rename[p["primary_therapist"]]
        for pin in data.get("pins", []):
            for key in ("participant", "group", "therapist"):
                if key in pin:
                    pin[key] = rename[pin[key]]
        if not merged:
            merged = data
            continue
        for key in ("rooms", "therapists", "groups", "participants", "pins"):
            merged[key] = merged.get(key, []) + data.get(key, [])
    merged["name"] = name or f"generated-{profile}-{participants}-{sites}sites-s{seed}"
    if week_of is not None:
        merged["week_of"] = week_of.isoformat()
    return Instance.model_validate(merged)


def _overlap(a: list[tuple[str, int, int]], b: list[tuple[str, int, int]]) -> bool:
    """Two lists of meetings (day, start, end) share some time."""
    return any(d == e and s < v and u < t for d, s, t in a for e, u, v in b)


def _free_for(windows: list[dict], meetings: list[tuple[str, int, int]]) -> bool:
    """Every meeting (day, start, end) lies inside the windows."""
    spans = windows_union(Window.model_validate(w) for w in windows)
    return all(spans_cover(spans, *_week_span(m)) for m in meetings)


def _week_span(meeting: tuple[str, int, int]) -> tuple[int, int]:
    day, start, end = meeting
    base = day_index(day) * MINUTES_PER_DAY
    return base + start, base + end


def _can_attend(person: dict, group: Group, meetings: list[tuple[str, int, int]]) -> bool:
    """The person may join the group, and is available for every one of its meetings (and
    each meeting alone reaches their daily minimum)."""
    if not eligible_for_group(Participant.model_validate(person), group):
        return False
    if person.get("max_days", 7) < len(meetings):
        return False
    daily = person.get("min_hours_per_day")  # a day of this group alone must reach it
    if daily is not None and any(e - s < daily * 60 for _, s, e in meetings):
        return False
    return _free_for(person["availability"], meetings)


def _add_fixed_and_pins(rng: random.Random, data: dict, fixed_groups: int, pins: int) -> None:
    """Pin a few bookings, then fix some group times the program already announced."""
    busy = _add_pins(rng, data, pins)
    program = {w["day"]: w for w in data["program_hours"]}
    weekdays = [d for d in EVENINGS if d in program]
    # meetings of the groups that must run, with the people and the facilitators they need
    announced: list[tuple[list[tuple[str, int, int]], set[str]]] = []
    groups = [g for g in data["groups"] if g["kind"] == "group"][:fixed_groups]
    for k, g in enumerate(groups):
        step = max(1, len(weekdays) // g["meetings_per_week"])
        days = weekdays[::step][: g["meetings_per_week"]]
        start = format_hhmm(17 * 60 + 90 * (k % 2))  # a process and a skills block in a row
        g["fixed_times"] = [{"day": d, "start": start} for d in days]
        # announced, so it must run, but only where enough people can come to it and a
        # facilitator is free: a small week (or a small track) keeps it optional, not hopeless
        meetings = [(d, parse_hhmm(start), parse_hhmm(start) + g["duration_minutes"]) for d in days]
        taken: set[str] = set()
        for other, needed in announced:
            if _overlap(meetings, other):
                taken |= needed
        group = Group.model_validate(g)
        people = [
            p["id"]
            for p in data["participants"]
            if p["id"] not in taken
            and not _overlap(meetings, busy.get(p["id"], []))
            and _can_attend(p, group, meetings)
        ]
        leads = [
            t["id"]
            for t in data["therapists"]
            if t["id"] not in taken
            and g["kind"] in t["modalities"]
            and not _overlap(meetings, busy.get(t["id"], []))
            and _free_for(t["availability"], meetings)
        ]
        if len(people) >= g["min_size"] and leads:
            g["optional"] = False
            announced.append((meetings, set(people[: g["min_size"]]) | {leads[0]}))


def _add_pins(
    rng: random.Random,
    data: dict,
    pins: int,
    busy: dict[str, list[tuple[str, int, int]]] | None = None,
) -> dict[str, list[tuple[str, int, int]]]:
    """Book individual sessions for a few people, clear of what ``busy`` holds (therapist id
    -> meetings); returns who is booked when (id -> meetings)."""
    booked: dict[str, list[tuple[str, int, int]]] = {k: list(v) for k, v in (busy or {}).items()}
    pinned: list[dict] = []
    # a booked 1:1 session on its own would not reach a daily minimum: such people not pinned
    free = [p for p in data["participants"] if p.get("min_hours_per_day") is None]
    for person in free[:pins]:
        tid = person.get("primary_therapist")
        if tid is None or "individual" not in person["plan"]:
            continue
        therapist = next(t for t in data["therapists"] if t["id"] == tid)
        mine = {w["day"]: w for w in person["availability"]}
        theirs = {w["day"]: w for w in therapist["availability"]}
        length = person["plan"]["individual"]["minutes"]
        for day in rng.sample(sorted(mine), len(mine)):
            if day not in theirs:
                continue
            start = max(parse_hhmm(mine[day]["start"]), parse_hhmm(theirs[day]["start"]))
            end = min(parse_hhmm(mine[day]["end"]), parse_hhmm(theirs[day]["end"]))
            taken = [(a, b) for d, a, b in booked.get(tid, []) if d == day]
            while any(a < start + length and start < b for a, b in taken):
                start += 15
            if end - start >= length:
                for who in (tid, person["id"]):
                    booked.setdefault(who, []).append((day, start, start + length))
                pinned.append(
                    {
                        "participant": person["id"],
                        "kind": "individual",
                        "therapist": tid,
                        "day": day,
                        "start": format_hhmm(start),
                    }
                )
                break
    data["pins"] = pinned
    return booked
