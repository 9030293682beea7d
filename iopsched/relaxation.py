"""The week without staff and room limits, split into tracks: a relaxation for bounds.

What makes a week hard to prove is its staff and rooms; take them away and
what is left is who can meet when, which CP-SAT settles quickly on small
groups of people.  :func:`without_staff_and_rooms` keeps every participant,
group and plan as they are but lets each therapist lead anything at any time
in program hours with no weekly or daily cap, at any site, for anyone; every
group meets online and every 1:1 session may be online, so no room is
needed; pins and last week are dropped.  Each of these only removes a rule,
so every schedule of the real week is a schedule of the relaxed one (its
sessions as they are, online), at no higher cost once the busiest-therapist
term, the one cost that is not owned by a person or a group, is weighted 0.
Preferred times are not priced either (a cost never below 0, so the bound
still holds): priced, they kept CP-SAT from proving either track of the
25-person example within 15 s; unpriced, both are proven within 6 s.

Without staff and rooms nothing joins two people who share no group:
:func:`tracks` splits the relaxed week into its tracks (people linked by the
groups open to them, with those groups), and the least cost of each track,
summed, is at most the cost of any schedule of the week.  Every track is a
week of its own, so a track's floor (``iopsched.bounds``) still holds for it,
and the larger of the two is its share of the bound.
"""

from __future__ import annotations

from iopsched.instance import Group, Instance, Participant
from iopsched.model.grid import eligible_for_group

MODALITIES = ["group", "education", "individual", "family"]


def _online(group: Group) -> Group:
    """The group meeting online, so open to anyone its tags allow, at any site."""
    return group.model_copy(update={"virtual": True, "site": None})


def without_staff_and_rooms(instance: Instance) -> Instance:
    """The week with staff unlimited and interchangeable, everything online, no pins."""
    program = list(instance.program_hours)
    week_hours = min(168.0, sum(b - a for a, b in (w.span for w in program)) / 60)
    therapists = [
        t.model_copy(
            update={
                "modalities": MODALITIES,
                "availability": program,
                "max_hours_per_week": week_hours,
                "max_hours_per_day": None,
                "sites": None,
            }
        ).model_dump()
        for t in instance.therapists
    ]
    groups = [
        _online(g).model_copy(update={"facilitators": None}).model_dump() for g in instance.groups
    ]
    people = [
        p.model_copy(update={"telehealth": True, "primary_therapist": None}).model_dump()
        for p in instance.participants
    ]
    data = instance.model_dump() | {
        "therapists": therapists,
        "groups": groups,
        "participants": people,
        "rooms": [],
        "pins": [],
        "previous": None,
        "weights": dict(instance.weights) | {"therapist_peak_load": 0, "outside_preferred": 0},
    }
    return Instance.model_validate(data)


def track_ids(instance: Instance) -> list[list[str]]:
    """Participants linked by the groups open to them in the relaxed week (where every group
    is online, so only tags decide), in sets that share no group; smallest first."""
    parent = {p.id: p.id for p in instance.participants}

    def root(pid: str) -> str:
        while parent[pid] != pid:
            parent[pid] = parent[parent[pid]]
            pid = parent[pid]
        return pid

    by_tags: dict[frozenset[str], list[Participant]] = {}  # eligibility online is by tags only
    for p in instance.participants:
        by_tags.setdefault(frozenset(p.tags), []).append(p)
    for g in instance.groups:
        online = _online(g)
        people = [
            p.id for same in by_tags.values() if eligible_for_group(same[0], online) for p in same
        ]
        for pid in people[1:]:
            parent[root(pid)] = root(people[0])
    parts: dict[str, list[str]] = {}
    for p in instance.participants:
        parts.setdefault(root(p.id), []).append(p.id)
    return sorted(parts.values(), key=len)


def track_week(instance: Instance, ids: list[str]) -> Instance:
    """The relaxed week (:func:`without_staff_and_rooms`) of these participants alone, with
    the groups open to them."""
    mine = set(ids)
    people = [
        p.model_copy(update={"avoid": [a for a in p.avoid if a in mine]})
        for p in instance.participants
        if p.id in mine
    ]
    groups = [g for g in instance.groups if any(eligible_for_group(p, _online(g)) for p in people)]
    part = instance.model_copy(
        update={
            "name": f"{instance.name}-{ids[0]}",
            "participants": people,
            "groups": groups,
            "pins": [],
            "previous": None,
        }
    )
    # validated afresh: a copy would keep the original's cached lookups
    return without_staff_and_rooms(Instance.model_validate(part.model_dump()))


def tracks(instance: Instance) -> list[Instance]:
    """The relaxed week split into its tracks (:func:`track_ids`), smallest first."""
    return [track_week(instance, ids) for ids in track_ids(instance)]
