"""Decision variables: one record per possible session, with its choices.

A *session* is either one meeting of a group or one individual/family session
of a participant.  Both carry the same choices, so every rule about people,
therapists and rooms is written once over :class:`SessionVars`:

* ``start`` — the starting slot (its domain: the candidate starts);
* ``days`` — one literal per day it may fall on (exactly one when it happens);
* ``therapists`` / ``rooms`` — one literal per eligible therapist / pool of
  interchangeable rooms;
* ``participants`` — who is in it: for a group meeting, "member and the group
  meets that day"; for a 1:1 session, its ``present`` literal.

A group has one possible meeting per day (it meets at most once a day);
its weekly cohort is ``GroupVars.members``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from iopsched.instance import Group, Instance, Participant
from iopsched.model.grid import Candidates, domain

BoolVar = cp_model.IntVar


@dataclass
class SessionVars:
    """The choices of one possible session."""

    key: str
    kind: str  # group | education | individual | family
    length: int  # slots
    present: BoolVar  # the session takes place
    start: cp_model.IntVar
    days: dict[int, BoolVar]
    therapists: dict[str, BoolVar]
    rooms: dict[str, BoolVar]  # by room pool (``Candidates.room_pools``)
    participants: dict[str, BoolVar]
    candidates: list[int] = field(default_factory=list)  # the start domain, sorted
    group_id: str | None = None
    index: int = 0  # the day of a group meeting / k-th 1:1 session of this kind
    online: BoolVar | None = None  # a 1:1 session held online
    at: dict[int, BoolVar] = field(default_factory=dict)  # start == slot literals
    encoded: bool = False  # ``at`` holds a literal for every candidate start

    @cached_property
    def candidate_set(self) -> frozenset[int]:
        return frozenset(self.candidates)

    @property
    def end(self) -> cp_model.LinearExprT:
        return self.start + self.length

    def starts_at(self, model: cp_model.CpModel, slot: int) -> BoolVar:
        """A literal true exactly when the session happens and starts at ``slot``."""
        if slot not in self.at:
            if slot not in self.candidate_set:
                self.at[slot] = model.new_constant(0)
            else:
                lit = model.new_bool_var(f"{self.key}@{slot}")
                model.add(self.start == slot).only_enforce_if(lit)
                model.add_implication(lit, self.present)
                model.add(self.start != slot).only_enforce_if([lit.Not(), self.present])
                self.at[slot] = lit
        return self.at[slot]


@dataclass
class GroupVars:
    """A group: whether it runs, its weekly cohort and its meetings."""

    group: Group
    run: BoolVar
    members: dict[str, BoolVar]
    meetings: list[SessionVars]
    starts: list[int]  # candidate starts (slots)


@dataclass
class Variables:
    """All decision variables of one week."""

    groups: dict[str, GroupVars]
    one_to_one: dict[str, list[SessionVars]]  # participant id -> their 1:1 sessions
    sessions: list[SessionVars]
    by_participant: dict[str, list[SessionVars]] = field(default_factory=dict)
    by_therapist: dict[str, list[SessionVars]] = field(default_factory=dict)
    by_room: dict[str, list[SessionVars]] = field(default_factory=dict)
    groups_of: dict[str, list[GroupVars]] = field(default_factory=dict)  # participant -> cohorts

    def __post_init__(self) -> None:
        for gv in self.groups.values():
            for pid in gv.members:
                self.groups_of.setdefault(pid, []).append(gv)
        for s in self.sessions:
            for pid in s.participants:
                self.by_participant.setdefault(pid, []).append(s)
            for tid in s.therapists:
                self.by_therapist.setdefault(tid, []).append(s)
            for rid in s.rooms:
                self.by_room.setdefault(rid, []).append(s)


def group_variables(model: cp_model.CpModel, cand: Candidates, group: Group) -> GroupVars:
    """Run, cohort and one possible meeting per day of one group.

    A group meets at most once a day, so its meetings are indexed by day, and
    each meeting's start is fully encoded by one literal per candidate start.
    A member attends the meeting of a day exactly when they are a member and
    the group meets that day.
    """
    grid = cand.grid
    starts = cand.group_starts(group)
    minutes = group.duration_minutes
    length = grid.slots(minutes)
    by_day: dict[int, list[int]] = {}
    for t in starts:
        by_day.setdefault(grid.day_of(t), []).append(t)
    run = model.new_bool_var(f"run[{group.id}]")
    if len(by_day) < group.meetings_per_week:
        model.add(run == 0)  # cannot meet often enough; the mandatory rule reports it
    members: dict[str, BoolVar] = {}
    free: dict[str, frozenset[int]] = {}
    for p in cand.joiners(group):
        mine = cand.starts(cand.participant_spans[p.id], minutes)
        if sum(not mine.isdisjoint(ts) for ts in by_day.values()) >= group.meetings_per_week:
            members[p.id] = model.new_bool_var(f"member[{group.id},{p.id}]")
            free[p.id] = mine
    leads = {
        t.id: cand.starts(cand.therapist_spans[t.id], minutes) for t in cand.facilitators(group)
    }
    places = {
        r.id: cand.starts(cand.room_spans[r.id], minutes)
        for r in cand.one_per_pool(cand.group_rooms(group))
        if r.capacity >= group.min_size
    }
    meetings = []
    for d, day_starts in sorted(by_day.items()):
        key = f"{group.id}@{d}"
        meets = model.new_bool_var(f"meets[{key}]")
        at = {t: model.new_bool_var(f"{key}@{t}") for t in day_starts}
        attends = {}
        for pid, member in members.items():
            if not free[pid].isdisjoint(day_starts):
                lit = model.new_bool_var(f"attends[{key},{pid}]")
                model.add_bool_and([member, meets]).only_enforce_if(lit)
                model.add_bool_or([member.Not(), meets.Not(), lit])
                attends[pid] = lit
            else:
                model.add_at_most_one([member, meets])
        meetings.append(
            SessionVars(
                key=key,
                kind=group.kind,
                length=length,
                present=meets,
                start=model.new_int_var_from_domain(domain(day_starts), f"start[{key}]"),
                days={d: meets},
                therapists={
                    tid: model.new_bool_var(f"lead[{key},{tid}]")
                    for tid, ok in leads.items()
                    if not ok.isdisjoint(day_starts)
                },
                rooms={
                    rid: model.new_bool_var(f"room[{key},{rid}]")
                    for rid, ok in places.items()
                    if not ok.isdisjoint(day_starts)
                },
                participants=attends,
                candidates=day_starts,
                group_id=group.id,
                index=d,
                at=at,
                encoded=True,
            )
        )
    return GroupVars(group=group, run=run, members=members, meetings=meetings, starts=starts)


def one_to_one_variables(
    model: cp_model.CpModel, cand: Candidates, participant: Participant, kind: str
) -> list[SessionVars]:
    """The individual or family sessions a participant's plan asks for."""
    spec = getattr(participant.plan, kind)
    if spec is None or spec.sessions == 0:
        return []
    minutes = spec.minutes
    own = cand.starts(cand.one_to_one_spans(participant, kind), minutes)
    therapists = {
        t.id: lead
        for t in cand.one_to_one_therapists(participant, kind)
        if (lead := own & cand.starts(cand.therapist_spans[t.id], minutes))
    }
    rooms = {
        r.id: place
        for r in cand.one_per_pool(cand.one_to_one_rooms(participant, kind))
        if (place := own & cand.starts(cand.room_spans[r.id], minutes))
    }
    led: set[int] = set().union(*therapists.values()) if therapists else set()
    placed: set[int] = set(own) if participant.telehealth else set()
    for place in rooms.values():
        placed |= place
    starts = sorted(led & placed)
    if not starts:
        return []
    grid = cand.grid
    pdays = sorted({grid.day_of(t) for t in starts})
    out = []
    for i in range(spec.sessions):
        key = f"{participant.id}/{kind}#{i + 1}"
        present = model.new_bool_var(f"present[{key}]")
        start = model.new_int_var_from_domain(domain(starts), f"start[{key}]")
        out.append(
            SessionVars(
                key=key,
                kind=kind,
                length=grid.slots(minutes),
                present=present,
                start=start,
                days={d: model.new_bool_var(f"day[{key},{d}]") for d in pdays},
                therapists={t: model.new_bool_var(f"lead[{key},{t}]") for t in therapists},
                rooms={r: model.new_bool_var(f"room[{key},{r}]") for r in rooms},
                participants={participant.id: present},
                candidates=starts,
                index=i,
                online=model.new_bool_var(f"online[{key}]") if participant.telehealth else None,
            )
        )
    return out


def create_variables(model: cp_model.CpModel, cand: Candidates) -> Variables:
    """Every decision variable of the week."""
    inst: Instance = cand.instance
    groups = {g.id: group_variables(model, cand, g) for g in inst.groups}
    one_to_one = {
        p.id: one_to_one_variables(model, cand, p, "individual")
        + one_to_one_variables(model, cand, p, "family")
        for p in inst.participants
    }
    sessions = [m for gv in groups.values() for m in gv.meetings]
    sessions += [s for ss in one_to_one.values() for s in ss]
    return Variables(groups=groups, one_to_one=one_to_one, sessions=sessions)
