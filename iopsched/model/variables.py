"""Decision variables: one record per possible session, with its choices.

A *session* is either one meeting of a group or one individual/family session
of a participant.  Both carry the same choices, so every rule about people,
therapists and rooms is written once over :class:`SessionVars`:

* ``start`` — the starting slot (its domain: the candidate starts);
* ``days`` — one literal per day it may fall on (exactly one when it happens);
* ``therapists`` / ``rooms`` — one literal per eligible therapist / room;
* ``participants`` — who is in it: the cohort literals of a group (shared by all
  its meetings) or the ``present`` literal of a 1:1 session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from iopsched.instance import Group, Instance, Participant
from iopsched.model.grid import Candidates, domain, eligible_for_group

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
    rooms: dict[str, BoolVar]
    participants: dict[str, BoolVar]
    candidates: list[int] = field(default_factory=list)  # the start domain, sorted
    group_id: str | None = None
    index: int = 0  # k-th meeting of the group / k-th 1:1 session of this kind
    online: BoolVar | None = None  # a 1:1 session held online
    at: dict[int, BoolVar] = field(default_factory=dict)  # start == slot literals, lazily

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

    def __post_init__(self) -> None:
        for s in self.sessions:
            for pid in s.participants:
                self.by_participant.setdefault(pid, []).append(s)
            for tid in s.therapists:
                self.by_therapist.setdefault(tid, []).append(s)
            for rid in s.rooms:
                self.by_room.setdefault(rid, []).append(s)


def _start_var(
    model: cp_model.CpModel, starts: list[int], name: str
) -> tuple[cp_model.IntVar, bool]:
    if not starts:
        return model.new_constant(0), False
    return model.new_int_var_from_domain(domain(starts), name), True


def group_variables(model: cp_model.CpModel, cand: Candidates, group: Group) -> GroupVars:
    """Run, cohort and meeting variables of one group."""
    inst = cand.instance
    grid = cand.grid
    starts = cand.group_starts(group)
    length = grid.slots(group.duration_minutes)
    m = group.meetings_per_week
    days = sorted({grid.day_of(t) for t in starts})
    run = model.new_bool_var(f"run[{group.id}]")
    if len(days) < m:
        model.add(run == 0)  # cannot meet often enough; the mandatory rule reports it
    members: dict[str, BoolVar] = {}
    for p in inst.participants:
        if not eligible_for_group(p, group):
            continue
        mine = cand.starts(cand.participant_spans[p.id], group.duration_minutes)
        if len({grid.day_of(t) for t in starts if t in mine}) >= m:
            members[p.id] = model.new_bool_var(f"member[{group.id},{p.id}]")
    meetings = []
    for k in range(m):
        # meeting k falls on the k-th of its days: keep days that leave room either side
        my_days = days[k : len(days) - (m - 1 - k)] if len(days) >= m else []
        my_starts = [t for t in starts if grid.day_of(t) in my_days]
        start, _ = _start_var(model, my_starts, f"start[{group.id}#{k + 1}]")
        meetings.append(
            SessionVars(
                key=f"{group.id}#{k + 1}",
                kind=group.kind,
                length=length,
                present=run,
                start=start,
                days={d: model.new_bool_var(f"day[{group.id}#{k + 1},{d}]") for d in my_days},
                therapists={
                    t.id: model.new_bool_var(f"lead[{group.id}#{k + 1},{t.id}]")
                    for t in cand.facilitators(group)
                    if cand.starts(cand.therapist_spans[t.id], group.duration_minutes)
                    & set(my_starts)
                },
                rooms={
                    r.id: model.new_bool_var(f"room[{group.id}#{k + 1},{r.id}]")
                    for r in cand.group_rooms(group)
                    if r.capacity >= group.min_size
                    and cand.starts(cand.room_spans[r.id], group.duration_minutes) & set(my_starts)
                },
                participants=members,
                candidates=my_starts,
                group_id=group.id,
                index=k,
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
        for r in cand.one_to_one_rooms(participant, kind)
        if (place := own & cand.starts(cand.room_spans[r.id], minutes))
    }
    led: set[int] = set().union(*therapists.values()) if therapists else set()
    placed: set[int] = own if participant.telehealth else set()
    for place in rooms.values():
        placed |= place
    starts = sorted(led & placed)
    if not starts:
        return []
    grid = cand.grid
    out = []
    for i in range(spec.sessions):
        key = f"{participant.id}/{kind}#{i + 1}"
        present = model.new_bool_var(f"present[{key}]")
        start, _ = _start_var(model, starts, f"start[{key}]")
        pdays = sorted({grid.day_of(t) for t in starts})
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
